// The bundled action against the Okta emulator with an API service app: private_key_jwt (RSA PEM and EC
// JWK keys), the client assertion the emulator verifies against the registered public key, the minted
// token masked and re-minted once on 401, DPoP and scope refusals; then bad inputs, refused before any
// request.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { generateKeyPairSync } from 'node:crypto'
import { JWT_BEARER, OKTA_API_TOKEN, OKTA_CLIENT_ID, OktaEmulator, makeGroup, makeUsers } from './emulators/okta/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

const users = makeUsers(30)
const sales = makeGroup(1, 'Sales', [users[0].id, users[4].id])
const emu = new OktaEmulator({ users, groups: [sales] })
let org = ''
let keys: NonNullable<OktaEmulator['appKeys']>

beforeAll(async () => {
  org = await emu.start()
  keys = emu.appKeys as NonNullable<OktaEmulator['appKeys']>
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

type Run = Awaited<ReturnType<typeof runAction>>

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'okta', token: OKTA_API_TOKEN, 'base-url': org, 'rate-limit': '60000', ...extra }
}
const appInputs = (extra: Record<string, string>): Record<string, string> => inputs({ 'client-id': OKTA_CLIENT_ID, token: keys.rsa.privatePem, ...extra })
const shown = (r: Run): string[] => [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report ?? null), JSON.stringify(r.outputs)]
const decode = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>
/** The long lines of a PEM body: any of them in a log would leak part of the key. */
const pemLines = (pem: string): string[] => pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))

function tokenForms(): Record<string, string>[] {
  return emu.tokenRequests().map((q) => Object.fromEntries(new URLSearchParams(q.bodyText)))
}

describe('okta service app (private_key_jwt)', () => {
  it('RSA key as PEM: signs an RS256 assertion, mints a Bearer token, masks it at once, shows neither it nor the key', async () => {
    const r = await runAction({ inputs: appInputs({ targets: `${users[0].id}\nuser2@example.com` }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('2')
    const mints = emu.tokenRequests()
    expect(mints).toHaveLength(1)
    expect(mints[0].headers['content-type']).toBe('application/x-www-form-urlencoded')
    const form = tokenForms()[0]
    expect(Object.keys(form).sort()).toEqual(['client_assertion', 'client_assertion_type', 'grant_type', 'scope'])
    expect(form).toMatchObject({ grant_type: 'client_credentials', scope: 'okta.users.manage okta.users.read', client_assertion_type: JWT_BEARER })
    const [h, c, sig] = form.client_assertion.split('.')
    expect(decode(h)).toEqual({ alg: 'RS256', typ: 'JWT' })
    const claims = decode(c)
    expect(claims).toMatchObject({ iss: OKTA_CLIENT_ID, sub: OKTA_CLIENT_ID, aud: `${org}/oauth2/v1/token` })
    expect((claims.exp as number) - (claims.iat as number)).toBe(300)
    expect(typeof claims.jti).toBe('string')
    expect(sig.length).toBeGreaterThan(300) // a 2048-bit RSA signature
    const minted = [...emu.accessTokens.keys()]
    expect(minted).toHaveLength(1)
    for (const q of emu.apiRequests()) expect(q.headers.authorization).toBe(`Bearer ${minted[0]}`)
    expect(emu.revocations.every((x) => x.principal === `app:${OKTA_CLIENT_ID}` && x.oauthTokens)).toBe(true)
    // Masked before the first API call was logged.
    const lines = r.stdout.split('\n')
    const maskAt = lines.indexOf(`::add-mask::${minted[0]}`)
    expect(maskAt).toBeGreaterThanOrEqual(0)
    expect(lines.findIndex((l) => l.includes('plan:'))).toBeGreaterThan(maskAt)
    expect(visibleLog(r.stdout)).toMatch(
      /minted an Okta access token for service app 0oaEmuLatorSvcApp01 \(key [A-Za-z0-9_-]{12}, RS256; scopes okta\.users\.manage okta\.users\.read; masked\)/
    )
    for (const text of shown(r)) {
      expect(text).not.toContain(minted[0])
      expect(text).not.toContain(form.client_assertion)
      for (const line of pemLines(keys.rsa.privatePem)) expect(text).not.toContain(line)
    }
  })

  it('EC key as JWK JSON: ES256 with the JWK kid; a group target adds okta.groups.read; the JWK private members never show', async () => {
    const r = await runAction({ inputs: appInputs({ token: JSON.stringify(keys.ec.privateJwk), targets: `group:${sales.id}\n${users[9].id}` }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('3')
    const form = tokenForms()[0]
    expect(form.scope).toBe('okta.users.manage okta.users.read okta.groups.read')
    const [h, , sig] = form.client_assertion.split('.')
    expect(decode(h)).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'emu-ec-1' })
    expect(Buffer.from(sig, 'base64url')).toHaveLength(64) // JOSE (r||s), not DER
    expect(emu.revokedUserIds().sort()).toEqual([users[0].id, users[4].id, users[9].id].sort())
    const d = keys.ec.privateJwk.d as string
    expect(r.stdout).toContain(`::add-mask::${d}`)
    for (const text of shown(r)) expect(text).not.toContain(d)
  })

  it('a token that expires mid-run is minted again once; the run goes on; both tokens are masked', async () => {
    // 12 API calls (6 lookups, 6 DELETEs): the first token dies after its 8th.
    emu.expireAccessTokensAfterRequests = 8
    const targets = users
      .slice(0, 6)
      .map((x) => x.id)
      .join('\n')
    const r = await runAction({ inputs: appInputs({ targets, concurrency: '1' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('6')
    const minted = [...emu.accessTokens.keys()]
    expect(minted.length).toBe(2)
    expect(emu.tokenRequests()).toHaveLength(2)
    // Two assertions, two jti: Okta refuses a reused one.
    const [a, b] = tokenForms().map((f) => decode(f.client_assertion.split('.')[1]).jti)
    expect(a).not.toBe(b)
    // Only the first token was refused (workers that sent it while the new one was minted wait for that mint).
    const refused = emu.requests.filter((q) => q.status === 401)
    expect(refused.length).toBeGreaterThanOrEqual(1)
    expect(refused.every((q) => q.headers.authorization === `Bearer ${minted[0]}`)).toBe(true)
    expect(visibleLog(r.stdout)).toContain('minting an Okta access token for service app 0oaEmuLatorSvcApp01 again and retrying once')
    for (const t of minted) {
      expect(r.stdout).toContain(`::add-mask::${t}`)
      for (const text of shown(r)) expect(text).not.toContain(t)
    }
  })

  it('an app that requires DPoP: the run fails naming the setting to turn off, and no API call is made', async () => {
    emu.loadApps([{ clientId: '0oaDpopRequiredApp01', publicKeys: [keys.rsa.publicJwk], dpopRequired: true }])
    const r = await runAction({ inputs: appInputs({ 'client-id': '0oaDpopRequiredApp01', targets: users[0].id }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('invalid_dpop_proof')
    expect(r.report.error).toContain('Require Demonstrating Proof of Possession (DPoP) header in token requests')
    expect(emu.apiRequests()).toHaveLength(0)
  })

  it('a key the app does not know: invalid_client with what to check, and no API call', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const r = await runAction({ inputs: appInputs({ token: other, targets: users[0].id }) })
    expect(r.code).not.toBe(0)
    expect(r.report.error).toContain(
      'HTTP 401, code invalid_client: minting an Okta access token for service app 0oaEmuLatorSvcApp01 failed: The client_assertion signature is invalid.'
    )
    expect(r.report.error).toContain('check client-id')
    expect(emu.apiRequests()).toHaveLength(0)
    for (const text of shown(r)) for (const line of pemLines(other)) expect(text).not.toContain(line)
  })

  it('an app not granted okta.groups.read: warned at mint, and the group read (403, no body) stops the run with the scopes to grant', async () => {
    emu.loadApps([{ clientId: '0oaUsersOnlyApp00001', publicKeys: [keys.rsa.publicJwk], scopes: ['okta.users.manage', 'okta.users.read'] }])
    const r = await runAction({ inputs: appInputs({ 'client-id': '0oaUsersOnlyApp00001', targets: `group:${sales.id}` }) })
    expect(r.code).not.toBe(0)
    expect(visibleLog(r.stdout)).toContain('the service app was not granted okta.groups.read')
    expect(r.report.error).toContain('HTTP 403, code forbidden')
    expect(r.report.error).toContain('okta.groups.read')
    expect(emu.sessionRequests()).toHaveLength(0)
  })
})

describe('okta bad inputs: one clear error, nothing sent', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['no base-url', { 'base-url': '', targets: 'a@example.com' }, "Input 'base-url': is required for okta"],
    ['base-url with /api/v1', { 'base-url': 'http://127.0.0.1:1/api/v1', targets: 'a@example.com' }, "Input 'base-url'"],
    ['a bare group id in auto', { targets: '00g1emaKYZTWRYYRRTSK' }, 'is an Okta group id; a group is targeted as group:00g1emaKYZTWRYYRRTSK'],
    ['a login as user-id', { 'target-type': 'user-id', targets: 'a@example.com' }, 'Input \'targets\': "a@example.com" is not a valid user-id'],
    [
      'a private key without client-id',
      { token: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----', targets: 'a@example.com' },
      "Input 'client-id': is empty, but token holds a private key"
    ],
    ['an API token with client-id', { 'client-id': OKTA_CLIENT_ID, targets: 'a@example.com' }, "Input 'token': is not a private key"],
    [
      'a public key with client-id',
      {
        'client-id': OKTA_CLIENT_ID,
        token: '{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}',
        targets: 'a@example.com'
      },
      "Input 'token': is a public JWK"
    ],
    ['SSWS in the token', { token: `SSWS ${OKTA_API_TOKEN}`, targets: 'a@example.com' }, "Input 'token': starts with an authorization scheme"],
    ['revoke-tokens not a boolean', { 'revoke-tokens': 'maybe', targets: 'a@example.com' }, "Input 'revoke-tokens'"],
    ['an unknown filter key', { filter: 'q=alice' }, 'Input \'filter\': unknown key "q" for okta'],
    [
      'auth-base-url',
      { 'auth-base-url': 'https://acme.okta.com', targets: 'a@example.com' },
      "Input 'auth-base-url': is set, but okta has no separate authentication host"
    ]
  ]
  it.each(cases)('%s', async (_name, extra, message) => {
    const r = await runAction({ inputs: inputs(extra) })
    expect(r.code).not.toBe(0)
    expect(r.stdout).toContain(message)
    expect(emu.requests).toHaveLength(0)
    expect(visibleLog(r.stdout)).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC')
  })

  it('a 1024-bit RSA key is refused before any request', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const r = await runAction({ inputs: appInputs({ token: weak, targets: users[0].id }) })
    expect(r.code).not.toBe(0)
    expect(r.stdout).toContain("Input 'token': is a 1024-bit RSA key; the action takes RSA keys of at least 2048 bits")
    expect(emu.requests).toHaveLength(0)
    for (const text of shown(r)) for (const line of pemLines(weak)) expect(text).not.toContain(line)
  })
})
