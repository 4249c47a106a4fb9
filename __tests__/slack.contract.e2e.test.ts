// The bundled action against Slack's published contract: every request of its real runs goes through
// Prism loaded with the vendored slice of slackapi/slack-api-specs (__tests__/contracts/slack/openapi.json),
// in front of the Slack emulator. The 2020 description has no admin.users.session.resetBulk, so Prism
// answers "Selected route not found" for those calls (the emulator alone checks them, from the method
// page); every other request must be free of violations. Slack's error answers are HTTP 200 too, and Prism
// holds them to the success schema, so only runs whose answers are all successes are held to zero
// response violations (see __tests__/contracts/slack/SOURCE.md).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { BOT_USER, METHOD_LOOKUP, METHOD_RESET, METHOD_RESET_BULK, SLACK_ADMIN_TOKEN, SlackEmulator, makeUsers, specialUsers } from './emulators/slack/index.js'
import { contractPath, startContractProxy } from './helpers/contract-proxy.js'
import { runAction } from './helpers/run-action.js'

type Proxy = Awaited<ReturnType<typeof startContractProxy>>
type Violation = ReturnType<Proxy['requestViolations']>[number]

const emu = new SlackEmulator({ users: [...makeUsers(50), ...specialUsers()] })
let proxy: Proxy
const covered = new Set<string>()

beforeAll(async () => {
  await emu.start()
  proxy = await startContractProxy({ spec: contractPath('slack'), upstream: `${emu.origin}/api` })
}, 60_000)
afterAll(async () => {
  await proxy?.stop()
  await emu.stop()
})
beforeEach(() => {
  emu.reset()
  proxy.reset()
})

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'slack', token: SLACK_ADMIN_TOKEN, 'base-url': proxy.origin, 'rate-limit': '60000', 'if-unresolved': 'skip', ...extra }
}

const isBulk = (v: { path?: string }): boolean => (v.path ?? '').split('?')[0] === `/${METHOD_RESET_BULK}`

/** What Prism flagged once its log caught up: resetBulk's "route not found" set apart, everything else must be empty. */
async function checked(): Promise<{ request: Violation[]; response: Violation[]; bulk: Violation[] }> {
  await proxy.settle()
  for (const q of proxy.received) covered.add(`${q.method} ${q.path.split('?')[0]}`)
  const all = proxy.requestViolations()
  return { request: all.filter((v) => !isBulk(v)), response: proxy.responseViolations().filter((v) => !isBulk(v)), bulk: all.filter(isBulk) }
}

describe("slack: every request the action sends is allowed by Slack's published description (resetBulk aside)", () => {
  it('emails and ids with session-scope web: lookups as GET ?email=, one resetBulk', async () => {
    const r = await runAction({
      inputs: inputs({ targets: 'user1@example.com\nUSER2@example.com\nuser9@example.com\nW00000003\nU00000004', 'session-scope': 'web' })
    })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('5')
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(c.bulk.map((v) => v.message)).toEqual(['Selected route not found'])
    expect(proxy.received.map((q) => `${q.method} ${q.path.split('?')[0]}`)).toEqual([
      `GET /${METHOD_LOOKUP}`,
      `GET /${METHOD_LOOKUP}`,
      `GET /${METHOD_LOOKUP}`,
      `POST /${METHOD_RESET_BULK}`
    ])
    expect(emu.resetUserIds('web').sort()).toEqual(['U00000004', 'W00000001', 'W00000002', 'W00000003', 'W00000009'])
  })

  it('the fallback: admin.users.session.reset per user, form-encoded with mobile_only', async () => {
    emu.refuseResetBulk = 'restricted_action'
    const r = await runAction({ inputs: inputs({ targets: 'W00000001\nuser5@example.com\nU00000008', 'session-scope': 'mobile' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('3')
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(proxy.received.filter((q) => q.path === `/${METHOD_RESET}`)).toHaveLength(3)
  })

  it('runs with error answers (an unknown email, a bot refused by reset) send only allowed requests too', async () => {
    const lookup = await runAction({ inputs: inputs({ targets: 'nobody@example.com\nuser1@example.com' }) })
    expect(lookup.outputs['skipped-count']).toBe('1')
    emu.refuseResetBulk = 'restricted_action'
    const fallback = await runAction({ inputs: inputs({ targets: `W00000001\n${BOT_USER.id}` }) })
    expect(fallback.outputs['terminated-count']).toBe('1')
    expect(fallback.outputs['failed-count']).toBe('1')
    const c = await checked()
    expect(c.request).toEqual([])
    // The error answers themselves are outside the 2020 description (HTTP 200 held to the success schema).
    expect(c.response.length).toBeGreaterThan(0)
  })

  it('the check can fail: a reset without user_id and a lookup without the bearer header are flagged', async () => {
    await fetch(`${proxy.origin}/${METHOD_RESET}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SLACK_ADMIN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'mobile_only=true'
    }).then((res) => res.text())
    await fetch(`${proxy.origin}/${METHOD_LOOKUP}?email=user1%40example.com`).then((res) => res.text())
    await proxy.settle()
    const messages = proxy.requestViolations().map((v) => v.message)
    expect(messages).toEqual(expect.arrayContaining([expect.stringContaining("required property 'user_id'"), 'Invalid security scheme used']))
  })

  it('the runs above covered the operations the action uses', () => {
    expect(covered).toEqual(new Set([`GET /${METHOD_LOOKUP}`, `POST /${METHOD_RESET_BULK}`, `POST /${METHOD_RESET}`]))
  })
})
