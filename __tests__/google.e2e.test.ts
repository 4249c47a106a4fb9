// The bundled action (dist/index.js) run as the Actions runner runs it, against the Google Workspace emulator:
// both auth routes, every target type, the query filter, revoke-tokens and quota storms. Failures and bad
// inputs: google.failures.e2e.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GOOGLE_ADMIN, GOOGLE_CLIENT_EMAIL, GoogleEmulator, JWT_BEARER_GRANT, SCOPES, makeUsers } from './emulators/google/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

// user1..user250: every 10th in /Leavers, every 25th suspended, every 7th with alias<k>@example.com, every 3rd with
// OAuth tokens. Plus a non-admin, and Ada (alias ada@example.com) in a nested group.
const users = makeUsers(250)
const SLACK = '902183746501-slk0q8f2n3v4b5c6d7e8f9g0h1i2j3k4.apps.googleusercontent.com'
const ZOOM = '371928465012-zm9a8b7c6d5e4f3g2h1i0j9k8l7m6n5o.apps.googleusercontent.com'
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
/** user<k> as makeUsers made it (every one has an id). */
const user = (k: number): { id: string; primaryEmail: string } => ({ id: users[k - 1].id as string, primaryEmail: users[k - 1].primaryEmail })
const ADA_ID = '100000000000000000777'

beforeAll(async () => {
  await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

type Result = {
  id: string
  kind: string
  label?: string
  given?: string
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
/** The userKeys of the sign-outs the emulator accepted. */
const signedOutKeys = (): string[] => emu.signedOut.map((s) => s.userKey).sort()

/** Every place a secret could leak to, as the admin would see it. */
function shown(r: Awaited<ReturnType<typeof runAction>>): string[] {
  return [visibleLog(r.stdout), r.stderr, r.summary ?? '', JSON.stringify(r.report ?? null), JSON.stringify(r.outputs)]
}

describe('google end to end', () => {
  it('dry run: emails, an alias and an id resolve to users (by id), the unknown is skipped, nothing mutating is sent', async () => {
    const targets = ['USER1@example.com', user(2).id, 'alias7@example.com', 'nobody@example.com', '100000000000000099999'].join('\n')
    const r = await runAction({ inputs: inputs({ targets, 'dry-run': 'true', 'if-unresolved': 'skip' }) })
    expect(r.code).toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.outputs['planned-count']).toBe('3')
    // The plan holds user ids, whatever was typed: what is sent and what the hash binds.
    expect(JSON.parse(r.outputs.targets)).toEqual([user(1).id, user(2).id, user(7).id])
    const results = r.report.results as Result[]
    expect(byId(results, user(7).id)).toMatchObject({
      kind: 'user',
      label: 'user7@example.com',
      outcome: 'planned',
      details: { orgUnitPath: '/Staff', suspended: false, given: 'alias7@example.com', name: 'User 7' }
    })
    expect(byId(results, 'nobody@example.com')).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(byId(results, 'nobody@example.com')?.reason).toContain('no Google Workspace user with this email or id')
    expect(byId(results, 'nobody@example.com')?.reason).toContain('Resource Not Found: userKey')
    expect(JSON.parse(r.outputs.unresolved)).toEqual(['nobody@example.com', '100000000000000099999'])
    // One users.get each, asking only for the fields the plan shows.
    const gets = emu.apiRequests().filter((q) => q.method === 'GET')
    expect(gets).toHaveLength(5)
    for (const q of gets) expect(q.query.get('fields')).toBe('id,primaryEmail,name/fullName,suspended,orgUnitPath,isAdmin')
  })

  it('pre-minted token: a real run signs each user out once, by id, and reports terminated', async () => {
    const token = emu.registerAccessToken()
    const targets = ['user1@example.com', user(1).id, 'user14@example.com', 'alias14@example.com', 'ada@example.com'].join(',')
    // subject alongside an access token (as the offboard pipeline passes it) is only logged.
    const r = await runAction({ inputs: inputs({ targets, subject: GOOGLE_ADMIN }, token) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('3')
    expect(signedOutKeys()).toEqual([user(1).id, user(14).id, ADA_ID].sort())
    for (const q of emu.signOutRequests()) {
      expect(q.headers.authorization).toBe(`Bearer ${token}`)
      expect(q.status).toBe(204)
      expect(q.bodyText).toBe('')
    }
    const results = r.report.results as Result[]
    expect(byId(results, ADA_ID)).toMatchObject({
      outcome: 'terminated',
      label: 'ada.lovelace@example.com',
      reason: 'signed out of every web and device session (HTTP 204)'
    })
    // What was listed, for a pipeline that maps people to results; the first of two keys of one user wins.
    expect(results.map((x) => x.given)).toEqual(['user1@example.com', 'user14@example.com', 'ada@example.com'])
    expect(visibleLog(r.stdout)).toContain(`for ${GOOGLE_ADMIN}, as subject says`)
    expect(visibleLog(r.stdout)).toContain('is the same Google user as')
    expect(emu.tokenEndpointRequests()).toHaveLength(0)
    for (const text of shown(r)) expect(text).not.toContain(token)
  })

  it('service-account key with subject: signs the assertion, mints once with only the scopes the run needs, masks key and token', async () => {
    const keyJson = emu.serviceAccountKeyJson()
    const key = JSON.parse(keyJson) as { private_key: string; private_key_id: string }
    const r = await runAction({ inputs: keyInputs({ token: keyJson, targets: 'user5@example.com\nuser6@example.com' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('2')
    const mints = emu.tokenEndpointRequests()
    expect(mints).toHaveLength(1)
    expect(mints[0].status).toBe(200)
    expect(mints[0].headers['content-type']).toBe('application/x-www-form-urlencoded')
    const form = new URLSearchParams(mints[0].bodyText)
    expect(form.get('grant_type')).toBe(JWT_BEARER_GRANT)
    const assertion = form.get('assertion') ?? ''
    const [header, claims] = assertion
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>)
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: key.private_key_id })
    expect(claims).toMatchObject({ iss: GOOGLE_CLIENT_EMAIL, sub: GOOGLE_ADMIN, aud: emu.tokenUri, scope: `${SCOPES.userSecurity} ${SCOPES.userReadonly}` })
    expect(Number(claims.exp) - Number(claims.iat)).toBe(3600)
    const minted = emu.mintedTokens()
    expect(minted).toHaveLength(1)
    expect(minted[0].subject).toBe(GOOGLE_ADMIN)
    for (const q of emu.apiRequests()) expect(q.headers.authorization).toBe(`Bearer ${minted[0].token}`)
    // Masked with the runner before it is used, and shown nowhere.
    const lines = r.stdout.split('\n')
    expect(lines.indexOf(`::add-mask::${minted[0].token}`)).toBeGreaterThanOrEqual(0)
    expect(lines.indexOf(`::add-mask::${minted[0].token}`)).toBeLessThan(lines.findIndex((l) => l.includes('plan:')))
    const pemLine = key.private_key.split('\n')[5]
    expect(r.stdout).toContain(`::add-mask::${pemLine}`)
    for (const text of shown(r)) {
      for (const secret of [minted[0].token, assertion, pemLine]) expect(text).not.toContain(secret)
    }
    expect(visibleLog(r.stdout)).toContain(`service account ${GOOGLE_CLIENT_EMAIL} acting for ${GOOGLE_ADMIN}`)
  })

  it('key route: a token that expires mid-run is minted again once and the run goes on', async () => {
    emu.expireTokensAfterRequests = 4
    const targets = Array.from({ length: 6 }, (_, i) => `user${i + 20}@example.com`).join('\n')
    const r = await runAction({ inputs: keyInputs({ targets, concurrency: '1' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('6')
    expect(emu.tokenEndpointRequests().length).toBeGreaterThanOrEqual(2)
    expect(emu.apiRequests().filter((q) => q.status === 401).length).toBeGreaterThanOrEqual(1)
    expect(visibleLog(r.stdout)).toContain('minting a Google access token (service account, domain-wide delegation) again')
    for (const t of emu.mintedTokens()) for (const text of shown(r)) expect(text).not.toContain(t.token)
  })

  it('groups: user members of the group and of its nested groups, each once; external members and unknown groups are skipped', async () => {
    const r = await runAction({
      inputs: keyInputs({ 'target-type': 'group', targets: 'leavers@example.com\nempty@example.com\nnogroup@example.com', 'if-unresolved': 'skip' })
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('4')
    expect(signedOutKeys()).toEqual([user(1).id, user(2).id, user(3).id, ADA_ID].sort())
    const results = r.report.results as Result[]
    expect(byId(results, user(1).id)).toMatchObject({ label: 'user1@example.com', details: { group: 'leavers@example.com' } })
    const guest = results.find((x) => x.label === 'guest@partner.org')
    expect(guest).toMatchObject({ outcome: 'skipped' })
    expect(guest?.reason).toContain('not a user of this Google Workspace account')
    expect(guest?.unresolved).toBeUndefined()
    expect(byId(results, 'empty@example.com')).toMatchObject({ outcome: 'skipped', reason: 'the group has no user members; nothing sent' })
    expect(byId(results, 'nogroup@example.com')).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(byId(results, 'nogroup@example.com')?.reason).toContain('no Google Workspace group')
    const lists = emu.apiRequests().filter((q) => q.path.endsWith('/members'))
    for (const q of lists) {
      expect(q.query.get('includeDerivedMembership')).toBe('true')
      expect(q.query.get('maxResults')).toBe('26') // one past max-targets (25)
    }
    // Group members are read with group.member.readonly; groups.get (group.readonly) is never called.
    expect(emu.mintedTokens()[0].scopes).toEqual(new Set([SCOPES.userSecurity, SCOPES.userReadonly, SCOPES.groupMemberReadonly]))
    expect(emu.apiRequests().some((q) => /\/groups\/[^/]+$/.test(q.path))).toBe(false)
  })

  it('groups page through members 200 at a time, and a group over max-targets is refused before any sign-out', async () => {
    emu.addGroup({ email: 'big@example.com', members: users.slice(0, 30).map((u) => u.primaryEmail) })
    const big = await runAction({ inputs: inputs({ 'target-type': 'group', targets: 'big@example.com', 'max-targets': '20' }) })
    expect(big.code).not.toBe(0)
    expect(big.report.status).toBe('plan-failed')
    expect(big.report.error).toContain('group big@example.com has more than 20 members')
    expect(
      emu
        .apiRequests()
        .filter((q) => q.path.endsWith('/members'))
        .map((q) => q.query.get('maxResults'))
    ).toEqual(['21'])
    expect(emu.server.mutating()).toHaveLength(0)

    emu.reset()
    emu.addGroup({ email: 'all-staff@example.com', members: users.slice(0, 230).map((u) => u.primaryEmail) })
    const dry = await runAction({ inputs: inputs({ 'target-type': 'group', targets: 'all-staff@example.com', 'max-targets': '500', 'dry-run': 'true' }) })
    expect(dry.code).toBe(0)
    expect(dry.outputs['planned-count']).toBe('230')
    // Two pages of members (200, then 30 with the first page's token); the members resolve from one page of
    // the user list (500 a page), not 230 lookups.
    const pages = emu.apiRequests().filter((q) => q.path.endsWith('/members'))
    expect(pages.map((q) => [q.query.get('maxResults'), q.query.get('pageToken') !== null])).toEqual([
      ['200', false],
      ['200', true]
    ])
    expect(emu.apiRequests().filter((q) => q.path === '/admin/directory/v1/users')).toHaveLength(1)
    expect(emu.apiRequests().filter((q) => /\/users\/[^/]+$/.test(q.path))).toHaveLength(0)
  })

  it("filter: query=orgUnitPath='/Leavers' selects exactly those users; more than max-targets is refused before any sign-out", async () => {
    const big = await runAction({ inputs: inputs({ filter: "query=orgUnitPath='/Leavers'", 'max-targets': '5' }) })
    expect(big.code).not.toBe(0)
    expect(big.stdout).toContain("Input 'max-targets'")
    expect(emu.server.mutating()).toHaveLength(0)
    const first = emu.apiRequests()[0]
    expect(first.query.get('customer')).toBe('my_customer')
    expect(first.query.get('maxResults')).toBe('6')

    emu.reset()
    const r = await runAction({ inputs: inputs({ filter: "query=orgUnitPath='/Leavers'", 'max-targets': '30' }) })
    expect(r.code).toBe(0)
    // user10, 20, ..., 250 and Ada (in /Leavers/Contractors, a sub-unit).
    const expected = [...users.filter((u) => u.orgUnitPath === '/Leavers').map((u) => u.id as string), ADA_ID].sort()
    expect(r.outputs['terminated-count']).toBe(String(expected.length))
    expect(signedOutKeys()).toEqual(expected)
    const lists = emu.apiRequests().filter((q) => q.path === '/admin/directory/v1/users')
    expect(lists.map((q) => q.query.get('pageToken') !== null)).toEqual([false])
    expect(lists[0].query.get('query')).toBe("orgUnitPath='/Leavers'")

    emu.reset()
    const bad = await runAction({ inputs: inputs({ filter: 'query=orgUnitPath=Leavers' }) })
    expect(bad.code).not.toBe(0)
    expect(bad.report.error).toContain('Invalid Input')
    expect(bad.report.error).toContain('search-users')
    expect(emu.server.mutating()).toHaveLength(0)
  })

  it("revoke-tokens: the plan lists each user's tokens, the run revokes exactly those and reports each", async () => {
    // user3: Zoom; user6: Slack and Zoom; user5: none.
    const dry = await runAction({
      inputs: inputs({ targets: 'user3@example.com\nuser5@example.com\nuser6@example.com', 'revoke-tokens': 'true', 'dry-run': 'true' })
    })
    expect(dry.code).toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    const plan = dry.report.results as Result[]
    expect(byId(plan, user(6).id)?.details).toMatchObject({ tokens: 2, apps: 'Zoom, Slack' })
    expect(byId(plan, user(5).id)?.details).toMatchObject({ tokens: 0 })
    expect(dry.report.planScope).toMatchObject({ settings: { revokeTokens: true } })

    emu.reset()
    // Between plan and run, user6 revokes Slack themselves, and someone grants user3 a new app (not approved: kept).
    emu.beforeOperation = (op, _req, params) => {
      if (op === 'directory.users.signOut' && params.userKey === user(6).id)
        emu.updateUser(user(6).id, { tokens: emu.mustUser(user(6).id).tokens.filter((t: { clientId: string }) => t.clientId !== SLACK) })
      if (op === 'directory.users.signOut' && params.userKey === user(3).id)
        emu.addToken(user(3).id, { clientId: 'late-app.apps.googleusercontent.com', displayText: 'Late App' })
    }
    const r = await runAction({
      inputs: inputs({
        targets: 'user3@example.com\nuser5@example.com\nuser6@example.com',
        'revoke-tokens': 'true',
        'expected-plan-hash': dry.outputs['plan-hash']
      })
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('3')
    const results = r.report.results as Result[]
    expect(byId(results, user(6).id)?.reason).toBe(
      'signed out of every web and device session (HTTP 204); revoked 1 of 2 OAuth tokens (Zoom), 1 already gone (Slack)'
    )
    expect(byId(results, user(5).id)?.reason).toBe('signed out of every web and device session (HTTP 204); no OAuth tokens to revoke')
    expect(byId(results, user(3).id)?.reason).toContain('revoked 1 of 1 OAuth token (Zoom)')
    expect(emu.revokedTokens.map((t) => [t.primaryEmail, t.clientId]).sort()).toEqual([
      ['user3@example.com', ZOOM],
      ['user6@example.com', ZOOM]
    ])
    expect(emu.mustUser(user(3).id).tokens.map((t: { clientId: string }) => t.clientId)).toEqual(['late-app.apps.googleusercontent.com'])
    // Sign-out first, then the tokens, addressed by user id.
    const muts = emu.server.mutating().filter((q) => q.path.includes(user(6).id))
    expect(muts.map((q) => q.method)).toEqual(['POST', 'DELETE', 'DELETE'])
  })

  it('revoke-tokens: a token that cannot be revoked fails the target with what was and was not done', async () => {
    emu.server.queueFaults([{ kind: 'status', status: 400 }], (q) => q.method === 'DELETE' && q.path.endsWith(encodeURIComponent(SLACK)))
    const r = await runAction({ inputs: inputs({ targets: 'user6@example.com\nuser9@example.com', 'revoke-tokens': 'true' }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('1')
    expect(r.outputs['terminated-count']).toBe('1')
    const failed = byId(r.report.results as Result[], user(6).id)
    expect(failed).toMatchObject({ outcome: 'failed', status: 400, code: 'invalid' })
    expect(failed?.message).toContain(`signed out, revoked 1 of 2 OAuth tokens (Zoom); revoking the token of Slack (${SLACK}) failed: Invalid Input`)
    expect(emu.isSignedOut(user(6).id)).toBe(true)
  })

  it('a 403 quota storm (userRateLimitExceeded, no Retry-After) is retried as throttling until every user is signed out', async () => {
    emu.setQuota({ limit: 8, windowMs: 400 })
    const targets = Array.from({ length: 16 }, (_, i) => `user${i + 30}@example.com`).join('\n')
    const r = await runAction({ inputs: inputs({ targets, concurrency: '4', 'max-retries': '10' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('16')
    expect(r.outputs['failed-count']).toBe('0')
    expect(emu.quotaDenials).toBeGreaterThan(0)
    const refused = emu.apiRequests().filter((q) => q.status === 403)
    expect(refused.length).toBe(emu.quotaDenials)
    expect(new Set(emu.signedOut.map((s) => s.userId)).size).toBe(16)
    expect(emu.signedOut).toHaveLength(16)
    expect((r.report.http as { throttled: number }).throttled).toBeGreaterThan(0)

    emu.reset()
    // quotaExceeded (too many concurrent requests) is throttling too.
    emu.setQuota({ limit: 2, windowMs: 300, reason: 'quotaExceeded' })
    const rq = await runAction({ inputs: inputs({ targets: 'user31@example.com\nuser32@example.com\nuser33@example.com' }) })
    expect(rq.code).toBe(0)
    expect(rq.outputs['terminated-count']).toBe('3')
    expect(emu.quotaDenials).toBeGreaterThan(0)

    emu.reset()
    emu.server.queueFaults(
      [
        { kind: 'status', status: 429 },
        { kind: 'status', status: 429 }
      ],
      (q) => q.path.endsWith('/signOut')
    )
    const r429 = await runAction({ inputs: inputs({ targets: 'user31@example.com' }) })
    expect(r429.code).toBe(0)
    expect(r429.outputs['terminated-count']).toBe('1')
    expect(emu.signOutRequests().map((q) => q.status)).toEqual([429, 429, 204])
  })

  it('user-key: sent as given with a token holding only the user.security scope', async () => {
    const token = emu.registerAccessToken({ scopes: [SCOPES.userSecurity] })
    const r = await runAction({
      inputs: inputs({ 'target-type': 'user-key', targets: 'user8@example.com\nnobody@example.com', 'if-unresolved': 'skip', 'revoke-tokens': 'true' }, token)
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('1')
    expect(emu.signOutRequests().map((q) => q.path)).toEqual(['/admin/directory/v1/users/user8%40example.com/signOut'])
    expect(byId(r.report.results as Result[], 'nobody@example.com')).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(emu.apiRequests().some((q) => q.status === 403)).toBe(false)
  })
})
