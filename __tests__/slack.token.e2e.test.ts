// The bundled action against the Slack emulator with tokens Slack refuses: without the scope (on the
// reset, on the email lookups, and the dry run's warning), of the wrong type, of a non-admin, unknown, and
// expiring mid-run. Each stops the run with what to change, and never shows the token.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  METHOD_RESET_BULK,
  SLACK_ADMIN_TOKEN,
  SLACK_NO_ADMIN_SCOPE_TOKEN,
  SLACK_NO_EMAIL_SCOPE_TOKEN,
  SLACK_NON_ADMIN_TOKEN,
  SLACK_WORKSPACE_TOKEN,
  SlackEmulator,
  makeUsers,
  specialUsers
} from './emulators/slack/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

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
const outcomes = (r: Run): string[] => (r.report.results as Result[]).map((x) => x.outcome)
const shown = (r: Run): string => [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report ?? {}), JSON.stringify(r.outputs)].join('\n')

describe('slack: the token', () => {
  it('missing_scope on the reset stops the run with the scope to add; the rest is not attempted', async () => {
    const r = await runAction({ inputs: inputs({ token: SLACK_NO_ADMIN_SCOPE_TOKEN, targets: ids(6).join('\n'), 'batch-size': '2', concurrency: '1' }) })
    expect(r.code).not.toBe(0)
    expect(outcomes(r)).toEqual(['failed', 'failed', 'not-attempted', 'not-attempted', 'not-attempted', 'not-attempted'])
    const first = byId(r, ids(1)[0])
    expect(first).toMatchObject({ status: 200, code: 'missing_scope' })
    expect(first?.message).toContain('the token lacks the scope admin.users:write (it has: users:read,users:read.email)')
    expect(first?.message).toContain('reinstall the app on the organization')
    expect(r.report.halted).toContain('missing_scope')
    expect(emu.requestsTo(METHOD_RESET_BULK)).toHaveLength(1)
    expect(r.stdout).toContain('Slack rejected the credentials')
    expect(shown(r)).not.toContain(SLACK_NO_ADMIN_SCOPE_TOKEN)
  })

  it("a dry run warns from Slack's X-OAuth-Scopes header when the token lacks admin.users:write", async () => {
    const r = await runAction({ inputs: inputs({ token: SLACK_NO_ADMIN_SCOPE_TOKEN, targets: 'user1@example.com', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/::warning[^\n]*lack admin\.users:write/)
    expect(emu.resetRequests()).toHaveLength(0)
  })

  it('missing_scope on users.lookupByEmail fails the plan, naming users:read.email; nothing is reset', async () => {
    const r = await runAction({ inputs: inputs({ token: SLACK_NO_EMAIL_SCOPE_TOKEN, targets: 'W00000001\nuser2@example.com\nuser3@example.com' }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('code missing_scope')
    expect(r.report.error).toContain('add users:read.email')
    expect(emu.resetRequests()).toHaveLength(0)
  })

  it.each([
    [SLACK_WORKSPACE_TOKEN, 'not_allowed_token_type', 'installed on the whole Enterprise Grid organization'],
    [SLACK_NON_ADMIN_TOKEN, 'not_an_admin', 'not an Org Admin or Owner'],
    ['xoxp-1000000001-2000000001-3000000099-9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f', 'invalid_auth', 'did not accept the token']
  ])('%#: a token Slack refuses (%s) stops the run at the first call', async (token, code, advice) => {
    const r = await runAction({ inputs: inputs({ token, targets: ids(4).join('\n'), 'batch-size': '2', concurrency: '1' }) })
    expect(r.code).not.toBe(0)
    expect(byId(r, ids(1)[0])).toMatchObject({ outcome: 'failed', code })
    expect(byId(r, ids(1)[0])?.message).toContain(advice)
    expect(outcomes(r).slice(2)).toEqual(['not-attempted', 'not-attempted'])
    expect(emu.requests).toHaveLength(1)
    expect(shown(r)).not.toContain(token)
  })

  it('a token that expires mid-run: what was queued stays accepted, the refused batch fails, the rest is not attempted', async () => {
    emu.expireToken(SLACK_ADMIN_TOKEN, { afterRequests: 1 })
    const r = await runAction({ inputs: inputs({ targets: ids(6).join('\n'), 'batch-size': '2', concurrency: '1' }) })
    expect(r.code).not.toBe(0)
    expect(outcomes(r)).toEqual(['accepted', 'accepted', 'failed', 'failed', 'not-attempted', 'not-attempted'])
    expect(byId(r, ids(3)[2])).toMatchObject({ code: 'token_expired' })
  })
})
