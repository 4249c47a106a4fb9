// GitHub Actions OIDC token service emulator: what `@actions/core`'s getIDToken(audience) talks to.
//
// Contract (sources):
//  - @actions/core lib/oidc-utils.js (node_modules): GETs ACTIONS_ID_TOKEN_REQUEST_URL with `&audience=<aud>`
//    appended (so the URL already carries a query: GitHub's carries `?api-version=2.0`), with
//    `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` and Accept: application/json; reads `value`
//    from the JSON answer; the http client retries 502/503/504.
//  - docs.github.com "OpenID Connect reference" (OIDC token claims): iss https://token.actions.githubusercontent.com,
//    aud (default: the URL of the repository owner; custom via getIDToken(audience)), sub, JOSE header alg/kid/typ,
//    exp, iat, jti, nbf, plus GitHub's custom claims (repository, ref, environment, job_workflow_ref, ...).
//    JWKS at <issuer>/.well-known/jwks, discovery at <issuer>/.well-known/openid-configuration.
//  - github/actions-oidc-debugger README sample token: nbf = iat - 300, exp = iat + 21600 (6 h).
// Unconfirmed: the exact answer shape beyond `value` (GitHub also sends `count`), and the status and body
// GitHub answers for a bad request token (a 401 here).
import { randomUUID } from 'node:crypto'
import { SignJWT, exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose'
import { EmulatorServer, ProviderEmulator, bearerOf } from '../server.js'

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
export const GITHUB_REQUEST_TOKEN = 'ghs_oidcRequestToken0123456789abcdefABCDEF'
export const DEFAULT_SUBJECT = 'repo:acme/it-automation:environment:offboarding'

/**
 * @typedef {{ subject?: string, repository?: string, environment?: string, ref?: string, issuer?: string,
 *   ttlSeconds?: number, notBeforeSkewSeconds?: number, extraClaims?: Record<string, unknown> }} OidcIdentity
 */

export class GitHubOidcEmulator extends ProviderEmulator {
  /**
   * @param {OidcIdentity & { requestToken?: string }} [opts]
   */
  constructor(opts = {}) {
    super()
    this.origin = ''
    /** Set by start(): what ACTIONS_ID_TOKEN_REQUEST_URL must be (it already carries `?api-version=2.0`). */
    this.requestUrl = ''
    this.requestToken = opts.requestToken ?? GITHUB_REQUEST_TOKEN
    /** The `iss` of minted tokens; the JWKS is served by this emulator whatever the issuer claims. */
    this.issuer = opts.issuer ?? GITHUB_ISSUER
    this.subject = opts.subject ?? DEFAULT_SUBJECT
    this.repository = opts.repository ?? 'acme/it-automation'
    this.environment = opts.environment ?? 'offboarding'
    this.ref = opts.ref ?? 'refs/heads/main'
    this.ttlSeconds = opts.ttlSeconds ?? 21600
    this.notBeforeSkewSeconds = opts.notBeforeSkewSeconds ?? 300
    this.extraClaims = opts.extraClaims ?? {}
    /** Every token handed out: { audience, subject, jti, token } */
    this.issued = []
    this.plan = randomUUID()
    this.job = randomUUID()
    this.server = new EmulatorServer({
      name: 'github-oidc',
      handle: (req) => this.handle(req),
      errorResponse: (status) => ({ status, body: { message: status >= 500 ? 'Internal Server Error' : 'Bad Request' } })
    })
  }

  async start() {
    if (!this.keys) await this.generateKeys()
    this.origin = await this.server.start()
    this.requestUrl = `${this.origin}/_apis/distributedtask/hubs/Actions/plans/${this.plan}/jobs/${this.job}/idtoken?api-version=2.0`
    return this.origin
  }

  async generateKeys() {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
    const jwk = await exportJWK(publicKey)
    const kid = await calculateJwkThumbprint(jwk)
    this.keys = { publicKey, privateKey, kid, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } }
  }

  /** The environment a job with `permissions: id-token: write` gets. */
  actionsEnv() {
    return { ACTIONS_ID_TOKEN_REQUEST_URL: this.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.requestToken }
  }

  /** The published key set ({ keys: [...] }). */
  jwks() {
    return { keys: [this.keys.jwk] }
  }

  /** Requests for an ID token (not the JWKS or discovery ones). */
  tokenRequests() {
    return this.requests.filter((r) => r.path.endsWith('/idtoken'))
  }

  reset() {
    this.server.reset()
    this.issued = []
  }

  /**
   * Signs a GitHub-shaped OIDC token now. Tests use it directly for tokens the service would never hand out
   * (expired, another subject or audience); `overrides` replace claims, `signWith` another private key.
   * @param {{ audience?: string, overrides?: Record<string, unknown>, signWith?: CryptoKey, kid?: string }} [opts]
   */
  async mint({ audience, overrides = {}, signWith, kid } = {}) {
    const now = Math.floor(Date.now() / 1000)
    const [owner] = this.repository.split('/')
    const claims = {
      jti: randomUUID(),
      sub: this.subject,
      aud: audience ?? `https://github.com/${owner}`,
      ref: this.ref,
      sha: '6e1f2c4a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f',
      repository: this.repository,
      repository_owner: owner,
      repository_id: '424242',
      repository_owner_id: '4242',
      run_id: '9876543210',
      run_number: '17',
      run_attempt: '1',
      actor: 'it-admin',
      actor_id: '31337',
      workflow: 'Offboarding',
      event_name: 'workflow_dispatch',
      ref_type: 'branch',
      environment: this.environment,
      job_workflow_ref: `${this.repository}/.github/workflows/offboarding.yml@${this.ref}`,
      iss: this.issuer,
      nbf: now - this.notBeforeSkewSeconds,
      iat: now,
      exp: now + this.ttlSeconds,
      ...this.extraClaims,
      ...overrides
    }
    for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k]
    const header = { alg: 'RS256', typ: 'JWT', kid: kid ?? this.keys.kid, x5t: this.keys.kid.slice(0, 27) }
    return new SignJWT(claims).setProtectedHeader(header).sign(signWith ?? this.keys.privateKey)
  }

  /** @param {import('../server.js').EmulatorRequest} req */
  async handle(req) {
    if (req.path === '/.well-known/jwks') return { status: 200, body: this.jwks() }
    if (req.path === '/.well-known/openid-configuration') {
      return {
        status: 200,
        body: {
          issuer: this.issuer,
          jwks_uri: `${this.origin}/.well-known/jwks`,
          subject_types_supported: ['public', 'pairwise'],
          response_types_supported: ['id_token'],
          claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'repository', 'environment', 'job_workflow_ref'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid']
        }
      }
    }
    if (!req.path.endsWith('/idtoken')) return { status: 404, body: { message: 'Not Found' } }
    if (req.method !== 'GET') return { status: 405, body: { message: 'Method Not Allowed' } }
    if (bearerOf(req) !== this.requestToken) return { status: 401, body: { message: 'Unauthorized: the request token is missing or not valid for this job' } }
    if (req.query.get('api-version') === null) return { status: 400, body: { message: 'api-version is required' } }
    const audiences = req.query.getAll('audience')
    if (audiences.length > 1) return { status: 400, body: { message: 'audience may be given once' } }
    const audience = audiences[0]
    const token = await this.mint({ audience })
    this.issued.push({ audience: audience ?? null, subject: this.subject, token })
    return { status: 200, body: { count: this.issued.length, value: token } }
  }
}
