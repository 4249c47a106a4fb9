// Huawei Cloud IAM Identity Center emulator, from the published contract (shared/seeds/001,
// shared/providers.md): the API gateway's AK/SK check (SDK-HMAC-SHA256, verified here with this
// file's own verifier; X-Sdk-Date within 15 minutes; X-Security-Token for temporary keys), and
//   GET  /v1/instances                                                    (global host)
//   GET  /v1/identity-stores/{store}/users?limit=&marker=&user_name=
//   GET  /v1/identity-stores/{store}/users/{user}/sessions
//   POST /v1/identity-stores/{store}/users/{user}/sessions/batch-delete  {"session_ids":[...]}
// Errors are {"error_code","error_msg","request_id"} (403 adds encoded_authorization_message);
// gateway throttling is 429 APIGW.0308 without Retry-After. One emulator serves both hosts.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { EmulatorServer, ProviderEmulator, seededRandom } from '../server.js'

export const HW_AK = 'HPUAQ7ZKXW3N5T8R2M4B'
export const HW_SK = 'Xy7Kq2Lm9Pz4Rt6Vw8Bn3Cd5Fg1Hj0AsDfGhJkLq'
export const HW_TEMP_AK = 'T5N8R2M4BHPUAQ7ZKXW3'
export const HW_TEMP_SK = 'Tmp9Pz4Rt6Vw8Bn3Cd5Fg1Hj0AsDfGhJkLqXy7K'
export const HW_SECURITY_TOKEN = 'gQpjbi1ub3J0aC00SecurityTokenForTests0123456789abcdefABCDEF'
export const HW_STORE_ID = 'd-a00aaaa33f'

const MAX_SKEW_MS = 15 * 60 * 1000
const STORE_ID = /^d-[0-9a-z]{10}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15',
  'hcloud-cli/5.1.0 (linux; amd64)'
]

function uuidFrom(random) {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * @typedef {{ session_id: string, user_id: string, ip_address: string, user_agent: string, creation_time: number, session_not_valid_after: number }} Session
 * @typedef {{ user_id: string, user_name: string, display_name: string, sessions: Session[] }} User
 */

/**
 * `n` users named `${prefix}${i}` with `sessionsFor(i)` sessions each, from a seeded generator.
 * @param {number} n
 * @param {{ prefix?: string, sessionsFor?: (i: number) => number, seed?: number }} [opts]
 */
export function makeUsers(n, { prefix = 'user', sessionsFor = () => 2, seed = 11 } = {}) {
  const random = seededRandom(seed)
  const now = Math.floor(Date.now() / 1000)
  return Array.from({ length: n }, (_, i) => {
    const user_id = uuidFrom(random)
    const count = sessionsFor(i + 1)
    return {
      user_id,
      user_name: `${prefix}${i + 1}`,
      display_name: `User ${i + 1}`,
      sessions: Array.from({ length: count }, (_, j) => ({
        session_id: uuidFrom(random),
        user_id,
        ip_address: `10.${(i + 1) % 250}.${j}.${10 + j}`,
        user_agent: AGENTS[j % AGENTS.length],
        creation_time: now - 3600 * (j + 1),
        session_not_valid_after: now + 3600 * (8 - j)
      }))
    }
  })
}

// ---- the gateway's signature check (written independently of src/) ----

/** UTF-8 bytes percent-encoded, only RFC 3986 unreserved bytes left alone. */
function encode(text) {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte)
    if (/[A-Za-z0-9\-._~]/.test(c)) out += c
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

function canonicalPath(rawPath) {
  const parts = rawPath.split('/').map((seg) => {
    let decoded = seg
    try {
      decoded = decodeURIComponent(seg)
    } catch {
      /* literal */
    }
    return encode(decoded)
  })
  const joined = parts.join('/')
  return joined.endsWith('/') ? joined : joined + '/'
}

function canonicalQueryOf(query) {
  /** @type {[string,string][]} */
  const pairs = [...query.entries()]
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1))
  return pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')
}

function parseSdkDate(value) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return undefined
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
}

function requestId() {
  return createHash('md5')
    .update(String(Math.random()) + Date.now())
    .digest('hex')
}

function errorBody(code, msg, extra = {}) {
  const id = requestId()
  return { headers: { 'x-request-id': id }, body: { error_code: code, error_msg: msg, request_id: id, ...extra } }
}

function reply(status, code, msg, extra) {
  return { status, ...errorBody(code, msg, extra) }
}

const unauthorized = (msg) => reply(401, 'APIGW.0301', `Incorrect IAM authentication information: ${msg}`)
const badRequest = (msg) => reply(400, 'IIC.400', msg)

export class HuaweiCloudEmulator extends ProviderEmulator {
  /**
   * @param {{ users?: User[], identityStoreId?: string, instances?: {identity_store_id: string}[],
   *   credentials?: { ak: string, sk: string, securityToken?: string }[], clockOffsetMs?: number, maxPageSize?: number }} [opts]
   */
  constructor(opts = {}) {
    super()
    /** @type {string} set by start() */
    this.origin = ''
    this.identityStoreId = opts.identityStoreId ?? HW_STORE_ID
    this.instances = opts.instances ?? [{ identity_store_id: this.identityStoreId }]
    /** @type {Map<string, { ak: string, sk: string, securityToken?: string }>} */
    this.credentials = new Map(
      (
        opts.credentials ?? [
          { ak: HW_AK, sk: HW_SK },
          { ak: HW_TEMP_AK, sk: HW_TEMP_SK, securityToken: HW_SECURITY_TOKEN }
        ]
      ).map((c) => [c.ak, c])
    )
    this.setUsers(opts.users ?? makeUsers(5))
    /** Server clock minus real clock, to test skew. */
    this.clockOffsetMs = opts.clockOffsetMs ?? 0
    /** The server may return fewer users than `limit` asks for. */
    this.maxPageSize = opts.maxPageSize ?? 100
    /** Actions the caller is not allowed: 'listSessions', 'batchDeleteSession', 'listUsers', 'listInstances'. */
    this.denied = new Set()
    /** @type {{ userId: string, sessionIds: string[] }[]} successful batch-delete calls */
    this.deleteCalls = []
    /** @type {{ path: string, reason: string }[]} requests refused by the signature check */
    this.authFailures = []
    this.server = new EmulatorServer({
      name: 'huaweicloud',
      handle: (req) => this.handle(req),
      errorResponse: (status) => this.injectedError(status),
      // The gateway documents no Retry-After: none is sent.
      throttleResponse: () => reply(429, 'APIGW.0308', 'The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute')
    })
  }

  /** @param {User[]} users */
  setUsers(users) {
    /** @type {Map<string, User>} */
    this.users = new Map(users.map((u) => [u.user_id, { ...u, sessions: u.sessions.map((s) => ({ ...s })) }]))
  }

  async start() {
    this.origin = await this.server.start()
    return this.origin
  }

  reset() {
    this.server.reset()
    this.deleteCalls = []
    this.authFailures = []
    this.denied.clear()
    this.clockOffsetMs = 0
    this.maxPageSize = 100
  }

  /** Session ids a user still has. */
  sessionIds(userId) {
    return (this.users.get(userId)?.sessions ?? []).map((s) => s.session_id)
  }

  injectedError(status) {
    switch (status) {
      case 400:
        return badRequest('The request parameters are invalid.')
      case 401:
        return unauthorized('verify aksk signature fail')
      case 403:
        return reply(403, 'IIC.1000', 'You do not have permission to perform this operation.', { encoded_authorization_message: 'ZW5jb2RlZCBkZW5pYWw=' })
      case 404:
        return reply(404, 'IIC.404', 'The resource does not exist.')
      case 409:
        return reply(409, 'IIC.1006', 'Concurrency conflicts. Try again later.')
      case 429:
        return reply(429, 'APIGW.0308', 'The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute')
      default:
        return reply(status, status === 504 ? 'APIGW.0203' : 'APIGW.0202', status === 504 ? 'Backend timeout.' : 'Backend unavailable.')
    }
  }

  /** The gateway's AK/SK check; returns a 401 answer, or undefined when the request is authentic. */
  verify(req) {
    const fail = (reason, answer) => {
      this.authFailures.push({ path: req.path, reason })
      return answer
    }
    const auth = req.headers.authorization
    if (typeof auth !== 'string' || auth === '') return fail('no authorization', unauthorized('Unauthorized'))
    const m = /^SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth)
    if (!m) return fail('malformed authorization', unauthorized('verify aksk signature fail'))
    const [, ak, signedList, signature] = m
    const cred = this.credentials.get(ak)
    if (!cred) return fail('unknown ak', unauthorized(`Get secretKey failed,ak:${ak},err:ak not exist`))
    const dateHeader = req.headers['x-sdk-date']
    const signedAt = typeof dateHeader === 'string' ? parseSdkDate(dateHeader) : undefined
    if (signedAt === undefined) return fail('no x-sdk-date', unauthorized('verify aksk signature fail'))
    if (Math.abs(Date.now() + this.clockOffsetMs - signedAt) > MAX_SKEW_MS) {
      return fail('clock skew', unauthorized('the X-Sdk-Date is more than 15 minutes away from the server time'))
    }
    const names = signedList.split(';')
    const sorted = [...names].sort()
    if (names.join(';') !== sorted.join(';') || !names.includes('host') || !names.includes('x-sdk-date')) {
      return fail('signed headers', unauthorized('verify aksk signature fail'))
    }
    if (cred.securityToken !== undefined) {
      if (req.headers['x-security-token'] !== cred.securityToken || !names.includes('x-security-token')) {
        return fail('security token', unauthorized('decrypt token fail'))
      }
    } else if (req.headers['x-security-token'] !== undefined) {
      return fail('security token with permanent ak', unauthorized('decrypt token fail'))
    }
    const headerLines = []
    for (const name of names) {
      const value = req.headers[name]
      if (value === undefined) return fail(`signed header ${name} missing`, unauthorized('verify aksk signature fail'))
      headerLines.push(`${name}:${String(Array.isArray(value) ? value.join(',') : value).trim()}\n`)
    }
    const canonical = [
      req.method,
      canonicalPath(req.path),
      canonicalQueryOf(req.query),
      headerLines.join(''),
      signedList,
      createHash('sha256').update(req.bodyText, 'utf8').digest('hex')
    ].join('\n')
    const toSign = `SDK-HMAC-SHA256\n${dateHeader}\n${createHash('sha256').update(canonical, 'utf8').digest('hex')}`
    const expected = createHmac('sha256', cred.sk).update(toSign, 'utf8').digest()
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      return fail('signature mismatch', unauthorized('verify aksk signature fail'))
    }
    return undefined
  }

  /** @param {import('../server.js').EmulatorRequest} req */
  handle(req) {
    const denied = this.verify(req)
    if (denied) return denied
    if (req.path === '/v1/instances') {
      if (req.method !== 'GET') return reply(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment')
      if (this.denied.has('listInstances')) return this.forbidden()
      return this.listInstances(req.query)
    }
    const m = /^\/v1\/identity-stores\/([^/]+)\/users(?:\/([^/]+)\/sessions(\/batch-delete)?)?$/.exec(req.path)
    if (!m) return reply(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment')
    const store = decodeURIComponent(m[1])
    if (!STORE_ID.test(store)) return badRequest('Invalid parameter: identity_store_id.')
    if (store !== this.identityStoreId) return reply(404, 'IIC.404', 'The identity store does not exist.')
    if (m[2] === undefined) {
      if (req.method !== 'GET') return reply(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment')
      if (this.denied.has('listUsers')) return this.forbidden()
      return this.listUsers(req.query)
    }
    const userId = decodeURIComponent(m[2])
    if (m[3] === undefined) {
      if (req.method !== 'GET') return reply(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment')
      if (this.denied.has('listSessions')) return this.forbidden()
      const user = this.users.get(userId)
      if (!user) return reply(404, 'IIC.404', 'The user does not exist.')
      return { status: 200, headers: { 'x-request-id': requestId() }, body: { session_list: user.sessions.map((s) => ({ ...s })) } }
    }
    if (req.method !== 'POST') return reply(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment')
    if (this.denied.has('batchDeleteSession')) return this.forbidden()
    return this.batchDelete(userId, req)
  }

  forbidden() {
    return reply(403, 'IIC.1000', 'You do not have permission to perform this operation.', { encoded_authorization_message: 'ZW5jb2RlZCBkZW5pYWw=' })
  }

  listInstances(query) {
    const limit = query.get('limit') ?? '100'
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) return badRequest('Invalid parameter: limit.')
    const instances = this.instances.map((inst, i) => ({
      instance_id: `ins-${String(i + 1).padStart(16, '0')}`,
      instance_urn: `IdentityCenter::0a1b2c3d4e5f:instance:ins-${String(i + 1).padStart(16, '0')}`,
      identity_store_id: inst.identity_store_id,
      alias: null
    }))
    return { status: 200, headers: { 'x-request-id': requestId() }, body: { instances, page_info: { current_count: instances.length } } }
  }

  listUsers(query) {
    const limitRaw = query.get('limit') ?? '100'
    if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > 100) return badRequest('Invalid parameter: limit.')
    const marker = query.get('marker')
    let offset = 0
    if (marker !== null) {
      if (!/^m[0-9a-f]{23}$/.test(marker)) return badRequest('Invalid parameter: marker.')
      offset = parseInt(marker.slice(1), 16)
    }
    // How the name filter matches is not documented; this one ignores case, so a client that
    // wants one user must compare names itself.
    const name = query.get('user_name')
    const all = [...this.users.values()].filter((u) => name === null || u.user_name.toLowerCase() === name.toLowerCase())
    const size = Math.min(Number(limitRaw), this.maxPageSize)
    const page = all.slice(offset, offset + size)
    const page_info = { current_count: page.length }
    if (offset + size < all.length) page_info.next_marker = `m${(offset + size).toString(16).padStart(23, '0')}`
    const users = page.map((u) => ({
      user_id: u.user_id,
      user_name: u.user_name,
      display_name: u.display_name,
      emails: [{ email: `${u.user_name}@example.com`, primary: true }],
      enabled: true,
      user_type: 'normal'
    }))
    return { status: 200, headers: { 'x-request-id': requestId() }, body: { users, page_info } }
  }

  batchDelete(userId, req) {
    const ct = String(req.headers['content-type'] ?? '')
    if (!ct.startsWith('application/json') || req.jsonError) return badRequest('The request body is not valid JSON.')
    const ids = req.json && typeof req.json === 'object' ? /** @type {{session_ids?: unknown}} */ (req.json).session_ids : undefined
    if (!Array.isArray(ids) || ids.length === 0) return badRequest('Invalid parameter: session_ids.')
    if (!ids.every((id) => typeof id === 'string' && UUID.test(id))) return badRequest('Invalid parameter: session_ids.')
    const user = this.users.get(userId)
    if (!user) return reply(404, 'IIC.404', 'The user does not exist.')
    // Ids of sessions that already ended are accepted and ignored (unconfirmed; the docs are silent).
    const gone = new Set(ids)
    user.sessions = user.sessions.filter((s) => !gone.has(s.session_id))
    this.deleteCalls.push({ userId, sessionIds: [...ids] })
    return { status: 200, headers: { 'x-request-id': requestId() } }
  }
}
