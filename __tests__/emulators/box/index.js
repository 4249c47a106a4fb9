// Box API emulator, written from Box's published contract:
//  - OpenAPI: box/box-openapi `openapi.json` @ c9a878a9824344129881392e2b08f7117201e82e, vendored as the
//    slice in __tests__/contracts/box/openapi.json (operationIds below);
//  - developer.box.com: reference pages of the same operations, guides/api-calls/pagination (marker and
//    offset paging), guides/api-calls/permissions-and-errors/rate-limits (429 body, retry-after),
//    guides/authentication/client-credentials (the CCG form);
//  - shared/providers.md (Box section).
//
// What it implements:
//  - post_oauth2_token: POST /oauth2/token (on the origin, not /2.0), form-encoded Client Credentials
//    Grant: grant_type=client_credentials, client_id, client_secret, box_subject_type=enterprise,
//    box_subject_id=<enterprise id> -> 200 {access_token, expires_in, restricted_to, token_type:"bearer"};
//    RFC 6749 error bodies {error, error_description}: invalid_request (not a form / no grant_type),
//    unsupported_grant_type, invalid_client, invalid_grant.
//  - Bearer auth on /2.0: the developer token (until expireDeveloperToken()) or a minted, unexpired token;
//    else 401 with an EMPTY body and a WWW-Authenticate header (observed Box behaviour; the description
//    only has the JSON `default` error, so Prism flags this response).
//  - post_users_terminate_sessions: POST /2.0/users/terminate_sessions {user_ids: string[], user_logins: string[]}.
//    The description marks BOTH arrays required: a body without either (or with null) is refused with
//    400 "Users can not be NULL or EMPTY" (the message text for a missing array is unconfirmed: the
//    reference gives it for "no value provided"); both empty: the same 400; a non-string item:
//    400 "User id format is string"; a body that is not a JSON object: 400 "Supported payload format is JSON".
//    An empty user_logins next to non-empty user_ids is accepted (no minItems in the description).
//    Success: 202 {"message": "Request is successful, please check the admin\nevents for the status of the job"}.
//  - post_groups_terminate_sessions: POST /2.0/groups/terminate_sessions {group_ids: string[]} (required):
//    400 "Groups can not be NULL or EMPTY", "group id format is string" (the reference's wording),
//    "Supported payload format is JSON"; 202 as above.
//    Unconfirmed: the reference lists 404 "resource could not be found" for both terminate calls without
//    saying when; here an id/login/group that is not in the enterprise makes the whole call 404.
//  - get_users: GET /2.0/users with filter_term (start of name or login; external users only on their
//    whole login and only with user_type all|external), user_type (all|managed|external; default
//    managed here: unconfirmed), fields (mini representation type,id,name,login + the fields asked for),
//    limit 1..1000 (default 100: unconfirmed), and either offset paging (offset <= 10000, else 400; the
//    answer has total_count, offset, limit, order) or marker paging (usemarker=true, marker; the answer
//    has limit and next_marker, and NO total_count, as the description says). Markers are keyset markers
//    like Box's ({"type":"id","dir":"next","tail":"<last id>"} in base64url), so users added or removed
//    between pages neither shift nor repeat entries. Users are listed in id order.
//  - get_users_id: GET /2.0/users/{id} (externals too), 404 not_found otherwise.
//  - get_groups_id, get_groups_id_memberships (offset paging, total_count).
//  - Errors: {"type":"error","status","code","message","context_info","help_url","request_id"} with a
//    box-request-id header. 429 (injected or from server.setRateLimit) answers as the rate-limit guide
//    shows: code "rate_limit_exceeded" (the description's ClientError enum says too_many_requests) and a
//    retry-after header in seconds.
import { randomBytes } from 'node:crypto'
import { EmulatorServer, ProviderEmulator, bearerOf, retryAfterHeaders } from '../server.js'

export const BOX_DEVELOPER_TOKEN = 'boxdevtoken0123456789abcdefABCDEF'
export const BOX_CLIENT_ID = 'ccgclientid0a1b2c3d4e5f6a7b8c9d0e1f'
export const BOX_CLIENT_SECRET = 'ccgclientsecretZYXWVUTSRQ987654321'
export const BOX_ENTERPRISE_ID = '818181'
export const TERMINATE_MESSAGE = 'Request is successful, please check the admin\nevents for the status of the job'
/** Offsets past this are refused (400): documented for GET /users and memberships. */
export const BOX_MAX_OFFSET = 10000
/** The most entries GET /users answers in one page. */
export const BOX_MAX_LIMIT = 1000

const HELP_URL = 'http://developers.box.com/docs/#errors'
const DEFAULT_LIMIT = 100

/**
 * @typedef {{ id: string, login: string, name: string, status: string, external?: boolean, sessions?: number }} BoxUser
 * @typedef {{ id: string, name: string, members: string[] }} BoxGroup
 * @typedef {import('../server.js').EmulatorRequest} EmulatorRequest
 */

/**
 * `n` managed users with ids from `firstId` (1000001) up and logins user<i>@<domain>; every 7th is inactive.
 * Builds 100,000 users in well under a second.
 */
export function makeUsers(n, { domain = 'example.com', firstId = 1000001 } = {}) {
  const out = new Array(n)
  for (let i = 0; i < n; i++) {
    out[i] = { id: String(firstId + i), login: `user${i + 1}@${domain}`, name: `User ${i + 1}`, status: i % 7 === 6 ? 'inactive' : 'active', sessions: 2 }
  }
  return out
}

/** The operation (operationId of the description) a request is for, or undefined. */
export function boxOperation(req) {
  const { method, path } = req
  if (path === '/oauth2/token') return method === 'POST' ? 'post_oauth2_token' : undefined
  if (method === 'POST' && path === '/2.0/users/terminate_sessions') return 'post_users_terminate_sessions'
  if (method === 'POST' && path === '/2.0/groups/terminate_sessions') return 'post_groups_terminate_sessions'
  if (method !== 'GET') return undefined
  if (path === '/2.0/users') return 'get_users'
  if (/^\/2\.0\/users\/[^/]+$/.test(path)) return 'get_users_id'
  if (/^\/2\.0\/groups\/[^/]+$/.test(path)) return 'get_groups_id'
  if (/^\/2\.0\/groups\/[^/]+\/memberships$/.test(path)) return 'get_groups_id_memberships'
  return undefined
}

export class BoxEmulator extends ProviderEmulator {
  /**
   * @param {{ users?: BoxUser[], groups?: BoxGroup[], developerToken?: string, clientId?: string, clientSecret?: string,
   *   enterpriseId?: string, tokenTtlSeconds?: number }} [opts]
   */
  constructor(opts = {}) {
    super()
    /** @type {string} set by start() */
    this.origin = ''
    /** @type {string} set by start(): origin + /2.0 */
    this.baseUrl = ''
    /** @type {string} set by start(): the origin (the token endpoint is /oauth2/token) */
    this.authBaseUrl = ''
    this.developerToken = opts.developerToken ?? BOX_DEVELOPER_TOKEN
    this.developerTokenExpired = false
    this.clientId = opts.clientId ?? BOX_CLIENT_ID
    this.clientSecret = opts.clientSecret ?? BOX_CLIENT_SECRET
    this.enterpriseId = opts.enterpriseId ?? BOX_ENTERPRISE_ID
    this.tokenTtlSeconds = opts.tokenTtlSeconds ?? 3600
    /** The state reset() restores. */
    this.initialUsers = (opts.users ?? makeUsers(12)).map((u) => ({ sessions: 2, ...u }))
    this.initialGroups = (opts.groups ?? []).map((g) => ({ ...g, members: [...g.members] }))
    /** @type {Map<string, BoxUser>} */
    this.users = new Map()
    /** @type {Map<string, BoxGroup>} */
    this.groups = new Map()
    /** token -> { expiresAt, uses } for tokens minted by /oauth2/token */
    this.minted = new Map()
    /** Minted tokens expire (401) after serving this many API requests; undefined: only by time. */
    this.expireMintedAfterRequests = undefined
    /** Every accepted termination job: { kind: 'user'|'group', id, via: 'user_ids'|'user_logins'|'group_ids' } */
    this.jobs = []
    /**
     * Called with each authenticated /2.0 request (and its 1-based number among them) before it is
     * answered: the place to change state between calls (add a user to a group, remove a user...).
     * @type {((req: EmulatorRequest, n: number) => void) | undefined}
     */
    this.onApiRequest = undefined
    this.apiRequestCount = 0
    this.restoreState()
    this.server = new EmulatorServer({
      name: 'box',
      handle: (req) => this.handle(req),
      errorResponse: (status) =>
        boxError(status, status >= 500 ? 'internal_server_error' : 'bad_request', status >= 500 ? 'Internal Server Error' : 'Bad Request'),
      throttleResponse: ({ retryAfterSeconds, mode }) => {
        const e = boxError(429, 'rate_limit_exceeded', 'Request rate limit exceeded, please try again later')
        return { ...e, headers: { ...e.headers, ...retryAfterHeaders(retryAfterSeconds, mode) } }
      }
    })
  }

  async start() {
    this.origin = await this.server.start()
    this.baseUrl = `${this.origin}/2.0`
    this.authBaseUrl = this.origin
    return this.baseUrl
  }

  restoreState() {
    this.users = new Map(this.initialUsers.map((u) => [u.id, { ...u }]))
    this.groups = new Map(this.initialGroups.map((g) => [g.id, { ...g, members: [...g.members] }]))
    this.sorted = undefined
  }

  /** Back to the state the emulator was built with: users, groups, sessions, tokens, jobs, recorded requests, faults, hooks. */
  reset() {
    this.server.reset()
    this.jobs = []
    this.minted.clear()
    this.expireMintedAfterRequests = undefined
    this.developerTokenExpired = false
    this.onApiRequest = undefined
    this.apiRequestCount = 0
    this.restoreState()
  }

  // ---- state hooks (tests change the enterprise between calls with these) ----

  /** @param {BoxUser} user */
  addUser(user) {
    this.users.set(user.id, { sessions: 2, ...user })
    this.sorted = undefined
  }

  removeUser(id) {
    this.users.delete(id)
    for (const g of this.groups.values()) g.members = g.members.filter((m) => m !== id)
    this.sorted = undefined
  }

  addGroupMember(groupId, userId) {
    const g = this.groups.get(groupId)
    if (!g) throw new Error(`no group ${groupId}`)
    if (!g.members.includes(userId)) g.members.push(userId)
  }

  removeGroupMember(groupId, userId) {
    const g = this.groups.get(groupId)
    if (g) g.members = g.members.filter((m) => m !== userId)
  }

  /** Developer tokens last 60 minutes: from now on this one is refused (401) like an expired one. */
  expireDeveloperToken() {
    this.developerTokenExpired = true
  }

  /** Every minted token stops working now (as if it expired). */
  expireMintedTokens() {
    for (const t of this.minted.values()) t.expiresAt = 0
  }

  // ---- what happened ----

  /** Requests to the terminate endpoints. */
  terminateRequests() {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/terminate_sessions'))
  }

  userTerminateRequests() {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/2.0/users/terminate_sessions')
  }

  groupTerminateRequests() {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/2.0/groups/terminate_sessions')
  }

  tokenRequests() {
    return this.requests.filter((r) => r.path === '/oauth2/token')
  }

  /** GET /users calls (enterprise listing, login lookups and filters). */
  userListRequests() {
    return this.requests.filter((r) => r.method === 'GET' && r.path === '/2.0/users')
  }

  /** GET /users/{id} calls. */
  userLookupRequests() {
    return this.requests.filter((r) => boxOperation(r) === 'get_users_id')
  }

  /** How many requests each operation received (operationIds; `other` for anything else). */
  callCounts() {
    /** @type {Record<string, number>} */
    const out = {}
    for (const r of this.requests) {
      const op = boxOperation(r) ?? 'other'
      out[op] = (out[op] ?? 0) + 1
    }
    return out
  }

  /** Ids of the users whose sessions Box accepted to end: by id, by login, or as members of a group. */
  terminatedUserIds() {
    const out = new Set()
    for (const j of this.jobs) {
      if (j.kind === 'user') out.add(j.id)
      else for (const m of j.members ?? []) out.add(m)
    }
    return [...out]
  }

  // ---- the API ----

  /** @param {EmulatorRequest} req */
  handle(req) {
    if (req.path === '/oauth2/token') {
      if (req.method !== 'POST') return boxError(405, 'method_not_allowed', 'Method Not Allowed')
      return this.mintToken(req)
    }
    if (!req.path.startsWith('/2.0/')) return boxError(404, 'not_found', 'Not Found')
    const auth = this.checkBearer(req)
    if (auth) return auth
    this.apiRequestCount++
    this.onApiRequest?.(req, this.apiRequestCount)
    const path = req.path.slice(4)
    if (path === '/users/terminate_sessions') return req.method === 'POST' ? this.terminateUsers(req) : notAllowed()
    if (path === '/groups/terminate_sessions') return req.method === 'POST' ? this.terminateGroups(req) : notAllowed()
    if (path === '/users') return req.method === 'GET' ? this.listUsers(req.query) : notAllowed()
    let m = /^\/users\/([^/]+)$/.exec(path)
    if (m) {
      if (req.method !== 'GET') return notAllowed()
      const u = this.users.get(decodeURIComponent(m[1]))
      return u ? { status: 200, body: userView(u, req.query.get('fields')) } : boxError(404, 'not_found', 'Not Found')
    }
    m = /^\/groups\/([^/]+)$/.exec(path)
    if (m) {
      if (req.method !== 'GET') return notAllowed()
      const g = this.groups.get(decodeURIComponent(m[1]))
      return g ? { status: 200, body: { type: 'group', id: g.id, name: g.name, group_type: 'managed_group' } } : boxError(404, 'not_found', 'Not Found')
    }
    m = /^\/groups\/([^/]+)\/memberships$/.exec(path)
    if (m) {
      if (req.method !== 'GET') return notAllowed()
      return this.listMemberships(decodeURIComponent(m[1]), req.query)
    }
    return boxError(404, 'not_found', 'Not Found')
  }

  /** undefined when the bearer token is good; the 401 answer otherwise. */
  checkBearer(req) {
    const token = bearerOf(req)
    if (token !== undefined && token === this.developerToken && !this.developerTokenExpired) return undefined
    const minted = token === undefined ? undefined : this.minted.get(token)
    if (minted && Date.now() < minted.expiresAt) {
      minted.uses++
      if (this.expireMintedAfterRequests !== undefined && minted.uses >= this.expireMintedAfterRequests) minted.expiresAt = 0
      return undefined
    }
    const description = token === undefined ? 'The access token was not found.' : 'The access token provided is invalid.'
    return {
      status: 401,
      headers: { 'www-authenticate': `Bearer realm="Service", error="invalid_token", error_description="${description}"`, 'box-request-id': requestId() }
    }
  }

  mintToken(req) {
    const ct = String(req.headers['content-type'] ?? '')
    if (!ct.startsWith('application/x-www-form-urlencoded')) {
      return oauthError('invalid_request', 'Invalid grant_type parameter or parameter missing')
    }
    const form = new URLSearchParams(req.bodyText)
    if (form.get('grant_type') !== 'client_credentials') {
      return form.get('grant_type')
        ? oauthError('unsupported_grant_type', 'Grant type is not supported')
        : oauthError('invalid_request', 'Invalid grant_type parameter or parameter missing')
    }
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return oauthError('invalid_client', 'The client credentials are invalid')
    }
    if (form.get('box_subject_type') !== 'enterprise' || form.get('box_subject_id') !== this.enterpriseId) {
      return oauthError('invalid_grant', 'Grant credentials are invalid')
    }
    const token = `ccg${randomBytes(16).toString('hex')}`
    this.minted.set(token, { expiresAt: Date.now() + this.tokenTtlSeconds * 1000, uses: 0 })
    return { status: 200, body: { access_token: token, expires_in: this.tokenTtlSeconds, restricted_to: [], token_type: 'bearer' } }
  }

  /** The body checks both terminate endpoints share; returns the parsed object or the 400 answer. */
  jsonBody(req) {
    const ct = String(req.headers['content-type'] ?? '')
    if (!ct.startsWith('application/json') || req.jsonError || req.json === null || typeof req.json !== 'object' || Array.isArray(req.json)) {
      return { error: boxError(400, 'bad_request', 'Supported payload format is JSON') }
    }
    return { body: /** @type {Record<string, unknown>} */ (req.json) }
  }

  terminateUsers(req) {
    const { body, error } = this.jsonBody(req)
    if (error) return error
    const ids = body.user_ids
    const logins = body.user_logins
    // Both arrays are required by the description: a missing (or null) one is refused.
    if (ids === undefined || ids === null || logins === undefined || logins === null) return boxError(400, 'bad_request', 'Users can not be NULL or EMPTY')
    if (!Array.isArray(ids) || !Array.isArray(logins)) return boxError(400, 'bad_request', 'Supported payload format is JSON')
    if (ids.length === 0 && logins.length === 0) return boxError(400, 'bad_request', 'Users can not be NULL or EMPTY')
    if (ids.some((v) => typeof v !== 'string') || logins.some((v) => typeof v !== 'string')) return boxError(400, 'bad_request', 'User id format is string')
    const byLogin = logins.length > 0 ? new Map([...this.users.values()].map((u) => [u.login.toLowerCase(), u])) : new Map()
    const targets = [
      ...ids.map((id) => ({ user: this.users.get(id), via: 'user_ids', given: id })),
      ...logins.map((l) => ({ user: byLogin.get(l.toLowerCase()), via: 'user_logins', given: l }))
    ]
    const missing = targets.filter((t) => t.user === undefined).map((t) => t.given)
    // Unconfirmed: the reference lists 404 "resource could not be found" without saying when.
    if (missing.length > 0) return boxError(404, 'not_found', `Could not find users: ${missing.join(', ')}`)
    for (const t of targets) {
      t.user.sessions = 0
      this.jobs.push({ kind: 'user', id: t.user.id, via: t.via })
    }
    return accepted()
  }

  terminateGroups(req) {
    const { body, error } = this.jsonBody(req)
    if (error) return error
    const ids = body.group_ids
    if (ids === undefined || ids === null) return boxError(400, 'bad_request', 'Groups can not be NULL or EMPTY')
    if (!Array.isArray(ids)) return boxError(400, 'bad_request', 'Supported payload format is JSON')
    if (ids.length === 0) return boxError(400, 'bad_request', 'Groups can not be NULL or EMPTY')
    if (ids.some((v) => typeof v !== 'string')) return boxError(400, 'bad_request', 'group id format is string')
    const missing = ids.filter((id) => !this.groups.has(id))
    if (missing.length > 0) return boxError(404, 'not_found', `Could not find groups: ${missing.join(', ')}`)
    for (const id of ids) {
      const members = [...this.groups.get(id).members]
      for (const uid of members) {
        const u = this.users.get(uid)
        if (u) u.sessions = 0
      }
      this.jobs.push({ kind: 'group', id, via: 'group_ids', members })
    }
    return accepted()
  }

  /** Users in id order (cached until the set changes). */
  sortedUsers() {
    this.sorted ??= [...this.users.values()].sort((a, b) => compareIds(a.id, b.id))
    return this.sorted
  }

  listUsers(query) {
    const userType = query.get('user_type') ?? 'managed'
    if (!['all', 'managed', 'external'].includes(userType)) return invalidParam('user_type', `Invalid value '${userType}'.`)
    const limitRaw = query.get('limit') ?? String(DEFAULT_LIMIT)
    if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > BOX_MAX_LIMIT)
      return invalidParam('limit', `Invalid value '${limitRaw}'. Must be between 1 and ${BOX_MAX_LIMIT}.`)
    const limit = Number(limitRaw)
    const term = (query.get('filter_term') ?? '').toLowerCase()
    const sorted = this.sortedUsers()
    const all =
      term === '' && userType !== 'external'
        ? sorted.filter((u) => !u.external)
        : sorted.filter((u) => {
            if (u.external) {
              // Externals only with user_type all/external and a filter_term that is their whole login.
              return userType !== 'managed' && term !== '' && u.login.toLowerCase() === term
            }
            if (userType === 'external') return false
            return term === '' || u.login.toLowerCase().startsWith(term) || u.name.toLowerCase().startsWith(term)
          })
    const fields = query.get('fields')
    const useMarker = query.get('usemarker') === 'true'
    if (useMarker) {
      if (query.has('offset')) return invalidParam('offset', 'Offset and marker pagination cannot be used together.')
      let start = 0
      const marker = query.get('marker')
      if (marker !== null && marker !== '') {
        const tail = decodeMarker(marker)
        if (tail === undefined) return invalidParam('marker', `Invalid value '${marker}'.`)
        start = firstAfter(all, tail)
      }
      const page = all.slice(start, start + limit)
      const next = start + limit < all.length ? encodeMarker(page[page.length - 1].id) : null
      return { status: 200, body: { entries: page.map((u) => userView(u, fields)), limit, next_marker: next } }
    }
    const offsetRaw = query.get('offset') ?? '0'
    if (!/^\d+$/.test(offsetRaw)) return invalidParam('offset', `Invalid value '${offsetRaw}'.`)
    const offset = Number(offsetRaw)
    if (offset > BOX_MAX_OFFSET) {
      return boxError(400, 'bad_request', `Queries with offset greater than ${BOX_MAX_OFFSET} are not supported. Use marker-based pagination (usemarker=true).`)
    }
    return {
      status: 200,
      body: {
        entries: all.slice(offset, offset + limit).map((u) => userView(u, fields)),
        limit,
        offset,
        total_count: all.length,
        order: [{ by: 'id', direction: 'ASC' }]
      }
    }
  }

  listMemberships(groupId, query) {
    const g = this.groups.get(groupId)
    if (!g) return boxError(404, 'not_found', 'Not Found')
    const limitRaw = query.get('limit') ?? String(DEFAULT_LIMIT)
    if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > BOX_MAX_LIMIT)
      return invalidParam('limit', `Invalid value '${limitRaw}'. Must be between 1 and ${BOX_MAX_LIMIT}.`)
    const offsetRaw = query.get('offset') ?? '0'
    if (!/^\d+$/.test(offsetRaw)) return invalidParam('offset', `Invalid value '${offsetRaw}'.`)
    const limit = Number(limitRaw)
    const offset = Number(offsetRaw)
    if (offset > BOX_MAX_OFFSET) return boxError(400, 'bad_request', `Queries with offset greater than ${BOX_MAX_OFFSET} are not supported.`)
    const entries = g.members.slice(offset, offset + limit).map((uid, i) => {
      const u = this.users.get(uid)
      return {
        type: 'group_membership',
        id: `${groupId}${offset + i}`,
        user: { type: 'user', id: uid, name: u?.name ?? '', login: u?.login ?? '' },
        group: { type: 'group', id: g.id, name: g.name },
        role: 'member'
      }
    })
    return { status: 200, body: { total_count: g.members.length, limit, offset, order: [{ by: 'id', direction: 'ASC' }], entries } }
  }
}

function requestId() {
  return randomBytes(6).toString('hex')
}

/** A Box API error body with its request id also in the box-request-id header. */
export function boxError(status, code, message, contextInfo) {
  const id = requestId()
  return {
    status,
    headers: { 'box-request-id': `0${id}` },
    body: { type: 'error', status, code, message, ...(contextInfo ? { context_info: contextInfo } : {}), help_url: HELP_URL, request_id: id }
  }
}

function invalidParam(name, reason) {
  return boxError(400, 'bad_request', 'Bad Request', { errors: [{ reason: 'invalid_parameter', name, message: reason }] })
}

function oauthError(error, description) {
  return { status: 400, body: { error, error_description: description } }
}

function accepted() {
  return { status: 202, headers: { 'box-request-id': `0${requestId()}` }, body: { message: TERMINATE_MESSAGE } }
}

function notAllowed() {
  return boxError(405, 'method_not_allowed', 'Method Not Allowed')
}

/** Numeric ids compared as numbers (any length), then as text. */
function compareIds(a, b) {
  if (a.length !== b.length && /^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/** Index of the first user whose id sorts after `tail` (binary search over an id-sorted list). */
function firstAfter(list, tail) {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareIds(list[mid].id, tail) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** A keyset marker as Box shapes them: base64url of {"type":"id","dir":"next","tail":"<last id>"}. */
function encodeMarker(lastId) {
  return Buffer.from(JSON.stringify({ type: 'id', dir: 'next', tail: lastId })).toString('base64url')
}

function decodeMarker(marker) {
  try {
    const m = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8'))
    return m && m.type === 'id' && m.dir === 'next' && typeof m.tail === 'string' ? m.tail : undefined
  } catch {
    return undefined
  }
}

/**
 * The user object. With `fields`, Box answers the mini representation (type, id, name, login) plus the
 * fields asked for; without, the standard fields.
 */
function userView(u, fields) {
  const full = { type: 'user', id: u.id, name: u.name, login: u.login, status: u.status, created_at: '2024-01-01T00:00:00-08:00' }
  if (!fields) return full
  const out = { type: 'user', id: u.id, name: u.name, login: u.login }
  for (const f of fields.split(',').map((s) => s.trim())) if (f in full) out[f] = full[f]
  return out
}
