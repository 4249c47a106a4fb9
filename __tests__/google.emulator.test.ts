// The Google Workspace emulator against the published contract: the Directory API slice and the OAuth token
// endpoint for domain-wide delegation. What it accepts and, above all, what it rejects; then every sliced
// operation through Prism with the vendored discovery-derived description.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { SignJWT, importPKCS8 } from 'jose'
import {
  API_BASE,
  DEFAULT_DELEGATED_SCOPES,
  GOOGLE_ADMIN,
  GOOGLE_CLIENT_EMAIL,
  GOOGLE_CLIENT_ID,
  GOOGLE_CUSTOMER_ID,
  GoogleEmulator,
  JWT_BEARER_GRANT,
  METHOD_SCOPES,
  SCOPES,
  makeUsers
} from './emulators/google/index.js'
import { contractPath, startContractProxy } from './helpers/contract-proxy.js'

// user1..user1200: every 10th in /Leavers, every 25th suspended, every 7th with alias<k>@example.com, every 3rd
// with OAuth tokens. Plus a non-admin and a delegated admin that may only read users.
const USERS = [
  ...makeUsers(1200),
  { primaryEmail: 'helpdesk@example.com', givenName: 'Help', familyName: 'Desk', isDelegatedAdmin: true, adminPrivileges: ['users.read'] },
  { primaryEmail: 'Ada.Lovelace@example.com', givenName: 'Ada', familyName: 'Lovelace', orgUnitPath: '/Leavers/Contractors', aliases: ['ada@example.com'] }
]
const LEAVERS = Array.from({ length: 450 }, (_, i) => `user${i + 1}@example.com`)
const emu = new GoogleEmulator({
  users: USERS,
  groups: [
    {
      email: 'leavers@example.com',
      aliases: ['exits@example.com'],
      members: [{ email: 'user1001@example.com', role: 'OWNER' }, ...LEAVERS, 'contractors@example.com', 'guest@partner.org']
    },
    { id: '03ygebqi1abcd01', email: 'contractors@example.com', members: ['ada.lovelace@example.com', 'user1@example.com', 'user1100@example.com'] }
  ]
})
const SLACK = '902183746501-slk0q8f2n3v4b5c6d7e8f9g0h1i2j3k4.apps.googleusercontent.com'
const ZOOM = '371928465012-zm9a8b7c6d5e4f3g2h1i0j9k8l7m6n5o.apps.googleusercontent.com'

let base = ''
let key: ReturnType<typeof emu.serviceAccountKey>
let token = ''
type Proxy = Awaited<ReturnType<typeof startContractProxy>>
// Prism takes a few seconds to start: it starts with the emulator and runs while the direct tests do.
let proxyStarting: Promise<Proxy | Error> = Promise.resolve(new Error('not started'))
// A key Google never registered, and a second registered key (RSA generation runs off the main thread).
let foreign: ReturnType<typeof emu.serviceAccountKey>
let second: ReturnType<typeof emu.serviceAccountKey>

beforeAll(async () => {
  base = await emu.start()
  key = emu.serviceAccountKey()
  proxyStarting = startContractProxy({ spec: contractPath('google'), upstream: emu.origin }).catch((e: Error) => e)
  ;[foreign, second] = await Promise.all([emu.foreignServiceAccountKey(), emu.addServiceAccountKey()])
})
afterAll(async () => {
  const proxy = await proxyStarting
  if (!(proxy instanceof Error)) await proxy.stop()
  await emu.stop()
})
beforeEach(() => {
  emu.reset()
  token = emu.registerAccessToken()
})

type Answer = { status: number; body: any; headers: Headers; text: string }

async function call(method: string, path: string, opts: { token?: string | null; origin?: string; body?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {}
  const t = opts.token === undefined ? token : opts.token
  if (t !== null) headers.authorization = `Bearer ${t}`
  const res = await fetch(`${opts.origin ?? base}${path}`, { method, headers, body: opts.body })
  const text = await res.text()
  let body: any
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  return { status: res.status, body, headers: res.headers, text }
}

const get = (path: string, t?: string | null) => call('GET', `${API_BASE}${path}`, { token: t })

/** A JWT assertion as a service account signs it; `claims`/`header` override the defaults. */
async function assertion(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  withKey: { private_key: string; private_key_id: string } = key
) {
  const now = Math.floor(Date.now() / 1000)
  const payload = {
    iss: key.client_email,
    sub: GOOGLE_ADMIN,
    aud: key.token_uri,
    scope: DEFAULT_DELEGATED_SCOPES.join(' '),
    iat: now,
    exp: now + 3600,
    ...claims
  }
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete (payload as Record<string, unknown>)[k]
  const pk = await importPKCS8(withKey.private_key, 'RS256')
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: withKey.private_key_id, ...header }).sign(pk)
}

async function exchange(jwt: string, extra: Record<string, string> = {}, contentType = 'application/x-www-form-urlencoded') {
  const body = contentType.startsWith('application/json')
    ? JSON.stringify({ grant_type: JWT_BEARER_GRANT, assertion: jwt, ...extra })
    : new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: jwt, ...extra }).toString()
  const res = await fetch(key.token_uri, { method: 'POST', headers: { 'content-type': contentType }, body })
  return { status: res.status, body: (await res.json()) as any }
}

const SHORT_LIVED = /^Invalid JWT: Token must be a short-lived token \(60 minutes\) and in a reasonable timeframe/

describe('token endpoint (JWT bearer, domain-wide delegation)', () => {
  it('mints a Bearer token for a signed assertion, and the token works on the Directory API', async () => {
    const r = await exchange(await assertion())
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ access_token: expect.stringMatching(/^ya29\./), expires_in: 3599, token_type: 'Bearer' })
    expect(key).toMatchObject({ type: 'service_account', client_email: GOOGLE_CLIENT_EMAIL, client_id: GOOGLE_CLIENT_ID, token_uri: `${emu.origin}/token` })
    expect(key.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(JSON.parse(emu.serviceAccountKeyJson())).toEqual(key)
    const out = await call('POST', `${API_BASE}/users/user2@example.com/signOut`, { token: r.body.access_token })
    expect(out.status).toBe(204)
    expect(emu.signedOut.map((s) => s.primaryEmail)).toEqual(['user2@example.com'])
    expect(emu.mintedTokens()[0]).toMatchObject({ subject: GOOGLE_ADMIN, clientId: GOOGLE_CLIENT_ID })
  })

  it('refuses malformed grants as Google does', async () => {
    const jwt = await assertion()
    expect(await exchange(jwt, {}, 'application/json')).toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    expect(await exchange(jwt, { grant_type: 'client_credentials' })).toEqual({
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: client_credentials' }
    })
    const noAssertion = await fetch(key.token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=${encodeURIComponent(JWT_BEARER_GRANT)}`
    })
    expect(await noAssertion.json()).toEqual({ error: 'invalid_request', error_description: 'Missing required parameter: assertion' })
    expect(await exchange('not.a.jwt')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    expect(emu.mintedTokens()).toHaveLength(0)
  })

  it('verifies the RS256 signature against the registered keys, by kid', async () => {
    expect(await exchange(await assertion({}, {}, foreign))).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }
    })
    // A real key but another key's id.
    expect((await exchange(await assertion({}, { kid: foreign.private_key_id }))).body.error_description).toBe('Invalid JWT Signature.')
    // No kid: every enabled key of the account is tried.
    expect((await exchange(await assertion({}, { kid: undefined }))).status).toBe(200)
    expect((await exchange(await assertion({}, {}, second))).status).toBe(200)
    emu.setServiceAccountKeyEnabled(second.private_key_id, false)
    expect((await exchange(await assertion({}, {}, second))).body.error_description).toBe('Invalid JWT Signature.')
    emu.setServiceAccountKeyEnabled(second.private_key_id, true)
    const hs = await new SignJWT({ iss: key.client_email, sub: GOOGLE_ADMIN, aud: key.token_uri, scope: SCOPES.userSecurity })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'))
    expect((await exchange(hs)).body).toEqual({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' })
  })

  it('checks issuer, audience and a short lifetime', async () => {
    const now = Math.floor(Date.now() / 1000)
    expect((await exchange(await assertion({ iss: 'someone@else.iam.gserviceaccount.com' }))).body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid JWT: No valid verifier found for issuer'
    })
    expect((await exchange(await assertion({ aud: 'https://oauth2.googleapis.com/token' }))).body.error_description).toMatch(
      /^Invalid JWT: Failed audience check/
    )
    expect((await exchange(await assertion({ exp: now + 3 * 3600 }))).body.error_description).toMatch(SHORT_LIVED)
    expect((await exchange(await assertion({ iat: now - 7200, exp: now - 3600 }))).body.error_description).toMatch(SHORT_LIVED)
    expect((await exchange(await assertion({ iat: now + 3600, exp: now + 7200 }))).body.error_description).toMatch(SHORT_LIVED)
    expect((await exchange(await assertion({ exp: undefined }))).body.error_description).toMatch(SHORT_LIVED)
    // The error table allows exp up to 65 minutes after iat.
    expect((await exchange(await assertion({ exp: now + 3900 }))).status).toBe(200)
  })

  it('checks the scope claim and what domain-wide delegation grants the client id', async () => {
    expect(await exchange(await assertion({ scope: '' }))).toEqual({
      status: 400,
      body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' }
    })
    expect((await exchange(await assertion({ scope: DEFAULT_DELEGATED_SCOPES.join(',') }))).body.error).toBe('invalid_scope')
    expect((await exchange(await assertion({ scope: `${SCOPES.userSecurity} https://www.googleapis.com/auth/admin.directory.users` }))).body.error).toBe(
      'invalid_scope'
    )
    const notDelegated = await exchange(await assertion({ scope: `${SCOPES.userSecurity} ${SCOPES.groupReadonly}` }))
    expect(notDelegated).toEqual({
      status: 401,
      body: {
        error: 'unauthorized_client',
        error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.'
      }
    })
    emu.setDelegation(undefined)
    expect(await exchange(await assertion())).toEqual({
      status: 401,
      body: { error: 'unauthorized_client', error_description: 'Unauthorized client or scope in request.' }
    })
    emu.setDelegation([SCOPES.userSecurity, SCOPES.groupReadonly])
    expect((await exchange(await assertion({ scope: `${SCOPES.userSecurity} ${SCOPES.groupReadonly}` }))).status).toBe(200)
  })

  it('refuses an unknown subject, mints for a non-admin (whose calls then fail with 403 forbidden)', async () => {
    expect(await exchange(await assertion({ sub: 'nobody@example.com' }))).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid email or User ID' }
    })
    expect((await exchange(await assertion({ sub: 'ada@example.com' }))).body.error_description).toBe('Invalid email or User ID') // an alias, not the account
    const plain = await exchange(await assertion({ sub: 'USER5@example.com' }))
    expect(plain.status).toBe(200)
    const out = await call('POST', `${API_BASE}/users/user2@example.com/signOut`, { token: plain.body.access_token })
    expect(out.status).toBe(403)
    expect(out.body).toEqual({
      error: {
        code: 403,
        message: 'Not Authorized to access this resource/api',
        errors: [{ message: 'Not Authorized to access this resource/api', domain: 'global', reason: 'forbidden' }],
        status: 'PERMISSION_DENIED'
      }
    })
    expect(emu.signedOut).toHaveLength(0)
    // Anyone may read the domain's public view of a user.
    expect((await get('/users/user2@example.com?viewType=domain_public', plain.body.access_token)).status).toBe(200)
    expect((await get('/users/user2@example.com', plain.body.access_token)).status).toBe(403)
  })

  it('gives the service account its own token without sub, an admin only when assigned a role', async () => {
    const own = await exchange(await assertion({ sub: undefined }))
    expect(own.status).toBe(200)
    expect((await call('POST', `${API_BASE}/users/user2@example.com/signOut`, { token: own.body.access_token })).status).toBe(403)
    emu.serviceAccountIsAdmin = true
    try {
      expect((await call('POST', `${API_BASE}/users/user2@example.com/signOut`, { token: own.body.access_token })).status).toBe(204)
    } finally {
      emu.serviceAccountIsAdmin = false
    }
  })
})

describe('Directory API authentication and authorization', () => {
  it('answers 401 for a missing, unknown or expired token, with Google bodies and WWW-Authenticate', async () => {
    const missing = await get('/users/user1@example.com', null)
    expect(missing.status).toBe(401)
    expect(missing.body.error).toMatchObject({
      code: 401,
      status: 'UNAUTHENTICATED',
      errors: [{ reason: 'required', message: 'Login Required.', location: 'Authorization', locationType: 'header' }]
    })
    expect(missing.body.error.details[0]).toMatchObject({ reason: 'CREDENTIALS_MISSING' })
    const unknown = await get('/users/user1@example.com', 'ya29.not-a-token')
    expect(unknown.body.error).toMatchObject({
      code: 401,
      message: expect.stringMatching(/^Request had invalid authentication credentials\./),
      errors: [{ reason: 'authError', message: 'Invalid Credentials' }]
    })
    expect(unknown.headers.get('www-authenticate')).toContain('error="invalid_token"')
    emu.expireAccessTokens()
    const expired = await get('/users/user1@example.com')
    expect(expired.status).toBe(401)
    expect(expired.body.error.details[0]).toMatchObject({
      reason: 'ACCESS_TOKEN_EXPIRED',
      metadata: { service: 'admin.googleapis.com', method: 'ccc.hosted.frontend.directory.v1.DirectoryUsers.Get' }
    })
  })

  it('accepts the token as the access_token query parameter, and can expire tokens after N requests', async () => {
    expect((await get(`/users/user1@example.com?access_token=${token}`, null)).status).toBe(200)
    emu.expireTokensAfterRequests = 2
    expect((await get('/users/user1@example.com')).status).toBe(200)
    expect((await get('/users/user1@example.com')).status).toBe(401)
  })

  it('requires one of the scopes the discovery document lists for each method', async () => {
    const securityOnly = emu.registerAccessToken({ scopes: [SCOPES.userSecurity] })
    const r = await get('/users/user1@example.com', securityOnly)
    expect(r.status).toBe(403)
    expect(r.body.error).toMatchObject({
      code: 403,
      message: 'Request had insufficient authentication scopes.',
      status: 'PERMISSION_DENIED',
      errors: [{ reason: 'insufficientPermissions', message: 'Insufficient Permission', domain: 'global' }]
    })
    expect(r.body.error.details[0]).toMatchObject({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT' })
    expect((await call('POST', `${API_BASE}/users/user1@example.com/signOut`, { token: securityOnly })).status).toBe(204)
    // admin.directory.user does not include user.security: signOut refuses it.
    const fullUser = emu.registerAccessToken({ scopes: [SCOPES.user] })
    expect((await call('POST', `${API_BASE}/users/user1@example.com/signOut`, { token: fullUser })).body.error.errors[0].reason).toBe('insufficientPermissions')
    // groups.get wants admin.directory.group(.readonly); group.member.readonly is not enough.
    expect((await get('/groups/leavers@example.com')).body.error.errors[0].reason).toBe('insufficientPermissions')
    expect((await get('/groups/leavers@example.com/members')).status).toBe(200)
  })

  it('uses exactly the scopes of the vendored contract', () => {
    const spec = JSON.parse(readFileSync(contractPath('google'), 'utf8'))
    const fromSpec: Record<string, string[]> = {}
    for (const item of Object.values(spec.paths) as any[]) {
      for (const op of Object.values(item) as any[]) fromSpec[op.operationId] = op.security.map((s: any) => s.Oauth2[0])
    }
    for (const [op, scopes] of Object.entries(fromSpec))
      expect([op, [...METHOD_SCOPES[op as keyof typeof METHOD_SCOPES]].sort()]).toEqual([op, [...scopes].sort()])
  })

  it('lets a delegated admin do only what its privileges allow', async () => {
    const helpdesk = emu.registerAccessToken({ subject: 'helpdesk@example.com' })
    expect((await get('/users/user1@example.com', helpdesk)).status).toBe(200)
    expect((await call('POST', `${API_BASE}/users/user1@example.com/signOut`, { token: helpdesk })).body.error.errors[0].reason).toBe('forbidden')
    emu.updateUser('helpdesk@example.com', { adminPrivileges: ['users.read', 'users.security'] })
    expect((await call('POST', `${API_BASE}/users/user1@example.com/signOut`, { token: helpdesk })).status).toBe(204)
  })
})

describe('users', () => {
  it('gets a user by primary email in any case, by alias and by id', async () => {
    const byEmail = await get('/users/USER7@Example.com')
    expect(byEmail.status).toBe(200)
    expect(byEmail.body).toMatchObject({
      kind: 'admin#directory#user',
      primaryEmail: 'user7@example.com',
      aliases: ['alias7@example.com'],
      orgUnitPath: '/Staff',
      customerId: GOOGLE_CUSTOMER_ID,
      suspended: false
    })
    expect(byEmail.body.id).toMatch(/^\d{21}$/)
    expect((await get('/users/alias7@example.com')).body.id).toBe(byEmail.body.id)
    expect((await get(`/users/${byEmail.body.id}`)).body.primaryEmail).toBe('user7@example.com')
    expect((await get('/users/user25@example.com')).body).toMatchObject({ suspended: true, suspensionReason: 'ADMIN' })
  })

  it('answers 404 for an unknown user and 403 for a user of another domain', async () => {
    const r = await get('/users/nobody@example.com')
    expect(r.status).toBe(404)
    expect(r.body).toEqual({
      error: {
        code: 404,
        message: 'Resource Not Found: userKey',
        errors: [{ message: 'Resource Not Found: userKey', domain: 'global', reason: 'notFound' }],
        status: 'NOT_FOUND'
      }
    })
    expect((await get('/users/999999999999999999999')).status).toBe(404)
    expect((await get('/users/someone@gmail.com')).body.error.errors[0].reason).toBe('forbidden')
  })

  it('cuts answers to a fields selection and refuses unknown fields and enum values', async () => {
    expect((await get('/users/user7@example.com?fields=id,primaryEmail,name/givenName')).body).toEqual({
      id: expect.any(String),
      primaryEmail: 'user7@example.com',
      name: { givenName: 'User' }
    })
    const list = await get('/users?customer=my_customer&maxResults=2&fields=nextPageToken,users(id,primaryEmail)')
    expect(Object.keys(list.body).sort()).toEqual(['nextPageToken', 'users'])
    expect(Object.keys(list.body.users[0]).sort()).toEqual(['id', 'primaryEmail'])
    expect((await get('/users/user7@example.com?fields=shoeSize')).body.error).toMatchObject({
      code: 400,
      errors: [{ reason: 'invalidParameter', location: 'fields' }]
    })
    expect((await get('/users?customer=my_customer&fields=users(shoeSize)')).status).toBe(400)
    expect((await get('/users?customer=my_customer&fields=users(id')).status).toBe(400)
    expect((await get('/users/user7@example.com?projection=everything')).body.error.message).toBe(
      "Invalid string value: 'everything'. Allowed values: [basic, custom, full]"
    )
  })

  it('pages users.list with pageToken, at most 500 a page', async () => {
    const seen: string[] = []
    let pageToken: string | undefined
    let pages = 0
    do {
      const r = await get(`/users?customer=my_customer&maxResults=500${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`)
      expect(r.status).toBe(200)
      expect(r.body.kind).toBe('admin#directory#users')
      seen.push(...r.body.users.map((u: { primaryEmail: string }) => u.primaryEmail))
      pageToken = r.body.nextPageToken
      pages++
    } while (pageToken && pages < 10)
    expect(pages).toBe(3)
    expect(new Set(seen).size).toBe(1203)
    expect((await get('/users?customer=my_customer')).body.users).toHaveLength(100)
    const tooMany = await get('/users?customer=my_customer&maxResults=501')
    expect(tooMany.body.error).toEqual({
      code: 400,
      message: "Invalid value '501'. Values must be within the range: [1, 500]",
      errors: [
        {
          message: "Invalid value '501'. Values must be within the range: [1, 500]",
          domain: 'global',
          reason: 'invalidParameter',
          location: 'maxResults',
          locationType: 'parameter'
        }
      ],
      status: 'INVALID_ARGUMENT'
    })
    expect((await get('/users?customer=my_customer&maxResults=0')).status).toBe(400)
    expect((await get('/users?customer=my_customer&maxResults=ten')).status).toBe(400)
  })

  it('needs customer (my_customer or the id) or one of its domains, and a page token of the same listing', async () => {
    expect((await get('/users')).body.error).toMatchObject({ code: 400, errors: [{ reason: 'badRequest' }] })
    expect((await get('/users?customer=C0someoneelse')).status).toBe(400)
    expect((await get('/users?domain=other.org')).status).toBe(400)
    expect((await get(`/users?customer=${GOOGLE_CUSTOMER_ID}&maxResults=1`)).body.users).toHaveLength(1)
    expect((await get('/users?domain=example.com&maxResults=1')).body.users).toHaveLength(1)
    const first = await get('/users?customer=my_customer&maxResults=10')
    const reused = await get(`/users?customer=my_customer&maxResults=10&query=isSuspended%3Dtrue&pageToken=${first.body.nextPageToken}`)
    expect(reused.body.error).toMatchObject({ code: 400, errors: [{ reason: 'invalid' }] })
    expect((await get('/users?customer=my_customer&pageToken=garbage')).status).toBe(400)
  })

  it('filters with the documented query syntax', async () => {
    const q = async (query: string) => {
      const r = await get(`/users?customer=my_customer&maxResults=500&query=${encodeURIComponent(query)}`)
      expect(r.status).toBe(200)
      return (r.body.users ?? []).map((u: { primaryEmail: string }) => u.primaryEmail) as string[]
    }
    expect(await q("orgUnitPath='/Leavers'")).toHaveLength(121) // 120 + Ada in /Leavers/Contractors (sub-units match)
    expect(await q('orgUnitPath=/Leavers/Contractors')).toEqual(['ada.lovelace@example.com'])
    expect(await q('isSuspended=true')).toHaveLength(48)
    expect(await q("orgUnitPath='/Leavers' isSuspended=true")).toHaveLength(24)
    expect(await q('email:user119*')).toEqual(['user119@example.com', ...Array.from({ length: 10 }, (_, i) => `user119${i}@example.com`)])
    expect(await q('email=alias14@example.com')).toEqual(['user14@example.com'])
    expect(await q("name='Ada Lovelace'")).toEqual(['ada.lovelace@example.com'])
    expect(await q('givenName:ada')).toEqual(['ada.lovelace@example.com'])
    expect(await q('isAdmin=true')).toEqual([GOOGLE_ADMIN])
    expect(await q('lovelace')).toEqual(['ada.lovelace@example.com'])
    expect(await q("familyName='O\\'Brien'")).toEqual([])
    const none = await get(`/users?customer=my_customer&query=${encodeURIComponent('email=ghost@example.com')}`)
    expect(none.body.users).toBeUndefined()
    const desc = await get(`/users?customer=my_customer&orderBy=email&sortOrder=DESCENDING&maxResults=2&query=${encodeURIComponent('email:user11*')}`)
    expect(desc.body.users.map((u: { primaryEmail: string }) => u.primaryEmail)).toEqual(['user11@example.com', 'user119@example.com'])
  })

  it('refuses queries Google refuses', async () => {
    for (const bad of [
      'isSuspended=maybe',
      'isSuspended:true',
      "orgUnitPath:'/Leavers'",
      'orgUnitPath=Leavers',
      'shoeSize=42',
      "name='unterminated",
      'name:Ada*',
      '(isAdmin=true)'
    ]) {
      const r = await get(`/users?customer=my_customer&query=${encodeURIComponent(bad)}`)
      expect([bad, r.status, r.body.error.errors[0].reason]).toEqual([bad, 400, 'invalid'])
    }
    expect((await get(`/users?customer=my_customer&query=${encodeURIComponent('manager=boss@example.com')}`)).body.error.message).toContain('does not model')
  })

  it('builds and lists 10,000+ users fast enough for benchmarks', async () => {
    const t0 = Date.now()
    const many = makeUsers(20_000)
    expect(Date.now() - t0).toBeLessThan(1500)
    expect(new Set(many.map((u) => u.id)).size).toBe(20_000)
    expect(new Set(many.map((u) => u.primaryEmail)).size).toBe(20_000)
    const big = new GoogleEmulator({ users: makeUsers(10_000), quota: false })
    const origin = await big.start()
    try {
      const bigToken = big.registerAccessToken()
      let pageToken = ''
      let count = 0
      const t1 = Date.now()
      do {
        const r = await call(
          'GET',
          `${API_BASE}/users?customer=my_customer&maxResults=500&query=isSuspended%3Dfalse&fields=nextPageToken,users(primaryEmail)${pageToken && `&pageToken=${pageToken}`}`,
          { origin, token: bigToken }
        )
        count += r.body.users.length
        pageToken = r.body.nextPageToken ?? ''
      } while (pageToken)
      expect(count).toBe(9601) // 10,000 - 400 suspended + the admin
      expect(Date.now() - t1).toBeLessThan(5000)
    } finally {
      await big.stop()
    }
  })
})

describe('signOut and tokens', () => {
  it('signs a user out with 204 and an empty body, by email, alias or id', async () => {
    const r = await call('POST', `${API_BASE}/users/alias14@example.com/signOut`)
    expect(r.status).toBe(204)
    expect(r.text).toBe('')
    const id = (await get('/users/user15@example.com')).body.id
    expect((await call('POST', `${API_BASE}/users/${id}/signOut`)).status).toBe(204)
    expect(emu.signedOut.map((s) => [s.primaryEmail, s.userKey])).toEqual([
      ['user14@example.com', 'alias14@example.com'],
      ['user15@example.com', id]
    ])
    expect(emu.isSignedOut('user14@example.com')).toBe(true)
    expect(emu.isSignedOut('user16@example.com')).toBe(false)
    expect(emu.signedOutEmails()).toEqual(new Set(['user14@example.com', 'user15@example.com']))
    expect(emu.signOutRequests()).toHaveLength(2)
    expect((await call('POST', `${API_BASE}/users/nobody@example.com/signOut`)).body.error.message).toBe('Resource Not Found: userKey')
    expect((await call('GET', `${API_BASE}/users/user14@example.com/signOut`)).status).toBe(404)
    expect(emu.signedOut).toHaveLength(2)
  })

  it('answers 411 to a POST without Content-Length, as Google front ends do', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const url = new URL(base)
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST ${API_BASE}/users/user1@example.com/signOut HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`
        )
      })
      let data = ''
      socket.on('data', (d) => (data += d))
      socket.on('end', () => resolve(data.split('\r\n')[0]))
      socket.on('error', reject)
    })
    expect(status).toBe('HTTP/1.1 411 Length Required')
    expect(emu.signedOut).toHaveLength(0)
  })

  it('lists a user tokens and deletes one per client id', async () => {
    const list = await get('/users/user6@example.com/tokens')
    expect(list.status).toBe(200)
    expect(list.body.kind).toBe('admin#directory#tokenList')
    expect(list.body.items.map((t: { clientId: string }) => t.clientId)).toEqual([SLACK, ZOOM])
    expect(list.body.items[0]).toMatchObject({
      kind: 'admin#directory#token',
      displayText: 'Slack',
      nativeApp: false,
      anonymous: false,
      userKey: expect.stringMatching(/^\d{21}$/),
      scopes: expect.arrayContaining(['openid'])
    })
    expect((await get('/users/user1@example.com/tokens')).body.items).toBeUndefined()
    const del = await call('DELETE', `${API_BASE}/users/user6@example.com/tokens/${encodeURIComponent(SLACK)}`)
    expect(del.status).toBe(204)
    expect(del.text).toBe('')
    expect((await get('/users/user6@example.com/tokens')).body.items.map((t: { clientId: string }) => t.clientId)).toEqual([ZOOM])
    expect(emu.revokedTokens).toEqual([expect.objectContaining({ primaryEmail: 'user6@example.com', clientId: SLACK, displayText: 'Slack' })])
    expect((await call('DELETE', `${API_BASE}/users/user6@example.com/tokens/${encodeURIComponent(SLACK)}`)).body.error.message).toBe(
      'Resource Not Found: clientId'
    )
    expect((await get('/users/nobody@example.com/tokens')).status).toBe(404)
    expect(emu.server.mutating().map((r) => r.method)).toEqual(['DELETE', 'DELETE'])
    expect(emu.tokenDeleteRequests()).toHaveLength(2)
  })
})

describe('groups and members', () => {
  it('pages members at most 200 a page, by group email, alias or id', async () => {
    const collect = async (groupKey: string, extra = '') => {
      const out: any[] = []
      let pageToken: string | undefined
      let pages = 0
      do {
        const r = await get(`/groups/${groupKey}/members?${extra}${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`)
        expect(r.status).toBe(200)
        out.push(...(r.body.members ?? []))
        pageToken = r.body.nextPageToken
        pages++
      } while (pageToken && pages < 20)
      return { out, pages }
    }
    const direct = await collect('leavers@example.com', 'maxResults=500')
    expect(direct.pages).toBe(3) // 453 members, capped at 200 a page
    expect(direct.out).toHaveLength(453)
    expect(direct.out[0]).toMatchObject({ kind: 'admin#directory#member', email: 'user1001@example.com', role: 'OWNER', type: 'USER', status: 'ACTIVE' })
    expect(direct.out.find((m) => m.email === 'contractors@example.com')).toMatchObject({ type: 'GROUP', id: '03ygebqi1abcd01' })
    expect(direct.out.find((m) => m.email === 'guest@partner.org')).toMatchObject({ type: 'USER', id: expect.stringMatching(/^\d{21}$/) })
    expect(direct.out.find((m) => m.email === 'user25@example.com')).toMatchObject({ status: 'SUSPENDED' })
    expect((await collect('exits@example.com')).out).toHaveLength(453)
    expect((await collect('03ygebqi1abcd01')).out.map((m) => m.email)).toEqual(['ada.lovelace@example.com', 'user1@example.com', 'user1100@example.com'])
    const derived = await collect('leavers@example.com', 'includeDerivedMembership=true')
    expect(derived.out).toHaveLength(455) // + Ada and user1100; user1 once
    expect(new Set(derived.out.map((m) => `${m.type}:${m.id}`)).size).toBe(455)
    expect((await collect('leavers@example.com', 'roles=OWNER')).out.map((m) => m.email)).toEqual(['user1001@example.com'])
  })

  it('refuses bad parameters and unknown groups', async () => {
    expect((await get('/groups/leavers@example.com/members?maxResults=0')).body.error.errors[0]).toMatchObject({
      reason: 'invalidParameter',
      location: 'maxResults'
    })
    expect((await get('/groups/leavers@example.com/members?includeDerivedMembership=yes')).status).toBe(400)
    expect((await get('/groups/leavers@example.com/members?roles=BOSS')).status).toBe(400)
    const r = await get('/groups/nogroup@example.com/members')
    expect(r.body).toEqual({
      error: {
        code: 404,
        message: 'Resource Not Found: groupKey',
        errors: [{ message: 'Resource Not Found: groupKey', domain: 'global', reason: 'notFound' }],
        status: 'NOT_FOUND'
      }
    })
    const groupScope = emu.registerAccessToken({ scopes: [SCOPES.groupReadonly] })
    expect((await get('/groups/leavers@example.com', groupScope)).body).toMatchObject({
      kind: 'admin#directory#group',
      email: 'leavers@example.com',
      directMembersCount: '453',
      aliases: ['exits@example.com']
    })
    expect((await get('/groups/nogroup@example.com', groupScope)).status).toBe(404)
  })

  it('lets tests change state between calls: a member joins between two pages, a user leaves', async () => {
    emu.removeUser('user2@example.com')
    let calls = 0
    emu.beforeOperation = (op) => {
      if (op === 'directory.members.list' && ++calls === 2) emu.addGroupMember('contractors@example.com', 'user1101@example.com')
    }
    const first = await get('/groups/contractors@example.com/members?maxResults=2')
    const second = await get(`/groups/contractors@example.com/members?maxResults=2&pageToken=${encodeURIComponent(first.body.nextPageToken)}`)
    expect([...first.body.members, ...second.body.members].map((m: { email: string }) => m.email)).toEqual([
      'ada.lovelace@example.com',
      'user1@example.com',
      'user1100@example.com',
      'user1101@example.com'
    ])
    expect((await get('/groups/leavers@example.com/members?maxResults=3')).body.members.map((m: { email: string }) => m.email)).toEqual([
      'user1001@example.com',
      'user1@example.com',
      'user3@example.com'
    ])
    expect((await get('/users/user2@example.com')).status).toBe(404)
  })
})

describe('quota', () => {
  it('is 2,400 queries per minute per user per project by default', () => {
    expect(emu.quota).toEqual({ limit: 2400, windowMs: 60_000, reason: 'userRateLimitExceeded' })
  })

  it('answers 403 userRateLimitExceeded over a real sliding window, without Retry-After, and recovers', async () => {
    emu.setQuota({ limit: 5, windowMs: 60_000 })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await call('POST', `${API_BASE}/users/user${i + 1}@example.com/signOut`)).status)
    expect(statuses).toEqual([204, 204, 204, 204, 204, 403])
    const refused = await get('/users/user1@example.com')
    expect(refused.status).toBe(403)
    expect(refused.headers.get('retry-after')).toBeNull()
    expect(refused.body.error).toMatchObject({ code: 403, errors: [{ reason: 'userRateLimitExceeded', domain: 'usageLimits' }] })
    expect(emu.signedOut).toHaveLength(5) // the refused signOut never reached the directory
    expect(emu.quotaDenials).toBe(2)
    // quotaUser is a separate bucket.
    expect((await get('/users/user1@example.com?quotaUser=worker-2')).status).toBe(200)
    emu.advanceClock(59_000)
    expect((await get('/users/user1@example.com')).status).toBe(403)
    emu.advanceClock(1_000)
    expect((await get('/users/user1@example.com')).status).toBe(200)
    // A token ages with the clock too.
    emu.advanceClock(3600_000)
    expect((await get('/users/user1@example.com')).status).toBe(401)
  })

  it('answers the other documented quota reasons: quotaExceeded 403, rateLimitExceeded 429; Retry-After only on request', async () => {
    emu.setQuota({ limit: 1, windowMs: 10_000, reason: 'quotaExceeded' })
    await get('/users/user1@example.com')
    expect((await get('/users/user1@example.com')).body.error).toMatchObject({ code: 403, errors: [{ reason: 'quotaExceeded' }] })
    emu.setQuota({ limit: 1, windowMs: 10_000, reason: 'rateLimitExceeded', retryAfterSeconds: 2 })
    await get('/users/user1@example.com')
    const r = await get('/users/user1@example.com')
    expect(r.status).toBe(429)
    expect(r.body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED', errors: [{ reason: 'rateLimitExceeded' }] })
    expect(r.headers.get('retry-after')).toBe('2')
    emu.setQuota(false)
    for (let i = 0; i < 3; i++) expect((await get('/users/user1@example.com')).status).toBe(200)
  })

  it('answers injected throttle faults (a 403 storm) Google-shaped', async () => {
    emu.server.queueFaults([{ kind: 'throttle' }, { kind: 'throttle' }], (req) => req.path.endsWith('/signOut'))
    const a = await call('POST', `${API_BASE}/users/user1@example.com/signOut`)
    const b = await call('POST', `${API_BASE}/users/user1@example.com/signOut`)
    const c = await call('POST', `${API_BASE}/users/user1@example.com/signOut`)
    expect([a.status, b.status, c.status]).toEqual([403, 403, 204])
    expect(a.body.error.errors[0].reason).toBe('userRateLimitExceeded')
    expect(a.headers.get('retry-after')).toBeNull()
    emu.server.queueFaults([{ kind: 'status', status: 503 }], () => true)
    expect((await get('/users/user1@example.com')).body.error).toMatchObject({ code: 503, errors: [{ reason: 'backendError' }] })
  })
})

describe('reset and the rest of the surface', () => {
  it('restores the directory, delegation and quota, keeps registered tokens and forgets minted ones', async () => {
    const minted = (await exchange(await assertion())).body.access_token
    await call('POST', `${API_BASE}/users/user3@example.com/signOut`)
    await call('DELETE', `${API_BASE}/users/user3@example.com/tokens/${encodeURIComponent(ZOOM)}`)
    emu.addUser({ primaryEmail: 'newbie@example.com' })
    emu.setDelegation(undefined)
    emu.setQuota({ limit: 1 })
    emu.reset()
    expect(emu.signedOut).toEqual([])
    expect(emu.revokedTokens).toEqual([])
    expect(emu.requests).toEqual([])
    expect((await get('/users/user3@example.com/tokens')).body.items).toHaveLength(1)
    expect((await get('/users/newbie@example.com')).status).toBe(404)
    expect((await get('/users/user3@example.com', minted)).status).toBe(401)
    expect((await exchange(await assertion())).status).toBe(200)
    expect(emu.quota?.limit).toBe(2400)
  })

  it('answers unknown paths and methods with Google front-end 404 pages', async () => {
    for (const [method, path] of [
      ['GET', '/admin/directory/v1/customers'],
      ['PUT', `${API_BASE}/users/user1@example.com`],
      ['GET', '/token'],
      ['POST', `${API_BASE}/users/user1@example.com/tokens`]
    ]) {
      const r = await call(method, path, method === 'POST' ? { body: '' } : {})
      expect([method, path, r.status, r.headers.get('content-type')]).toEqual([method, path, 404, 'text/html; charset=UTF-8'])
    }
  })
})

describe('through the contract proxy (Prism with the vendored discovery slice)', () => {
  let proxy: Proxy
  beforeAll(async () => {
    const started = await proxyStarting
    if (started instanceof Error) throw started
    proxy = started
  }, 30_000)
  beforeEach(() => proxy.reset())

  const via = (method: string, path: string, t?: string | null) => call(method, path, { origin: proxy.origin, token: t })

  it('validates a representative request for every sliced operation with zero violations', async () => {
    const groupToken = emu.registerAccessToken({ scopes: [...DEFAULT_DELEGATED_SCOPES, SCOPES.groupReadonly] })
    const answers = [
      await via('GET', `${API_BASE}/users/user7%40example.com?fields=id,primaryEmail,aliases,suspended`),
      await via(
        'GET',
        `${API_BASE}/users?customer=my_customer&maxResults=500&query=${encodeURIComponent("orgUnitPath='/Leavers'")}&orderBy=email&projection=basic`
      ),
      await via('POST', `${API_BASE}/users/user7%40example.com/signOut`),
      await via('GET', `${API_BASE}/users/user6%40example.com/tokens`),
      await via('DELETE', `${API_BASE}/users/user6%40example.com/tokens/${encodeURIComponent(SLACK)}`),
      await via('GET', `${API_BASE}/groups/leavers%40example.com/members?maxResults=200&includeDerivedMembership=true&roles=MEMBER,OWNER`),
      await via('GET', `${API_BASE}/groups/leavers%40example.com`, groupToken)
    ]
    expect(answers.map((a) => a.status)).toEqual([200, 200, 204, 200, 204, 200, 200])
    await proxy.settle(600)
    expect(proxy.received).toHaveLength(7)
    expect(proxy.requestViolations()).toEqual([])
    expect(proxy.responseViolations()).toEqual([])
    expect(emu.signedOut.map((s) => s.primaryEmail)).toEqual(['user7@example.com'])
  })

  it('flags requests outside the contract (proof the check can fail)', async () => {
    expect((await via('GET', `${API_BASE}/users?customer=my_customer&maxResults=0`)).status).toBe(400)
    await via('GET', `${API_BASE}/users/user7%40example.com`, null)
    await via('PUT', `${API_BASE}/users/user7%40example.com`)
    await proxy.settle(1000)
    const messages = proxy.requestViolations().map((v) => v.message)
    expect(messages).toEqual(
      expect.arrayContaining([expect.stringMatching(/maxresults must be >= 1/i), 'Invalid security scheme used', 'Selected route not found'])
    )
  })
})
