// The bundled action against Google's published contract: every Directory API request it sends in real runs
// goes through Prism loaded with the vendored slice of the admin:directory_v1 discovery document
// (__tests__/contracts/google/openapi.json), in front of the Google emulator. A request the description does not
// allow is a test failure. The OAuth token endpoint is not part of the discovery document: the key's token_uri
// points at the emulator directly.
// The discovery document declares no error bodies, so Prism flags every non-2xx answer with "Unable to match
// the returned status code": those warnings are expected for the 403/404 answers the runs provoke on purpose;
// every other response violation is a failure.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GOOGLE_ADMIN, GoogleEmulator, SCOPES, makeUsers } from './emulators/google/index.js'
import { contractPath, startContractProxy } from './helpers/contract-proxy.js'
import { runAction } from './helpers/run-action.js'

type Proxy = Awaited<ReturnType<typeof startContractProxy>>
type Violation = ReturnType<Proxy['requestViolations']>[number]

const users = makeUsers(1200)
const id = (k: number): string => users[k - 1].id as string
const emu = new GoogleEmulator({
  users: [
    ...users,
    { primaryEmail: 'ada.lovelace@example.com', givenName: 'Ada', familyName: 'Lovelace', orgUnitPath: '/Leavers', aliases: ['ada@example.com'] }
  ],
  groups: [
    // 60 members spread over the whole account (every 20th user), a nested group and an outsider.
    {
      email: 'leavers@example.com',
      members: [...Array.from({ length: 60 }, (_, i) => `user${(i + 1) * 20}@example.com`), 'contractors@example.com', 'guest@partner.org']
    },
    { email: 'contractors@example.com', members: ['ada.lovelace@example.com', 'user3@example.com'] }
  ],
  quota: false
})
let api: Proxy

/** Every operation the action sends, as `METHOD /template`. */
const OPERATIONS = [
  'GET /admin/directory/v1/users/{userKey}',
  'GET /admin/directory/v1/users',
  'POST /admin/directory/v1/users/{userKey}/signOut',
  'GET /admin/directory/v1/users/{userKey}/tokens',
  'DELETE /admin/directory/v1/users/{userKey}/tokens/{clientId}',
  'GET /admin/directory/v1/groups/{groupKey}/members'
]
const covered = new Set<string>()

function operationOf(method: string, rawPath: string): string {
  const path = rawPath.split('?')[0]
  const template = path
    .replace(/^(\/admin\/directory\/v1\/users\/)[^/]+(\/tokens\/)[^/]+$/, '$1{userKey}$2{clientId}')
    .replace(/^(\/admin\/directory\/v1\/users\/)[^/]+(\/signOut|\/tokens)?$/, (_m, head: string, tail: string | undefined) => `${head}{userKey}${tail ?? ''}`)
    .replace(/^(\/admin\/directory\/v1\/groups\/)[^/]+(\/members)$/, '$1{groupKey}$2')
  return `${method.toUpperCase()} ${template}`
}

beforeAll(async () => {
  await emu.start()
  api = await startContractProxy({ spec: contractPath('google'), upstream: emu.origin })
}, 60_000)
afterAll(async () => {
  await api?.stop()
  await emu.stop()
})
beforeEach(() => {
  emu.reset()
  api.reset()
})

function inputs(extra: Record<string, string>, token = emu.registerAccessToken()): Record<string, string> {
  return { provider: 'google', token, 'base-url': api.origin, 'rate-limit': '60000', 'if-unresolved': 'skip', 'max-targets': '500', ...extra }
}

const UNMATCHED_ERROR = /Unable to match the returned status code/

/** What Prism saw and flagged during the run, once its log has caught up. */
async function checked(): Promise<{ seen: string[]; request: Violation[]; response: Violation[] }> {
  await api.settle(500)
  const seen = api.received.map((r) => operationOf(r.method, r.path))
  for (const op of seen) covered.add(op)
  return { seen, request: api.requestViolations(), response: api.responseViolations().filter((v) => !UNMATCHED_ERROR.test(v.message)) }
}

describe("google: every request the action sends is allowed by Google's published Directory API description", () => {
  it('emails, an alias, an id, an unknown and an outside address; signOut and revoke-tokens with a pre-minted token', async () => {
    const targets = ['user3@example.com', 'alias7@example.com', id(6), 'nobody@example.com', 'bob@gmail.com'].join('\n')
    const r = await runAction({ inputs: inputs({ targets, 'revoke-tokens': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('3')
    expect(emu.revokedTokens.length).toBe(3) // user3: Zoom; user6: Slack, Zoom; user7: none
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(new Set(c.seen)).toEqual(
      new Set([
        'GET /admin/directory/v1/users/{userKey}',
        'GET /admin/directory/v1/users',
        'GET /admin/directory/v1/users/{userKey}/tokens',
        'POST /admin/directory/v1/users/{userKey}/signOut',
        'DELETE /admin/directory/v1/users/{userKey}/tokens/{clientId}'
      ])
    )
  })

  it('a group: members paged with includeDerivedMembership, then resolved from several pages of the user list', async () => {
    const r = await runAction({
      inputs: inputs(
        { 'target-type': 'group', targets: 'leavers@example.com', 'dry-run': 'true' },
        emu.registerAccessToken({ scopes: [SCOPES.userSecurity, SCOPES.userReadonly, SCOPES.groupMemberReadonly] })
      )
    })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('62') // 60 + Ada and user3 from the nested group; the outsider skipped
    const lists = emu.apiRequests().filter((q) => q.path === '/admin/directory/v1/users')
    expect(lists.map((q) => q.query.get('pageToken') !== null)).toEqual([false, true, true])
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
    expect(c.seen).toContain('GET /admin/directory/v1/groups/{groupKey}/members')
  })

  it('a query filter, and the key route (the token endpoint is called directly, the API through the proxy)', async () => {
    const r = await runAction({
      inputs: inputs({ token: emu.serviceAccountKeyJson(), subject: GOOGLE_ADMIN, filter: "query=orgUnitPath='/Leavers' isSuspended=false" })
    })
    expect(r.code).toBe(0)
    // /Leavers: every 10th user, minus the suspended ones (every 50th), plus Ada.
    expect(r.outputs['terminated-count']).toBe(String(120 - 24 + 1))
    expect(emu.tokenEndpointRequests()).toHaveLength(1)
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
  })

  it('user-key: tokens.list and signOut by the key as given', async () => {
    const r = await runAction({
      inputs: inputs(
        { 'target-type': 'user-key', targets: 'user9@example.com\nnobody@example.com' },
        emu.registerAccessToken({ scopes: [SCOPES.userSecurity] })
      )
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('1')
    const c = await checked()
    expect(c.request).toEqual([])
    expect(c.response).toEqual([])
  })

  it('the check can fail: a sign-out without credentials is flagged by the proxy', async () => {
    const res = await fetch(`${api.origin}/admin/directory/v1/users/user1%40example.com/signOut`, { method: 'POST' })
    await res.text()
    await api.settle(500)
    expect(api.requestViolations().map((v) => v.message)).toContain('Invalid security scheme used')
  })

  it('the runs above covered every operation the action sends', () => {
    expect([...covered].filter((op) => OPERATIONS.includes(op)).sort()).toEqual([...OPERATIONS].sort())
  })
})
