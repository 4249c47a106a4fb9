// The bundled action against the Slack emulator when Slack says no: rate limits (HTTP 429 and HTTP 200
// ratelimited, with Retry-After), transient errors, and resetBulk refused for the token or the plan (the
// fallback to admin.users.session.reset, and the stop when reset is refused too). Tokens Slack refuses
// are in slack.token.e2e.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  BOT_USER,
  METHOD_LOOKUP,
  METHOD_RESET,
  METHOD_RESET_BULK,
  SLACK_ADMIN_TOKEN,
  SlackEmulator,
  makeUsers,
  slackAnswer,
  specialUsers
} from './emulators/slack/index.js'
import { runAction } from './helpers/run-action.js'

const users = makeUsers(40)
const emu = new SlackEmulator({ users: [...users, ...specialUsers()] })

beforeAll(async () => {
  await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

type Result = { id: string; outcome: string; reason?: string; status?: number; code?: string; message?: string }
type Run = Awaited<ReturnType<typeof runAction>>

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'slack', token: SLACK_ADMIN_TOKEN, 'base-url': emu.baseUrl, 'rate-limit': '6000', ...extra }
}
const ids = (n: number, from = 0): string[] => users.slice(from, from + n).map((u) => u.id)
const byId = (r: Run, id: string): Result | undefined => (r.report.results as Result[]).find((x) => x.id === id)

describe('slack: throttling and transient errors', () => {
  it('a ratelimited storm (HTTP 429 on resetBulk, HTTP 200 ratelimited on lookups) is waited out as Retry-After says; every user is queued exactly once', async () => {
    emu.queueRatelimited(METHOD_LOOKUP, 2, { seconds: 1, status: 200 })
    emu.queueRatelimited(METHOD_RESET_BULK, 3, { seconds: 1 })
    const targets = [...ids(12), 'user20@example.com', 'user21@example.com']
    const r = await runAction({ inputs: inputs({ targets: targets.join('\n'), 'batch-size': '4', concurrency: '3' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('14')
    expect(r.report.http.throttled).toBeGreaterThanOrEqual(5)
    const queued = emu.jobs.flatMap((j) => j.userIds)
    expect([...queued].sort()).toEqual([...ids(12), 'U00000020', 'W00000021'].sort())
    // Nothing went out again before the Retry-After asked for had passed.
    const bulk = emu.requestsTo(METHOD_RESET_BULK)
    const first429 = Math.min(...bulk.filter((q) => q.status === 429).map((q) => q.at))
    const firstOk = Math.min(...bulk.filter((q) => q.status === 200).map((q) => q.at))
    expect(firstOk - first429).toBeGreaterThanOrEqual(900)
    const lookups = emu.requestsTo(METHOD_LOOKUP)
    expect(lookups).toHaveLength(4) // two answered ratelimited, then each email once
  })

  it("a per-method rate limit: the limiter slows down on Slack's 429s and every batch still gets through", async () => {
    emu.setMethodRateLimit(METHOD_RESET_BULK, 3, 1000, { retryAfterSeconds: 1 })
    const r = await runAction({ inputs: inputs({ targets: ids(16).join('\n'), 'batch-size': '2', concurrency: '4' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('16')
    expect(emu.throttled).toBeGreaterThan(0)
    expect(emu.jobs).toHaveLength(8)
    expect(emu.jobs.flatMap((j) => j.userIds).sort()).toEqual(ids(16).sort())
  })

  it('internal_error in an HTTP 200 is retried (resetting twice is harmless), other errors of the call are not', async () => {
    emu.queueAnswer(METHOD_RESET_BULK, slackAnswer({ ok: false, error: 'internal_error' }))
    const r = await runAction({ inputs: inputs({ targets: ids(3).join('\n') }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('3')
    expect(emu.requestsTo(METHOD_RESET_BULK)).toHaveLength(2)

    emu.reset()
    emu.queueAnswer(METHOD_RESET_BULK, slackAnswer({ ok: false, error: 'some_new_error' }))
    const other = await runAction({ inputs: inputs({ targets: ids(3).join('\n') }) })
    expect(other.code).not.toBe(0)
    expect(byId(other, ids(1)[0])).toMatchObject({ outcome: 'failed', status: 200, code: 'some_new_error' })
    expect(emu.requestsTo(METHOD_RESET_BULK)).toHaveLength(1)
  })

  it('a 404 that is not Slack (a proxy page) fails the batch once: it is never split to hunt for a bad user', async () => {
    emu.server.queueFaults(
      [{ kind: 'custom', respond: () => ({ status: 404, headers: { 'content-type': 'text/html' }, body: '<html>Not Found</html>' }) }],
      (q) => q.path.endsWith(METHOD_RESET_BULK)
    )
    const r = await runAction({ inputs: inputs({ targets: ids(10).join('\n') }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('10')
    expect(byId(r, ids(1)[0])).toMatchObject({ outcome: 'failed', status: 404 })
    expect(byId(r, ids(1)[0])?.message).toContain('Not Found')
    expect(emu.requests).toHaveLength(1)
  })
})

describe('slack: resetBulk refused for the token or the plan', () => {
  it('falls back to admin.users.session.reset per user (terminated), says so in the log, and keeps per-user failures', async () => {
    emu.refuseResetBulk = 'unknown_method'
    const targets = [...ids(5), BOT_USER.id, 'user7@example.com']
    const r = await runAction({ inputs: inputs({ targets: targets.join('\n'), 'session-scope': 'mobile', 'batch-size': '4', concurrency: '2' }) })
    expect(r.code).not.toBe(0) // the bot fails
    expect(r.outputs['terminated-count']).toBe('6')
    expect(r.outputs['failed-count']).toBe('1')
    expect(byId(r, BOT_USER.id)).toMatchObject({ outcome: 'failed', code: 'cannot_reset_bot' })
    expect(byId(r, ids(1)[0])?.reason).toContain(
      'sessions reset by admin.users.session.reset (mobile sessions only) (admin.users.session.resetBulk was unknown_method)'
    )
    expect(r.stdout).toMatch(/::warning[^\n]*admin\.users\.session\.resetBulk was refused[^\n]*one user at a time/)
    // Both batches tried resetBulk once; then one reset per user, form-encoded, with mobile_only.
    expect(emu.requestsTo(METHOD_RESET_BULK).length).toBeLessThanOrEqual(2)
    const resets = emu.requestsTo(METHOD_RESET)
    expect(resets).toHaveLength(7)
    for (const q of resets) {
      expect(q.headers['content-type']).toBe('application/x-www-form-urlencoded')
      expect(new URLSearchParams(q.bodyText).get('mobile_only')).toBe('true')
    }
    expect(emu.resets.map((x) => [x.via, x.scope])).toEqual(Array.from({ length: 6 }, () => ['reset', 'mobile']))
    expect(emu.tokenLeaks).toEqual([])
  })

  it('when reset is refused too (not Enterprise Grid: feature_not_enabled), the run stops after one probe', async () => {
    emu.plan = 'business+'
    // Ten users in five batches; the engine runs up to three batches at once (concurrency 1 x 3 tasks).
    const r = await runAction({ inputs: inputs({ targets: ids(10).join('\n'), 'batch-size': '2', concurrency: '1' }) })
    expect(r.code).not.toBe(0)
    const results = r.report.results as Result[]
    // A batch whose resetBulk was refused fails with Slack's code; batches never sent are not attempted.
    for (const x of results) expect(x.outcome === 'not-attempted' || (x.outcome === 'failed' && x.code === 'feature_not_enabled')).toBe(true)
    expect(results.slice(6).map((x) => x.outcome)).toEqual(['not-attempted', 'not-attempted', 'not-attempted', 'not-attempted'])
    expect(byId(r, ids(1)[0])).toMatchObject({ outcome: 'failed', code: 'feature_not_enabled' })
    expect(byId(r, ids(1)[0])?.message).toContain('session reset needs Enterprise Grid')
    expect(byId(r, ids(1)[0])?.message).toContain('admin.users.session.reset is refused too')
    expect(emu.requestsTo(METHOD_RESET_BULK).length).toBe(results.filter((x) => x.outcome === 'failed').length / 2)
    expect(emu.requestsTo(METHOD_RESET)).toHaveLength(1)
    expect(emu.resets).toHaveLength(0)
  })
})
