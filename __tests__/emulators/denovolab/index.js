// DeNovoLab DNL Class 4 admin API emulator, from the published contract (shared/seeds/003,
// shared/providers.md) and what the vendor's own web client sends:
// - header X-Auth-Token; none -> 401 code 110 auth_token_not_provided; wrong -> 401 code 120 incorrect_token_provided
// - GET /auth?email_or_name=&password=&expire_after_minutes= -> {"success":true,"payload":{"token","user_type"}}
// - GET /user/list and GET /user with the 13 filters, page (0-based) / per_page / order_by / order_dir
//   -> {"success":true,"payload":{"items":[...],"total","page","per_page"}}
// - GET /user/{id} -> {"success":true,"payload":{...}}; DELETE /user/{id} -> {"success":true}
// - DELETE /user?<filters> deletes EVERY match (with no filter: every user) — the documented bulk call
// - unknown id -> 404 {"error_type":"Object not found error","success":false}
// Assumptions (not documented): unknown query parameters are ignored (as many servers do — the
// danger this action guards against); a malformed filter value or page answers 400 with the
// unauthenticated_error-like shape {"error_type":"validation_error","success":false,"error":{...}};
// a wrong login answers 401 code 130 reason incorrect_credentials.
import { EmulatorServer, ProviderEmulator } from '../server.js'

export const DNL_ADMIN_TOKEN = 'dnl-admin-token-5c1e9a77b2'
export const DNL_USERNAME = 'ops-admin'
export const DNL_PASSWORD = 'p@ss word+&=!secret'

const FILTER_KEYS = [
  'active',
  'create_time_gt',
  'create_time_lt',
  'email',
  'is_online',
  'last_login_time_gt',
  'last_login_time_lt',
  'login_ip',
  'name',
  'role_id',
  'user_id',
  'user_id_in',
  'user_type'
]

const ROLES = { 1: 'Admin', 2: 'Carrier', 3: 'Agent', 4: 'Reseller' }

/**
 * @typedef {{ user_id: number, name: string, email: string, role_id: number, user_type: string, active: boolean,
 *   is_online: boolean, create_time: string, last_login_time: string | null, login_ip: string | null }} DnlUser
 */

/** Makes `n` users with every filterable field set, predictable from the index. */
export function makeUsers(n, { from = 1, prefix = 'user', overrides = {} } = {}) {
  return Array.from({ length: n }, (_, i) => {
    const id = from + i
    const day = 1 + (i % 28)
    return {
      user_id: id,
      name: `${prefix}${id}`,
      email: `${prefix}${id}@example.com`,
      role_id: 1 + (i % 4),
      user_type: ['client', 'agent', 'admin'][i % 3],
      active: i % 2 === 0,
      is_online: i % 5 === 0,
      create_time: `2024-01-${String(day).padStart(2, '0')}T10:00:00Z`,
      last_login_time: i % 7 === 6 ? null : `2025-03-${String(day).padStart(2, '0')}T08:30:00Z`,
      login_ip: i % 7 === 6 ? null : `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      ...overrides
    }
  })
}

function parseTime(value) {
  if (/^\d{1,11}$/.test(value)) return Number(value) * 1000
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined
  let v = value.replace(' ', 'T')
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) v += 'T00:00:00'
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(v)) v += 'Z'
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}

export class DnlEmulator extends ProviderEmulator {
  /** @param {{ token?: string, users?: DnlUser[], listPaths?: string[], perPageMax?: number }} [opts] */
  constructor(opts = {}) {
    super()
    /** @type {string} set by start() */
    this.baseUrl = ''
    this.adminToken = opts.token ?? DNL_ADMIN_TOKEN
    /** tokens accepted in X-Auth-Token */
    this.tokens = new Set([this.adminToken])
    this.credentials = new Map([[DNL_USERNAME, DNL_PASSWORD]])
    /** @type {Map<number, DnlUser>} */
    this.users = new Map((opts.users ?? makeUsers(10)).map((u) => [u.user_id, { ...u }]))
    /** which list routes exist: '/user/list' (the web client's) and/or '/user' */
    this.listPaths = opts.listPaths ?? ['/user/list', '/user']
    this.perPageMax = opts.perPageMax ?? 100
    /** filter keys this server silently ignores (an older DNL build) */
    this.ignoredFilters = new Set()
    /** @type {(() => void) | undefined} called once, just before the first DELETE is handled */
    this.beforeFirstDelete = undefined
    /** after this many successful deletes, every token is revoked (the next call answers 401 code 120) */
    this.revokeAfterDeletes = undefined
    this.deleted = []
    this.bulkDeletes = 0
    this.minted = []
    /** A minted token stops working (401 code 120, as when it expires) after serving this many requests. */
    this.expireMintedAfterRequests = undefined
    /** token -> requests it served */
    this.mintedUses = new Map()
    this.server = new EmulatorServer({
      name: 'denovolab',
      handle: (req) => this.handle(req),
      errorResponse: (status) => ({ status, body: { error_type: status >= 500 ? 'internal_error' : 'error', success: false } })
    })
  }

  async start() {
    const origin = await this.server.start()
    this.baseUrl = `${origin}/v1`
    return this.baseUrl
  }

  resetState(users) {
    this.server.reset()
    this.users = new Map(users.map((u) => [u.user_id, { ...u }]))
    this.tokens = new Set([this.adminToken])
    this.ignoredFilters = new Set()
    this.beforeFirstDelete = undefined
    this.revokeAfterDeletes = undefined
    this.listPaths = ['/user/list', '/user']
    this.deleted = []
    this.bulkDeletes = 0
    this.minted = []
    this.expireMintedAfterRequests = undefined
    this.mintedUses = new Map()
  }

  handle(req) {
    if (!req.path.startsWith('/v1/')) return notFound()
    const path = req.path.slice(3)
    if (path === '/auth' && req.method === 'GET') return this.login(req.query)

    const token = req.headers['x-auth-token']
    if (typeof token !== 'string' || token === '') {
      return unauthenticated(110, 'No header X-Auth-Token present', 'auth_token_not_provided')
    }
    if (!this.tokens.has(token)) return unauthenticated(120, 'Incorrect token provided', 'incorrect_token_provided')
    if (this.mintedUses.has(token)) {
      const uses = (this.mintedUses.get(token) ?? 0) + 1
      this.mintedUses.set(token, uses)
      if (this.expireMintedAfterRequests !== undefined && uses > this.expireMintedAfterRequests) {
        this.tokens.delete(token)
        return unauthenticated(120, 'Incorrect token provided', 'incorrect_token_provided')
      }
    }

    if (this.listPaths.includes(path) && req.method === 'GET') return this.list(req.query)
    if (path === '/user' && req.method === 'DELETE') return this.bulkDelete(req.query)
    const one = /^\/user\/([^/]+)$/.exec(path)
    if (one && one[1] !== 'list') {
      if (!/^\d+$/.test(one[1])) return notFound()
      const id = Number(one[1])
      if (req.method === 'GET') {
        const u = this.users.get(id)
        return u ? { status: 200, body: { success: true, payload: { ...u, role_name: ROLES[u.role_id] ?? null } } } : notFound()
      }
      if (req.method === 'DELETE') return this.deleteOne(id)
      return methodNotAllowed()
    }
    return notFound()
  }

  login(query) {
    const who = query.get('email_or_name') ?? ''
    const password = query.get('password') ?? ''
    const minutes = query.get('expire_after_minutes')
    if (minutes !== null && !/^\d+$/.test(minutes)) return invalid('expire_after_minutes must be a whole number')
    if (!this.credentials.has(who) || this.credentials.get(who) !== password) {
      return unauthenticated(130, 'Incorrect email/name or password', 'incorrect_credentials')
    }
    const token = `dnl-minted-${this.minted.length + 1}-${Math.random().toString(36).slice(2, 12)}`
    this.minted.push({ who, token, minutes: minutes === null ? undefined : Number(minutes) })
    this.tokens.add(token)
    this.mintedUses.set(token, 0)
    return { status: 200, body: { success: true, payload: { token, user_type: 'admin' } } }
  }

  /** @returns {{ error?: object, users?: DnlUser[] }} */
  match(query) {
    const checks = []
    for (const key of FILTER_KEYS) {
      const raw = query.get(key)
      if (raw === null || this.ignoredFilters.has(key)) continue
      if (key === 'active' || key === 'is_online') {
        if (raw !== 'true' && raw !== 'false') return { error: invalid(`${key} must be true or false`) }
        checks.push((u) => u[key] === (raw === 'true'))
      } else if (key.endsWith('_gt') || key.endsWith('_lt')) {
        const t = parseTime(raw)
        if (t === undefined) return { error: invalid(`${key} is not a valid time`) }
        const field = key.slice(0, -3)
        const gt = key.endsWith('_gt')
        checks.push((u) => u[field] !== null && (gt ? Date.parse(u[field]) > t : Date.parse(u[field]) < t))
      } else if (key === 'role_id' || key === 'user_id') {
        if (!/^\d+$/.test(raw)) return { error: invalid(`${key} must be an integer`) }
        checks.push((u) => u[key] === Number(raw))
      } else if (key === 'user_id_in') {
        const ids = raw.split(',')
        if (ids.some((p) => !/^\d+$/.test(p))) return { error: invalid('user_id_in must be integers separated by commas') }
        const set = new Set(ids.map(Number))
        checks.push((u) => set.has(u.user_id))
      } else if (key === 'email') {
        checks.push((u) => u.email.toLowerCase() === raw.toLowerCase())
      } else if (key === 'name') {
        checks.push((u) => u.name.toLowerCase().includes(raw.toLowerCase()))
      } else {
        checks.push((u) => u[key] === raw)
      }
    }
    return { users: [...this.users.values()].filter((u) => checks.every((c) => c(u))) }
  }

  list(query) {
    const page = query.get('page') ?? '0'
    const perPage = query.get('per_page') ?? '10'
    if (!/^\d+$/.test(page)) return invalid('page must be a whole number from 0')
    if (!/^\d+$/.test(perPage) || Number(perPage) < 1 || Number(perPage) > this.perPageMax) return invalid(`per_page must be from 1 to ${this.perPageMax}`)
    const { error, users } = this.match(query)
    if (error) return error
    const dir = query.get('order_dir') === 'desc' ? -1 : 1
    const sorted = users.sort((a, b) => (a.user_id - b.user_id) * dir)
    const p = Number(page)
    const n = Number(perPage)
    const items = sorted.slice(p * n, (p + 1) * n).map((u) => ({ ...u, role_name: ROLES[u.role_id] ?? null }))
    return { status: 200, body: { success: true, payload: { items, total: sorted.length, page: p, per_page: n } } }
  }

  fireHook() {
    if (this.beforeFirstDelete) {
      const hook = this.beforeFirstDelete
      this.beforeFirstDelete = undefined
      hook()
    }
  }

  /** The documented "delete multiple found Users": every match goes, with no filter every user. */
  bulkDelete(query) {
    this.fireHook()
    const { error, users } = this.match(query)
    if (error) return error
    this.bulkDeletes++
    for (const u of users) {
      this.users.delete(u.user_id)
      this.deleted.push(u.user_id)
    }
    return { status: 200, body: { success: true } }
  }

  deleteOne(id) {
    this.fireHook()
    if (!this.users.has(id)) return notFound()
    this.users.delete(id)
    this.deleted.push(id)
    if (this.revokeAfterDeletes !== undefined && this.deleted.length >= this.revokeAfterDeletes) this.tokens.clear()
    return { status: 200, body: { success: true } }
  }
}

function unauthenticated(code, message, reason) {
  return { status: 401, body: { error_type: 'unauthenticated_error', success: false, error: { message, code, reason } } }
}

function notFound() {
  return { status: 404, body: { error_type: 'Object not found error', success: false } }
}

function invalid(message) {
  return { status: 400, body: { error_type: 'validation_error', success: false, error: { message, code: 400, reason: 'invalid_parameter' } } }
}

function methodNotAllowed() {
  return { status: 405, body: { error_type: 'method_not_allowed', success: false } }
}
