// The bundled action against Okta's published contract: every request it sends in real runs goes
// through Prism loaded with the vendored slices of okta/okta-management-openapi-spec (management API and
// the org authorization server's token endpoint, merged by oktaContractSpec()), in front of the Okta
// emulator. A request the description does not allow is a test failure.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { oktaContractSpec } from './emulators/okta/contract.js'
import { OKTA_API_TOKEN, OKTA_CLIENT_ID, OktaEmulator, makeGroup, makeUsers, oktaId } from './emulators/okta/index.js'
import { startContractProxy } from './helpers/contract-proxy.js'
import { runAction } from './helpers/run-action.js'

type Proxy = Awaited<ReturnType<typeof startContractProxy>>

const users = makeUsers(700)
const sales = makeGroup(
  1,
  'Sales',
  users.filter((u) => u.profile.department === 'Sales').map((u) => u.id)
)
const emu = new OktaEmulator({ users, groups: [sales] })
let proxy: Proxy

/** Every operation of the slices, as `METHOD /template`. */
const OPERATIONS = [
  'POST /oauth2/v1/token',
  'GET /api/v1/users',
  'GET /api/v1/users/{id}',
  'DELETE /api/v1/users/{userId}/sessions',
  'GET /api/v1/groups/{groupId}',
  'GET /api/v1/groups/{groupId}/users'
]
const covered = new Set<string>()

function operationOf(method: string, rawPath: string): string {
  const path = rawPath.split('?')[0]
  const template = path
    .replace(/^\/api\/v1\/users\/[^/]+\/sessions$/, '/api/v1/users/{userId}/sessions')
    .replace(/^\/api\/v1\/users\/[^/]+$/, '/api/v1/users/{id}')
    .replace(/^\/api\/v1\/groups\/[^/]+\/users$/, '/api/v1/groups/{groupId}/users')
    .replace(/^\/api\/v1\/groups\/[^/]+$/, '/api/v1/groups/{groupId}')
  return `${method.toUpperCase()} ${template}`
}

beforeAll(async () => {
  await emu.start()
  proxy = await startContractProxy({ spec: oktaContractSpec(), upstream: emu.origin })
  // Link headers and the assertion audience name the org URL the action sees: the proxy.
  emu.setOrgUrl(proxy.origin)
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
  return { provider: 'okta', token: OKTA_API_TOKEN, 'base-url': proxy.origin, 'rate-limit': '60000', 'if-unresolved': 'skip', ...extra }
}

async function checked(): Promise<{ seen: string[]; request: unknown[]; response: unknown[] }> {
  await proxy.settle()
  const seen = proxy.received.map((r) => operationOf(r.method, r.path))
  for (const op of seen) covered.add(op)
  return { seen, request: proxy.requestViolations(), response: proxy.responseViolations() }
}

describe("okta: every request the action sends is allowed by Okta's published OpenAPI description", () => {
  it('API token: ids and logins (one unknown of each), a group, then the DELETEs with oauthTokens', async () => {
    const targets = [users[0].id, 'user2@example.com', oktaId('00u', 999_999), 'nobody@example.com', `group:${sales.id}`].join('\n')
    const r = await runAction({ inputs: inputs({ targets, 'max-targets': '500' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe(String(sales.members.length + 1)) // users[0] is in Sales: cleared once
    expect(r.outputs['skipped-count']).toBe('2')
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(new Set(c.seen)).toEqual(
      new Set(['GET /api/v1/users/{id}', 'GET /api/v1/groups/{groupId}', 'GET /api/v1/groups/{groupId}/users', 'DELETE /api/v1/users/{userId}/sessions'])
    )
  })

  it('revoke-tokens false, and many targets resolved from the user list over several pages', async () => {
    const targets = users.filter((_, i) => i % 25 === 0).map((u) => u.id) // 28 ids across the list
    const r = await runAction({ inputs: inputs({ targets: targets.join('\n'), 'revoke-tokens': 'false', 'max-targets': '100' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('28')
    expect(emu.sessionRequests().every((q) => q.query.get('oauthTokens') === 'false')).toBe(true)
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    // Three list pages (600 of the 700 users), then the 4 ids past them looked up one by one.
    expect(
      emu
        .apiRequests()
        .filter((q) => q.path === '/api/v1/users')
        .map((q) => q.query.has('after'))
    ).toEqual([false, true, true])
    expect(emu.apiRequests().filter((q) => /^\/api\/v1\/users\/[^/]+$/.test(q.path))).toHaveLength(4)
  })

  it('a search filter over two pages (dry run)', async () => {
    const expr = 'profile.department eq "Sales" or profile.department eq "Support"'
    const r = await runAction({ inputs: inputs({ filter: `search=${expr}`, 'max-targets': '500', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('350')
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(emu.apiRequests().map((q) => [q.query.get('search'), q.query.has('after')])).toEqual([
      [expr, false],
      [expr, true]
    ])
  })

  it('service app: the token request and the calls made with the minted token', async () => {
    const keys = emu.appKeys as NonNullable<OktaEmulator['appKeys']>
    const r = await runAction({
      inputs: inputs({
        'client-id': OKTA_CLIENT_ID,
        token: JSON.stringify(keys.ec.privateJwk),
        targets: `${users[3].id}\nuser5@example.com\ngroup:${sales.id}`,
        'max-targets': '500'
      })
    })
    expect(r.code).toBe(0)
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(c.seen[0]).toBe('POST /oauth2/v1/token')
  })

  it('the check can fail: a DELETE with oauthTokens that is not a boolean is flagged', async () => {
    const res = await fetch(`${proxy.origin}/api/v1/users/${users[0].id}/sessions?oauthTokens=yes`, {
      method: 'DELETE',
      headers: { authorization: `SSWS ${OKTA_API_TOKEN}` }
    })
    await res.text()
    await proxy.settle()
    expect(proxy.requestViolations().length).toBeGreaterThan(0)
  })

  it('the runs above covered every operation of the slices', () => {
    expect([...covered].filter((op) => OPERATIONS.includes(op)).sort()).toEqual([...OPERATIONS].sort())
  })
})
