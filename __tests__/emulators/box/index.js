// Box API emulator, from the published contract (shared/seeds/002, shared/providers.md, developer.box.com):
//  - POST /oauth2/token (form-encoded Client Credentials Grant: grant_type, client_id, client_secret,
//    box_subject_type=enterprise, box_subject_id=<enterprise id>) -> {access_token, expires_in, token_type}
//    errors as RFC 6749 bodies: invalid_client, invalid_grant, unsupported_grant_type, invalid_request.
//  - Bearer auth on /2.0: a developer token or a minted, unexpired token; else 401 with an empty body
//    and a WWW-Authenticate header.
//  - POST /2.0/users/terminate_sessions {user_ids, user_logins}, POST /2.0/groups/terminate_sessions
//    {group_ids}: 202 {"message": "Request is successful, please check the admin\nevents for the status of the job"}
//    and the documented 400s: "Users can not be NULL or EMPTY", "User id format is string",
//    "Supported payload format is JSON".
//  - GET /2.0/users (filter_term, user_type, fields, limit<=1000, usemarker/marker, offset<=10000),
//    GET /2.0/users/{id}, GET /2.0/groups/{id}, GET /2.0/groups/{id}/memberships.
//  - Errors: {"type":"error","status","code","message","context_info","help_url","request_id"} with a
//    box-request-id header; 429 carries retry-after.
import { randomBytes } from 'node:crypto'
import { EmulatorServer, ProviderEmulator, bearerOf, retryAfterHeaders } from '../server.js'

export const BOX_DEVELOPER_TOKEN = 'boxdevtoken0123456789abcdefABCDEF'
export const BOX_CLIENT_ID = 'ccgclientid0a1b2c3d4e5f6a7b8c9d0e1f'
export const BOX_CLIENT_SECRET = 'ccgclientsecretZYXWVUTSRQ987654321'
export const BOX_ENTERPRISE_ID = '818181'
export const TERMINATE_MESSAGE = 'Request is successful, please check the admin\nevents for the status of the job'

const HELP_URL = 'http://developers.box.com/docs/#errors'
const MAX_OFFSET = 10000
const MAX_LIMIT = 1000

/**
 * @typedef {{ id: string, login: string, name: string, status: string, external?: boolean, sessions?: number }} BoxUser
 * @typedef {{ id: string, name: string, members: string[] }} BoxGroup
 */

/** `n` managed users with ids from 1000001 and logins user<i>@example.com. */
export function makeUsers(n, { domain = 'example.com', firstId = 1000001 } = {}) {
  return Array.from({ length: n }, (_, i) => ({
    id: String(firstId + i),
    login: `user${i + 1}@${domain}`,
    name: `User ${i + 1}`,
    status: i % 7 === 6 ? 'inactive' : 'active',
    sessions: 2
  }))
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
    /** @type {string} set by start() */
    this.baseUrl = ''
    /** @type {string} set by start() */
    this.authBaseUrl = ''
    this.developerToken = opts.developerToken ?? BOX_DEVELOPER_TOKEN
    this.clientId = opts.clientId ?? BOX_CLIENT_ID
    this.clientSecret = opts.clientSecret ?? BOX_CLIENT_SECRET
    this.enterpriseId = opts.enterpriseId ?? BOX_ENTERPRISE_ID
    this.tokenTtlSeconds = opts.tokenTtlSeconds ?? 3600
    /** @type {Map<string, BoxUser>} */
    this.users = new Map((opts.users ?? makeUsers(12)).map((u) => [u.id, { sessions: 2, ...u }]))
    /** @type {Map<string, BoxGroup>} */
    this.groups = new Map((opts.groups ?? []).map((g) => [g.id, { ...g, members: [...g.members] }]))
    /** token -> { expiresAt, uses } for tokens minted by /oauth2/token */
    this.minted = new Map()
    /** Minted tokens expire (401) after serving this many API requests; undefined: only by time. */
    this.expireMintedAfterRequests = undefined
    /** Every accepted termination job: { kind: 'user'|'group', id, via: 'user_ids'|'user_logins'|'group_ids' } */
    this.jobs = []
    this.server = new EmulatorServer({
      name: 'box',
      handle: (req) => this.handle(req),
      errorResponse: (status) => boxError(status, status >= 500 ? 'internal_server_error' : 'bad_request', status >= 500 ? 'Internal Server Error' : 'Bad Request'),
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

  /** Requests to the terminate endpoints. */
  terminateRequests() {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/terminate_sessions'))
  }

  tokenRequests() {
    return this.requests.filter((r) => r.path === '/oauth2/token')
  }

  /** Every minted token stops working now (as if it expired). */
  expireMintedTokens() {
    for (const t of this.minted.values()) t.expiresAt = 0
  }

  reset() {
    this.server.reset()
    this.jobs = []
    this.minted.clear()
    this.expireMintedAfterRequests = undefined
    for (const u of this.users.values()) u.sessions = 2
  }

  /** @param {import('../server.js').EmulatorRequest} req */
  handle(req) {
    if (req.path === '/oauth2/token') {
      if (req.method !== 'POST') return boxError(405, 'method_not_allowed', 'Method Not Allowed')
      return this.mintToken(req)
    }
    if (!req.path.startsWith('/2.0/')) return boxError(404, 'not_found', 'Not Found')
    const auth = this.checkBearer(req)
    if (auth) return auth
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
    if (token !== undefined && token === this.developerToken) return undefined
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
      return form.get('grant_type') ? oauthError('unsupported_grant_type', 'Grant type is not supported') : oauthError('invalid_request', 'Invalid grant_type parameter or parameter missing')
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
    const ids = body.user_ids ?? []
    const logins = body.user_logins ?? []
    if (!Array.isArray(ids) || !Array.isArray(logins)) return boxError(400, 'bad_request', 'Supported payload format is JSON')
    if (ids.length === 0 && logins.length === 0) return boxError(400, 'bad_request', 'Users can not be NULL or EMPTY')
    if (ids.some((v) => typeof v !== 'string') || logins.some((v) => typeof v !== 'string')) return boxError(400, 'bad_request', 'User id format is string')
    const byLogin = new Map([...this.users.values()].map((u) => [u.login.toLowerCase(), u]))
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
    const ids = body.group_ids ?? []
    if (!Array.isArray(ids)) return boxError(400, 'bad_request', 'Supported payload format is JSON')
    if (ids.length === 0) return boxError(400, 'bad_request', 'Groups can not be NULL or EMPTY')
    if (ids.some((v) => typeof v !== 'string')) return boxError(400, 'bad_request', 'Group id format is string')
    const missing = ids.filter((id) => !this.groups.has(id))
    if (missing.length > 0) return boxError(404, 'not_found', `Could not find groups: ${missing.join(', ')}`)
    for (const id of ids) {
      for (const uid of this.groups.get(id).members) {
        const u = this.users.get(uid)
        if (u) u.sessions = 0
      }
      this.jobs.push({ kind: 'group', id, via: 'group_ids' })
    }
    return accepted()
  }

  listUsers(query) {
    const userType = query.get('user_type') ?? 'managed'
    if (!['all', 'managed', 'external'].includes(userType)) return invalidParam('user_type', `Invalid value '${userType}'.`)
    const limitRaw = query.get('limit') ?? '100'
    if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > MAX_LIMIT) return invalidParam('limit', `Invalid value '${limitRaw}'. Must be between 1 and ${MAX_LIMIT}.`)
    const limit = Number(limitRaw)
    const term = (query.get('filter_term') ?? '').toLowerCase()
    const all = [...this.users.values()].filter((u) => {
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
        start = decodeMarker(marker)
        if (start === undefined) return invalidParam('marker', `Invalid value '${marker}'.`)
      }
      const page = all.slice(start, start + limit)
      const next = start + limit < all.length ? encodeMarker(start + limit) : null
      return { status: 200, body: { entries: page.map((u) => userView(u, fields)), limit, next_marker: next } }
    }
    const offsetRaw = query.get('offset') ?? '0'
    if (!/^\d+$/.test(offsetRaw)) return invalidParam('offset', `Invalid value '${offsetRaw}'.`)
    const offset = Number(offsetRaw)
    if (offset > MAX_OFFSET) {
      return boxError(400, 'bad_request', `Queries with offset greater than ${MAX_OFFSET} are not supported. Use marker-based pagination (usemarker=true).`)
    }
    return { status: 200, body: { entries: all.slice(offset, offset + limit).map((u) => userView(u, fields)), limit, offset, total_count: all.length } }
  }

  listMemberships(groupId, query) {
    const g = this.groups.get(groupId)
    if (!g) return boxError(404, 'not_found', 'Not Found')
    const limit = Math.min(MAX_LIMIT, Number(query.get('limit') ?? '100') || 100)
    const offset = Number(query.get('offset') ?? '0') || 0
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

function encodeMarker(index) {
  return Buffer.from(`m:${index}`).toString('base64url')
}

function decodeMarker(marker) {
  const m = /^m:(\d+)$/.exec(Buffer.from(marker, 'base64url').toString('utf8'))
  return m ? Number(m[1]) : undefined
}

/** The user object, cut to the requested fields (Box always adds type and id). */
function userView(u, fields) {
  const full = { type: 'user', id: u.id, name: u.name, login: u.login, status: u.status, created_at: '2024-01-01T00:00:00-08:00' }
  if (!fields) return full
  const out = { type: 'user', id: u.id }
  for (const f of fields.split(',').map((s) => s.trim())) if (f in full) out[f] = full[f]
  return out
}
