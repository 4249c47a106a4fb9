// Microsoft Entra ID emulator: the identity platform's token endpoint and the slice of Microsoft Graph v1.0
// that ends user sessions, on one loopback origin (auth-base-url = origin, base-url = origin + /v1.0), and an
// emulated GitHub Actions OIDC service on a second one (./github-oidc.js) whose tokens the token endpoint
// accepts as client assertions.
//
// Contract and sources (facts only; the wording of every message is the vendor's where a source shows it):
//  Identity platform (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
//  /workload-identity-federation; error bodies as seen in public issue threads):
//  - POST /{tenant}/oauth2/v2.0/token, form-encoded, grant_type=client_credentials, client_id,
//    scope=https://graph.microsoft.com/.default, and either client_secret or
//    client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer + client_assertion.
//    200 {token_type:"Bearer", expires_in, ext_expires_in, access_token}.
//  - Errors {error, error_description:"AADSTSn: ...\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ...",
//    error_codes:[n], timestamp:"YYYY-MM-DD hh:mm:ssZ", trace_id, correlation_id, error_uri}:
//    AADSTS7000215 401 invalid_client (bad secret: OfficeDev/microsoft-365-agents-toolkit#8621,
//    Azure/sap-automation#418); AADSTS90002 400 invalid_tenant (microsoftgraph/windowsupdates-webapplication-sample#6);
//    AADSTS700016 400 unauthorized_client (app not in tenant: message from many threads, status unconfirmed);
//    AADSTS700211 / 700212 / 700213 invalid_client (no federated credential for the assertion's issuer /
//    audience / subject: Azure/azure-workload-identity#1200, dotnet/maui#31978, Azure/login#482; 401 as for
//    AADSTS7002137 in microsoft/Agents#202), AADSTS7002138 (subject matches only case-insensitively:
//    Azure/login#515); AADSTS7000218 (neither secret nor assertion: MicrosoftDocs/azure-docs#25959);
//    AADSTS900144 (missing parameter). Unconfirmed: AADSTS700024 (assertion outside its time range),
//    AADSTS700027 (assertion signature), AADSTS50027 (malformed JWT), AADSTS1002012 (scope without
//    /.default), AADSTS70003 (grant type), AADSTS7000222 (expired secret): codes from memory of the AADSTS
//    reference, statuses guessed as 400/401 like their neighbours.
//  Microsoft Graph (microsoftgraph/microsoft-graph-docs-contrib: user-revokesigninsessions.md, user-get.md,
//  user-list.md, group-list-transitivemembers.md, concepts/json-batching.md, concepts/throttling*.md,
//  concepts/errors.md; the sliced OpenAPI in __tests__/contracts/entra):
//  - Bearer token minted here and unexpired, else 401 InvalidAuthenticationToken (+ WWW-Authenticate).
//  - App roles on the token gate each call, else 403 Authorization_RequestDenied "Insufficient privileges
//    to complete the operation.": revoke needs User.RevokeSessions.All (or User.ReadWrite.All,
//    Directory.ReadWrite.All); users need User.Read.All (or Directory.Read.All, ...); groups and their
//    transitive members GroupMember.Read.All (or Group.Read.All, Directory.Read.All, ...).
//  - GET /users/{id|userPrincipalName}[?$select] (operationId user_GetUser): the default property set
//    unless $select; accountEnabled and department only on $select, as Graph does. 404 Request_ResourceNotFound.
//  - GET /users?$filter&$select&$top&$count (user_ListUser): $top 1..999 (default 100), @odata.nextLink
//    with an opaque $skiptoken; `ne`, `not`, endsWith, eq null need ConsistencyLevel: eventual and
//    $count=true, else 400 Request_UnsupportedQuery; $count=true needs ConsistencyLevel: eventual.
//  - GET /groups/{id} (group_GetGroup) and GET /groups/{id}/transitiveMembers/microsoft.graph.user
//    (group_ListTransitiveMemberAsUser; also the `graph.user` alias): nested groups flattened, users only,
//    each once, paged like /users; $filter/$search/$orderby there need the advanced parameters.
//  - POST /users/{id|upn}/revokeSignInSessions, also namespace-qualified as the published OpenAPI writes
//    it (/microsoft.graph.revokeSignInSessions, user_revokeSignInSession): 200
//    {"@odata.context": ".../$metadata#Edm.Boolean", "value": true}; `revokeStatus: 204` emulates the
//    documented known issue (another 2xx, no body). Sets signInSessionsValidFromDateTime.
//  - POST /$batch {requests:[{id, method, url, headers?, body?, dependsOn?}]} (not in the OpenAPI
//    description): at most 20 ("Number of requests inside batch exceeds the limit.",
//    microsoftgraph/microsoftgraph-postman-collections#9); a write item without Content-Type or body fails
//    the whole batch with 400 "Write request id : N does not contain Content-Type header or body."
//    (microsoftgraph/msgraph-sdk-dotnet#2628, #1038; batch-level per Softeria/ms-365-mcp-server#677);
//    duplicate ids 400; items answered 200 {responses:[{id, status, headers, body}]} in any order (shuffled
//    here unless `orderedBatchResponses`), each with its own status: 404, 429 with Retry-After in the item's
//    headers, 5xx, 424 when a dependsOn failed. Each item counts against throttling as a request.
//  - Errors {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}} and a
//    request-id (and client-request-id) header on every answer; 429 TooManyRequests with Retry-After.
// Unconfirmed (wording written here): the batch duplicate-id, absolute-url and bad-body messages; $top range
// and page-token messages; 405 body; whether guests (B2B) answer 200 to revoke (they do here, and nothing
// else happens, as the docs say revocation does not reach external users).
import { randomBytes, randomUUID } from 'node:crypto'
import { SignJWT, createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, generateKeyPair, jwtVerify } from 'jose'
import { EmulatorServer, ProviderEmulator, bearerOf, seededRandom } from '../server.js'
import { FilterError, advancedQueryError, parseUserFilter } from './odata-filter.js'
import { GitHubOidcEmulator, GITHUB_ISSUER, DEFAULT_SUBJECT } from './github-oidc.js'

export { GitHubOidcEmulator, GITHUB_ISSUER, GITHUB_REQUEST_TOKEN, DEFAULT_SUBJECT } from './github-oidc.js'

export const ENTRA_TENANT_ID = '72f98000-0000-4000-8000-00000000e17a'
export const ENTRA_TENANT_DOMAIN = 'contoso.onmicrosoft.com'
export const ENTRA_CLIENT_ID = 'c1e17a00-0000-4000-8000-0000000000c1'
export const ENTRA_CLIENT_SECRET = 'Xq8Q~emulatorSecretValue.0123456789abcdefAB'
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default'
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
/** The least the provider needs: revoke, read users, read group members. */
export const DEFAULT_ROLES = ['User.RevokeSessions.All', 'User.Read.All', 'GroupMember.Read.All']
export const BATCH_LIMIT = 20

const REVOKE_ROLES = ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All']
const USER_READ_ROLES = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All']
const GROUP_READ_ROLES = ['GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All']
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
const MAX_TOP = 999
const DEFAULT_TOP = 100
/** The properties GET /users returns without $select (user-get.md / user-list.md). */
const DEFAULT_USER_PROPS = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id'
]
const SELECTABLE_USER_PROPS = new Set([
  ...DEFAULT_USER_PROPS,
  'accountEnabled',
  'department',
  'userType',
  'companyName',
  'employeeId',
  'city',
  'country',
  'mailNickname',
  'createdDateTime',
  'signInSessionsValidFromDateTime',
  'onPremisesSyncEnabled',
  'externalUserState',
  'deletedDateTime'
])
const GROUP_DEFAULT_PROPS = ['id', 'displayName', 'description', 'mail', 'mailEnabled', 'securityEnabled', 'groupTypes', 'createdDateTime']
const BATCH_ITEM_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'

/**
 * @typedef {{ id: string, userPrincipalName: string, displayName: string, accountEnabled: boolean, department?: string | null,
 *   jobTitle?: string | null, mail?: string | null, userType?: 'Member' | 'Guest', givenName?: string | null, surname?: string | null,
 *   signInSessionsValidFromDateTime?: string, createdDateTime?: string, [k: string]: unknown }} EntraUser
 * @typedef {{ id: string, displayName: string, members: string[], description?: string | null, securityEnabled?: boolean,
 *   mailEnabled?: boolean, groupTypes?: string[] }} EntraGroup
 * @typedef {{ issuer: string, subject: string, audiences: string[], name?: string }} FederatedCredential
 * @typedef {{ clientId: string, displayName: string, roles: string[], secrets: { value: string, expiresAt?: number }[],
 *   federatedCredentials: FederatedCredential[] }} EntraApp
 * @typedef {{ status: number, retryAfter?: number | string, code?: string, message?: string }} ItemFault
 * @typedef {{ batch: number, id: string, method: string, url: string, headers: Record<string, string>, body: unknown,
 *   dependsOn?: string[], status?: number, at: number }} BatchItemRecord
 * @typedef {{ userId: string, userPrincipalName: string, at: string, via: 'direct' | 'batch', requestedAs: string, userType: string }} Revocation
 */

/** A GUID that is the same for the same (i, salt), so tests and benchmarks can name users without a lookup. */
export function guidFor(i, salt = 0) {
  const h = (n) => (n >>> 0).toString(16).padStart(8, '0')
  const a = Math.imul(i + 1, 2654435761) ^ Math.imul(salt + 7, 40503)
  const b = Math.imul(i + 17, 2246822519) ^ salt
  return `${h(a)}-${h(b).slice(0, 4)}-4${h(b).slice(5, 8)}-8${h(i).slice(5, 8)}-${h(salt).slice(4)}${h(i)}`
}

const DEPARTMENTS = ['Sales', 'Engineering', 'Finance', 'Marketing', 'Support', 'Legal']
const TITLES = ['Account Executive', 'Software Engineer', 'Analyst', 'Manager', 'Specialist']

/**
 * `n` member users: ids guidFor(i), UPNs user<i+1>@<domain>, departments cycling through
 * Sales/Engineering/Finance/Marketing/Support/Legal, every 9th account disabled. Linear; 10,000 in a few ms.
 * @param {number} n
 * @param {{ domain?: string, salt?: number, start?: number }} [opts]
 * @returns {EntraUser[]}
 */
export function makeUsers(n, { domain = ENTRA_TENANT_DOMAIN, salt = 0, start = 0 } = {}) {
  const users = new Array(n)
  for (let k = 0; k < n; k++) {
    const i = start + k
    users[k] = {
      id: guidFor(i, salt),
      userPrincipalName: `user${i + 1}@${domain}`,
      displayName: `User ${i + 1}`,
      givenName: 'User',
      surname: String(i + 1),
      mail: `user${i + 1}@${domain}`,
      accountEnabled: i % 9 !== 8,
      department: DEPARTMENTS[i % DEPARTMENTS.length],
      jobTitle: TITLES[i % TITLES.length],
      userType: 'Member',
      createdDateTime: '2024-01-15T09:30:00Z',
      signInSessionsValidFromDateTime: '2024-01-15T09:30:00Z'
    }
  }
  return users
}

/**
 * A B2B guest as the directory shows one (UPN with #EXT#).
 * @param {string} email
 * @param {{ domain?: string, id?: string }} [opts]
 * @returns {EntraUser}
 */
export function makeGuest(email, { domain = ENTRA_TENANT_DOMAIN, id = randomUUID() } = {}) {
  return {
    id,
    userPrincipalName: `${email.replace('@', '_')}#EXT#@${domain}`,
    displayName: email.split('@')[0],
    mail: email,
    accountEnabled: true,
    department: null,
    jobTitle: null,
    userType: /** @type {const} */ ('Guest'),
    externalUserState: 'Accepted',
    createdDateTime: '2024-02-01T10:00:00Z',
    signInSessionsValidFromDateTime: '2024-02-01T10:00:00Z'
  }
}

export class EntraEmulator extends ProviderEmulator {
  /**
   * @param {{ users?: EntraUser[], groups?: EntraGroup[], tenantId?: string, tenantDomain?: string, clientId?: string,
   *   clientSecret?: string, roles?: string[], federatedCredentials?: FederatedCredential[], tokenTtlSeconds?: number,
   *   revokeStatus?: 200 | 204, orderedBatchResponses?: boolean, seed?: number, github?: ConstructorParameters<typeof GitHubOidcEmulator>[0] }} [opts]
   */
  constructor(opts = {}) {
    super()
    this.origin = ''
    /** <origin>/v1.0: the action's base-url. */
    this.baseUrl = ''
    /** <origin>: the action's auth-base-url. */
    this.authBaseUrl = ''
    /** Where @odata.nextLink and @odata.context point; defaults to baseUrl. Set it to a proxy's origin to keep paging through the proxy. */
    this.linkBase = ''
    this.tenantId = opts.tenantId ?? ENTRA_TENANT_ID
    this.tenantDomain = opts.tenantDomain ?? ENTRA_TENANT_DOMAIN
    this.github = new GitHubOidcEmulator(opts.github)
    this.initialApp = {
      clientId: (opts.clientId ?? ENTRA_CLIENT_ID).toLowerCase(),
      displayName: 'terminate-sessions',
      roles: [...(opts.roles ?? DEFAULT_ROLES)],
      secrets: [{ value: opts.clientSecret ?? ENTRA_CLIENT_SECRET }],
      federatedCredentials: opts.federatedCredentials ?? [
        { name: 'github-offboarding', issuer: GITHUB_ISSUER, subject: DEFAULT_SUBJECT, audiences: [TOKEN_EXCHANGE_AUDIENCE] }
      ]
    }
    /** @type {EntraApp} the app registration: change roles, secrets or federated credentials here (reset() restores them) */
    this.app = cloneApp(this.initialApp)
    this.initialTokenTtlSeconds = opts.tokenTtlSeconds ?? 3599
    this.tokenTtlSeconds = this.initialTokenTtlSeconds
    this.initialRevokeStatus = opts.revokeStatus ?? 200
    /** 200 (documented) or 204 (the documented known issue) for a successful revoke. */
    this.revokeStatus = this.initialRevokeStatus
    this.orderedBatchResponses = opts.orderedBatchResponses ?? false
    this.seed = opts.seed ?? 11
    this.random = seededRandom(this.seed)
    this.initialUsers = (opts.users ?? makeUsers(12)).map((u) => ({ ...u }))
    this.initialGroups = (opts.groups ?? []).map((g) => ({ ...g, members: [...g.members] }))
    /** @type {Map<string, EntraUser>} the directory's users by lower-case id (change through the hooks below) */
    this.users = new Map()
    /** @type {Map<string, EntraGroup>} groups by lower-case id */
    this.groups = new Map()
    /** @type {Map<string, EntraUser>} users by lower-case userPrincipalName */
    this.byUpn = new Map()
    this.loadDirectory()
    /** token -> { expiresAt, roles, clientId, uses } */
    this.minted = new Map()
    /** Minted tokens stop working (401) after this many Graph requests each; undefined: only by time. */
    this.expireTokensAfterRequests = undefined
    /** @type {Revocation[]} every revoke Graph carried out, in order */
    this.revocations = []
    /** @type {BatchItemRecord[]} every $batch item received, in order, with the status it got */
    this.batchItems = []
    this.batchCount = 0
    /** @type {{ fault: ItemFault, match: (item: BatchItemRecord) => boolean }[]} */
    this.itemFaults = []
    /** @type {{ rate: number, kinds: ItemFault[], match: (item: BatchItemRecord) => boolean, random: () => number } | undefined} */
    this.itemFaultRate = undefined
    /** @type {{ limit: number, windowMs: number, retryAfterSeconds: number, match: (r: { method: string, path: string, viaBatch: boolean }) => boolean } | undefined} */
    this.throttle = undefined
    /** @type {number[]} */
    this.throttleTimes = []
    this.throttledCount = 0
    /** Bumped by expirePageTokens(): skiptokens minted before stop working. */
    this.pageEpoch = 0
    /** Called with every Graph request (direct or batch item) before it is answered: change state between calls here. */
    this.onGraphRequest = undefined
    this.server = new EmulatorServer({
      name: 'entra',
      handle: (req) => this.handle(req),
      errorResponse: (status, req) =>
        withIds(
          graphError(
            status,
            status >= 500 ? (status === 503 ? 'serviceNotAvailable' : 'generalException') : 'BadRequest',
            status >= 500 ? 'The service is temporarily unavailable.' : 'Bad request.'
          ),
          req
        ),
      throttleResponse: ({ retryAfterSeconds }, req) => withIds(throttled(retryAfterSeconds), req)
    })
  }

  loadDirectory() {
    this.users = new Map(this.initialUsers.map((u) => [u.id.toLowerCase(), { ...u }]))
    this.groups = new Map(this.initialGroups.map((g) => [g.id.toLowerCase(), { ...g, members: [...g.members] }]))
    this.reindex()
  }

  reindex() {
    this.byUpn = new Map([...this.users.values()].map((u) => [u.userPrincipalName.toLowerCase(), u]))
  }

  async start() {
    const [, { privateKey }] = await Promise.all([this.github.start(), generateKeyPair('RS256')])
    this.signingKey = privateKey
    this.origin = await this.server.start()
    this.baseUrl = `${this.origin}/v1.0`
    this.authBaseUrl = this.origin
    return this.baseUrl
  }

  async stop() {
    await Promise.all([this.server.stop(), this.github.stop()])
  }

  /** The action inputs that point at this emulator (token is left to the test). */
  inputs() {
    return { 'tenant-id': this.tenantId, 'client-id': this.app.clientId, 'base-url': this.baseUrl, 'auth-base-url': this.authBaseUrl }
  }

  /** ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN for keyless runs. */
  actionsEnv() {
    return this.github.actionsEnv()
  }

  // ---- state hooks ----------------------------------------------------------------------------------------

  /** @param {EntraUser} user */
  addUser(user) {
    const u = { userType: 'Member', signInSessionsValidFromDateTime: '2024-01-15T09:30:00Z', ...user }
    this.users.set(u.id.toLowerCase(), u)
    this.byUpn.set(u.userPrincipalName.toLowerCase(), u)
    return u
  }

  removeUser(id) {
    const u = this.users.get(id.toLowerCase())
    if (!u) return false
    this.users.delete(id.toLowerCase())
    this.byUpn.delete(u.userPrincipalName.toLowerCase())
    return true
  }

  /** @param {string} id @param {Partial<EntraUser>} patch */
  updateUser(id, patch) {
    const u = this.users.get(id.toLowerCase())
    if (!u) throw new Error(`no user ${id}`)
    this.byUpn.delete(u.userPrincipalName.toLowerCase())
    Object.assign(u, patch)
    this.byUpn.set(u.userPrincipalName.toLowerCase(), u)
    return u
  }

  /** @param {EntraGroup} group */
  addGroup(group) {
    const g = { ...group, members: [...group.members] }
    this.groups.set(g.id.toLowerCase(), g)
    return g
  }

  addGroupMember(groupId, memberId) {
    const g = this.groups.get(groupId.toLowerCase())
    if (!g) throw new Error(`no group ${groupId}`)
    if (!g.members.includes(memberId)) g.members.push(memberId)
  }

  removeGroupMember(groupId, memberId) {
    const g = this.groups.get(groupId.toLowerCase())
    if (!g) throw new Error(`no group ${groupId}`)
    g.members = g.members.filter((m) => m !== memberId)
  }

  /** Every user a group reaches through nested groups, each once, in first-seen order. */
  transitiveUsers(groupId) {
    return this.transitiveMembers(groupId).users
  }

  /** Users and nested groups a group reaches, each once (the group itself excluded). */
  transitiveMembers(groupId) {
    const seenGroups = new Set()
    /** @type {EntraGroup[]} */
    const groups = []
    const seenUsers = new Set()
    /** @type {EntraUser[]} */
    const out = []
    const walk = (gid) => {
      const key = gid.toLowerCase()
      if (seenGroups.has(key)) return
      seenGroups.add(key)
      const g = this.groups.get(key)
      if (!g) return
      if (key !== groupId.toLowerCase()) groups.push(g)
      for (const m of g.members) {
        const mk = m.toLowerCase()
        if (this.groups.has(mk)) walk(mk)
        else {
          const u = this.users.get(mk)
          if (u && !seenUsers.has(mk)) {
            seenUsers.add(mk)
            out.push(u)
          }
        }
      }
    }
    walk(groupId)
    return { users: out, groups }
  }

  // ---- test helpers ---------------------------------------------------------------------------------------

  /** Requests to the token endpoint. */
  tokenRequests() {
    return this.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token'))
  }

  /** Requests to Graph (direct, including each $batch envelope). */
  graphRequests() {
    return this.requests.filter((r) => r.path.startsWith('/v1.0/'))
  }

  /** The $batch envelopes received. */
  batchRequests() {
    return this.requests.filter((r) => r.path === '/v1.0/$batch')
  }

  /** Every revoke attempt, direct or inside a batch: { via, userRef, status }. */
  revokeAttempts() {
    const direct = this.requests
      .filter((r) => r.method === 'POST' && isRevokePath(r.path.slice(5)))
      .map((r) => ({ via: 'direct', userRef: decodeURIComponent(r.path.split('/')[3]), status: r.status }))
    const items = this.batchItems
      .filter((i) => i.method.toUpperCase() === 'POST' && isRevokePath(i.url.split('?')[0].replace(/^\/?/, '/')))
      .map((i) => ({ via: 'batch', userRef: decodeURIComponent(i.url.replace(/^\/?/, '/').split('/')[2]), status: i.status }))
    return [...direct, ...items]
  }

  /** Ids of the users whose sessions Graph revoked (each once). */
  revokedUserIds() {
    return [...new Set(this.revocations.map((r) => r.userId))]
  }

  /** Every access token the token endpoint handed out, in order (to check the action masks them). */
  mintedTokens() {
    return [...this.minted.keys()]
  }

  /** Every minted access token stops working now. */
  expireTokens() {
    for (const t of this.minted.values()) t.expiresAt = 0
  }

  /** Every @odata.nextLink handed out so far stops working (400 Directory_ExpiredPageToken). */
  expirePageTokens() {
    this.pageEpoch++
  }

  /**
   * Throttles Graph per app: more than `limit` requests in `windowMs` (each $batch item counts as one; the
   * envelope does not) get 429 with Retry-After. `match` narrows what counts (e.g. writes only).
   * @param {{ limit: number, windowMs?: number, retryAfterSeconds?: number, match?: (r: { method: string, path: string, viaBatch: boolean }) => boolean } | undefined} opts
   */
  setThrottle(opts) {
    this.throttle = opts ? { windowMs: 10_000, retryAfterSeconds: 1, match: () => true, ...opts } : undefined
    this.throttleTimes = []
  }

  /**
   * The next matching $batch items get these answers instead of being carried out, one each.
   * @param {ItemFault[]} faults e.g. [{ status: 429, retryAfter: 1 }, { status: 503 }]
   * @param {(item: BatchItemRecord) => boolean} [match]
   */
  queueItemFaults(faults, match = (/** @type {BatchItemRecord} */ _item) => true) {
    for (const fault of faults) this.itemFaults.push({ fault, match })
  }

  /**
   * A share of matching $batch items (seeded) gets one of `kinds` instead of being carried out.
   * @param {number} rate 0..1
   * @param {ItemFault[]} kinds
   * @param {{ seed?: number, match?: (item: BatchItemRecord) => boolean }} [opts]
   */
  setItemFaultRate(rate, kinds, { seed = 5, match = (/** @type {BatchItemRecord} */ _item) => true } = {}) {
    this.itemFaultRate = rate > 0 ? { rate, kinds, match, random: seededRandom(seed) } : undefined
  }

  /** Back to the constructor's directory and app registration, and no traffic, tokens, faults or throttling. */
  reset() {
    this.server.reset()
    this.app = cloneApp(this.initialApp)
    this.tokenTtlSeconds = this.initialTokenTtlSeconds
    this.revokeStatus = this.initialRevokeStatus
    this.onGraphRequest = undefined
    this.github.reset()
    this.loadDirectory()
    this.minted.clear()
    this.expireTokensAfterRequests = undefined
    this.revocations = []
    this.batchItems = []
    this.batchCount = 0
    this.itemFaults = []
    this.itemFaultRate = undefined
    this.throttle = undefined
    this.throttleTimes = []
    this.throttledCount = 0
    this.random = seededRandom(this.seed)
    this.linkBase = ''
  }

  // ---- routing --------------------------------------------------------------------------------------------

  /** @param {import('../server.js').EmulatorRequest} req */
  async handle(req) {
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path)
    if (token) return withIds(await this.tokenEndpoint(req, decodeURIComponent(token[1])), req)
    if (req.path === '/v1.0' || req.path.startsWith('/v1.0/')) return withIds(await this.graphDirect(req), req)
    return withIds(graphError(404, 'NotFound', 'Resource not found.'), req)
  }

  // ---- identity platform ----------------------------------------------------------------------------------

  async tokenEndpoint(req, tenant) {
    if (req.method !== 'POST') return aadError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests. Received a GET request.')
    if (tenant.toLowerCase() !== this.tenantId && tenant.toLowerCase() !== this.tenantDomain.toLowerCase()) {
      return aadError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`
      )
    }
    const ct = String(req.headers['content-type'] ?? '')
    const form = ct.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(req.bodyText) : new URLSearchParams()
    const missing = (p) => aadError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${p}'.`)
    const grant = form.get('grant_type')
    if (!grant) return missing('grant_type')
    if (grant !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`)
    const clientId = form.get('client_id')
    if (!clientId) return missing('client_id')
    if (clientId.toLowerCase() !== this.app.clientId) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.tenantDomain}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`
      )
    }
    const scope = form.get('scope')
    if (!scope) return missing('scope')
    const scopes = scope.split(' ').filter(Boolean)
    if (scopes.length !== 1 || !scopes[0].endsWith('/.default')) {
      return aadError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`
      )
    }
    if (scopes[0] !== GRAPH_SCOPE && scopes[0] !== `${GRAPH_APP_ID}/.default`) {
      return aadError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${scopes[0].slice(0, -'/.default'.length)} was not found in the tenant named ${this.tenantDomain}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`
      )
    }
    const secret = form.get('client_secret')
    const assertion = form.get('client_assertion')
    if (secret !== null && assertion !== null) {
      return aadError(
        401,
        'invalid_client',
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" +
          this.app.clientId +
          "'."
      )
    }
    if (secret !== null) {
      const match = this.app.secrets.find((s) => s.value === secret)
      if (!match) {
        return aadError(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.app.clientId}'.`
        )
      }
      if (match.expiresAt !== undefined && match.expiresAt <= Date.now()) {
        return aadError(
          401,
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${this.app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`
        )
      }
      return this.mintAccessToken('secret')
    }
    if (assertion === null) {
      return aadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    }
    if (form.get('client_assertion_type') !== JWT_BEARER) {
      return aadError(400, 'invalid_request', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
    }
    return this.exchangeAssertion(assertion)
  }

  /** Workload identity federation: verify the assertion against the app's federated credentials. */
  async exchangeAssertion(assertion) {
    let claims
    let header
    try {
      claims = decodeJwt(assertion)
      header = decodeProtectedHeader(assertion)
    } catch {
      return aadError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.')
    }
    if (header.alg !== 'RS256') return aadError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.')
    const credentials = this.app.federatedCredentials.filter((c) => c.issuer === claims.iss)
    if (credentials.length === 0) {
      return aadError(
        401,
        'invalid_client',
        700211,
        `No matching federated identity record found for presented assertion issuer '${claims.iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`
      )
    }
    // The issuer's keys: the emulated GitHub service publishes them (Entra would fetch <issuer>/.well-known/jwks).
    try {
      await jwtVerify(assertion, createLocalJWKSet(this.github.jwks()), { issuer: claims.iss, algorithms: ['RS256'] })
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired || (err instanceof joseErrors.JWTClaimValidationFailed && (err.claim === 'nbf' || err.claim === 'iat'))) {
        const now = new Date().toISOString()
        return aadError(
          400,
          'invalid_client',
          700024,
          `Client assertion is not within its valid time range. Current time: ${now}, assertion valid from ${isoOf(claims.nbf)}, expiry time of assertion ${isoOf(claims.exp)}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .`
        )
      }
      return aadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.')
    }
    const bySubject = credentials.filter((c) => c.subject === claims.sub)
    if (bySubject.length === 0) {
      const caseOnly = credentials.some((c) => typeof claims.sub === 'string' && c.subject.toLowerCase() === claims.sub.toLowerCase())
      if (caseOnly) {
        return aadError(
          401,
          'invalid_client',
          7002138,
          `No matching federated identity record found for presented assertion subject '${claims.sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: https://learn.microsoft.com/entra/workload-id/workload-identity-federation.`
        )
      }
      return aadError(
        401,
        'invalid_client',
        700213,
        `No matching federated identity record found for presented assertion subject '${claims.sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`
      )
    }
    const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!bySubject.some((c) => c.audiences.some((a) => auds.includes(a)))) {
      return aadError(
        401,
        'invalid_client',
        700212,
        `No matching federated identity record found for presented assertion audience '${auds.join(',')}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`
      )
    }
    return this.mintAccessToken('federated')
  }

  async mintAccessToken(via) {
    const now = Math.floor(Date.now() / 1000)
    const roles = [...this.app.roles]
    const token = await new SignJWT({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${this.tenantId}/`,
      app_displayname: this.app.displayName,
      appid: this.app.clientId,
      appidacr: via === 'secret' ? '1' : '2',
      idtyp: 'app',
      oid: guidFor(4242, 99),
      roles,
      sub: guidFor(4242, 99),
      tid: this.tenantId,
      uti: randomBytes(12).toString('base64url'),
      ver: '1.0'
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: 'emulator' })
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.tokenTtlSeconds)
      .sign(this.signingKey)
    this.minted.set(token, { expiresAt: Date.now() + this.tokenTtlSeconds * 1000, roles: new Set(roles), clientId: this.app.clientId, uses: 0, via })
    return {
      status: 200,
      headers: { 'cache-control': 'no-store, no-cache' },
      body: { token_type: 'Bearer', expires_in: this.tokenTtlSeconds, ext_expires_in: this.tokenTtlSeconds, access_token: token }
    }
  }

  // ---- Graph ----------------------------------------------------------------------------------------------

  /** A request straight to Graph: auth, then $batch or the single-request router. */
  async graphDirect(req) {
    const auth = this.authenticate(req)
    if (auth.error) return auth.error
    const path = req.path.slice('/v1.0'.length)
    if (path === '/$batch') {
      if (req.method !== 'POST') return methodNotAllowed(req.method)
      return this.batch(req, auth.token)
    }
    return this.graphCall(
      { method: req.method, path, query: req.query, headers: req.headers, bodyText: req.bodyText, json: req.json, jsonError: req.jsonError },
      auth.token,
      false
    )
  }

  /** @returns {{ token?: { roles: Set<string>, clientId: string }, error?: import('../server.js').EmulatorResponse }} */
  authenticate(req) {
    const bearer = bearerOf(req)
    const unauthorized = (message) => {
      const e = graphError(401, 'InvalidAuthenticationToken', message)
      e.headers['www-authenticate'] =
        `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`
      return { error: e }
    }
    if (bearer === undefined || bearer === '') return unauthorized('Access token is empty.')
    const t = this.minted.get(bearer)
    if (!t)
      return unauthorized(
        bearer.split('.').length === 3 ? 'Access token validation failure. Invalid audience.' : 'IDX14100: JWT is not well formed, there are no dots (.).'
      )
    if (Date.now() >= t.expiresAt) return unauthorized('Access token has expired or is not yet valid.')
    t.uses++
    if (this.expireTokensAfterRequests !== undefined && t.uses >= this.expireTokensAfterRequests) t.expiresAt = 0
    return { token: t }
  }

  /** Counts a Graph request against the per-app window; the Retry-After seconds when over it. */
  throttleCheck(method, path, viaBatch) {
    const th = this.throttle
    if (!th || !th.match({ method, path, viaBatch })) return undefined
    const now = Date.now()
    while (this.throttleTimes.length > 0 && now - this.throttleTimes[0] >= th.windowMs) this.throttleTimes.shift()
    if (this.throttleTimes.length >= th.limit) {
      this.throttledCount++
      return Math.max(th.retryAfterSeconds, Math.ceil((this.throttleTimes[0] + th.windowMs - now) / 1000))
    }
    this.throttleTimes.push(now)
    return undefined
  }

  /**
   * One Graph call, direct or as a batch item (auth already checked).
   * @param {{ method: string, path: string, query: URLSearchParams, headers: Record<string, unknown>, bodyText: string, json: unknown, jsonError: boolean }} r
   */
  async graphCall(r, token, viaBatch) {
    if (this.onGraphRequest) await this.onGraphRequest({ ...r, viaBatch })
    const wait = this.throttleCheck(r.method, r.path, viaBatch)
    if (wait !== undefined) return throttled(wait)
    const segs = r.path
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s))
    const header = (name) => {
      const v = r.headers[name] ?? r.headers[name.toLowerCase()] ?? Object.entries(r.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1]
      return typeof v === 'string' ? v : undefined
    }
    const eventual = (header('consistencylevel') ?? '').toLowerCase() === 'eventual'
    if (segs[0] === 'users') {
      if (segs.length === 1) {
        if (r.method !== 'GET') return methodNotAllowed(r.method)
        if (!hasAny(token, USER_READ_ROLES)) return forbidden()
        return this.listUsers(r.query, eventual)
      }
      const user = this.findUser(segs[1])
      if (segs.length === 2) {
        if (r.method !== 'GET') return methodNotAllowed(r.method)
        if (!hasAny(token, USER_READ_ROLES)) return forbidden()
        if (!user) return notFound(segs[1])
        return this.getUser(user, r.query)
      }
      if (segs.length === 3 && (segs[2] === 'revokeSignInSessions' || segs[2] === 'microsoft.graph.revokeSignInSessions')) {
        if (r.method !== 'POST') return methodNotAllowed(r.method)
        if (!hasAny(token, REVOKE_ROLES)) return forbidden()
        if (r.bodyText !== '' && r.jsonError)
          return graphError(
            400,
            'BadRequest',
            'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.'
          )
        if (!user) return notFound(segs[1])
        return this.revoke(user, segs[1], viaBatch)
      }
      return segmentNotFound(segs[2])
    }
    if (segs[0] === 'groups' && segs.length >= 2) {
      const group = this.groups.get(segs[1].toLowerCase())
      if (segs.length === 2) {
        if (r.method !== 'GET') return methodNotAllowed(r.method)
        if (!hasAny(token, GROUP_READ_ROLES)) return forbidden()
        if (!group) return notFound(segs[1])
        return this.getGroup(group, r.query)
      }
      if (segs[2] === 'transitiveMembers' && (segs.length === 3 || (segs.length === 4 && (segs[3] === 'microsoft.graph.user' || segs[3] === 'graph.user')))) {
        if (r.method !== 'GET') return methodNotAllowed(r.method)
        if (!hasAny(token, GROUP_READ_ROLES)) return forbidden()
        if (!group) return notFound(segs[1])
        return this.listGroupUsers(group, r.query, eventual, segs.length === 4, r.path)
      }
      return segmentNotFound(segs[segs.length - 1])
    }
    if (segs[0] === '$batch') return graphError(400, 'BadRequest', 'Nested batch requests are not supported.')
    return segmentNotFound(segs[0] ?? '')
  }

  findUser(ref) {
    return this.users.get(ref.toLowerCase()) ?? this.byUpn.get(ref.toLowerCase())
  }

  getUser(user, query) {
    const select = parseSelect(query, SELECTABLE_USER_PROPS, 'user')
    if (select.error) return select.error
    const props = select.props ?? DEFAULT_USER_PROPS
    const ctx = select.props ? `users(${select.props.join(',')})/$entity` : 'users/$entity'
    return ok({ '@odata.context': `${this.links()}/$metadata#${ctx}`, ...view(user, props) })
  }

  getGroup(group, query) {
    const select = parseSelect(query, new Set([...GROUP_DEFAULT_PROPS, 'visibility', 'mailNickname']), 'group')
    if (select.error) return select.error
    const full = { description: null, mail: null, mailEnabled: false, securityEnabled: true, groupTypes: [], createdDateTime: '2024-01-10T08:00:00Z', ...group }
    return ok({ '@odata.context': `${this.links()}/$metadata#groups/$entity`, ...view(full, select.props ?? GROUP_DEFAULT_PROPS) })
  }

  links() {
    return this.linkBase || this.baseUrl
  }

  revoke(user, ref, viaBatch) {
    this.revocations.push({
      userId: user.id,
      userPrincipalName: user.userPrincipalName,
      at: new Date().toISOString(),
      via: viaBatch ? 'batch' : 'direct',
      requestedAs: ref,
      userType: user.userType ?? 'Member'
    })
    if (user.userType !== 'Guest') user.signInSessionsValidFromDateTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    if (this.revokeStatus === 204) return { status: 204 }
    return ok({ '@odata.context': `${this.links()}/$metadata#Edm.Boolean`, value: true })
  }

  listUsers(query, eventual) {
    return this.listCollection([...this.users.values()], query, eventual, 'users', '/users', false)
  }

  listGroupUsers(group, query, eventual, cast, path) {
    const { users, groups } = this.transitiveMembers(group.id)
    if (!cast) {
      // Without the cast, nested groups come back too, each object with its @odata.type.
      const objects = [
        ...groups.map((g) => ({ id: g.id, displayName: g.displayName, '@odata.type': '#microsoft.graph.group' })),
        ...users.map((u) => ({ ...u, '@odata.type': '#microsoft.graph.user' }))
      ]
      return this.listCollection(objects, query, eventual, 'directoryObjects', path, true, true)
    }
    return this.listCollection(users, query, eventual, 'users', path, true)
  }

  /** Filter, order, select and page a collection of users, as the directory does. */
  listCollection(all, query, eventual, contextName, path, memberList, typed = false) {
    const count = query.get('$count')
    if (count !== null && count !== 'true' && count !== 'false')
      return graphError(400, 'BadRequest', `Invalid value '${count}' for $count: expected true or false.`)
    const wantsCount = count === 'true'
    if (wantsCount && !eventual) return graphError(400, 'Request_BadRequest', '$count is not currently supported.')
    const advancedOk = eventual && wantsCount
    const search = query.get('$search')
    if (search !== null && !eventual) {
      return graphError(
        400,
        'Request_UnsupportedQuery',
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"
      )
    }
    const filterText = query.get('$filter')
    const orderby = query.get('$orderby')
    if (memberList && (filterText !== null || orderby !== null) && !advancedOk) {
      return graphError(
        400,
        'Request_UnsupportedQuery',
        'The specified filter or orderby on the member list needs advanced query parameters: ConsistencyLevel: eventual and $count=true.'
      )
    }
    let items = all
    if (filterText !== null) {
      try {
        const { test, advanced } = parseUserFilter(filterText)
        if (advanced.length > 0 && !advancedOk) {
          const e = advancedQueryError(advanced)
          return graphError(e.status, e.code, e.message)
        }
        items = items.filter(test)
      } catch (err) {
        if (err instanceof FilterError) return graphError(err.status, err.code, err.message)
        throw err
      }
    }
    if (search !== null) {
      const m = /^"(\w+):([^"]*)"$/.exec(search)
      if (!m || !['displayName', 'mail', 'userPrincipalName', 'givenName', 'surname'].includes(m[1])) {
        return graphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid $search query: ${search}.`)
      }
      const needle = m[2].toLowerCase()
      items = items.filter(
        (u) =>
          typeof u[m[1]] === 'string' &&
          u[m[1]]
            .toLowerCase()
            .split(/\s+/)
            .some((w) => w.startsWith(needle))
      )
    }
    if (orderby !== null) {
      const m = /^(displayName|userPrincipalName)( (asc|desc))?$/.exec(orderby)
      if (!m) return graphError(400, 'Request_UnsupportedQuery', `Sorting by '${orderby}' is not supported.`)
      const dir = m[3] === 'desc' ? -1 : 1
      items = [...items].sort((a, b) => dir * String(a[m[1]]).localeCompare(String(b[m[1]])))
    }
    const topRaw = query.get('$top')
    let top = DEFAULT_TOP
    if (topRaw !== null) {
      if (!/^\d+$/.test(topRaw) || Number(topRaw) < 1 || Number(topRaw) > MAX_TOP) {
        return graphError(400, 'Request_BadRequest', `Invalid page size specified: '${topRaw}'. Must be between 1 and ${MAX_TOP} inclusive.`)
      }
      top = Number(topRaw)
    }
    const select = parseSelect(query, SELECTABLE_USER_PROPS, 'user')
    if (select.error) return select.error
    const signature = querySignature(path, query)
    let offset = 0
    const skip = query.get('$skiptoken')
    if (skip !== null) {
      const decoded = decodeSkipToken(skip)
      if (!decoded || decoded.s !== signature || decoded.e !== this.pageEpoch) {
        return graphError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.')
      }
      offset = decoded.o
    }
    const page = items.slice(offset, offset + top)
    const props = select.props ?? DEFAULT_USER_PROPS
    const body = { '@odata.context': `${this.links()}/$metadata#${select.props ? `${contextName}(${select.props.join(',')})` : contextName}` }
    if (wantsCount) body['@odata.count'] = items.length
    if (offset + top < items.length) {
      const next = encodeSkipToken({ o: offset + top, s: signature, e: this.pageEpoch })
      body['@odata.nextLink'] = `${this.links()}${path}?${odataQuery(query, { $skiptoken: next })}`
    }
    body.value = page.map((o) => (typed ? { '@odata.type': o['@odata.type'], ...view(o, props) } : view(o, props)))
    return ok(body)
  }

  // ---- $batch ---------------------------------------------------------------------------------------------

  async batch(req, token) {
    const ct = String(req.headers['content-type'] ?? '')
    if (!ct.toLowerCase().startsWith('application/json'))
      return graphError(400, 'BadRequest', 'Invalid content type: the batch payload must be application/json.')
    if (req.jsonError || req.json === null || typeof req.json !== 'object' || Array.isArray(req.json)) {
      return graphError(400, 'BadRequest', 'Invalid batch payload format.')
    }
    const requests = /** @type {{ requests?: unknown }} */ (req.json).requests
    if (!Array.isArray(requests) || requests.length === 0) return graphError(400, 'BadRequest', 'Invalid batch payload format.')
    if (requests.length > BATCH_LIMIT) return graphError(400, 'BadRequest', 'Number of requests inside batch exceeds the limit.')
    const batchNo = ++this.batchCount
    const seen = new Set()
    /** @type {BatchItemRecord[]} */
    const items = []
    for (const raw of requests) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return graphError(400, 'BadRequest', 'Invalid batch payload format.')
      const { id, method, url, headers = {}, body, dependsOn } = /** @type {Record<string, any>} */ (raw)
      if (typeof id !== 'string' || id === '') return graphError(400, 'BadRequest', 'Each request in a batch needs an id (a string).')
      if (seen.has(id)) return graphError(400, 'BadRequest', `Request id ${id} is duplicated in the batch; ids must be unique.`)
      seen.add(id)
      if (typeof method !== 'string' || !['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].includes(method.toUpperCase())) {
        return graphError(400, 'BadRequest', `Request id ${id} has an invalid method.`)
      }
      if (typeof url !== 'string' || url === '') return graphError(400, 'BadRequest', `Request id ${id} has no url.`)
      if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return graphError(400, 'BadRequest', `Request id ${id}: only relative URLs are supported in a batch.`)
      if (headers === null || typeof headers !== 'object' || Array.isArray(headers))
        return graphError(400, 'BadRequest', `Request id ${id} has invalid headers.`)
      const isWrite = method.toUpperCase() !== 'GET' && method.toUpperCase() !== 'DELETE'
      const hasContentType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
      if (isWrite && (body === undefined || !hasContentType)) {
        return graphError(400, 'BadRequest', `Write request id : ${id} does not contain Content-Type header or body.`)
      }
      if (dependsOn !== undefined && (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string'))) {
        return graphError(400, 'BadRequest', `Request id ${id} has an invalid dependsOn.`)
      }
      items.push({ batch: batchNo, id, method: method.toUpperCase(), url, headers, body, dependsOn, at: Date.now() })
    }
    for (const item of items) {
      for (const d of item.dependsOn ?? []) {
        if (!seen.has(d)) return graphError(400, 'BadRequest', `Request id ${item.id} depends on ${d}, which is not in the batch.`)
      }
    }
    this.batchItems.push(...items)
    /** @type {Map<string, { id: string, status: number, headers: Record<string, string>, body?: unknown }>} */
    const answers = new Map()
    const run = async (item) => {
      if (answers.has(item.id)) return answers.get(item.id)
      for (const d of item.dependsOn ?? []) {
        const dep = items.find((i) => i.id === d)
        const got = await run(dep)
        if (got.status >= 400) {
          const failed = itemAnswer(item.id, graphError(424, 'FailedDependency', `The request depends on request ${d}, which failed.`))
          answers.set(item.id, failed)
          item.status = 424
          return failed
        }
      }
      const answer = itemAnswer(item.id, await this.runItem(item, token))
      item.status = answer.status
      answers.set(item.id, answer)
      return answer
    }
    for (const item of items) await run(item)
    const responses = items.map((i) => answers.get(i.id))
    if (!this.orderedBatchResponses) {
      for (let i = responses.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1))
        ;[responses[i], responses[j]] = [responses[j], responses[i]]
      }
    }
    return ok({ responses })
  }

  /** Carries out one batch item (or answers it with a queued or random item fault). */
  async runItem(item, token) {
    const queued = this.itemFaults.findIndex((f) => f.match(item))
    let fault
    if (queued >= 0) fault = this.itemFaults.splice(queued, 1)[0].fault
    else if (this.itemFaultRate && this.itemFaultRate.match(item) && this.itemFaultRate.random() < this.itemFaultRate.rate) {
      const fr = this.itemFaultRate
      fault = fr.kinds[Math.floor(fr.random() * fr.kinds.length)]
    }
    if (fault) return itemFault(fault)
    const rel = item.url.startsWith('/') ? item.url : `/${item.url}`
    const q = rel.indexOf('?')
    const path = q >= 0 ? rel.slice(0, q) : rel
    const query = new URLSearchParams(q >= 0 ? rel.slice(q + 1) : '')
    const bodyText = item.body === undefined ? '' : typeof item.body === 'string' ? item.body : JSON.stringify(item.body)
    return this.graphCall(
      { method: item.method, path, query, headers: item.headers, bodyText, json: typeof item.body === 'string' ? undefined : item.body, jsonError: false },
      token,
      true
    )
  }
}

// ---- helpers ------------------------------------------------------------------------------------------------

/** @param {EntraApp} app */
function cloneApp(app) {
  return {
    ...app,
    roles: [...app.roles],
    secrets: app.secrets.map((s) => ({ ...s })),
    federatedCredentials: app.federatedCredentials.map((c) => ({ ...c, audiences: [...c.audiences] }))
  }
}

function isRevokePath(path) {
  return /^\/users\/[^/]+\/(microsoft\.graph\.)?revokeSignInSessions$/.test(path)
}

function hasAny(token, roles) {
  return roles.some((r) => token.roles.has(r))
}

function isoOf(seconds) {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'unknown'
}

function ok(body) {
  return {
    status: 200,
    headers: { 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8' },
    body
  }
}

function graphDate() {
  return new Date().toISOString().slice(0, 19)
}

/** A Graph error answer; withIds() fills in the request ids. */
export function graphError(status, code, message) {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: { error: { code, message, innerError: { date: graphDate(), 'request-id': '', 'client-request-id': '' } } }
  }
}

function throttled(seconds) {
  const e = graphError(429, 'TooManyRequests', 'Too many requests, please retry after the time given in the Retry-After header.')
  e.headers['retry-after'] = String(seconds)
  return e
}

function forbidden() {
  return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
}

function notFound(ref) {
  return graphError(404, 'Request_ResourceNotFound', `Resource '${ref}' does not exist or one of its queried reference-property objects are not present.`)
}

function segmentNotFound(seg) {
  return graphError(400, 'BadRequest', `Resource not found for the segment '${seg}'.`)
}

function methodNotAllowed(method) {
  return graphError(405, 'Request_BadRequest', `Specified HTTP method is not allowed for the request target: ${method}.`)
}

/** Sets request-id/client-request-id on an answer (headers and innerError). */
function withIds(answer, req) {
  const id = randomUUID()
  const clientId = typeof req.headers['client-request-id'] === 'string' ? req.headers['client-request-id'] : id
  const headers = { ...(answer.headers ?? {}), 'request-id': id, 'client-request-id': clientId }
  const inner = answer.body?.error?.innerError
  if (inner && inner['request-id'] === '') {
    inner['request-id'] = id
    inner['client-request-id'] = clientId
  }
  return { ...answer, headers }
}

/** A batch item's answer: its own status, its own headers (Retry-After kept), its own body. */
function itemAnswer(id, answer) {
  const headers = {}
  for (const [k, v] of Object.entries(answer.headers ?? {})) {
    const lk = k.toLowerCase()
    if (lk === 'retry-after') headers['Retry-After'] = v
    else if (lk === 'location') headers.Location = v
  }
  if (answer.body !== undefined) {
    headers['Content-Type'] = BATCH_ITEM_JSON
    const inner = answer.body?.error?.innerError
    if (inner && inner['request-id'] === '') {
      inner['request-id'] = randomUUID()
      inner['client-request-id'] = inner['request-id']
    }
  }
  const out = { id, status: answer.status, headers }
  if (answer.body !== undefined) out.body = answer.body
  return out
}

/** @param {ItemFault} fault */
function itemFault(fault) {
  if (fault.status === 429) {
    const t = graphError(
      429,
      fault.code ?? 'TooManyRequests',
      fault.message ?? 'Too many requests, please retry after the time given in the Retry-After header.'
    )
    if (fault.retryAfter !== undefined) t.headers['retry-after'] = String(fault.retryAfter)
    return t
  }
  const code =
    fault.code ??
    (fault.status === 404 ? 'Request_ResourceNotFound' : fault.status === 503 ? 'serviceNotAvailable' : fault.status >= 500 ? 'generalException' : 'BadRequest')
  const message = fault.message ?? (fault.status >= 500 ? 'The service is temporarily unavailable.' : 'The request failed.')
  const e = graphError(fault.status, code, message)
  if (fault.retryAfter !== undefined) e.headers['retry-after'] = String(fault.retryAfter)
  return e
}

/** An identity platform error answer. */
function aadError(status, error, code, message) {
  const trace = randomUUID()
  const correlation = randomUUID()
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
  return {
    status,
    headers: { 'cache-control': 'no-store, no-cache', 'x-ms-request-id': trace },
    body: {
      error,
      error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: trace,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`
    }
  }
}

/** $select: { props } (undefined when absent) or { error } for an unknown property. */
function parseSelect(query, allowed, type) {
  const raw = query.get('$select')
  if (raw === null) return { props: undefined }
  const props = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (props.length === 0) return { props: undefined }
  for (const p of props) {
    if (!allowed.has(p))
      return {
        error: graphError(
          400,
          'BadRequest',
          `Parsing OData Select and Expand failed: Could not find a property named '${p}' on type 'microsoft.graph.${type}'.`
        )
      }
  }
  if (!props.includes('id')) props.push('id')
  return { props }
}

function view(obj, props) {
  const out = {}
  for (const p of props) out[p] = obj[p] ?? (p === 'businessPhones' ? [] : null)
  return out
}

/** The query of a nextLink: the original OData options (not $skiptoken) plus the new ones, `$` kept literal. */
function odataQuery(query, extra) {
  const parts = []
  for (const [k, v] of query) if (k !== '$skiptoken') parts.push(`${k}=${encodeURIComponent(v)}`)
  for (const [k, v] of Object.entries(extra)) parts.push(`${k}=${encodeURIComponent(v)}`)
  return parts.join('&')
}

function querySignature(path, query) {
  const keep = [...query].filter(([k]) => k !== '$skiptoken').sort(([a], [b]) => a.localeCompare(b))
  let h = 2166136261
  for (const ch of `${path.toLowerCase()}?${keep.map(([k, v]) => `${k}=${v}`).join('&')}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619)
  return (h >>> 0).toString(36)
}

function encodeSkipToken(state) {
  return `RFNwdAIAAQAAA${Buffer.from(JSON.stringify(state)).toString('base64url')}`
}

function decodeSkipToken(token) {
  if (!token.startsWith('RFNwdAIAAQAAA')) return undefined
  try {
    const s = JSON.parse(Buffer.from(token.slice(13), 'base64url').toString('utf8'))
    return typeof s.o === 'number' && typeof s.s === 'string' && typeof s.e === 'number' ? s : undefined
  } catch {
    return undefined
  }
}
