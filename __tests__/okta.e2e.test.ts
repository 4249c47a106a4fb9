// The bundled action (dist/index.js) run as the Actions runner runs it, against the Okta emulator, with
// an API token (SSWS): ids, logins, groups, a search filter, revoke-tokens, per-target failures, header
// pacing and 429s, bad inputs. The service-app route (private_key_jwt) is in okta.auth.e2e.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { OKTA_API_TOKEN, OKTA_HELPDESK_API_TOKEN, OKTA_READONLY_API_TOKEN, OktaEmulator, makeGroup, makeUsers, oktaId } from './emulators/okta/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

// 1,100 users: departments cycle Sales/Engineering/Marketing/Support; every 50th is DEPROVISIONED.
const users = makeUsers(1_100, { status: (i) => (i % 50 === 49 ? 'DEPROVISIONED' : 'ACTIVE') })
users[4].adminRole = 'SUPER_ADMIN'
const sales = makeGroup(1, 'Sales', [users[0].id, users[4].id, users[8].id])
const big = makeGroup(
  2,
  'Everyone',
  users.slice(0, 1_050).map((u) => u.id)
)
const empty = makeGroup(3, 'Nobody', [])
const emu = new OktaEmulator({ users, groups: [sales, big, empty] })
let org = ''

beforeAll(async () => {
  org = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

type Result = {
  id: string
  kind: string
  label?: string
  outcome: string
  reason?: string
  status?: number
  code?: string
  message?: string
  requestId?: string
  unresolved?: boolean
  details?: Record<string, unknown>
}
type Run = Awaited<ReturnType<typeof runAction>>

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'okta', token: OKTA_API_TOKEN, 'base-url': org, 'rate-limit': '60000', ...extra }
}
const byId = (r: Run, id: string): Result | undefined => (r.report.results as Result[]).find((x) => x.id === id)
/** Every place a secret could leak to, as the admin would see it. */
const shown = (r: Run): string[] => [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report ?? null), JSON.stringify(r.outputs)]
const u = (i: number) => users[i]

describe('okta end to end (API token)', () => {
  it('dry run resolves ids and logins (any case) with name, login and status, reports unknown ones with E0000007, sends no DELETE', async () => {
    const unknownId = oktaId('00u', 999_999)
    const r = await runAction({
      inputs: inputs({ targets: `${u(0).id}\nUSER2@example.com\n${unknownId}\nnobody@example.com\n${u(49).id}`, 'dry-run': 'true', 'if-unresolved': 'skip' })
    })
    expect(r.code).toBe(0)
    expect(emu.sessionRequests()).toHaveLength(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.outputs['planned-count']).toBe('3')
    expect(JSON.parse(r.outputs.targets)).toEqual([u(0).id, u(1).id, u(49).id])
    expect(byId(r, u(1).id)).toMatchObject({
      kind: 'user-id',
      label: 'User 2',
      outcome: 'planned',
      details: { login: 'user2@example.com', status: 'ACTIVE', given: 'USER2@example.com' }
    })
    expect(byId(r, u(49).id)?.details?.status).toBe('DEPROVISIONED')
    expect(byId(r, unknownId)).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(byId(r, unknownId)?.reason).toContain('no Okta user with this id (HTTP 404, code E0000007: Not found: Resource not found')
    expect(byId(r, 'nobody@example.com')?.reason).toContain('code E0000007')
    // One GET /users/{id or login} each, with the API token.
    const lookups = emu.apiRequests()
    expect(lookups.map((q) => q.path).sort()).toEqual(
      [u(0).id, 'USER2%40example.com', unknownId, 'nobody%40example.com', u(49).id].map((k) => `/api/v1/users/${k}`).sort()
    )
    for (const q of lookups) expect(q.headers.authorization).toBe(`SSWS ${OKTA_API_TOKEN}`)
    expect(r.summary).toContain('User 2')
  })

  it('real run: one DELETE /users/{id}/sessions?oauthTokens=true per user, 204 -> terminated, with the request id', async () => {
    const targets = [u(0).id, u(1).id, 'user3@example.com', 'User4@Example.com', u(0).id.toString()].join('\n')
    const r = await runAction({ inputs: inputs({ targets }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('4')
    expect(r.outputs['failed-count']).toBe('0')
    expect(emu.revokedUserIds().sort()).toEqual([u(0).id, u(1).id, u(2).id, u(3).id].sort())
    expect(emu.revocations.every((x) => x.oauthTokens === true && x.forgetDevices === true)).toBe(true)
    for (const q of emu.sessionRequests()) {
      expect(q.query.get('oauthTokens')).toBe('true')
      expect(q.query.has('forgetDevices')).toBe(false)
      expect(q.headers.authorization).toBe(`SSWS ${OKTA_API_TOKEN}`)
      expect(q.status).toBe(204)
    }
    const first = byId(r, u(0).id)
    expect(first).toMatchObject({ outcome: 'terminated', reason: 'sessions cleared and OAuth tokens revoked (HTTP 204)' })
    expect(first?.requestId).toMatch(/^req/)
    for (const text of shown(r)) expect(text).not.toContain(OKTA_API_TOKEN)
    expect(r.stdout).toContain(`::add-mask::${OKTA_API_TOKEN}`)
  })

  it('revoke-tokens: false clears sessions only (oauthTokens=false), and is bound into the plan hash', async () => {
    const targets = `${u(0).id}\n${u(1).id}`
    const keep = await runAction({ inputs: inputs({ targets, 'revoke-tokens': 'false' }) })
    expect(keep.code).toBe(0)
    expect(keep.outputs['terminated-count']).toBe('2')
    expect(emu.revocations).toHaveLength(2)
    expect(emu.revocations.every((x) => x.oauthTokens === false)).toBe(true)
    expect(emu.sessionRequests().map((q) => q.query.get('oauthTokens'))).toEqual(['false', 'false'])
    expect(byId(keep, u(0).id)?.reason).toContain('OAuth tokens kept (revoke-tokens: false)')
    expect(emu.users.get(u(0).id)).toMatchObject({ sessions: 0, oauthTokens: 1 })
    const revoke = await runAction({ inputs: inputs({ targets, 'dry-run': 'true' }) })
    expect(revoke.outputs['plan-hash']).not.toBe(keep.outputs['plan-hash'])
    expect(keep.report.planScope.settings).toEqual({ revokeTokens: false })
  })

  it('groups: members (paged by the Link after cursor) become the plan; unknown and empty groups are skipped', async () => {
    const unknown = oktaId('00g', 777)
    const dry = await runAction({
      inputs: inputs({
        'target-type': 'group-id',
        targets: `${big.id}\n${unknown}\n${empty.id}`,
        'dry-run': 'true',
        'max-targets': '2000',
        'if-unresolved': 'skip'
      })
    })
    expect(dry.code).toBe(0)
    expect(dry.outputs['planned-count']).toBe('1050')
    const pages = emu.apiRequests().filter((q) => q.path === `/api/v1/groups/${big.id}/users`)
    expect(pages.map((q) => [q.query.get('limit'), q.query.get('after')])).toEqual([
      ['1000', null],
      ['1000', users[999].id]
    ])
    expect(byId(dry, u(5).id)?.details).toMatchObject({ group: 'Everyone' })
    expect(byId(dry, `group:${unknown}`)).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(byId(dry, `group:${unknown}`)?.reason).toContain('no Okta group with this id (HTTP 404, code E0000007')
    expect(byId(dry, `group:${empty.id}`)).toMatchObject({ outcome: 'skipped', label: 'Nobody', reason: 'the group has no members; nothing sent' })
    expect(emu.sessionRequests()).toHaveLength(0)

    emu.reset()
    // auto takes group:<id> next to users; a member also listed as a user is cleared once.
    const real = await runAction({ inputs: inputs({ targets: `group:${sales.id}\n${u(0).id}\nuser2@example.com` }) })
    expect(real.code).toBe(0)
    expect(real.outputs['terminated-count']).toBe('4')
    expect(emu.revokedUserIds().sort()).toEqual([u(0).id, u(4).id, u(8).id, u(1).id].sort())
  })

  it('a group larger than max-targets is refused before any DELETE', async () => {
    const r = await runAction({ inputs: inputs({ 'target-type': 'group-id', targets: big.id, 'max-targets': '100' }) })
    expect(r.code).not.toBe(0)
    expect(r.stdout).toContain('more than max-targets (100)')
    expect(emu.sessionRequests()).toHaveLength(0)
    // It stopped reading after the first page (one past max-targets is enough to refuse).
    expect(emu.apiRequests().filter((q) => q.path.endsWith('/users') && q.path.startsWith('/api/v1/groups/'))).toHaveLength(1)
  })

  it('search filter: pages through Link cursors, includes DEPROVISIONED users, refuses a plan over max-targets', async () => {
    const expr = 'profile.department eq "Sales"'
    const dry = await runAction({ inputs: inputs({ filter: `search=${expr}`, 'max-targets': '1000', 'dry-run': 'true' }) })
    expect(dry.code).toBe(0)
    const expected = users.filter((x) => x.profile.department === 'Sales').map((x) => x.id)
    expect(dry.outputs['planned-count']).toBe(String(expected.length)) // 275: two pages of 200
    expect(JSON.parse(dry.outputs.targets).sort()).toEqual(expected.sort())
    const pages = emu.apiRequests().filter((q) => q.path === '/api/v1/users')
    expect(pages).toHaveLength(2)
    expect(pages.every((q) => q.query.get('search') === expr && q.query.get('limit') === '200')).toBe(true)
    expect(pages[1].query.get('after')).toBeTruthy()

    emu.reset()
    const capped = await runAction({ inputs: inputs({ filter: `search=${expr}`, 'max-targets': '10' }) })
    expect(capped.code).not.toBe(0)
    expect(capped.stdout).toContain('more than max-targets (10)')
    expect(emu.sessionRequests()).toHaveLength(0)
    const one = emu.apiRequests().filter((q) => q.path === '/api/v1/users')
    expect(one.map((q) => q.query.get('limit'))).toEqual(['11'])

    emu.reset()
    const small = await runAction({ inputs: inputs({ filter: 'search=profile.login sw "user11"', 'max-targets': '20' }) })
    expect(small.code).toBe(0)
    expect(small.outputs['terminated-count']).toBe('12') // user11, user110..user119, user1100
    expect(emu.revocations).toHaveLength(12)
  })

  it('a search expression Okta refuses (400 E0000031) is an input error naming filter; nothing is cleared', async () => {
    const r = await runAction({ inputs: inputs({ filter: 'search=profile.department ne "Sales"' }) })
    expect(r.code).not.toBe(0)
    expect(r.stdout).toContain("Input 'filter': Okta refused the search expression (HTTP 400, E0000031: Invalid search criteria.")
    expect(emu.sessionRequests()).toHaveLength(0)
  })

  it('many targets are resolved from the org user list (a few pages) instead of one lookup each', async () => {
    const picked = [0, 1, 2, 150, 198, 200, 201, 398, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415]
    const targets = [...picked.map((i) => u(i).id), 'USER598@example.com', u(99).id /* DEPROVISIONED: not in the plain list */, oktaId('00u', 999_998)]
    const r = await runAction({ inputs: inputs({ targets: targets.join('\n'), 'dry-run': 'true', 'if-unresolved': 'skip', 'max-targets': '100' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe(String(picked.length + 2))
    const list = emu.apiRequests().filter((q) => q.path === '/api/v1/users')
    const lookups = emu.apiRequests().filter((q) => q.path.startsWith('/api/v1/users/'))
    // 27 targets, all but two among the first 600 listed users: three pages, then the 2 left (the DEPROVISIONED
    // user the plain list leaves out, an unknown id) cost fewer lookups than another page is worth.
    expect(list.map((q) => [q.query.get('limit'), q.query.has('after')])).toEqual([
      ['200', false],
      ['200', true],
      ['200', true]
    ])
    expect(lookups.map((q) => q.path).sort()).toEqual([`/api/v1/users/${u(99).id}`, `/api/v1/users/${oktaId('00u', 999_998)}`].sort())
    expect(byId(r, u(597).id)?.details).toMatchObject({ given: 'USER598@example.com', login: 'user598@example.com' })
    expect(byId(r, u(99).id)?.details?.status).toBe('DEPROVISIONED')
    expect(r.summary).toContain('User 598')
  })

  it("per-target failures carry Okta's errorCode, errorSummary and errorId: a help desk admin may not clear an admin's sessions", async () => {
    const r = await runAction({ inputs: inputs({ token: OKTA_HELPDESK_API_TOKEN, targets: `${u(3).id}\n${u(4).id}\n${u(5).id}` }) })
    expect(r.code).not.toBe(0) // fail-on: any
    expect(r.outputs['terminated-count']).toBe('2')
    expect(r.outputs['failed-count']).toBe('1')
    const admin = byId(r, u(4).id)
    expect(admin).toMatchObject({ outcome: 'failed', status: 403, code: 'E0000006' })
    expect(admin?.message).toMatch(/^You do not have permission to perform the requested action \[errorId oae[A-Za-z0-9]+\]$/)
    expect(admin?.requestId).toMatch(/^req/)
    expect(emu.revokedUserIds().sort()).toEqual([u(3).id, u(5).id].sort())
  })

  it('a wrong API token (401 E0000011) stops the run before anything is cleared; the token is never shown', async () => {
    const wrong = '00WrongTokenWrongTokenWrongTokenWrong0000'
    const r = await runAction({ inputs: inputs({ token: wrong, targets: `${u(0).id}\n${u(1).id}` }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('HTTP 401, code E0000011: Invalid token provided')
    expect(emu.sessionRequests()).toHaveLength(0)
    expect(emu.apiRequests().length).toBeLessThanOrEqual(3) // the lookups already on the wire (concurrency 3), then nothing
    for (const text of shown(r)) expect(text).not.toContain(wrong)
  })

  it('a read-only admin token: every DELETE is refused with 403 E0000006, each target failed, nothing cleared', async () => {
    const r = await runAction({ inputs: inputs({ token: OKTA_READONLY_API_TOKEN, targets: `${u(0).id}\n${u(1).id}` }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('2')
    expect((r.report.results as Result[]).every((x) => x.code === 'E0000006' && x.status === 403)).toBe(true)
    expect(emu.revocations).toHaveLength(0)
  })
})

describe('okta rate limits', () => {
  it('paces by X-Rate-Limit-Remaining/-Reset: no 429 in a run the headers allow', async () => {
    emu.rateLimitWindowMs = 1000
    emu.principalPercent = 100
    emu.rateLimits.sessions = 5
    const targets = users
      .slice(0, 14)
      .map((x) => x.id)
      .join('\n')
    const r = await runAction({ inputs: inputs({ targets }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('14')
    expect(emu.tooManyRequests()).toHaveLength(0)
    expect(emu.revocations).toHaveLength(14)
    // 14 DELETEs at 5 a one-second window: three windows at least, so more than a second.
    const at = emu.sessionRequests().map((q) => q.at)
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(1000)
  })

  it('429 E0000047 waits until X-Rate-Limit-Reset, then every user is cleared exactly once', async () => {
    emu.server.queueFaults(
      [
        { kind: 'throttle', seconds: 1 },
        { kind: 'throttle', seconds: 1 }
      ],
      (q) => q.method === 'DELETE'
    )
    const targets = users
      .slice(0, 4)
      .map((x) => x.id)
      .join('\n')
    const r = await runAction({ inputs: inputs({ targets }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('4')
    const throttled = emu.tooManyRequests()
    expect(throttled).toHaveLength(2)
    expect(emu.revokedUserIds().sort()).toEqual(
      users
        .slice(0, 4)
        .map((x) => x.id)
        .sort()
    )
    // The refused user was retried after the reset the 429 named (at least a second ahead), not at once.
    const first = throttled[0]
    const retry = emu.sessionRequests().find((q) => q.path === first.path && q.at > first.at)
    expect(retry?.status).toBe(204)
    expect((retry?.at ?? 0) - first.at).toBeGreaterThanOrEqual(900)
    expect(r.report.http.throttled).toBeGreaterThanOrEqual(1)
  })
})
