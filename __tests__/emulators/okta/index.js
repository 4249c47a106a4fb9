// Okta emulator (org URL = the emulator origin), written from Okta's published contract:
//  Sources
//   [S] okta/okta-management-openapi-spec @ fdda229e (release 2026.06.3), dist/2026.06.3/management-minimal.yaml
//       (operationIds listUsers, getUser, revokeUserSessions, getGroup, listGroupUsers) and oauth-minimal.yaml
//       (operationId token); the slices are vendored under __tests__/contracts/okta{,-oauth}/.
//   [C] okta/okta-developer-docs (packages/@okta/vuepress-site/...) @ 468de9c5: data/error-codes.json and
//       data/oauth2-error-codes.json (the error catalogues behind developer.okta.com/docs/reference/error-codes),
//       docs/reference/core-okta-api (errors, Link header paging, filter operators, X-Okta-Request-Id),
//       rl2-token-oauth (50 % per token/app), rl2-monitor (headers, one-minute interval, concurrent-limit headers
//       0/0), rl2-concurrency (75 at once), docs/guides/implement-oauth-for-okta-serviceapp (private_key_jwt
//       claims, exp at most 1 h ahead, token response, 1 h token lifetime), docs/guides/implement-oauth-for-okta
//       (".manage scopes also allow GET"); older revisions of pages since removed: docs/reference/rl-global-mgmt
//       and rl-global-enduser @ ec652bd5 (per-minute buckets), docs/reference/api/users @ b276a96d (404 body
//       "Not found: Resource not found: <id> (User)", list limit maximum 200, clear sessions), api/groups
//       @ 70116b50 (member list default limit 1000).
//   [G] okta/okta-sdk-golang#145: a token requested with an ungranted scope is still minted (with the granted
//       ones); the API then answers 403 with no body and WWW-Authenticate error="insufficient_scope".
//   [P] okta/okta-powershell-cli#86: an Authorization header without the SSWS scheme gets 403 E0000005.
//  Contract implemented
//   - POST /oauth2/v1/token: client_credentials with private_key_jwt only (client_assertion_type jwt-bearer);
//     the assertion is verified with jose against the app's registered public JWKs (RSA or EC, by kid):
//     alg in RS256/384/512, ES256/384/512; iss = sub = client_id; aud = <org>/oauth2/v1/token; exp required,
//     in the future and at most one hour ahead; iat not in the future; a jti is single-use. Answers
//     {token_type:"Bearer", expires_in, access_token, scope}; errors {error, error_description} with the
//     catalogue's statuses and texts (invalid_client 401, invalid_request/invalid_scope/unsupported_grant_type
//     400, invalid_dpop_proof 400 when the app requires DPoP).
//   - Authorization on /api/v1: "SSWS <api token>" or "Bearer <minted access token>". Bad SSWS token or an
//     expired/unknown access token: 401 E0000011 "Invalid token provided" (Bearer adds WWW-Authenticate
//     error="invalid_token"); no header or another scheme: 403 E0000005 "Invalid session" [P]. A token
//     without the operation's scope: 403, empty body, WWW-Authenticate error="insufficient_scope" [G]. A
//     principal whose admin role does not allow the operation: 403 E0000006.
//   - GET /api/v1/users (search / filter / q, limit <= 200, Link rel="self"/rel="next" with an `after` cursor;
//     without search or filter DEPROVISIONED users are left out), GET /api/v1/users/{id|login|shortname},
//     DELETE /api/v1/users/{userId}/sessions?oauthTokens=&forgetDevices= -> 204, GET /api/v1/groups/{id},
//     GET /api/v1/groups/{id}/users (limit default 1000, Link paging).
//   - Errors {errorCode, errorSummary, errorLink (= errorCode), errorId, errorCauses[{errorSummary}]} and an
//     X-Okta-Request-Id header on every answer; 404 E0000007, 400 E0000031 "Invalid search criteria.".
//   - Rate limits: fixed windows (one minute by default, aligned to the clock) per bucket; one principal (API
//     token or service app) may use principalPercent (50 %) of a bucket; X-Rate-Limit-Limit/-Remaining/-Reset
//     (epoch seconds) on every answer; over the limit: 429 E0000047 "API call exceeded rate limit due to too
//     many requests.". Over the concurrency limit: 429 E0000047 with X-Rate-Limit-Limit 0 and -Remaining 0.
//  Unconfirmed (built the stricter or the simplest plausible way; each is marked where it is coded):
//   - which bucket DELETE /users/{id}/sessions counts against (its own bucket here, default 1200/min, the
//     "most other API actions" figure); whether /groups/{id}/users is in the "/api/v1/groups except {id}"
//     bucket (it is here); whether the token endpoint applies the per-app share (it does not here);
//   - whether X-Rate-Limit-Limit/-Remaining report the principal's share or the org bucket (the share here;
//     `rateLimitHeaderScope: 'org'` shows the org bucket instead);
//   - limit above the maximum (clamped here) and malformed limit/after/oauthTokens (400 E0000001 here);
//   - the 400 code for every expression Okta cannot evaluate (E0000031 here), see search.js;
//   - the sessions endpoint accepting a login instead of an id (it does not here: 404);
//   - token request asking only for scopes the app was not granted: 400 consent_required "You are not allowed
//     any of the requested scopes." (the catalogue's no_org_scopes_granted); partly granted: minted with the
//     granted ones [G]; which admin roles may clear whose sessions (see permits()).
//  Not modelled: search eventual consistency, sortBy/sortOrder, fields/expand projections, DPoP proofs
//  (a DPoP-requiring app only shows the error a non-DPoP client gets).
import { createHash, randomBytes } from 'node:crypto'
import { SignJWT, compactVerify, decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, importJWK } from 'jose'
import { EmulatorServer, ProviderEmulator } from '../server.js'
import { SearchSyntaxError, matches, parseExpression } from './search.js'

/** A super-admin API token (`Authorization: SSWS <token>`). */
export const OKTA_API_TOKEN = '00EmuLatorSuperAdminTokenAbCdEfGhIjKlMnOpQ'
/** A read-only-admin API token: reads work, clearing sessions answers 403 E0000006. */
export const OKTA_READONLY_API_TOKEN = '00EmuLatorReadOnlyAdminTokenAbCdEfGhIjKlMn'
/** A help-desk-admin API token: may clear sessions of users who are not admins. */
export const OKTA_HELPDESK_API_TOKEN = '00EmuLatorHelpDeskAdminTokenAbCdEfGhIjKlMn'
/** The default API service app (private_key_jwt), granted okta.users.manage, okta.users.read, okta.groups.read. */
export const OKTA_CLIENT_ID = '0oaEmuLatorSvcApp01'
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
export const TOKEN_PATH = '/oauth2/v1/token'
export const OKTA_SCOPES = ['okta.users.manage', 'okta.users.read', 'okta.groups.read']
/** Per-minute limits of the buckets the action touches (developer.okta.com, Workforce Identity column). */
export const DEFAULT_RATE_LIMITS = Object.freeze({
  users: 600, // GET or POST /api/v1/users
  user: 2000, // GET /api/v1/users/{idOrLogin}
  sessions: 1200, // DELETE /api/v1/users/{id}/sessions — unconfirmed: "most other API actions"
  group: 1000, // /api/v1/groups/{id} only
  groups: 500, // /api/v1/groups except /api/v1/groups/{id} (here: includes /groups/{id}/users, unconfirmed)
  other: 1200, // most other /api/v1 actions
  token: 2000 // /oauth2/v1/token (org authorization server)
})
export const RATE_LIMIT_SUMMARY = 'API call exceeded rate limit due to too many requests.'

const ASSERTION_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512']
const OKTA_SCOPE_RE = /^okta\.[A-Za-z]+(\.[A-Za-z]+)*\.(read|manage)$/
const USER_STATUSES = ['ACTIVE', 'DEPROVISIONED', 'LOCKED_OUT', 'PASSWORD_EXPIRED', 'PROVISIONED', 'RECOVERY', 'STAGED', 'SUSPENDED']
const BASE_PROFILE = new Set(
  'login email secondEmail firstName lastName middleName honorificPrefix honorificSuffix title displayName nickName profileUrl primaryPhone mobilePhone streetAddress city state zipCode countryCode postalAddress preferredLanguage locale timezone userType employeeNumber costCenter organization division department managerId manager'.split(
    ' '
  )
)
const LIST_USERS_MAX = 200
const GROUP_USERS_DEFAULT = 1000
const GROUP_USERS_MAX = 10000 // unconfirmed: no maximum is documented
const CREATED = '2024-01-15T09:00:00.000Z'

/**
 * @typedef {'SUPER_ADMIN' | 'ORG_ADMIN' | 'HELP_DESK_ADMIN' | 'READ_ONLY_ADMIN' | null} AdminRole
 * @typedef {{ login: string, email?: string, firstName?: string | null, lastName?: string | null, [k: string]: unknown }} OktaProfile
 * @typedef {{ id: string, status?: string, profile: OktaProfile, adminRole?: AdminRole, created?: string, lastUpdated?: string,
 *   sessions?: number, oauthTokens?: number }} OktaUserInput
 * @typedef {OktaUserInput & { status: string, sessions: number, oauthTokens: number }} OktaUser
 * @typedef {{ id: string, name: string, description?: string, members: string[], type?: 'OKTA_GROUP' | 'APP_GROUP' | 'BUILT_IN' }} OktaGroup
 * @typedef {{ clientId: string, publicKeys: Record<string, unknown>[], scopes?: string[], role?: AdminRole, dpopRequired?: boolean }} OktaAppInput
 * @typedef {{ kind: 'ssws' | 'app', id: string, role: AdminRole, scopes?: string[] }} Principal
 * @typedef {{ userId: string, oauthTokens: boolean, forgetDevices: boolean, principal: string, at: number }} Revocation
 * @typedef {{ at: number, method: string, path: string, bucket?: string, principal?: string, status: number, reason?: string }} Call
 * @typedef {{ kid: string, alg: string, privatePem: string, privateJwk: Record<string, unknown>, publicJwk: Record<string, unknown> }} KeyPairInfo
 */

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/**
 * An Okta-shaped id (3-character prefix + 17 characters, e.g. 00u… for users, 00g… for groups) whose
 * lexicographic order follows `n`.
 */
export function oktaId(prefix, n) {
  let s = ''
  let x = n
  do {
    s = B62[x % 62] + s
    x = Math.floor(x / 62)
  } while (x > 0)
  return `${prefix}E${s.padStart(16, '0')}`
}

const DEPARTMENTS = ['Sales', 'Engineering', 'Marketing', 'Support']

/**
 * `n` users with ids oktaId('00u', first + i), logins user<k>@<domain>, firstName "User", lastName "<k>",
 * department cycling Sales/Engineering/Marketing/Support; all ACTIVE unless `status(i)` says otherwise.
 * @param {number} n
 * @param {{ domain?: string, first?: number, status?: (i: number) => string, departments?: string[] }} [opts]
 * @returns {OktaUserInput[]}
 */
export function makeUsers(n, { domain = 'example.com', first = 1, status = () => 'ACTIVE', departments = DEPARTMENTS } = {}) {
  const out = new Array(n)
  for (let i = 0; i < n; i++) {
    const k = first + i
    out[i] = {
      id: oktaId('00u', k),
      status: status(i),
      profile: {
        login: `user${k}@${domain}`,
        email: `user${k}@${domain}`,
        firstName: 'User',
        lastName: String(k),
        department: departments[i % departments.length]
      }
    }
  }
  return out
}

/** A group whose id is oktaId('00g', n). @returns {OktaGroup} */
export function makeGroup(n, name, members) {
  return { id: oktaId('00g', n), name, members: [...members] }
}

/** @type {Promise<{ rsa: KeyPairInfo, ec: KeyPairInfo }> | undefined} */
let sharedAppKeys

/**
 * The default service app's key pairs, generated once per process (RSA key generation is slow) and shared
 * by every emulator that is not given its own `apps`.
 */
export function defaultServiceAppKeys() {
  sharedAppKeys ??= makeServiceAppKeys()
  return sharedAppKeys
}

/**
 * Fresh key pairs for a service app: RSA (RS256) and EC P-256 (ES256), each with a kid, as PEM (PKCS#8) and JWK.
 * @returns {Promise<{ rsa: KeyPairInfo, ec: KeyPairInfo }>}
 */
export async function makeServiceAppKeys() {
  const make = async (alg, kid) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg }
    return { kid, alg, privatePem: await exportPKCS8(privateKey), privateJwk, publicJwk }
  }
  const [rsa, ec] = await Promise.all([make('RS256', 'emu-rsa-1'), make('ES256', 'emu-ec-1')])
  return { rsa, ec }
}

function randomId(n) {
  const bytes = randomBytes(n)
  let s = ''
  for (let i = 0; i < n; i++) s += B62[bytes[i] % 62]
  return s
}

/** An Okta API error answer. */
export function oktaError(status, code, summary, causes = [], headers = {}) {
  return {
    status,
    headers,
    body: { errorCode: code, errorSummary: summary, errorLink: code, errorId: `oae${randomId(22)}`, errorCauses: causes.map((c) => ({ errorSummary: c })) }
  }
}

function oauthError(status, error, description, headers = {}) {
  return { status, headers: { 'cache-control': 'no-store', pragma: 'no-cache', ...headers }, body: { error, error_description: description } }
}

const notFoundUser = (key) => oktaError(404, 'E0000007', `Not found: Resource not found: ${key} (User)`)
const invalidSearch = () => oktaError(400, 'E0000031', 'Invalid search criteria.')
const validation = (what) => oktaError(400, 'E0000001', `Api validation failed: ${what}`, [`${what}: The value is not valid.`])
const accessDenied = () => oktaError(403, 'E0000006', 'You do not have permission to perform the requested action')

/** Okta's default answer to an injected status (EmulatorServer faults). */
function injectedError(status) {
  switch (status) {
    case 400:
      return oktaError(400, 'E0000001', 'Api validation failed')
    case 401:
      return oktaError(401, 'E0000011', 'Invalid token provided')
    case 403:
      return accessDenied()
    case 404:
      return oktaError(404, 'E0000007', 'Not found: Resource not found')
    case 429:
      return oktaError(429, 'E0000047', RATE_LIMIT_SUMMARY)
    case 503:
      return oktaError(503, 'E0000010', 'Service is in read only mode')
    default:
      return oktaError(status, 'E0000009', 'Internal Server Error')
  }
}

export class OktaEmulator extends ProviderEmulator {
  // State, (re)built by resetState(); declared here so that tests see the types.
  /** @type {Map<string, OktaUser>} */
  users = new Map()
  /** @type {Map<string, string>} lower-case login -> id */
  loginIndex = new Map()
  /** @type {Set<string>} profile attributes the org's schema has (base + custom ones seen on users) */
  profileAttrs = new Set()
  /** @type {string[] | undefined} */
  sortedIds = undefined
  /** @type {Map<string, OktaGroup>} */
  groups = new Map()
  /** @type {Map<string, AdminRole>} API token -> admin role of the admin who created it */
  apiTokens = new Map()
  /** @type {Map<string, { clientId: string, publicKeys: Record<string, unknown>[], scopes: string[], role: AdminRole, dpopRequired: boolean }>} */
  apps = new Map()
  /** @type {Map<string, { clientId: string, scopes: string[], role: AdminRole, expiresAt: number, uses: number }>} minted access tokens */
  accessTokens = new Map()
  /** @type {number | undefined} minted access tokens stop working (401) after serving this many API requests */
  expireAccessTokensAfterRequests = undefined
  /** @type {Map<string, number>} used client-assertion jti -> its exp */
  usedJtis = new Map()
  tokenTtlSeconds = 3600
  /** @type {Record<string, number>} per-window limits by bucket */
  rateLimits = { ...DEFAULT_RATE_LIMITS }
  rateLimitWindowMs = 60_000
  principalPercent = 50
  /** @type {'principal' | 'org'} */
  rateLimitHeaderScope = 'principal'
  concurrencyLimit = 75
  processingMs = 0
  active = 0
  peakActive = 0
  emptyLastPage = false
  /** @type {Map<string, { start: number, org: number, by: Map<string, number> }>} */
  windows = new Map()
  /** @type {Revocation[]} every accepted DELETE /users/{id}/sessions, in order */
  revocations = []
  /** @type {Call[]} every answer the emulator itself gave (not injected faults), in order */
  calls = []
  /** @type {CryptoKey | undefined} signs minted access tokens */
  signingKey = undefined
  /** @type {OktaAppInput[] | undefined} */
  defaultApps = undefined

  /**
   * @param {{ users?: OktaUserInput[], groups?: OktaGroup[], apiTokens?: Record<string, AdminRole>, apps?: OktaAppInput[],
   *   tokenTtlSeconds?: number, rateLimits?: Partial<Record<keyof typeof DEFAULT_RATE_LIMITS, number>>, rateLimitWindowMs?: number,
   *   principalPercent?: number, rateLimitHeaderScope?: 'principal' | 'org', concurrencyLimit?: number, processingMs?: number, emptyLastPage?: boolean }} [opts]
   */
  constructor(opts = {}) {
    super()
    this.opts = opts
    /** @type {string} set by start() */
    this.origin = ''
    /** @type {string | undefined} the org URL clients see (e.g. a contract proxy in front); defaults to origin */
    this.publicOrgUrl = undefined
    /** @type {{ rsa: KeyPairInfo, ec: KeyPairInfo } | undefined} keys of the default service app (shared per process), set by start() */
    this.appKeys = undefined
    this.server = new EmulatorServer({
      name: 'okta',
      handle: (req) => this.handle(req),
      errorResponse: (status, req) => this.decorate(injectedError(status), req, { reason: 'injected' }),
      throttleResponse: ({ retryAfterSeconds }, req) => {
        const reset = Math.ceil(Date.now() / 1000) + retryAfterSeconds
        const limit = String(this.rateLimits[this.bucketOf(req.method, req.path) ?? 'other'] ?? 0)
        const answer = oktaError(429, 'E0000047', RATE_LIMIT_SUMMARY)
        return this.decorate(answer, req, {
          reason: 'injected',
          headers: { 'x-rate-limit-limit': limit, 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) }
        })
      }
    })
    this.resetState()
  }

  /** The org URL: what the action's base-url is, and the audience of client assertions. */
  get orgUrl() {
    return this.publicOrgUrl ?? this.origin
  }

  /**
   * Stand behind `url` (e.g. a Prism proxy): Link headers and the expected assertion audience use it.
   * @param {string | undefined} url undefined: back to the emulator's own origin
   */
  setOrgUrl(url) {
    this.publicOrgUrl = url?.replace(/\/+$/, '')
  }

  /** @returns {Promise<string>} the org URL (no /api/v1) */
  async start() {
    this.origin = await this.server.start()
    this.signingKey = (await generateKeyPair('ES256')).privateKey
    if (!this.opts.apps) {
      this.appKeys = await defaultServiceAppKeys()
      this.defaultApps = [
        { clientId: OKTA_CLIENT_ID, publicKeys: [this.appKeys.rsa.publicJwk, this.appKeys.ec.publicJwk], scopes: [...OKTA_SCOPES], role: 'SUPER_ADMIN' }
      ]
      this.loadApps(this.defaultApps)
    }
    return this.orgUrl
  }

  /** Restores users, groups, apps, tokens, limits and every record to what the constructor set up. */
  reset() {
    this.server.reset()
    this.resetState()
    if (this.defaultApps) this.loadApps(this.defaultApps)
  }

  resetState() {
    const o = this.opts
    this.users = new Map()
    this.loginIndex = new Map()
    this.profileAttrs = new Set(BASE_PROFILE)
    this.sortedIds = undefined
    for (const u of o.users ?? makeUsers(12)) this.addUser(u)
    this.groups = new Map((o.groups ?? []).map((g) => [g.id, { type: 'OKTA_GROUP', ...g, members: [...new Set(g.members)].sort() }]))
    this.apiTokens = new Map(
      Object.entries(
        o.apiTokens ?? { [OKTA_API_TOKEN]: 'SUPER_ADMIN', [OKTA_READONLY_API_TOKEN]: 'READ_ONLY_ADMIN', [OKTA_HELPDESK_API_TOKEN]: 'HELP_DESK_ADMIN' }
      )
    )
    this.apps = new Map()
    if (o.apps) this.loadApps(o.apps)
    this.accessTokens = new Map()
    /** Minted access tokens stop working (401) after serving this many API requests; undefined: only by time. */
    this.expireAccessTokensAfterRequests = undefined
    this.usedJtis = new Map()
    this.tokenTtlSeconds = o.tokenTtlSeconds ?? 3600
    this.rateLimits = { ...DEFAULT_RATE_LIMITS, ...(o.rateLimits ?? {}) }
    this.rateLimitWindowMs = o.rateLimitWindowMs ?? 60_000
    this.principalPercent = o.principalPercent ?? 50
    this.rateLimitHeaderScope = o.rateLimitHeaderScope ?? 'principal'
    this.concurrencyLimit = o.concurrencyLimit ?? 75
    /** How long each /api/v1 request takes inside "Okta", holding a concurrency slot. */
    this.processingMs = o.processingMs ?? 0
    /** /api/v1 requests being processed now, and the most at once. */
    this.active = 0
    this.peakActive = 0
    /** Answer a `next` link whenever a page is full, even if the next page is empty. */
    this.emptyLastPage = o.emptyLastPage ?? false
    /** bucket -> { start, org, by: Map<principal, count> } */
    this.windows = new Map()
    this.revocations = []
    this.calls = []
  }

  /** @param {OktaAppInput[]} apps */
  loadApps(apps) {
    for (const a of apps) {
      this.apps.set(a.clientId, {
        clientId: a.clientId,
        publicKeys: a.publicKeys,
        scopes: a.scopes ?? [...OKTA_SCOPES],
        role: a.role === undefined ? 'SUPER_ADMIN' : a.role,
        dpopRequired: a.dpopRequired ?? false
      })
    }
  }

  // ---------------------------------------------------------------- state hooks for tests

  /** Adds (or replaces) a user. @param {OktaUserInput} u */
  addUser(u) {
    const old = this.users.get(u.id)
    if (old) this.loginIndex.delete(old.profile.login.toLowerCase())
    const user = { status: 'ACTIVE', sessions: 2, oauthTokens: 1, ...u, profile: { ...u.profile } }
    if (!USER_STATUSES.includes(user.status)) throw new Error(`unknown status ${user.status}`)
    this.users.set(user.id, user)
    this.loginIndex.set(user.profile.login.toLowerCase(), user.id)
    for (const k of Object.keys(user.profile)) this.profileAttrs.add(k)
    if (!old) this.sortedIds = undefined
    return user
  }

  /**
   * Changes a user's status, profile fields or admin role.
   * @param {string} id
   * @param {{ status?: string, profile?: Record<string, unknown>, adminRole?: AdminRole }} [change]
   */
  updateUser(id, { status, profile, adminRole } = {}) {
    const u = this.users.get(id)
    if (!u) throw new Error(`no user ${id}`)
    this.addUser({
      ...u,
      ...(status ? { status } : {}),
      ...(adminRole !== undefined ? { adminRole } : {}),
      profile: { ...u.profile, ...(profile ?? {}) },
      lastUpdated: new Date().toISOString()
    })
  }

  /** @param {string} id */
  removeUser(id) {
    const u = this.users.get(id)
    if (!u) return
    this.users.delete(id)
    this.loginIndex.delete(u.profile.login.toLowerCase())
    for (const g of this.groups.values()) g.members = g.members.filter((m) => m !== id)
    this.sortedIds = undefined
  }

  /** @param {OktaGroup} g */
  addGroup(g) {
    this.groups.set(g.id, { type: 'OKTA_GROUP', ...g, members: [...new Set(g.members)].sort() })
  }

  /** @param {string} groupId @param {string} userId */
  addToGroup(groupId, userId) {
    const g = this.groups.get(groupId)
    if (!g) throw new Error(`no group ${groupId}`)
    if (!g.members.includes(userId)) g.members = [...g.members, userId].sort()
  }

  /** @param {string} groupId @param {string} userId */
  removeFromGroup(groupId, userId) {
    const g = this.groups.get(groupId)
    if (g) g.members = g.members.filter((m) => m !== userId)
  }

  /** Every minted access token stops working now (as if it expired). */
  expireAccessTokens() {
    for (const t of this.accessTokens.values()) t.expiresAt = 0
  }

  /**
   * Other clients use `n` requests of `bucket` in the current window (org-wide).
   * @param {keyof typeof DEFAULT_RATE_LIMITS} bucket
   * @param {number} n
   */
  useBucket(bucket, n) {
    const w = this.window(bucket)
    w.org += n
  }

  /**
   * A bucket's current window, for a principal ('ssws:<first 12 characters of the token>' / 'app:<clientId>') or the org.
   * @param {keyof typeof DEFAULT_RATE_LIMITS} bucket
   * @param {string} [principal]
   */
  rateLimitState(bucket, principal) {
    const w = this.window(bucket)
    const limit = this.rateLimits[bucket]
    const ceiling = principal ? this.ceiling(limit) : limit
    const used = principal ? (w.by.get(principal) ?? 0) : w.org
    return { limit, ceiling, orgUsed: w.org, used, resetAt: w.start + this.rateLimitWindowMs }
  }

  // ---------------------------------------------------------------- what tests read

  /** Requests to DELETE /api/v1/users/{id}/sessions (as received, whatever the answer). */
  sessionRequests() {
    return this.requests.filter((r) => r.method === 'DELETE' && /^\/api\/v1\/users\/[^/]+\/sessions$/.test(r.path))
  }

  tokenRequests() {
    return this.requests.filter((r) => r.path === TOKEN_PATH)
  }

  apiRequests() {
    return this.requests.filter((r) => r.path.startsWith('/api/v1/'))
  }

  /** Ids of users whose sessions were cleared, in order (repeats kept). */
  revokedUserIds() {
    return this.revocations.map((r) => r.userId)
  }

  /** Answers with status 429, including injected throttles (server.requests). */
  tooManyRequests() {
    return this.requests.filter((r) => r.status === 429)
  }

  /**
   * The emulator's own 429s (not injected ones), by cause.
   * @param {'rate-limit' | 'concurrency'} [reason]
   */
  rateLimited(reason) {
    return this.calls.filter((c) => c.status === 429 && (reason === undefined || c.reason === reason))
  }

  // ---------------------------------------------------------------- rate limiting

  ceiling(limit) {
    return Math.max(1, Math.floor((limit * this.principalPercent) / 100))
  }

  window(bucket) {
    const start = Math.floor(Date.now() / this.rateLimitWindowMs) * this.rateLimitWindowMs
    let w = this.windows.get(bucket)
    if (!w || w.start !== start) {
      w = { start, org: 0, by: new Map() }
      this.windows.set(bucket, w)
    }
    return w
  }

  /**
   * Counts one request against `bucket` (fixed window) if the org and the principal have room.
   * @returns {{ allowed: boolean, headers: Record<string, string> }}
   */
  consume(bucket, principal) {
    const w = this.window(bucket)
    const limit = this.rateLimits[bucket]
    const ceiling = principal ? this.ceiling(limit) : limit
    const used = principal ? (w.by.get(principal) ?? 0) : w.org
    const allowed = w.org < limit && used < ceiling
    if (allowed) {
      w.org++
      if (principal) w.by.set(principal, used + 1)
    }
    const usedNow = principal ? (w.by.get(principal) ?? 0) : w.org
    const orgScope = this.rateLimitHeaderScope === 'org' || !principal
    const shownLimit = orgScope ? limit : ceiling
    const remaining = orgScope ? limit - w.org : Math.min(ceiling - usedNow, limit - w.org)
    return {
      allowed,
      headers: {
        'x-rate-limit-limit': String(shownLimit),
        'x-rate-limit-remaining': String(Math.max(0, remaining)),
        'x-rate-limit-reset': String(Math.ceil((w.start + this.rateLimitWindowMs) / 1000))
      }
    }
  }

  /** The bucket a request counts against, or undefined outside /api/v1 and the token endpoint. */
  bucketOf(method, path) {
    if (path === TOKEN_PATH) return 'token'
    if (!path.startsWith('/api/v1/')) return undefined
    if (path === '/api/v1/users') return method === 'GET' || method === 'POST' ? 'users' : 'other'
    if (/^\/api\/v1\/users\/[^/]+$/.test(path)) return method === 'GET' ? 'user' : 'other'
    if (/^\/api\/v1\/users\/[^/]+\/sessions$/.test(path)) return 'sessions'
    if (/^\/api\/v1\/groups\/[^/]+$/.test(path)) return 'group'
    if (path === '/api/v1/groups' || path.startsWith('/api/v1/groups/')) return 'groups'
    return 'other'
  }

  // ---------------------------------------------------------------- request handling

  /** Adds X-Okta-Request-Id (and extra headers) and records the call. */
  decorate(answer, req, { bucket, principal, reason, headers = {} } = {}) {
    answer.headers = { 'x-okta-request-id': `req${randomId(22)}`, ...headers, ...(answer.headers ?? {}) }
    if (reason !== 'injected') this.calls.push({ at: Date.now(), method: req.method, path: req.path, bucket, principal, status: answer.status, reason })
    return answer
  }

  /** @param {import('../server.js').EmulatorRequest} req */
  async handle(req) {
    /** @type {{ bucket?: string, principal?: string, reason?: string, headers?: Record<string, string> }} */
    const ctx = {}
    const answer = await this.route(req, ctx)
    return this.decorate(answer, req, ctx)
  }

  async route(req, ctx) {
    if (req.path === TOKEN_PATH) return this.tokenEndpoint(req, ctx)
    if (!req.path.startsWith('/api/v1/')) return oktaError(404, 'E0000008', 'The requested path was not found')

    // Concurrency first: requests still being processed hold a slot (processingMs long).
    if (this.active >= this.concurrencyLimit) {
      ctx.reason = 'concurrency'
      ctx.headers = { 'x-rate-limit-limit': '0', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + 1) }
      return oktaError(429, 'E0000047', RATE_LIMIT_SUMMARY)
    }
    this.active++
    this.peakActive = Math.max(this.peakActive, this.active)
    try {
      const answer = await this.apiRoute(req, ctx)
      if (this.processingMs > 0) await new Promise((resolve) => setTimeout(resolve, this.processingMs))
      return answer
    } finally {
      this.active--
    }
  }

  async apiRoute(req, ctx) {
    const op = matchOperation(req.method, req.path)
    const bucket = this.bucketOf(req.method, req.path) ?? 'other'
    ctx.bucket = bucket
    if (op.error) {
      ctx.headers = this.consume(bucket, undefined).headers
      return op.error
    }

    const auth = this.authenticate(req)
    if (auth.error) {
      ctx.headers = this.consume(bucket, undefined).headers
      return auth.error
    }
    const principal = auth.principal
    const key = `${principal.kind}:${principal.id}`
    ctx.principal = key
    const rate = this.consume(bucket, key)
    ctx.headers = rate.headers
    if (!rate.allowed) {
      ctx.reason = 'rate-limit'
      return oktaError(429, 'E0000047', RATE_LIMIT_SUMMARY)
    }

    if (principal.scopes && !op.scopes.some((s) => principal.scopes.includes(s))) {
      const org = this.orgUrl
      return {
        status: 403,
        headers: {
          'www-authenticate': `Bearer authorization_uri="${org}/oauth2/v1/authorize", realm="${org}", scope="${op.scopes[0]}", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="${req.path}"`
        }
      }
    }
    switch (op.name) {
      case 'listUsers':
        return this.allowed(principal, 'read') ?? this.listUsers(req)
      case 'getUser':
        return this.allowed(principal, 'read') ?? this.getUser(op.params.id)
      case 'revokeUserSessions':
        return this.revokeUserSessions(req, op.params.userId, principal, key)
      case 'getGroup':
        return this.allowed(principal, 'read') ?? this.getGroup(op.params.groupId)
      case 'listGroupUsers':
        return this.allowed(principal, 'read') ?? this.listGroupUsers(req, op.params.groupId)
    }
    return oktaError(404, 'E0000008', 'The requested path was not found')
  }

  /** @returns {{ principal: Principal, error?: undefined } | { error: import('../server.js').EmulatorResponse, principal?: undefined }} */
  authenticate(req) {
    const header = req.headers.authorization
    if (typeof header !== 'string' || header === '') return { error: oktaError(403, 'E0000005', 'Invalid session') }
    const ssws = /^SSWS (\S+)$/.exec(header)
    if (ssws) {
      const role = this.apiTokens.get(ssws[1])
      if (role === undefined) return { error: oktaError(401, 'E0000011', 'Invalid token provided') }
      return { principal: { kind: 'ssws', id: ssws[1].slice(0, 12), role } }
    }
    const bearer = /^Bearer (\S+)$/i.exec(header)
    if (bearer) {
      const t = this.accessTokens.get(bearer[1])
      const now = Date.now()
      if (!t || now >= t.expiresAt) {
        const org = this.orgUrl
        const description = t ? 'The token has expired.' : 'The access token is invalid.'
        return {
          error: oktaError(401, 'E0000011', 'Invalid token provided', [], {
            'www-authenticate': `Bearer authorization_uri="${org}/oauth2/v1/authorize", realm="${org}", error="invalid_token", error_description="${description}", resource="${req.path}"`
          })
        }
      }
      t.uses++
      if (this.expireAccessTokensAfterRequests !== undefined && t.uses >= this.expireAccessTokensAfterRequests) t.expiresAt = 0
      return { principal: { kind: 'app', id: t.clientId, role: t.role, scopes: t.scopes } }
    }
    return { error: oktaError(403, 'E0000005', 'Invalid session') }
  }

  /**
   * Unconfirmed role model: super and org admins may read and clear sessions (an org admin not of a super
   * admin); help desk admins may read and clear sessions of users who hold no admin role; read-only admins
   * may only read; a principal with no admin role may do nothing.
   * @returns {import('../server.js').EmulatorResponse | undefined} the 403 answer, or undefined when allowed
   */
  allowed(principal, action, target) {
    const role = principal.role
    if (role === null || role === undefined) return accessDenied()
    if (action === 'read') return undefined
    if (role === 'READ_ONLY_ADMIN') return accessDenied()
    if (role === 'HELP_DESK_ADMIN' && target?.adminRole) return accessDenied()
    if (role === 'ORG_ADMIN' && target?.adminRole === 'SUPER_ADMIN') return accessDenied()
    return undefined
  }

  // ---------------------------------------------------------------- users and groups

  /** User ids in id order (the order of lists and the `after` cursor). */
  orderedIds() {
    this.sortedIds ??= [...this.users.keys()].sort()
    return this.sortedIds
  }

  /** @param {OktaUser} u */
  userView(u) {
    const org = this.orgUrl
    return {
      id: u.id,
      status: u.status,
      created: u.created ?? CREATED,
      activated: u.status === 'STAGED' ? null : (u.created ?? CREATED),
      statusChanged: u.lastUpdated ?? CREATED,
      lastLogin: null,
      lastUpdated: u.lastUpdated ?? CREATED,
      passwordChanged: null,
      type: { id: 'otyEmuLatorDefault01' },
      profile: u.profile,
      credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
      _links: { self: { href: `${org}/api/v1/users/${u.id}` } }
    }
  }

  findUser(key) {
    const byId = this.users.get(key)
    if (byId) return byId
    const lower = key.toLowerCase()
    const byLogin = this.loginIndex.get(lower)
    if (byLogin) return this.users.get(byLogin)
    if (!lower.includes('@')) {
      // login shortname, only when unambiguous
      const hits = []
      for (const [login, id] of this.loginIndex) if (login.split('@')[0] === lower) hits.push(id)
      if (hits.length === 1) return this.users.get(hits[0])
    }
    return undefined
  }

  getUser(key) {
    const u = this.findUser(key)
    return u ? { status: 200, headers: { etag: `W/"${u.lastUpdated ?? CREATED}"` }, body: this.userView(u) } : notFoundUser(key)
  }

  getGroup(id) {
    const g = this.groups.get(id)
    if (!g) return oktaError(404, 'E0000007', `Not found: Resource not found: ${id} (UserGroup)`)
    const org = this.orgUrl
    return {
      status: 200,
      body: {
        id: g.id,
        created: CREATED,
        lastUpdated: CREATED,
        lastMembershipUpdated: CREATED,
        objectClass: ['okta:user_group'],
        type: g.type,
        profile: { name: g.name, ...(g.description === undefined ? {} : { description: g.description }) },
        _links: {
          logo: [{ name: 'medium', href: `${org}/img/logos/groups/okta-medium.png`, type: 'image/png' }],
          users: { href: `${org}/api/v1/groups/${g.id}/users` },
          apps: { href: `${org}/api/v1/groups/${g.id}/apps` }
        }
      }
    }
  }

  /** limit from the query: default, clamp to max (unconfirmed), 400 when malformed (unconfirmed). */
  parseLimit(query, dflt, max) {
    const raw = query.get('limit')
    if (raw === null || raw === '') return { limit: dflt }
    if (!/^\d+$/.test(raw) || Number(raw) < 1) return { error: validation('limit') }
    return { limit: Math.min(Number(raw), max) }
  }

  /** Link headers: self (the request as sent) and next (same query, new after). */
  links(path, query, nextAfter, limit) {
    const self = `<${this.orgUrl}${path}${query.toString() ? `?${query}` : ''}>; rel="self"`
    if (nextAfter === undefined) return [self]
    const q = new URLSearchParams(query)
    q.delete('after')
    q.set('limit', String(limit))
    q.set('after', nextAfter)
    return [self, `<${this.orgUrl}${path}?${q}>; rel="next"`]
  }

  listUsers(req) {
    const query = req.query
    const search = query.get('search')
    const filter = query.get('filter')
    const q = query.get('q')
    const { limit, error } = this.parseLimit(query, search === null && filter === null && q !== null ? 10 : LIST_USERS_MAX, LIST_USERS_MAX)
    if (error) return error
    /** @type {(u: OktaUser) => boolean} */
    let keep = (u) => u.status !== 'DEPROVISIONED'
    let cursorKind = 'plain'
    // Unconfirmed: search wins over filter, filter over q, when several are sent.
    const exprText = search ?? filter
    if (exprText !== null) {
      const mode = search !== null ? 'search' : 'filter'
      let expr
      try {
        expr = parseExpression(exprText, mode, (attr) => this.profileAttrs.has(attr))
      } catch (e) {
        if (e instanceof SearchSyntaxError) return invalidSearch()
        throw e
      }
      keep = (u) => matches(expr, this.userView(u), mode)
      cursorKind = `${mode}:${createHash('sha256').update(exprText).digest('base64url').slice(0, 8)}`
    } else if (q !== null) {
      const needle = q.toLowerCase()
      keep = (u) =>
        u.status !== 'DEPROVISIONED' &&
        [u.profile.firstName, u.profile.lastName, u.profile.email].some((v) => typeof v === 'string' && v.toLowerCase().startsWith(needle))
      // q does not page: first `limit` matches only, no next link
      const page = []
      for (const id of this.orderedIds()) {
        const u = /** @type {OktaUser} */ (this.users.get(id))
        if (keep(u)) page.push(this.userView(u))
        if (page.length >= limit) break
      }
      return { status: 200, headers: { link: this.links(req.path, query) }, body: page }
    }
    let after
    const afterRaw = query.get('after')
    if (afterRaw !== null && afterRaw !== '') {
      after = cursorKind === 'plain' ? afterRaw : decodeCursor(afterRaw, cursorKind)
      if (after === undefined) return validation('after')
    }
    return this.page(req, this.orderedIds(), keep, after, limit, cursorKind)
  }

  listGroupUsers(req, groupId) {
    const g = this.groups.get(groupId)
    if (!g) return oktaError(404, 'E0000007', `Not found: Resource not found: ${groupId} (UserGroup)`)
    const { limit, error } = this.parseLimit(req.query, GROUP_USERS_DEFAULT, GROUP_USERS_MAX)
    if (error) return error
    const after = req.query.get('after') || undefined
    return this.page(req, g.members, (u) => u !== undefined, after, limit, 'plain')
  }

  /** One page of `ids` (sorted) after the cursor id, keeping users `keep` accepts. */
  page(req, ids, keep, after, limit, cursorKind) {
    let start = 0
    if (after !== undefined) {
      let lo = 0
      let hi = ids.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (ids[mid] <= after) lo = mid + 1
        else hi = mid
      }
      start = lo
    }
    const page = []
    let more = false
    for (let i = start; i < ids.length; i++) {
      const u = this.users.get(ids[i])
      if (!u || !keep(u)) continue
      if (page.length === limit) {
        more = true
        break
      }
      page.push(u)
    }
    const full = page.length === limit
    const last = page.at(-1)
    const nextAfter = (more || (this.emptyLastPage && full)) && last ? (cursorKind === 'plain' ? last.id : encodeCursor(last.id, cursorKind)) : undefined
    return { status: 200, headers: { link: this.links(req.path, req.query, nextAfter, limit) }, body: page.map((u) => this.userView(u)) }
  }

  revokeUserSessions(req, userId, principal, key) {
    const user = this.users.get(userId) // unconfirmed: only an id here (the spec's pathUserId), no login
    if (!user) return this.allowed(principal, 'manage') ?? notFoundUser(userId)
    const denied = this.allowed(principal, 'manage', user)
    if (denied) return denied
    const oauthTokens = parseBool(req.query.get('oauthTokens'), false)
    const forgetDevices = parseBool(req.query.get('forgetDevices'), true)
    if (oauthTokens === undefined) return validation('oauthTokens')
    if (forgetDevices === undefined) return validation('forgetDevices')
    user.sessions = 0
    if (oauthTokens) user.oauthTokens = 0
    this.revocations.push({ userId, oauthTokens, forgetDevices, principal: key, at: Date.now() })
    return { status: 204 }
  }

  // ---------------------------------------------------------------- token endpoint

  async tokenEndpoint(req, ctx) {
    ctx.bucket = 'token'
    const rate = this.consume('token', undefined) // unconfirmed: org-wide only, no per-app share
    ctx.headers = rate.headers
    if (!rate.allowed) {
      ctx.reason = 'rate-limit'
      return oktaError(429, 'E0000047', RATE_LIMIT_SUMMARY)
    }
    if (req.method !== 'POST') return oktaError(405, 'E0000022', 'The endpoint does not support the provided HTTP method')
    if (req.query.has('client_assertion') || req.query.has('client_secret') || req.query.has('client_id')) {
      return oauthError(400, 'invalid_request', 'Client credentials cannot be supplied via query parameters.')
    }
    const ct = String(req.headers['content-type'] ?? '')
    if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) return oauthError(400, 'invalid_request', 'Invalid request')
    const form = new URLSearchParams(req.bodyText)
    const dup = [...new Set(form.keys())].find((k) => form.getAll(k).length > 1)
    if (dup) return oauthError(400, 'invalid_request', 'The request contained multiple parameters with the same name.')
    const grant = form.get('grant_type')
    if (!grant) return oauthError(400, 'invalid_request', "The token request must specify a 'grant_type'. Valid values: [client_credentials]")
    if (grant !== 'client_credentials') {
      return oauthError(
        400,
        'unsupported_grant_type',
        'The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].'
      )
    }
    const assertion = form.get('client_assertion')
    const basic = /^Basic /i.test(String(req.headers.authorization ?? ''))
    if (assertion && (basic || form.has('client_secret'))) {
      return oauthError(
        401,
        'invalid_request',
        'Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.'
      )
    }
    if (!assertion) {
      if (basic || form.has('client_secret')) {
        return oauthError(
          401,
          'invalid_client',
          'Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.'
        )
      }
      return oauthError(401, 'invalid_client', 'No client credentials found.')
    }
    if (form.get('client_assertion_type') !== JWT_BEARER) return oauthError(400, 'invalid_request', 'The client_assertion_type is invalid.')

    const app = await this.verifyAssertion(assertion, form.get('client_id'))
    if (app.error) return app.error
    const client = app.client
    ctx.principal = `app:${client.clientId}`

    if (client.dpopRequired) {
      const dpop = req.headers.dpop
      return dpop === undefined
        ? oauthError(400, 'invalid_dpop_proof', 'The DPoP proof JWT header is missing.')
        : oauthError(400, 'invalid_dpop_proof', 'The DPoP proof JWT is invalid.')
    }
    const requested = (form.get('scope') ?? '').split(' ').filter((s) => s !== '')
    if (requested.length === 0) return oauthError(400, 'invalid_scope', 'No scopes were requested.')
    if (requested.some((s) => !OKTA_SCOPE_RE.test(s))) {
      return oauthError(400, 'invalid_scope', 'The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.')
    }
    const granted = [...new Set(requested.filter((s) => client.scopes.includes(s)))]
    if (granted.length === 0) return oauthError(400, 'consent_required', 'You are not allowed any of the requested scopes.')

    const nowS = Math.floor(Date.now() / 1000)
    const accessToken = await new SignJWT({ ver: 1, cid: client.clientId, scp: granted })
      .setProtectedHeader({ alg: 'ES256', kid: 'emu-org-as' })
      .setIssuer(this.orgUrl)
      .setAudience(this.orgUrl)
      .setSubject(client.clientId)
      .setJti(`AT.${randomId(32)}`)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + this.tokenTtlSeconds)
      .sign(/** @type {CryptoKey} */ (this.signingKey))
    this.accessTokens.set(accessToken, {
      clientId: client.clientId,
      scopes: granted,
      role: client.role,
      expiresAt: Date.now() + this.tokenTtlSeconds * 1000,
      uses: 0
    })
    return {
      status: 200,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
      body: { token_type: 'Bearer', expires_in: this.tokenTtlSeconds, access_token: accessToken, scope: granted.join(' ') }
    }
  }

  /** Verifies a private_key_jwt client assertion the way the org authorization server does. */
  async verifyAssertion(assertion, clientIdParam) {
    const fail = (description) => ({ error: oauthError(401, 'invalid_client', description) })
    let header
    let claims
    try {
      header = decodeProtectedHeader(assertion)
      claims = decodeJwt(assertion)
    } catch {
      return fail('The parsing of the client_assertion failed.')
    }
    if (typeof header.alg !== 'string' || !ASSERTION_ALGS.includes(header.alg)) return fail('The client_assertion JWT signature algorithm is invalid.')
    const client = typeof claims.iss === 'string' ? this.apps.get(claims.iss) : undefined
    if (!client) return fail('The issuer claim for client_assertion is not a valid client_id.')
    if (claims.sub !== claims.iss) return fail('The subject claim for client_assertion is not a valid client_id.')
    if (clientIdParam !== null && clientIdParam !== client.clientId) return fail("Invalid value for 'client_id' parameter.")
    const candidates = header.kid === undefined ? client.publicKeys : client.publicKeys.filter((k) => k.kid === header.kid)
    if (candidates.length === 0) return fail('The client_assertion JWT kid is invalid.')
    let verified = false
    for (const jwk of candidates) {
      try {
        const key = await importJWK(/** @type {import('jose').JWK} */ (jwk), header.alg)
        await compactVerify(assertion, key)
        verified = true
        break
      } catch {
        // wrong key type for the alg, or a bad signature: try the next key
      }
    }
    if (!verified) return fail('The client_assertion signature is invalid.')
    const audience = `${this.orgUrl}${TOKEN_PATH}`
    const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!auds.includes(audience)) return fail('The audience claim for client_assertion must be the endpoint invoked for the request.')
    const now = Date.now() / 1000
    if (typeof claims.exp !== 'number') return fail("The client_assertion must contain the 'exp' claim as seconds since epoch.")
    if (claims.exp <= now) return fail('The client_assertion token is expired.')
    if (claims.exp > now + 3600) return fail('The client_assertion token has an expiration too far into the future.')
    if (typeof claims.iat === 'number' && claims.iat > now) return fail('The client_assertion token must be issued before the current time.')
    if (typeof claims.jti === 'string') {
      for (const [jti, until] of this.usedJtis) if (until < now) this.usedJtis.delete(jti)
      const seen = `${client.clientId}/${claims.jti}`
      if (this.usedJtis.has(seen)) return fail('The client_assertion token has already been used.')
      this.usedJtis.set(seen, claims.exp)
    }
    return { client }
  }
}

/** Matches an /api/v1 request to a sliced operation, or answers 404/405 as Okta does. */
function matchOperation(method, path) {
  /** @type {[RegExp, string, string, string[], string[]][]} pattern, method, operationId, param names, scopes that allow it */
  const table = [
    [/^\/api\/v1\/users$/, 'GET', 'listUsers', [], ['okta.users.read', 'okta.users.manage']],
    [/^\/api\/v1\/users\/([^/]+)$/, 'GET', 'getUser', ['id'], ['okta.users.read', 'okta.users.manage']],
    [/^\/api\/v1\/users\/([^/]+)\/sessions$/, 'DELETE', 'revokeUserSessions', ['userId'], ['okta.users.manage']],
    [/^\/api\/v1\/groups\/([^/]+)$/, 'GET', 'getGroup', ['groupId'], ['okta.groups.read', 'okta.groups.manage']],
    [/^\/api\/v1\/groups\/([^/]+)\/users$/, 'GET', 'listGroupUsers', ['groupId'], ['okta.groups.read', 'okta.groups.manage']]
  ]
  for (const [re, m, name, names, scopes] of table) {
    const hit = re.exec(path)
    if (!hit) continue
    if (m !== method) return { error: oktaError(405, 'E0000022', 'The endpoint does not support the provided HTTP method') }
    /** @type {Record<string, string>} */
    const params = {}
    names.forEach((n, i) => (params[n] = decodeURIComponent(hit[i + 1])))
    return { name, params, scopes }
  }
  return { error: oktaError(404, 'E0000008', 'The requested path was not found') }
}

function parseBool(raw, dflt) {
  if (raw === null || raw === '') return dflt
  if (/^true$/i.test(raw)) return true
  if (/^false$/i.test(raw)) return false
  return undefined
}

/** Opaque cursors for search/filter pages: the last id, bound to the expression that produced it. */
function encodeCursor(lastId, kind) {
  return Buffer.from(`${kind}|${lastId}`).toString('base64url')
}

function decodeCursor(cursor, kind) {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const bar = text.lastIndexOf('|')
  if (bar < 0 || text.slice(0, bar) !== kind) return undefined
  return text.slice(bar + 1)
}
