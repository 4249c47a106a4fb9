// The bundled action (dist/index.js) against the Google Workspace emulator: the failures that must stop a run
// (a missing scope, an admin that is not one, an expired token, refused delegation or key) or only one target
// (an address outside the account's domains), and bad inputs that must send nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GOOGLE_ADMIN, GOOGLE_CLIENT_ID, GoogleEmulator, SCOPES, makeUsers } from './emulators/google/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

// user1..user60, a non-admin (helpdesk), Ada, and a group.
const users = makeUsers(60)
const emu = new GoogleEmulator({
  users: [
    ...users,
    { primaryEmail: 'helpdesk@example.com', givenName: 'Help', familyName: 'Desk' },
    {
      id: '100000000000000000777',
      primaryEmail: 'ada.lovelace@example.com',
      givenName: 'Ada',
      familyName: 'Lovelace',
      orgUnitPath: '/Leavers/Contractors',
      aliases: ['ada@example.com']
    }
  ],
  groups: [
    { email: 'leavers@example.com', members: ['user1@example.com', 'user2@example.com', 'user3@example.com', 'contractors@example.com', 'guest@partner.org'] },
    { email: 'contractors@example.com', members: ['ada.lovelace@example.com', 'user3@example.com'] },
    { email: 'empty@example.com', members: [] }
  ],
  quota: false
})

beforeAll(async () => {
  await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

type Result = {
  id: string
  kind: string
  label?: string
  outcome: string
  reason?: string
  unresolved?: boolean
  status?: number
  code?: string
  message?: string
  details?: Record<string, unknown>
}

/** Keyless route: a token minted before the step (google-github-actions/auth with access_token_subject). */
function inputs(extra: Record<string, string>, token = emu.registerAccessToken()): Record<string, string> {
  return { provider: 'google', token, 'base-url': emu.baseUrl, 'rate-limit': '60000', ...extra }
}

/** Key route: the service-account key JSON and the admin to impersonate. */
function keyInputs(extra: Record<string, string>): Record<string, string> {
  return inputs({ token: emu.serviceAccountKeyJson(), subject: GOOGLE_ADMIN, ...extra })
}

const byId = (results: Result[], id: string): Result | undefined => results.find((x) => x.id === id)

/** Every place a secret could leak to, as the admin would see it. */
function shown(r: Awaited<ReturnType<typeof runAction>>): string[] {
  return [visibleLog(r.stdout), r.stderr, r.summary ?? '', JSON.stringify(r.report ?? null), JSON.stringify(r.outputs)]
}

describe('google: failures that stop the run, and failures that stay with one target', () => {
  it('a token without the user.readonly scope stops the plan with the scope to grant, sending nothing', async () => {
    const token = emu.registerAccessToken({ scopes: [SCOPES.userSecurity] })
    const r = await runAction({ inputs: inputs({ targets: 'user1@example.com\nuser2@example.com' }, token) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('insufficientPermissions')
    expect(r.report.error).toContain(`lacks ${SCOPES.userReadonly}`)
    expect(emu.server.mutating()).toHaveLength(0)
  })

  it('a subject that is not an admin fails fast with the role to grant (403 forbidden), sending no sign-out', async () => {
    const token = emu.registerAccessToken({ subject: 'helpdesk@example.com' })
    const r = await runAction({ inputs: inputs({ targets: Array.from({ length: 5 }, (_, i) => `user${i + 1}@example.com`).join('\n') }, token) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('Not Authorized to access this resource/api')
    expect(r.report.error).toContain('must be a Google Workspace administrator')
    expect(emu.server.mutating()).toHaveLength(0)
    // The first 403 and the check that tells "this user" from "every user"; no more.
    expect(emu.apiRequests().length).toBeLessThanOrEqual(6)
  })

  it('an admin who may read users but not sign them out stops at the first sign-out: the rest are not attempted', async () => {
    emu.updateUser('helpdesk@example.com', { isDelegatedAdmin: true, adminPrivileges: ['users.read'] })
    const token = emu.registerAccessToken({ subject: 'helpdesk@example.com' })
    const r = await runAction({
      inputs: inputs({ targets: Array.from({ length: 6 }, (_, i) => `user${i + 1}@example.com`).join('\n'), concurrency: '1' }, token)
    })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('1')
    expect(r.outputs['not-attempted-count']).toBe('5')
    expect(emu.signOutRequests()).toHaveLength(1)
    const failed = (r.report.results as Result[]).find((x) => x.outcome === 'failed')
    expect(failed).toMatchObject({ status: 403, code: 'forbidden' })
    expect(failed?.message).toContain('must be a Google Workspace administrator')
  })

  it('an address in a domain the account does not own is skipped as unresolved; the others are signed out', async () => {
    const r = await runAction({ inputs: inputs({ targets: 'user1@example.com\nbob@gmail.com\nuser2@example.com' }) })
    expect(r.code).not.toBe(0) // if-unresolved: fail, after acting on the rest
    expect(r.outputs['terminated-count']).toBe('2')
    const bob = byId(r.report.results as Result[], 'bob@gmail.com')
    expect(bob).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(bob?.reason).toContain("its domain is not one of this account's")
    expect(JSON.parse(r.outputs.unresolved)).toEqual(['bob@gmail.com'])
  })

  it('a pre-minted token that expires mid-run stops the run: the refused user fails, the rest are not attempted', async () => {
    const token = emu.registerAccessToken()
    emu.beforeOperation = (op) => {
      if (op === 'directory.users.signOut' && emu.signedOut.length === 2) emu.expireAccessTokens(token)
    }
    const r = await runAction({
      inputs: inputs({ targets: Array.from({ length: 6 }, (_, i) => `user${i + 40}@example.com`).join('\n'), concurrency: '1' }, token)
    })
    expect(r.code).not.toBe(0)
    // The third sign-out was let through before the token died; the fourth was refused.
    expect(r.outputs['terminated-count']).toBe('3')
    expect(r.outputs['failed-count']).toBe('1')
    expect(r.outputs['not-attempted-count']).toBe('2')
    const failed = (r.report.results as Result[]).find((x) => x.outcome === 'failed')
    expect(failed).toMatchObject({ status: 401, code: 'authError' })
    expect(failed?.message).toContain('lasts at most 1 hour')
  })

  it('delegation without a scope the run needs: the token endpoint refuses, the plan fails naming the client id and scopes', async () => {
    emu.setDelegation([SCOPES.userSecurity, SCOPES.userReadonly])
    const r = await runAction({ inputs: keyInputs({ 'target-type': 'group', targets: 'leavers@example.com' }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('unauthorized_client')
    expect(r.report.error).toContain(`client id ${GOOGLE_CLIENT_ID}`)
    expect(r.report.error).toContain(SCOPES.groupMemberReadonly)
    expect(emu.apiRequests()).toHaveLength(0)
  })

  it('the Admin SDK API not enabled in the project (403 accessNotConfigured) stops the run, saying what to enable', async () => {
    const body = {
      error: {
        code: 403,
        message:
          'Admin SDK API has not been used in project 480211337001 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/admin.googleapis.com/overview?project=480211337001 then retry.',
        errors: [
          { message: 'Admin SDK API has not been used in project 480211337001 before or it is disabled.', domain: 'usageLimits', reason: 'accessNotConfigured' }
        ],
        status: 'PERMISSION_DENIED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'SERVICE_DISABLED',
            domain: 'googleapis.com',
            metadata: { service: 'admin.googleapis.com', consumer: 'projects/480211337001' }
          }
        ]
      }
    }
    emu.server.queueFaults([{ kind: 'custom', respond: () => ({ status: 403, headers: { 'content-type': 'application/json; charset=UTF-8' }, body }) }])
    const r = await runAction({ inputs: inputs({ targets: 'user1@example.com' }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('code accessNotConfigured')
    expect(r.report.error).toContain('enable the Admin SDK API')
    expect(emu.apiRequests()).toHaveLength(1)
  })

  it('a key Google does not know (deleted or foreign): invalid_grant with what to do', async () => {
    const foreign = JSON.stringify(await emu.foreignServiceAccountKey())
    const r = await runAction({ inputs: keyInputs({ token: foreign, targets: 'user1@example.com' }) })
    expect(r.code).not.toBe(0)
    expect(r.report.error).toContain('Invalid JWT Signature.')
    expect(r.report.error).toContain('create a new key')
    for (const text of shown(r)) expect(text).not.toContain(JSON.parse(foreign).private_key.split('\n')[3])
  })

  it("auth-base-url replaces the host of the key's token_uri (here a closed port: the mint fails there, the emulator sees nothing)", async () => {
    const r = await runAction({ inputs: keyInputs({ targets: 'user1@example.com', 'auth-base-url': 'http://127.0.0.1:9', 'max-retries': '0' }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('minting a Google access token')
    expect(emu.requests).toHaveLength(0)
  })

  it('bad inputs: one clear error naming the input, and no request', async () => {
    const key = emu.serviceAccountKeyJson()
    const cases: [Record<string, string>, string][] = [
      [inputs({ token: key, targets: 'user1@example.com' }), "Input 'subject': is empty while token is a service-account key JSON"],
      [keyInputs({ subject: 'not-an-email', targets: 'user1@example.com' }), "Input 'subject'"],
      [inputs({ targets: 'alice' }), '"alice" is neither an email address nor a numeric Google user id'],
      [inputs({ 'target-type': 'group', targets: 'a b' }), "Input 'targets'"],
      [inputs({ token: '{"type": "service_account", "private_key": "x"', targets: 'user1@example.com' }), 'starts with "{" but is not valid JSON'],
      [
        inputs({ token: JSON.stringify({ type: 'external_account', audience: 'x' }), targets: 'user1@example.com' }),
        'workload identity federation configuration'
      ],
      [
        inputs({
          token: JSON.stringify({ ...JSON.parse(key), private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }),
          subject: GOOGLE_ADMIN,
          targets: 'user1@example.com'
        }),
        'cannot be read as a PEM private key'
      ],
      [inputs({ filter: 'orgUnitPath=/Leavers' }), 'unknown key "orgUnitPath"'],
      [inputs({ 'revoke-tokens': 'maybe', targets: 'user1@example.com' }), "Input 'revoke-tokens'"]
    ]
    for (const [given, expected] of cases) {
      const r = await runAction({ inputs: given })
      expect([expected, r.code]).toEqual([expected, 1])
      expect(r.stdout).toContain(expected)
    }
    expect(emu.requests).toHaveLength(0)
    const r = await runAction({ inputs: inputs({ token: key, targets: 'user1@example.com' }) })
    for (const text of shown(r)) expect(text).not.toContain(JSON.parse(key).private_key.split('\n')[2])
  })
})
