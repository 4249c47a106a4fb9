// IPRoyal residential API emulator, from the published contract (shared/seeds/000, shared/providers.md):
// Bearer auth; DELETE /v1/sessions {"residential_user_hashes":[...]}; GET /v1/residential-subusers
// with page/per_page/search paging; GET /v1/residential-subusers/{hash}; GET /v1/me.
// Errors use both documented shapes: {"message"} (401, 404, 429) and {"error":{code,message,detailed_messages}} (422).
import { EmulatorServer, ProviderEmulator, bearerOf, retryAfterHeaders } from '../server.js'

export const IPROYAL_TOKEN = 'iproyal-test-token-9f3c2b7e'

/**
 * @typedef {{ hash: string, username: string, traffic_available: number, traffic_used: number, sessions: number }} SubUser
 */

/** Makes `n` sub-users with predictable hashes and names. */
export function makeSubUsers(n, prefix = 'user') {
  return Array.from({ length: n }, (_, i) => ({
    hash: `h${String(i + 1).padStart(6, '0')}${prefix.slice(0, 3)}`,
    username: `${prefix}${i + 1}`,
    traffic_available: 10 - (i % 10),
    traffic_used: i % 10,
    sessions: 3
  }))
}

export class IPRoyalEmulator extends ProviderEmulator {
  /** @param {{ token?: string, subUsers?: SubUser[], mainHash?: string }} [opts] */
  constructor(opts = {}) {
    super()
    /** @type {string} set by start() */
    this.baseUrl = ''
    this.token = opts.token ?? IPROYAL_TOKEN
    /** @type {Map<string, SubUser>} */
    this.subUsers = new Map((opts.subUsers ?? makeSubUsers(5)).map((u) => [u.hash, { ...u }]))
    this.mainHash = opts.mainHash ?? 'mainaccounthash01'
    this.mainSessions = 2
    /** hash -> number of times its sessions were reset */
    this.resets = new Map()
    this.server = new EmulatorServer({
      name: 'iproyal',
      handle: (req) => this.handle(req),
      errorResponse: (status) => ({ status, body: { message: status >= 500 ? 'Server Error' : 'Error' } }),
      throttleResponse: ({ retryAfterSeconds, mode }) => ({
        status: 429,
        headers: retryAfterHeaders(retryAfterSeconds, mode),
        body: { message: 'Too Many Attempts.' }
      })
    })
  }

  async start() {
    const origin = await this.server.start()
    this.baseUrl = `${origin}/v1`
    return this.baseUrl
  }

  /** @param {import('../server.js').EmulatorRequest} req */
  handle(req) {
    if (!req.path.startsWith('/v1/')) return { status: 404, body: { message: 'Not Found' } }
    if (bearerOf(req) !== this.token) return { status: 401, body: { message: 'Unauthenticated.' } }
    const path = req.path.slice(3)
    if (path === '/sessions') {
      if (req.method !== 'DELETE') return methodNotAllowed()
      return this.removeSessions(req)
    }
    if (path === '/residential-subusers') {
      if (req.method !== 'GET') return methodNotAllowed()
      return this.listSubUsers(req.query)
    }
    const one = /^\/residential-subusers\/([^/]+)$/.exec(path)
    if (one) {
      if (req.method !== 'GET') return methodNotAllowed()
      const u = this.subUsers.get(decodeURIComponent(one[1]))
      return u ? { status: 200, body: { data: publicView(u) } } : { status: 404, body: { message: 'Not found.' } }
    }
    if (path === '/me' && req.method === 'GET') {
      return { status: 200, body: { residential_user_hash: this.mainHash, balance: 100 } }
    }
    return { status: 404, body: { message: 'Not Found' } }
  }

  removeSessions(req) {
    const ct = String(req.headers['content-type'] ?? '')
    if (!ct.startsWith('application/json') || req.jsonError) {
      return unprocessable('The residential user hashes field is required.', { residential_user_hashes: ['The residential user hashes field is required.'] })
    }
    const hashes = /** @type {{residential_user_hashes?: unknown}} */ (req.json ?? {}).residential_user_hashes
    if (!Array.isArray(hashes) || hashes.length === 0) {
      return unprocessable('The residential user hashes field is required.', { residential_user_hashes: ['The residential user hashes field is required.'] })
    }
    const errors = {}
    hashes.forEach((h, i) => {
      if (typeof h !== 'string') errors[`residential_user_hashes.${i}`] = ['The residential_user_hashes.' + i + ' must be a string.']
      else if (h !== this.mainHash && !this.subUsers.has(h))
        errors[`residential_user_hashes.${i}`] = ['The selected residential_user_hashes.' + i + ' is invalid.']
    })
    if (Object.keys(errors).length > 0) return unprocessable('The given data was invalid.', errors)
    for (const h of hashes) {
      if (h === this.mainHash) this.mainSessions = 0
      else this.subUsers.get(h).sessions = 0
      this.resets.set(h, (this.resets.get(h) ?? 0) + 1)
    }
    return { status: 204 }
  }

  listSubUsers(query) {
    const page = query.get('page') ?? '1'
    const perPage = query.get('per_page') ?? '20'
    if (!/^\d+$/.test(page) || Number(page) < 1) return unprocessable('The page must be at least 1.', { page: ['The page must be at least 1.'] })
    if (!/^\d+$/.test(perPage) || Number(perPage) < 1 || Number(perPage) > 100) {
      return unprocessable('The per page must be between 1 and 100.', { per_page: ['The per page must be between 1 and 100.'] })
    }
    const search = query.get('search')
    const all = [...this.subUsers.values()].filter((u) => !search || u.username.includes(search))
    const p = Number(page)
    const n = Number(perPage)
    const lastPage = Math.max(1, Math.ceil(all.length / n))
    return {
      status: 200,
      body: {
        data: all.slice((p - 1) * n, p * n).map(publicView),
        meta: { current_page: p, last_page: lastPage, per_page: n, total: all.length, from: (p - 1) * n + 1, to: Math.min(p * n, all.length) }
      }
    }
  }
}

function publicView(u) {
  return {
    id: Number(u.hash.replace(/\D/g, '')) || 1,
    hash: u.hash,
    username: u.username,
    traffic_available: u.traffic_available,
    traffic_used: u.traffic_used
  }
}

function unprocessable(message, detailed) {
  return { status: 422, body: { error: { code: 422, message, detailed_messages: detailed } } }
}

function methodNotAllowed() {
  return { status: 405, body: { message: 'The method is not supported for this route.' } }
}
