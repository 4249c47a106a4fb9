// The bundled action (dist/index.js) run as the Actions runner runs it, against the Slack emulator:
// targets, the plan, resetBulk and what its answers mean per user, session scope, dry runs, secrets.
// Throttling, plan refusals and the fallback to admin.users.session.reset are in slack.faults.e2e.test.ts;
// tokens Slack refuses in slack.token.e2e.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  BOT_USER,
  DELETED_USER,
  METHOD_LOOKUP,
  METHOD_RESET_BULK,
  PRIMARY_OWNER,
  SLACK_ADMIN_TOKEN,
  SlackEmulator,
  makeUsers,
  specialUsers
} from './emulators/slack/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

const users = makeUsers(2_500)
const emu = new SlackEmulator({ users: [...users, ...specialUsers()] })

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
  requestId?: string
  details?: Record<string, unknown>
}
type Run = Awaited<ReturnType<typeof runAction>>

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'slack', token: SLACK_ADMIN_TOKEN, 'base-url': emu.baseUrl, 'rate-limit': '6000', ...extra }
}

const byId = (r: Run, id: string): Result | undefined => (r.report.results as Result[]).find((x) => x.id === id)
/** The form bodies of the resetBulk calls, parsed. */
const bulkBodies = (): Record<string, string>[] => emu.requestsTo(METHOD_RESET_BULK).map((q) => Object.fromEntries(new URLSearchParams(q.bodyText)))
const bulkIds = (): string[][] => bulkBodies().map((b) => b.user_ids.split(','))

/** Every place a secret could leak to, as the admin would see it. */
function shown(r: Run): string[] {
  return [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report), JSON.stringify(r.outputs)]
}

/** Every request carried the token in the Authorization header and nowhere else. */
function expectTokenOnlyInHeader(token = SLACK_ADMIN_TOKEN): void {
  expect(emu.tokenLeaks).toEqual([])
  for (const q of emu.requests) {
    expect(q.headers.authorization).toBe(`Bearer ${token}`)
    expect(`${q.path}?${q.query.toString()}`).not.toContain(token)
    expect(q.bodyText).not.toContain(token)
  }
}

describe('slack end to end', () => {
  it('dry run: emails are looked up (GET ?email=), ids are planned as given, a missing or deactivated email is unresolved; nothing is reset', async () => {
    const targets = ['W00000001', 'user2@example.com', 'USER8@Example.com', 'nobody@example.com', DELETED_USER.email, 'U00000004'].join('\n')
    const r = await runAction({ inputs: inputs({ targets, 'dry-run': 'true', 'if-unresolved': 'skip' }) })
    expect(r.code).toBe(0)
    expect(emu.resetRequests()).toHaveLength(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.outputs['planned-count']).toBe('4')
    expect(JSON.parse(r.outputs.targets)).toEqual(['W00000001', 'W00000002', 'U00000008', 'U00000004'])
    expect(JSON.parse(r.outputs.unresolved)).toEqual(['nobody@example.com', DELETED_USER.email])
    expect(byId(r, 'W00000002')).toMatchObject({ kind: 'user-id', label: 'User 2', outcome: 'planned', details: { email: 'user2@example.com', name: 'user2' } })
    expect(byId(r, 'nobody@example.com')).toMatchObject({ outcome: 'skipped', unresolved: true, kind: 'email' })
    expect(byId(r, 'nobody@example.com')?.reason).toContain('not found in Slack (HTTP 200, code users_not_found: no active user has this email')
    expect(byId(r, 'nobody@example.com')?.reason).toContain('users_not_found')
    // Four lookups, each a GET with the email in the query; ids cost no call.
    const lookups = emu.requestsTo(METHOD_LOOKUP)
    expect(lookups.map((q) => q.method)).toEqual(['GET', 'GET', 'GET', 'GET'])
    expect(lookups.map((q) => q.query.get('email')).sort()).toEqual(['USER8@Example.com', DELETED_USER.email, 'nobody@example.com', 'user2@example.com'].sort())
    expect(emu.requests).toHaveLength(4)
    expect(visibleLog(r.stdout)).toContain('2 Slack user id(s) planned as given, not looked up')
    expect(r.summary).toContain('User 2')
    expectTokenOnlyInHeader()
    for (const text of shown(r)) expect(text).not.toContain(SLACK_ADMIN_TOKEN)
    expect(r.stdout).toContain(`::add-mask::${SLACK_ADMIN_TOKEN}`)
  })

  it("real run: ids and emails in one form-encoded resetBulk call end accepted, once each, with Slack's request id", async () => {
    const targets = ['W00000001', 'user2@example.com', 'W00000002', 'User3@example.com', 'U00000004'].join(',')
    const r = await runAction({ inputs: inputs({ targets }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('4')
    expect(r.outputs['terminated-count']).toBe('0')
    const calls = emu.requestsTo(METHOD_RESET_BULK)
    expect(calls).toHaveLength(1)
    expect(calls[0].method).toBe('POST')
    expect(calls[0].headers['content-type']).toBe('application/x-www-form-urlencoded')
    // user2@example.com and W00000002 are the same user: sent once. No session flags for session-scope all.
    expect(bulkBodies()).toEqual([{ user_ids: 'W00000001,W00000002,W00000003,U00000004' }])
    expect(emu.jobs).toHaveLength(1)
    expect(emu.resetUserIds('all').sort()).toEqual(['U00000004', 'W00000001', 'W00000002', 'W00000003'])
    expect(emu.sessionsOf('W00000003')).toEqual({ web: 0, mobile: 0 })
    const one = byId(r, 'W00000003')
    expect(one).toMatchObject({ outcome: 'accepted', label: 'User 3' })
    expect(one?.reason).toContain('queued by Slack: admin.users.session.resetBulk answered ok')
    expect(one?.requestId).toMatch(/^[0-9a-f]{32}$/)
    expect(visibleLog(r.stdout)).toContain('is the same Slack user as')
    expect(r.summary).toContain('**accepted**')
    expect(r.summary).toContain('gives no job id to follow')
    expectTokenOnlyInHeader()
    for (const text of shown(r)) expect(text).not.toContain(SLACK_ADMIN_TOKEN)
  })

  it('session-scope web / mobile send web_only / mobile_only, and are part of the plan hash', async () => {
    const web = await runAction({ inputs: inputs({ targets: 'W00000001\nuser5@example.com', 'session-scope': 'web' }) })
    expect(web.code).toBe(0)
    expect(bulkBodies()).toEqual([{ user_ids: 'W00000001,W00000005', web_only: 'true' }])
    expect(emu.sessionsOf('W00000001')).toEqual({ web: 0, mobile: 1 })
    expect(byId(web, 'W00000001')?.reason).toContain('(web sessions only)')
    emu.reset()
    const mobile = await runAction({ inputs: inputs({ targets: 'W00000001\nuser5@example.com', 'session-scope': 'MOBILE' }) })
    expect(mobile.code).toBe(0)
    expect(bulkBodies()).toEqual([{ user_ids: 'W00000001,W00000005', mobile_only: 'true' }])
    expect(emu.resetUserIds('mobile')).toEqual(['W00000001', 'W00000005'])
    emu.reset()
    const all = await runAction({ inputs: inputs({ targets: 'W00000001\nuser5@example.com', 'dry-run': 'true' }) })
    expect(new Set([web.outputs['plan-hash'], mobile.outputs['plan-hash'], all.outputs['plan-hash']]).size).toBe(3)
    expect(all.report.planScope.settings).toEqual({ sessionScope: 'all' })
  })

  it('at most 1,000 user ids a call, whatever batch-size says', async () => {
    const ids = users.map((u) => u.id)
    const r = await runAction({ inputs: inputs({ targets: ids.join('\n'), 'batch-size': '5000', 'max-targets': '3000', 'target-type': 'user-id' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('2500')
    expect(bulkIds().map((b) => b.length)).toEqual([1000, 1000, 500])
    expect(emu.sentUserIds().sort()).toEqual([...ids].sort())
    expect(emu.requests).toHaveLength(3)
  })

  it('failed_for_some_users naming the users: exactly those fail with their code; the others are confirmed by one more call and end accepted', async () => {
    emu.failUser('W00000006')
    const targets = ['W00000001', 'W00000002', 'W0NOSUCH1', BOT_USER.id, PRIMARY_OWNER.id, 'W00000006', 'U00000004'].join('\n')
    const r = await runAction({ inputs: inputs({ targets }) })
    expect(r.code).not.toBe(0) // fail-on: any
    expect(r.outputs['accepted-count']).toBe('3')
    expect(r.outputs['failed-count']).toBe('4')
    expect(byId(r, 'W0NOSUCH1')).toMatchObject({ outcome: 'failed', status: 200, code: 'user_not_found' })
    expect(byId(r, 'W0NOSUCH1')?.message).toContain('no Slack user has this id')
    expect(byId(r, BOT_USER.id)).toMatchObject({ outcome: 'failed', code: 'cannot_reset_bot' })
    expect(byId(r, PRIMARY_OWNER.id)).toMatchObject({ outcome: 'failed', code: 'cannot_reset_primary_owner' })
    expect(byId(r, 'W00000006')).toMatchObject({ outcome: 'failed', code: 'user_session_reset_failed' })
    expect(byId(r, 'W00000006')?.requestId).toMatch(/^[0-9a-f]{32}$/)
    expect(byId(r, 'W00000001')).toMatchObject({ outcome: 'accepted' })
    expect(byId(r, 'W00000001')?.reason).toContain('sent again on its own')
    // The first call with all seven; the second with the three Slack did not name.
    expect(bulkIds()).toEqual([
      ['W00000001', 'W00000002', 'W0NOSUCH1', BOT_USER.id, PRIMARY_OWNER.id, 'W00000006', 'U00000004'],
      ['W00000001', 'W00000002', 'U00000004']
    ])
    expect(r.stdout).toContain('4 of 7 targets failed')
  })

  it('failed_for_some_users naming no one: the call is split and sent again until the refused user is found', async () => {
    emu.partialFailureDetails = 'none'
    emu.failUser('W00000011')
    const ids = users.slice(0, 16).map((u) => u.id)
    const r = await runAction({ inputs: inputs({ targets: ids.join('\n') }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['accepted-count']).toBe('15')
    expect(r.outputs['failed-count']).toBe('1')
    expect(byId(r, 'W00000011')).toMatchObject({ outcome: 'failed', status: 200, code: 'failed_for_some_users' })
    expect(byId(r, 'W00000011')?.message).toContain('no reason given')
    // 16 -> 8 + 8 -> 4 + 4 -> 2 + 2 -> 1 + 1: the first call and 8 more.
    const calls = bulkIds()
    expect(calls).toHaveLength(9)
    expect(calls[0]).toEqual(ids)
    expect(calls.filter((c) => c.length === 1)).toEqual(expect.arrayContaining([['W00000011']]))
    // Every other user was answered ok in a call of its own group.
    expect(new Set(emu.jobs.flatMap((j) => j.userIds))).toEqual(new Set(ids.filter((id) => id !== 'W00000011')))
  })

  it('when finding the refused users would take too many calls, the rest fail saying their reset is unknown, and no target is lost', async () => {
    emu.partialFailureDetails = 'none'
    const ids = users.slice(0, 64).map((u) => u.id)
    for (const id of ids.filter((_, i) => i % 3 === 0)) emu.failUser(id)
    const r = await runAction({ inputs: inputs({ targets: ids.join('\n'), 'max-targets': '100' }) })
    expect(r.code).not.toBe(0)
    const results = r.report.results as Result[]
    expect(results).toHaveLength(64)
    expect(results.every((x) => x.outcome === 'accepted' || x.outcome === 'failed')).toBe(true)
    expect(bulkIds().length).toBeLessThanOrEqual(41)
    const unsure = results.filter((x) => x.message?.includes('may or may not have been reset'))
    expect(unsure.length).toBeGreaterThan(0)
    // Nobody Slack refused is reported accepted.
    for (const id of ids.filter((_, i) => i % 3 === 0)) expect(byId(r, id)?.outcome).toBe('failed')
    // Everyone reported accepted was in a call Slack answered ok.
    const queued = new Set(emu.jobs.flatMap((j) => j.userIds))
    for (const x of results.filter((y) => y.outcome === 'accepted')) expect(queued.has(x.id)).toBe(true)
  })

  it('bad inputs fail before any request: a bot token, a target that is neither id nor email, a wrong session-scope, a filter', async () => {
    const bot = await runAction({ inputs: inputs({ token: 'xoxb-1000000001-4000000001-5a1b2c3d4e5f60718293a4b5', targets: 'W00000001' }) })
    expect(bot.code).not.toBe(0)
    expect(bot.stdout).toContain("Input 'token': is a Slack bot token (xoxb-)")
    expect(visibleLog(bot.stdout) + bot.stderr + bot.summary).not.toContain('4000000001-5a1b2c3d')
    const other = await runAction({ inputs: inputs({ targets: 'W00000001\nalice' }) })
    expect(other.stdout).toContain("Input 'targets'")
    expect(other.stdout).toContain('"alice"')
    const lower = await runAction({ inputs: inputs({ targets: 'w00000001', 'target-type': 'user-id' }) })
    expect(lower.stdout).toContain('is not a valid Slack user id')
    const email = await runAction({ inputs: inputs({ targets: 'W00000001', 'target-type': 'email' }) })
    expect(email.stdout).toContain('is not a valid email address')
    const scope = await runAction({ inputs: inputs({ targets: 'W00000001', 'session-scope': 'desktop' }) })
    expect(scope.stdout).toContain("Input 'session-scope'")
    const filter = await runAction({ inputs: inputs({ filter: 'email=a@b.c' }) })
    expect(filter.stdout).toContain("Input 'filter': slack takes no filter")
    for (const r of [bot, other, lower, email, scope, filter]) expect(r.code).not.toBe(0)
    expect(emu.requests).toHaveLength(0)
  })
})
