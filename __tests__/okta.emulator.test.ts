// The Okta emulator against Okta's published contract: what it accepts and, above all, what it rejects;
// then every sliced operation sent through Prism loaded with Okta's own OpenAPI description.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { SignJWT, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose'
import { oktaContractSpec } from './emulators/okta/contract.js'
import {
  JWT_BEARER,
  OKTA_API_TOKEN,
  OKTA_CLIENT_ID,
  OKTA_HELPDESK_API_TOKEN,
  OKTA_READONLY_API_TOKEN,
  OktaEmulator,
  RATE_LIMIT_SUMMARY,
  makeGroup,
  makeUsers,
  oktaId
} from './emulators/okta/index.js'
import { startContractProxy } from './helpers/contract-proxy.js'

const users = makeUsers(2_050, { status: (i) => (i % 100 === 99 ? 'DEPROVISIONED' : i % 100 === 98 ? 'SUSPENDED' : 'ACTIVE') })
users[2].adminRole = 'SUPER_ADMIN'
const isaac: (typeof users)[number] = {
  id: oktaId('00u', 90001),
  profile: {
    login: 'Isaac.Brock@Example.com',
    email: 'isaac.brock@example.com',
    firstName: 'Isaac',
    lastName: 'Brock',
    department: 'Engineering',
    costCenter: 'R&D'
  }
}
const salesIds = users.filter((u) => u.profile.department === 'Sales').map((u) => u.id)
const sales = makeGroup(1, 'Sales', salesIds.slice(0, 450))
const emptyGroup = makeGroup(2, 'Nobody', [])

const emu = new OktaEmulator({ users: [...users, isaac], groups: [sales, emptyGroup] })
let org = ''
/** Prism starts in the background (it takes seconds) while the direct tests run; the last block awaits it. */
let proxyReady: ReturnType<typeof startContractProxy>

beforeAll(async () => {
  org = await emu.start()
  proxyReady = startContractProxy({ spec: oktaContractSpec(), upstream: emu.origin })
  proxyReady.catch(() => undefined) // reported by the block that awaits it
})
afterAll(async () => {
  await proxyReady.then((p) => p.stop()).catch(() => undefined)
  await emu.stop()
})
beforeEach(() => emu.reset())

const ssws = { authorization: `SSWS ${OKTA_API_TOKEN}` }
type Answer = { status: number; body: any; headers: Headers }

async function call(method: string, path: string, headers: Record<string, string> = ssws, body?: string, base = org): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method, headers, body })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers }
}
const get = (path: string, headers?: Record<string, string>, base?: string) => call('GET', path, headers, undefined, base)
const del = (path: string, headers?: Record<string, string>, base?: string) => call('DELETE', path, headers, undefined, base)
const search = (expr: string, extra = '') => get(`/api/v1/users?search=${encodeURIComponent(expr)}${extra}`)
const filter = (expr: string) => get(`/api/v1/users?filter=${encodeURIComponent(expr)}`)

/** The rel="next" URL of a Link header (fetch joins repeated headers with ", "). */
function nextLink(h: Headers): string | undefined {
  const link = h.get('link') ?? ''
  return /<([^>]+)>;\s*rel="next"/.exec(link)?.[1]
}

async function followAll(first: string, base = org): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = []
  let url: string | undefined = `${base}${first}`
  let pages = 0
  while (url && pages < 200) {
    const res = await fetch(url, { headers: ssws })
    expect(res.status).toBe(200)
    ids.push(...((await res.json()) as { id: string }[]).map((u) => u.id))
    url = nextLink(res.headers)
    pages++
  }
  return { ids, pages }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** Waits until the current rate-limit window has at least `margin` ms left. */
async function freshWindow(windowMs: number, margin = 300): Promise<void> {
  const left = windowMs - (Date.now() % windowMs)
  if (left < margin) await sleep(left + 5)
}

type ClaimOpts = {
  alg?: string
  kid?: string | null
  iss?: string
  sub?: string
  aud?: string
  exp?: number | null
  iat?: number
  jti?: string | null
  key?: CryptoKey | Uint8Array
}
async function assertion(o: ClaimOpts = {}): Promise<string> {
  const keys = emu.appKeys!
  const alg = o.alg ?? 'RS256'
  const key = o.key ?? (alg.startsWith('ES') ? await importJWK(keys.ec.privateJwk as JWK, 'ES256') : await importPKCS8(keys.rsa.privatePem, alg))
  const kid = o.kid === undefined ? (alg.startsWith('ES') ? keys.ec.kid : keys.rsa.kid) : o.kid
  const now = Math.floor(Date.now() / 1000)
  let jwt = new SignJWT({}).setProtectedHeader(kid === null ? { alg } : { alg, kid })
  jwt = jwt
    .setIssuer(o.iss ?? OKTA_CLIENT_ID)
    .setSubject(o.sub ?? OKTA_CLIENT_ID)
    .setAudience(o.aud ?? `${org}/oauth2/v1/token`)
    .setIssuedAt(o.iat ?? now)
  if (o.exp !== null) jwt = jwt.setExpirationTime(o.exp ?? now + 300)
  if (o.jti !== null) jwt = jwt.setJti(o.jti ?? `jti-${Math.random().toString(36).slice(2)}`)
  return jwt.sign(key)
}

function tokenForm(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString()
}
async function token(body: string, headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }, base = org): Promise<Answer> {
  return call('POST', '/oauth2/v1/token', headers, body, base)
}
async function mint(scope = 'okta.users.manage okta.groups.read'): Promise<string> {
  const r = await token(tokenForm({ grant_type: 'client_credentials', scope, client_assertion_type: JWT_BEARER, client_assertion: await assertion() }))
  expect(r.status).toBe(200)
  return r.body.access_token as string
}

function expectOktaError(r: Answer, status: number, code: string): void {
  expect(r.status).toBe(status)
  expect(r.body).toEqual({
    errorCode: code,
    errorSummary: expect.any(String),
    errorLink: code,
    errorId: expect.stringMatching(/^oae\w+$/),
    errorCauses: expect.any(Array)
  })
  expect(r.headers.get('x-okta-request-id')).toMatch(/^req\w+$/)
}

describe('data builders', () => {
  it('build 10,000+ users and an emulator over them quickly', () => {
    const t0 = Date.now()
    const many = makeUsers(12_000)
    const big = new OktaEmulator({
      users: many,
      groups: [
        makeGroup(
          9,
          'All',
          many.map((u) => u.id)
        )
      ]
    })
    expect(Date.now() - t0).toBeLessThan(1500)
    expect(big.users.size).toBe(12_000)
    expect(new Set(many.map((u) => u.id)).size).toBe(12_000)
    expect(many.every((u) => /^00u[A-Za-z0-9]{17}$/.test(u.id))).toBe(true)
    expect(big.orderedIds()).toEqual(many.map((u) => u.id)) // id order is creation order
  })
})

describe('authentication on /api/v1', () => {
  it('accepts an SSWS API token, answers 401 E0000011 for a wrong one and 403 E0000005 without a usable scheme', async () => {
    const ok = await get(`/api/v1/users/${users[0].id}`)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('x-okta-request-id')).toMatch(/^req/)
    const wrong = await get(`/api/v1/users/${users[0].id}`, { authorization: 'SSWS 00notarealtoken' })
    expectOktaError(wrong, 401, 'E0000011')
    expect(wrong.body.errorSummary).toBe('Invalid token provided')
    expectOktaError(await get(`/api/v1/users/${users[0].id}`, {}), 403, 'E0000005')
    expectOktaError(await get(`/api/v1/users/${users[0].id}`, { authorization: OKTA_API_TOKEN }), 403, 'E0000005')
    const bearer = await get(`/api/v1/users/${users[0].id}`, { authorization: 'Bearer not-minted' })
    expectOktaError(bearer, 401, 'E0000011')
    expect(bearer.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('enforces admin roles: read-only admins cannot clear sessions, help desk admins not of admins', async () => {
    const ro = { authorization: `SSWS ${OKTA_READONLY_API_TOKEN}` }
    expect((await get(`/api/v1/users/${users[0].id}`, ro)).status).toBe(200)
    expectOktaError(await del(`/api/v1/users/${users[0].id}/sessions`, ro), 403, 'E0000006')
    const hd = { authorization: `SSWS ${OKTA_HELPDESK_API_TOKEN}` }
    expectOktaError(await del(`/api/v1/users/${users[2].id}/sessions`, hd), 403, 'E0000006')
    expect((await del(`/api/v1/users/${users[0].id}/sessions`, hd)).status).toBe(204)
    expect(emu.revokedUserIds()).toEqual([users[0].id])
  })
})

describe('token endpoint: client_credentials with private_key_jwt', () => {
  const base = () => ({ grant_type: 'client_credentials', scope: 'okta.users.manage', client_assertion_type: JWT_BEARER })

  it('mints a Bearer token for an RSA (PEM) or EC (JWK) signed assertion, with only the granted scopes', async () => {
    const rsa = await token(tokenForm({ ...base(), client_assertion: await assertion() }))
    expect(rsa.status).toBe(200)
    expect(rsa.body).toEqual({ token_type: 'Bearer', expires_in: 3600, access_token: expect.stringMatching(/^eyJ/), scope: 'okta.users.manage' })
    expect(rsa.headers.get('x-rate-limit-remaining')).toMatch(/^\d+$/)
    const ec = await token(tokenForm({ ...base(), scope: 'okta.users.read okta.apps.read', client_assertion: await assertion({ alg: 'ES256' }) }))
    expect(ec.status).toBe(200)
    expect(ec.body.scope).toBe('okta.users.read')
    const noKid = await token(tokenForm({ ...base(), client_assertion: await assertion({ kid: null }) }))
    expect(noKid.status).toBe(200)
    const used = await get(`/api/v1/users/${users[0].id}`, { authorization: `Bearer ${rsa.body.access_token}` })
    expect(used.status).toBe(200)
  })

  it('rejects assertions Okta rejects, with the catalogue error and description', async () => {
    const now = Math.floor(Date.now() / 1000)
    const other = await generateKeyPair('ES256')
    const cases: [ClaimOpts, string][] = [
      [{ aud: `${org}/oauth2/default/v1/token` }, 'The audience claim for client_assertion must be the endpoint invoked for the request.'],
      [{ exp: now - 5, iat: now - 60 }, 'The client_assertion token is expired.'],
      [{ exp: now + 3700 }, 'The client_assertion token has an expiration too far into the future.'],
      [{ exp: null }, "The client_assertion must contain the 'exp' claim as seconds since epoch."],
      [{ iat: now + 120 }, 'The client_assertion token must be issued before the current time.'],
      [{ alg: 'ES256', key: other.privateKey }, 'The client_assertion signature is invalid.'],
      [{ kid: 'not-registered' }, 'The client_assertion JWT kid is invalid.'],
      [{ iss: '0oaSomebodyElse0001', sub: '0oaSomebodyElse0001' }, 'The issuer claim for client_assertion is not a valid client_id.'],
      [{ sub: 'someone' }, 'The subject claim for client_assertion is not a valid client_id.'],
      [{ alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)), kid: null }, 'The client_assertion JWT signature algorithm is invalid.']
    ]
    for (const [claims, description] of cases) {
      const r = await token(tokenForm({ ...base(), client_assertion: await assertion(claims) }))
      expect({ status: r.status, body: r.body }).toEqual({ status: 401, body: { error: 'invalid_client', error_description: description } })
    }
    const replay = await assertion({ jti: 'once' })
    expect((await token(tokenForm({ ...base(), client_assertion: replay }))).status).toBe(200)
    expect((await token(tokenForm({ ...base(), client_assertion: replay }))).body).toEqual({
      error: 'invalid_client',
      error_description: 'The client_assertion token has already been used.'
    })
    expect((await token(tokenForm({ ...base(), client_assertion: 'not.a.jwt' }))).body.error_description).toBe('The parsing of the client_assertion failed.')
    expect(emu.accessTokens.size).toBe(1)
  })

  it('rejects other grants, credentials, assertion types, scopes and bodies', async () => {
    const a = await assertion()
    const expectOAuth = async (r: Promise<Answer>, status: number, error: string, description?: string) => {
      const got = await r
      expect(got.status).toBe(status)
      expect(got.body.error).toBe(error)
      if (description) expect(got.body.error_description).toBe(description)
    }
    await expectOAuth(token(tokenForm({ ...base(), grant_type: 'password', client_assertion: a })), 400, 'unsupported_grant_type')
    await expectOAuth(token(tokenForm({ scope: 'okta.users.manage', client_assertion_type: JWT_BEARER, client_assertion: a })), 400, 'invalid_request')
    await expectOAuth(
      token(tokenForm({ ...base(), client_assertion_type: 'urn:x', client_assertion: a })),
      400,
      'invalid_request',
      'The client_assertion_type is invalid.'
    )
    await expectOAuth(token(tokenForm({ grant_type: 'client_credentials', scope: 'okta.users.manage' })), 401, 'invalid_client', 'No client credentials found.')
    await expectOAuth(
      token(tokenForm({ grant_type: 'client_credentials', scope: 'okta.users.manage', client_id: OKTA_CLIENT_ID, client_secret: 's3cret' })),
      401,
      'invalid_client',
      'Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.'
    )
    await expectOAuth(token(tokenForm({ ...base(), client_assertion: a, client_secret: 'x' })), 401, 'invalid_request')
    await expectOAuth(token(tokenForm({ ...base(), scope: '', client_assertion: await assertion() })), 400, 'invalid_scope', 'No scopes were requested.')
    await expectOAuth(token(tokenForm({ ...base(), scope: 'users:write', client_assertion: await assertion() })), 400, 'invalid_scope')
    await expectOAuth(
      token(tokenForm({ ...base(), scope: 'okta.apps.manage', client_assertion: await assertion() })),
      400,
      'consent_required',
      'You are not allowed any of the requested scopes.'
    )
    await expectOAuth(token(JSON.stringify({ ...base(), client_assertion: await assertion() }), { 'content-type': 'application/json' }), 400, 'invalid_request')
    await expectOAuth(token(`${tokenForm({ ...base(), client_assertion: await assertion() })}&scope=okta.users.read`), 400, 'invalid_request')
    expect(emu.accessTokens.size).toBe(0)
  })

  it('answers invalid_dpop_proof when the app requires DPoP and the client sends no proof', async () => {
    emu.loadApps([{ clientId: '0oaDpopRequiredApp1', publicKeys: [emu.appKeys!.rsa.publicJwk], dpopRequired: true }])
    const r = await token(tokenForm({ ...base(), client_assertion: await assertion({ iss: '0oaDpopRequiredApp1', sub: '0oaDpopRequiredApp1' }) }))
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ error: 'invalid_dpop_proof', error_description: 'The DPoP proof JWT header is missing.' })
  })

  it('expires minted tokens (401 E0000011, "The token has expired.") and checks their scopes (403, no body)', async () => {
    const readOnly = await mint('okta.users.read')
    const denied = await del(`/api/v1/users/${users[0].id}/sessions`, { authorization: `Bearer ${readOnly}` })
    expect(denied.status).toBe(403)
    expect(denied.body).toBeUndefined()
    expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect((await get(`/api/v1/groups/${sales.id}`, { authorization: `Bearer ${readOnly}` })).status).toBe(403)

    const manage = await mint()
    expect((await del(`/api/v1/users/${users[0].id}/sessions`, { authorization: `Bearer ${manage}` })).status).toBe(204)
    expect(emu.revocations[0]).toMatchObject({ userId: users[0].id, principal: `app:${OKTA_CLIENT_ID}` })
    emu.expireAccessTokens()
    const expired = await get(`/api/v1/users/${users[0].id}`, { authorization: `Bearer ${manage}` })
    expectOktaError(expired, 401, 'E0000011')
    expect(expired.headers.get('www-authenticate')).toContain('error_description="The token has expired."')

    emu.expireAccessTokensAfterRequests = 2
    const short = await mint()
    expect((await get(`/api/v1/users/${users[0].id}`, { authorization: `Bearer ${short}` })).status).toBe(200)
    expect((await get(`/api/v1/users/${users[0].id}`, { authorization: `Bearer ${short}` })).status).toBe(200)
    expect((await get(`/api/v1/users/${users[0].id}`, { authorization: `Bearer ${short}` })).status).toBe(401)
  })
})

describe('users', () => {
  it('finds a user by id, by login (any case) and by unambiguous shortname; 404 E0000007 otherwise', async () => {
    const byId = await get(`/api/v1/users/${isaac.id}`)
    expect(byId.body).toMatchObject({ id: isaac.id, status: 'ACTIVE', profile: { login: 'Isaac.Brock@Example.com', firstName: 'Isaac', lastName: 'Brock' } })
    expect((await get('/api/v1/users/isaac.brock%40example.com')).body.id).toBe(isaac.id)
    expect((await get('/api/v1/users/isaac.brock')).body.id).toBe(isaac.id)
    const missing = await get('/api/v1/users/missing%40example.com')
    expectOktaError(missing, 404, 'E0000007')
    expect(missing.body.errorSummary).toBe('Not found: Resource not found: missing@example.com (User)')
    expect((await get(`/api/v1/users/${users[99].id}`)).body.status).toBe('DEPROVISIONED')
  })

  it('lists users 200 a page through Link rel="next" cursors, without DEPROVISIONED users', async () => {
    const first = await get('/api/v1/users')
    expect(first.body).toHaveLength(200)
    expect(first.headers.get('link')).toContain(`<${org}/api/v1/users>; rel="self"`)
    const { ids, pages } = await followAll('/api/v1/users')
    const expected = [...users, isaac].filter((u) => u.status !== 'DEPROVISIONED').map((u) => u.id)
    expect(pages).toBe(Math.ceil(expected.length / 200))
    expect(ids).toEqual(expected.sort())
    expect((await get('/api/v1/users?limit=500')).body).toHaveLength(200)
    expectOktaError(await get('/api/v1/users?limit=abc'), 400, 'E0000001')
    expect((await get('/api/v1/users?limit=0')).status).toBe(400)
  })

  it('searches case-insensitively (DEPROVISIONED included), pages with an opaque cursor bound to the expression', async () => {
    const salesUsers = users.filter((u) => u.profile.department === 'Sales').map((u) => u.id)
    const { ids, pages } = await followAll(`/api/v1/users?search=${encodeURIComponent('profile.department eq "sales"')}`)
    expect(ids).toEqual(salesUsers)
    expect(pages).toBe(Math.ceil(salesUsers.length / 200))
    const firstPage = await search('profile.department eq "Sales"')
    const next = nextLink(firstPage.headers)!
    const cursor = new URL(next).searchParams.get('after')!
    expect(cursor).not.toBe(firstPage.body.at(-1).id)
    expectOktaError(await search('profile.department eq "Engineering"', `&after=${encodeURIComponent(cursor)}`), 400, 'E0000001')

    const combined = await search('profile.department eq "Engineering" and (status eq "SUSPENDED" or profile.lastName sw "1000")')
    expect(combined.body.map((u: { id: string }) => u.id)).toEqual(
      users
        .filter((u) => u.profile.department === 'Engineering' && (u.status === 'SUSPENDED' || String(u.profile.lastName).startsWith('1000')))
        .map((u) => u.id)
        .slice(0, 200)
    )
    expect((await search('profile.login co "brock@"')).body.map((u: { id: string }) => u.id)).toEqual([isaac.id])
    const q = await get('/api/v1/users?q=isaac')
    expect([q.body.map((u: { id: string }) => u.id), nextLink(q.headers)]).toEqual([[isaac.id], undefined])
    expect((await search('profile.costCenter eq "r&d"')).body).toHaveLength(1)
    expect((await search('status eq "DEPROVISIONED"', '&limit=5')).body.every((u: { status: string }) => u.status === 'DEPROVISIONED')).toBe(true)
  })

  it('rejects search and filter expressions Okta cannot evaluate with 400 E0000031', async () => {
    for (const bad of [
      'profile.department ne "Sales"',
      'profile.department co "ale"',
      'not (status eq "ACTIVE")',
      'profile.department eq Sales',
      'profile.department eq "Sales',
      'profile.Department eq "Sales"',
      'status eq "ACTIVE" and',
      '(status eq "ACTIVE"'
    ]) {
      const r = await search(bad)
      expectOktaError(r, 400, 'E0000031')
      expect(r.body.errorSummary).toBe('Invalid search criteria.')
    }
    expect((await filter('profile.login eq "user1@example.com"')).body.map((u: { id: string }) => u.id)).toEqual([users[0].id])
    expect((await filter('profile.login eq "USER1@example.com"')).body).toHaveLength(0) // filter values are case-sensitive
    expect((await filter('status eq "SUSPENDED"')).body).toHaveLength(users.filter((u) => u.status === 'SUSPENDED').length)
    for (const bad of ['profile.department eq "Sales"', 'profile.login sw "user1"', 'status eq "ACTIVE" or not status eq "STAGED"']) {
      expectOktaError(await filter(bad), 400, 'E0000031')
    }
  })
})

describe('groups', () => {
  it('answers a group, pages its members, and sees members added between pages', async () => {
    expect((await get(`/api/v1/groups/${sales.id}`)).body).toMatchObject({ id: sales.id, type: 'OKTA_GROUP', profile: { name: 'Sales' } })
    expectOktaError(await get(`/api/v1/groups/${oktaId('00g', 999)}`), 404, 'E0000007')
    expectOktaError(await get(`/api/v1/groups/${oktaId('00g', 999)}/users`), 404, 'E0000007')
    expect((await get(`/api/v1/groups/${emptyGroup.id}/users`)).body).toEqual([])

    const first = await get(`/api/v1/groups/${sales.id}/users?limit=200`)
    expect(first.body).toHaveLength(200)
    emu.addToGroup(sales.id, isaac.id) // sorts after every member
    let url = nextLink(first.headers)
    const rest: string[] = []
    while (url) {
      const r = await get(url.slice(org.length))
      rest.push(...r.body.map((u: { id: string }) => u.id))
      url = nextLink(r.headers)
    }
    expect([...first.body.map((u: { id: string }) => u.id), ...rest]).toEqual([...sales.members, isaac.id].sort())
    expect((await get(`/api/v1/groups/${sales.id}/users`)).body).toHaveLength(451) // default limit 1000

    emu.removeFromGroup(sales.id, isaac.id)
    emu.emptyLastPage = true // the quirk some Okta lists show: a full last page still links to an empty one
    const quirk = await followAll(`/api/v1/groups/${sales.id}/users?limit=150`)
    expect([quirk.ids.length, quirk.pages]).toEqual([450, 4])
  })
})

describe('clearing sessions', () => {
  it('answers 204, records whether OAuth tokens were revoked, and rejects what Okta rejects', async () => {
    const u0 = users[0].id
    const withTokens = await del(`/api/v1/users/${u0}/sessions?oauthTokens=true`)
    expect(withTokens.status).toBe(204)
    expect(withTokens.body).toBeUndefined()
    expect((await del(`/api/v1/users/${users[1].id}/sessions`)).status).toBe(204)
    expect((await del(`/api/v1/users/${users[3].id}/sessions?oauthTokens=false&forgetDevices=false`)).status).toBe(204)
    expect(emu.revocations.map(({ userId, oauthTokens, forgetDevices }) => ({ userId, oauthTokens, forgetDevices }))).toEqual([
      { userId: u0, oauthTokens: true, forgetDevices: true },
      { userId: users[1].id, oauthTokens: false, forgetDevices: true },
      { userId: users[3].id, oauthTokens: false, forgetDevices: false }
    ])
    expect(emu.users.get(u0)).toMatchObject({ sessions: 0, oauthTokens: 0 })
    expect(emu.users.get(users[1].id)).toMatchObject({ sessions: 0, oauthTokens: 1 })

    const unknown = await del(`/api/v1/users/${oktaId('00u', 777777)}/sessions`)
    expectOktaError(unknown, 404, 'E0000007')
    expect(unknown.body.errorSummary).toBe(`Not found: Resource not found: ${oktaId('00u', 777777)} (User)`)
    expectOktaError(await del('/api/v1/users/user5%40example.com/sessions'), 404, 'E0000007')
    expectOktaError(await del(`/api/v1/users/${u0}/sessions?oauthTokens=yes`), 400, 'E0000001')
    expectOktaError(await call('POST', `/api/v1/users/${u0}/sessions`), 405, 'E0000022')
    expectOktaError(await get('/api/v1/nowhere'), 404, 'E0000008')
    expect(emu.sessionRequests()).toHaveLength(6)
    expect(emu.revocations).toHaveLength(3)
  })
})

describe('rate limits', () => {
  it('reports X-Rate-Limit-* per bucket and answers 429 E0000047 past the principal share', async () => {
    emu.rateLimitWindowMs = 3_600_000 // one long window: the test cannot straddle two
    emu.rateLimits.user = 10 // the principal may use 50 %: 5 a window
    await freshWindow(emu.rateLimitWindowMs, 3000)
    const seen: [number, string | null, string | null][] = []
    for (let i = 0; i < 7; i++) {
      const r = await get(`/api/v1/users/${users[i].id}`)
      seen.push([r.status, r.headers.get('x-rate-limit-limit'), r.headers.get('x-rate-limit-remaining')])
      if (r.status === 429) {
        expectOktaError(r, 429, 'E0000047')
        expect(r.body.errorSummary).toBe(RATE_LIMIT_SUMMARY)
        expect(Number(r.headers.get('x-rate-limit-reset')) * 1000).toBe(emu.rateLimitState('user').resetAt)
      }
    }
    expect(seen).toEqual([
      [200, '5', '4'],
      [200, '5', '3'],
      [200, '5', '2'],
      [200, '5', '1'],
      [200, '5', '0'],
      [429, '5', '0'],
      [429, '5', '0']
    ])
    // other buckets are untouched; other traffic on the org bucket shows in Remaining
    const list = await get('/api/v1/users?limit=1')
    expect([list.status, list.headers.get('x-rate-limit-limit'), list.headers.get('x-rate-limit-remaining')]).toEqual([200, '300', '299'])
    emu.useBucket('users', 595) // org bucket: 1 + 595 + this request = 597 of 600
    expect((await get('/api/v1/users?limit=1')).headers.get('x-rate-limit-remaining')).toBe('3')
    emu.rateLimitHeaderScope = 'org'
    expect((await get('/api/v1/users?limit=1')).headers.get('x-rate-limit-limit')).toBe('600')
    expect(emu.rateLimited('rate-limit')).toHaveLength(2)
  })

  it('lets a client that waits for X-Rate-Limit-Reset when Remaining is 0 through without a single 429', async () => {
    emu.rateLimitWindowMs = 3_600_000
    emu.principalPercent = 100
    emu.rateLimits.sessions = 4
    await freshWindow(emu.rateLimitWindowMs, 3000)
    // a client that ignores the headers is refused within the window
    const burst = await Promise.all(users.slice(0, 7).map((u) => del(`/api/v1/users/${u.id}/sessions?oauthTokens=true`)))
    expect(burst.filter((r) => r.status === 429)).toHaveLength(3)
    emu.reset()
    emu.rateLimitWindowMs = 1000
    emu.principalPercent = 100
    emu.rateLimits.sessions = 4
    for (const u of users.slice(0, 7)) {
      const r = await del(`/api/v1/users/${u.id}/sessions?oauthTokens=true`)
      expect(r.status).toBe(204)
      if (r.headers.get('x-rate-limit-remaining') === '0') await sleep(Math.max(0, Number(r.headers.get('x-rate-limit-reset')) * 1000 - Date.now()) + 5)
    }
    expect(emu.tooManyRequests()).toHaveLength(0)
    expect(emu.revocations).toHaveLength(7)
    expect(emu.server.peakInWindow(1000, (r) => r.method === 'DELETE')).toBeLessThanOrEqual(8) // two windows can touch
  })

  it('answers 429 with X-Rate-Limit-Limit 0 past the concurrency limit, and Okta-shaped injected throttles', async () => {
    emu.concurrencyLimit = 2
    emu.processingMs = 300
    const all = await Promise.all(users.slice(0, 5).map((u) => get(`/api/v1/users/${u.id}`)))
    const refused = all.filter((r) => r.status === 429)
    expect(refused).toHaveLength(3)
    for (const r of refused) {
      expectOktaError(r, 429, 'E0000047')
      expect([r.headers.get('x-rate-limit-limit'), r.headers.get('x-rate-limit-remaining')]).toEqual(['0', '0'])
    }
    expect(emu.peakActive).toBe(2)
    expect(emu.rateLimited('concurrency')).toHaveLength(3)

    emu.reset()
    emu.server.queueFaults([{ kind: 'throttle', seconds: 7 }])
    const t = await get(`/api/v1/users/${users[0].id}`)
    expectOktaError(t, 429, 'E0000047')
    expect(Number(t.headers.get('x-rate-limit-reset'))).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 6)
    expect(t.headers.get('retry-after')).toBeNull()
  })

  it('reset() restores users, groups, limits and records', async () => {
    emu.removeUser(users[0].id)
    emu.updateUser(users[1].id, { status: 'SUSPENDED', profile: { department: 'Legal' } })
    emu.rateLimits.users = 1
    await del(`/api/v1/users/${users[5].id}/sessions`)
    emu.reset()
    expect(emu.users.get(users[0].id)).toBeDefined()
    expect(emu.users.get(users[1].id)).toMatchObject({ status: 'ACTIVE', profile: { department: 'Engineering' } })
    expect(emu.rateLimits.users).toBe(600)
    expect(emu.revocations).toHaveLength(0)
    expect(emu.requests).toHaveLength(0)
  })
})

describe("through Prism, against Okta's OpenAPI description", () => {
  let proxy: Awaited<ReturnType<typeof startContractProxy>>
  beforeAll(async () => {
    proxy = await proxyReady
  })
  beforeEach(() => {
    emu.setOrgUrl(proxy.origin)
    proxy.reset()
  })
  afterAll(() => emu.setOrgUrl(undefined))

  it('sends a valid request for every sliced operation with no request or response violation', async () => {
    const p = proxy.origin
    const tok = await call(
      'POST',
      '/oauth2/v1/token',
      { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      tokenForm({
        grant_type: 'client_credentials',
        scope: 'okta.users.manage okta.groups.read',
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion({ aud: `${p}/oauth2/v1/token` })
      }),
      p
    )
    expect(tok.status).toBe(200)
    const bearer = { authorization: `Bearer ${tok.body.access_token}` }
    const page1 = await get(`/api/v1/users?search=${encodeURIComponent('profile.department eq "Sales"')}&limit=200`, bearer, p)
    expect(page1.status).toBe(200)
    const next = nextLink(page1.headers)!
    expect(next.startsWith(`${p}/api/v1/users?`)).toBe(true)
    expect((await get(next.slice(p.length), bearer, p)).status).toBe(200)
    expect((await get('/api/v1/users?limit=2', ssws, p)).status).toBe(200)
    expect((await get(`/api/v1/users/${encodeURIComponent('user7@example.com')}`, bearer, p)).status).toBe(200)
    expect((await get(`/api/v1/groups/${sales.id}`, bearer, p)).status).toBe(200)
    expect((await get(`/api/v1/groups/${sales.id}/users?limit=200`, bearer, p)).status).toBe(200)
    expect((await del(`/api/v1/users/${users[0].id}/sessions?oauthTokens=true`, bearer, p)).status).toBe(204)
    expect((await del(`/api/v1/users/${users[1].id}/sessions?oauthTokens=false`, ssws, p)).status).toBe(204)
    await proxy.settle()
    expect(proxy.received.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toContain('DELETE /api/v1/users/' + users[0].id + '/sessions')
    expect(proxy.requestViolations()).toEqual([])
    expect(proxy.responseViolations()).toEqual([])
    expect(emu.revokedUserIds()).toEqual([users[0].id, users[1].id])
  })

  it('flags a malformed request (proof the check can fail)', async () => {
    const r = await del(`/api/v1/users/${users[0].id}/sessions?oauthTokens=yes`, ssws, proxy.origin)
    expect(r.status).toBe(400)
    await call('POST', `/api/v1/users/${users[0].id}/sessions`, ssws, undefined, proxy.origin)
    await get(`/api/v1/users/${users[0].id}`, {}, proxy.origin)
    await proxy.settle()
    const messages = proxy.requestViolations().map((v) => v.message)
    expect(messages).toEqual(
      expect.arrayContaining([expect.stringMatching(/oauthtokens must be boolean/i), 'Selected route not found', 'Invalid security scheme used'])
    )
  })
})
