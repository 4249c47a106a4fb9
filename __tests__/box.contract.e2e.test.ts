// The bundled action against Box's published contract: every request it sends in real runs goes through
// Prism loaded with the vendored slice of box/box-openapi (__tests__/contracts/box/openapi.json), in front
// of the Box emulator. A request the description does not allow is a test failure.
// Two proxies on the one document: Prism matches paths without the server's base path, and the token
// endpoint lives on https://api.box.com while the rest lives on https://api.box.com/2.0.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_DEVELOPER_TOKEN, BOX_ENTERPRISE_ID, BoxEmulator, makeUsers } from './emulators/box/index.js'
import { contractPath, startContractProxy } from './helpers/contract-proxy.js'
import { runAction } from './helpers/run-action.js'

type Proxy = Awaited<ReturnType<typeof startContractProxy>>
type Violation = ReturnType<Proxy['requestViolations']>[number]

const users = makeUsers(2_500)
const emu = new BoxEmulator({
  users: [...users, { id: '9000001', login: 'guest@partner.org', name: 'Guest Partner', status: 'active', external: true }],
  groups: [
    { id: '5550001', name: 'Sales', members: ['1000001', '1000002', '1000003'] },
    { id: '5550002', name: 'Contractors', members: ['1000010'] }
  ]
})
let api: Proxy
let auth: Proxy

/** Every operation of the slice, as `METHOD /template`. */
const OPERATIONS = [
  'POST /oauth2/token',
  'GET /users',
  'GET /users/{user_id}',
  'GET /groups/{group_id}',
  'GET /groups/{group_id}/memberships',
  'POST /users/terminate_sessions',
  'POST /groups/terminate_sessions'
]
const covered = new Set<string>()

function operationOf(method: string, rawPath: string): string {
  const path = rawPath.split('?')[0]
  const template = path
    .replace(/^\/users\/(?!terminate_sessions$)[^/]+$/, '/users/{user_id}')
    .replace(/^\/groups\/(?!terminate_sessions$)[^/]+(\/memberships)?$/, (_m, rest: string | undefined) => `/groups/{group_id}${rest ?? ''}`)
  return `${method.toUpperCase()} ${template}`
}

beforeAll(async () => {
  await emu.start()
  ;[api, auth] = await Promise.all([
    startContractProxy({ spec: contractPath('box'), upstream: emu.baseUrl }),
    startContractProxy({ spec: contractPath('box'), upstream: emu.origin })
  ])
}, 60_000)
afterAll(async () => {
  await Promise.all([api?.stop(), auth?.stop()])
  await emu.stop()
})
beforeEach(() => {
  emu.reset()
  api.reset()
  auth.reset()
})

function inputs(extra: Record<string, string>): Record<string, string> {
  return {
    provider: 'box',
    token: BOX_DEVELOPER_TOKEN,
    'base-url': api.origin,
    'auth-base-url': auth.origin,
    'rate-limit': '60000',
    'if-unresolved': 'skip',
    ...extra
  }
}

/** What Prism saw and flagged during the run, once its log has caught up. */
async function checked(): Promise<{ seen: string[]; request: Violation[]; response: Violation[] }> {
  await Promise.all([api.settle(), auth.settle()])
  const seen = [...api.received, ...auth.received].map((r) => operationOf(r.method, r.path))
  for (const op of seen) covered.add(op)
  return {
    seen,
    request: [...api.requestViolations(), ...auth.requestViolations()],
    response: [...api.responseViolations(), ...auth.responseViolations()]
  }
}

/** Bodies of the user terminate calls the emulator received. */
const userTerminateBodies = (): unknown[] =>
  emu
    .terminateRequests()
    .filter((q) => q.path === '/2.0/users/terminate_sessions')
    .map((q) => q.json)

describe("box: every request the action sends is allowed by Box's published OpenAPI description", () => {
  it('ids and logins looked up one by one (with one unknown of each) and a group: terminate bodies carry both user arrays', async () => {
    const r = await runAction({ inputs: inputs({ targets: '1000001\nuser2@example.com\n1999999\nnobody@example.com\ngroup:5550001' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('3')
    expect(r.outputs['skipped-count']).toBe('2')
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(new Set(c.seen)).toEqual(
      new Set([
        'GET /users/{user_id}',
        'GET /users',
        'GET /groups/{group_id}',
        'GET /groups/{group_id}/memberships',
        'POST /users/terminate_sessions',
        'POST /groups/terminate_sessions'
      ])
    )
    expect(userTerminateBodies()).toEqual([{ user_ids: ['1000001', '1000002'], user_logins: [] }])
  })

  it('many ids and logins resolved from the enterprise user list, over several pages', async () => {
    const ids = [0, 1, 999, 1000, 1001, 1999, 2000, 2498, 2499].map((i) => users[i].id)
    const logins = [5, 1500, 2400].map((i) => users[i].login.toUpperCase())
    const r = await runAction({ inputs: inputs({ targets: [...ids, ...logins, '1999999'].join('\n'), 'batch-size': '5' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('12')
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(c.seen).toContain('GET /users')
    // Resolved by reading the enterprise's user list in offset pages (0, 1000, 2000), then one lookup
    // for the id that is not in it.
    expect(emu.userListRequests().map((q) => q.query.get('offset'))).toEqual(['0', '1000', '2000'])
    expect(emu.userLookupRequests().map((q) => q.path)).toEqual(['/2.0/users/1999999'])
    for (const body of userTerminateBodies()) expect(body).toEqual({ user_ids: expect.any(Array), user_logins: [] })
  })

  it('a filter: the user search, then the terminate calls', async () => {
    const r = await runAction({ inputs: inputs({ filter: 'filter_term=user25\nuser_type=managed', 'max-targets': '20' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('12') // user25, user250..user259, user2500
    // A search longer than a page: the second page is asked for with the marker of the first.
    const long = await runAction({ inputs: inputs({ filter: 'filter_term=user1', 'max-targets': '2000', 'dry-run': 'true' }) })
    expect(long.code).toBe(0)
    expect(long.outputs['planned-count']).toBe('1111') // user1, user10..19, user100..199, user1000..1999
    expect(
      emu
        .userListRequests()
        .filter((q) => q.query.get('filter_term') === 'user1')
        .map((q) => q.query.has('marker'))
    ).toEqual([false, true])
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
  })

  it('Client Credentials Grant: the token request and the calls made with the minted token', async () => {
    const r = await runAction({
      inputs: inputs({
        token: BOX_CLIENT_SECRET,
        'client-id': BOX_CLIENT_ID,
        'enterprise-id': BOX_ENTERPRISE_ID,
        targets: '1000001\nuser3@example.com\ngroup:5550002'
      })
    })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('3')
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(auth.received.map((q) => operationOf(q.method, q.path))).toEqual(['POST /oauth2/token'])
  })

  it('the check can fail: a terminate body without user_logins is flagged by the proxy', async () => {
    const res = await fetch(`${api.origin}/users/terminate_sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOX_DEVELOPER_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_ids: ['1000001'] })
    })
    await res.text()
    await api.settle()
    expect(api.requestViolations().map((v) => v.message)).toContain("Request body must have required property 'user_logins'")
  })

  it('the runs above covered every operation of the slice', () => {
    expect([...covered].filter((op) => OPERATIONS.includes(op)).sort()).toEqual([...OPERATIONS].sort())
  })
})
