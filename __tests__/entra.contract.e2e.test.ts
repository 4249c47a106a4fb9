// The bundled action against Microsoft's published Graph contract: every request of its real runs goes
// through Prism loaded with the vendored slice of Microsoft's OpenAPI description
// (__tests__/contracts/entra/openapi.json, see SOURCE.md), in front of the Entra emulator; and every item
// inside its $batch requests ($batch itself is not in the description) is validated in-process against the
// same description by Prism's own validator. A request the description does not allow is a test failure.
// The token endpoint (the identity platform, not Graph) is called on the emulator directly.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { EntraEmulator, guidFor, makeGuest, makeUsers } from './emulators/entra/index.js'
import { createItemValidator } from './helpers/contract-items.js'
import { contractPath, startContractProxy } from './helpers/contract-proxy.js'
import { runAction } from './helpers/run-action.js'

type Proxy = Awaited<ReturnType<typeof startContractProxy>>
type Validator = Awaited<ReturnType<typeof createItemValidator>>

const users = makeUsers(1_050)
const guest = makeGuest('partner@fabrikam.com')
const SALES = guidFor(1, 500)
const EMEA = guidFor(2, 500)
const ALL = guidFor(3, 500)
const emu = new EntraEmulator({
  users: [...users, guest],
  groups: [
    { id: SALES, displayName: 'Sales', members: [users[0].id, EMEA] },
    { id: EMEA, displayName: 'Sales EMEA', members: [users[1].id, users[2].id, guest.id] },
    { id: ALL, displayName: 'Everyone', members: users.map((u) => u.id) }
  ]
})
let proxy: Proxy
let validator: Validator

/** Every operation of the slice, as `METHOD /template`. */
const OPERATIONS = [
  'POST /users/{user-id}/microsoft.graph.revokeSignInSessions',
  'GET /users',
  'GET /users/{user-id}',
  'GET /groups/{group-id}',
  'GET /groups/{group-id}/transitiveMembers/microsoft.graph.user'
]
const covered = new Set<string>()

function operationOf(method: string, rawPath: string): string {
  const path = rawPath.split('?')[0]
  const template = path
    .replace(/^\/users\/[^/]+\/microsoft\.graph\.revokeSignInSessions$/, '/users/{user-id}/microsoft.graph.revokeSignInSessions')
    .replace(/^\/users\/[^/]+$/, '/users/{user-id}')
    .replace(/^\/groups\/[^/]+(\/transitiveMembers\/microsoft\.graph\.user)?$/, (_m, rest: string | undefined) => `/groups/{group-id}${rest ?? ''}`)
  return `${method.toUpperCase()} ${template}`
}

// The published description declares `additionalProperties: {type: object}` on every schema and leaves out
// the OData annotations (SOURCE.md, "Known defects"): these response findings are the description's, and the
// only ones allowed.
const DESCRIPTION_DEFECT = /^Response body property (@odata\.(context|count)|error\.innerError\.(date|request-id|client-request-id)) must be object$/

beforeAll(async () => {
  await emu.start()
  ;[proxy, validator] = await Promise.all([
    startContractProxy({ spec: contractPath('entra'), upstream: `${emu.origin}/v1.0` }),
    createItemValidator(contractPath('entra'))
  ])
}, 60_000)
afterAll(async () => {
  await proxy?.stop()
  await emu.stop()
})
beforeEach(() => {
  emu.reset()
  proxy.reset()
  // @odata.nextLink points at the proxy, as Graph's points at Graph: paging stays under contract.
  emu.linkBase = proxy.origin
})

function inputs(extra: Record<string, string>): Record<string, string> {
  return {
    provider: 'entra',
    ...emu.inputs(),
    token: '',
    'base-url': proxy.origin,
    'auth-base-url': emu.authBaseUrl,
    'rate-limit': '60000',
    'if-unresolved': 'skip',
    ...extra
  }
}

/** What the contract says about the run: Prism's findings on the direct requests, the validator's on every $batch item. */
async function checked(): Promise<{ request: unknown[]; response: unknown[]; items: unknown[] }> {
  await proxy.settle()
  for (const r of proxy.received) covered.add(operationOf(r.method, r.path))
  for (const i of emu.batchItems) covered.add(operationOf(i.method, i.url))
  // $batch is not in the description: Prism sees a route it does not know (its only finding on it);
  // the items inside are checked one by one below.
  const request = proxy.requestViolations().filter((v) => !(v.method === 'POST' && v.path === '/$batch' && v.message === 'Selected route not found'))
  const response = proxy.responseViolations().filter((v) => !DESCRIPTION_DEFECT.test(v.message))
  return { request, response, items: await validator.validateAll(emu.batchItems) }
}

describe("entra: every request the action sends is allowed by Microsoft's published Graph OpenAPI description", () => {
  it('keyless real run over ids, UPNs (one unknown) and a nested group: lookups and revokes as $batch items', async () => {
    const targets = [users[10].id, users[11].userPrincipalName, 'nobody@contoso.onmicrosoft.com', guest.userPrincipalName, `group:${SALES}`].join('\n')
    const r = await runAction({ inputs: inputs({ targets }), env: emu.actionsEnv() })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('5')
    expect(emu.batchItems.map((i) => operationOf(i.method, i.url)).sort()).toEqual(
      [
        'GET /groups/{group-id}',
        'GET /users/{user-id}',
        'GET /users/{user-id}',
        'GET /users/{user-id}',
        'GET /users/{user-id}',
        ...Array(5).fill('POST /users/{user-id}/microsoft.graph.revokeSignInSessions')
      ].sort()
    )
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(c.items).toEqual([])
    expect(proxy.received.map((q) => operationOf(q.method, q.path)).sort()).toEqual([
      'GET /groups/{group-id}/transitiveMembers/microsoft.graph.user',
      'POST /$batch',
      'POST /$batch'
    ])
  })

  it('a group of more than one page, read through @odata.nextLink (dry run)', async () => {
    const r = await runAction({ inputs: inputs({ targets: `group:${ALL}`, 'dry-run': 'true', 'max-targets': '2000' }), env: emu.actionsEnv() })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('1050')
    // Both pages went through the proxy (Prism logs paths without their query; the emulator shows it).
    expect(proxy.received.filter((q) => q.path.includes('/transitiveMembers/'))).toHaveLength(2)
    const pages = emu.graphRequests().filter((q) => q.path.includes('/transitiveMembers/'))
    expect(pages.map((q) => q.query.has('$skiptoken'))).toEqual([false, true])
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(c.items).toEqual([])
  })

  it('a filter, asked again with the advanced query parameters (ConsistencyLevel header, $count) when Graph needs them', async () => {
    const r = await runAction({
      inputs: inputs({ filter: "$filter=department ne 'Sales' and startswith(userPrincipalName,'user10')", 'max-targets': '200' }),
      env: emu.actionsEnv()
    })
    expect(r.code).toBe(0)
    expect(Number(r.outputs['terminated-count'])).toBe(users.filter((u) => u.department !== 'Sales' && u.userPrincipalName.startsWith('user10')).length)
    expect(proxy.received.filter((q) => q.path === '/users')).toHaveLength(2)
    expect(
      emu
        .graphRequests()
        .filter((q) => q.path === '/v1.0/users')
        .map((q) => [q.status, q.headers.consistencylevel, q.query.get('$count')])
    ).toEqual([
      [400, undefined, null],
      [200, 'eventual', 'true']
    ])
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(c.items).toEqual([])
  })

  it('the checks can fail: the unqualified revoke path and a bad $top are flagged', async () => {
    const bad = await validator.validateAll([
      { id: '1', method: 'POST', url: `/users/${users[0].id}/revokeSignInSessions`, headers: { 'Content-Type': 'application/json' }, body: {} },
      { id: '2', method: 'GET', url: '/users?$top=lots' }
    ])
    expect(bad.map((v) => v.id)).toEqual(['1', '2'])
    await (await fetch(`${proxy.origin}/users?$top=lots`)).text()
    await proxy.settle()
    expect(proxy.requestViolations().map((v) => v.message)).toContain('Request query parameter $top must be integer')
  })

  it('the runs above covered every operation of the slice', () => {
    expect([...covered].filter((op) => OPERATIONS.includes(op)).sort()).toEqual([...OPERATIONS].sort())
  })
})
