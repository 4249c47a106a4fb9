// Shared loopback HTTP server for the provider emulators: routing is the provider's, and this
// base adds what every emulator needs — request recording, latency, fault injection (at a
// rate or queued), and a sliding-window rate limit answered the provider's way.
// Plain ESM JavaScript so that tests, `npm run demo` and `npm run bench` can all import it.
import { createServer } from 'node:http'

/**
 * @typedef {{ method: string, path: string, query: URLSearchParams, headers: import('node:http').IncomingHttpHeaders,
 *   bodyText: string, json: unknown, jsonError: boolean, at: number, status?: number, fault?: string }} EmulatorRequest
 * @typedef {{ status: number, headers?: Record<string,string>, body?: unknown }} EmulatorResponse
 * @typedef {{ kind: 'status', status: number } | { kind: 'throttle', retryAfter?: 'seconds' | 'date' | 'none', resetHeader?: boolean, seconds?: number }
 *   | { kind: 'reset' } | { kind: 'slow', ms: number } | { kind: 'truncated' } | { kind: 'html' } | { kind: 'custom', respond: (req: EmulatorRequest) => EmulatorResponse }} Fault
 */

/** Small deterministic PRNG so fault patterns repeat from run to run. */
export function seededRandom(seed = 1) {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 4294967296
  }
}

export class EmulatorServer {
  /**
   * @param {object} opts
   * @param {string} opts.name
   * @param {(req: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>} opts.handle
   * @param {(status: number, req: EmulatorRequest) => EmulatorResponse} opts.errorResponse provider-shaped error for an injected status
   * @param {(info: { retryAfterSeconds: number, mode: string, resetHeader: boolean }, req: EmulatorRequest) => EmulatorResponse} [opts.throttleResponse]
   */
  constructor(opts) {
    this.name = opts.name
    /** @type {string} set by start() */
    this.origin = ''
    this.handle = opts.handle
    this.errorResponse = opts.errorResponse
    this.throttleResponse = opts.throttleResponse ?? defaultThrottle
    /** @type {EmulatorRequest[] & {status?: number}[]} every request received, in order, with the status answered */
    this.requests = []
    this.latencyMs = 0
    /** @type {Fault[]} faults applied to the next matching requests, one each */
    this.queuedFaults = []
    /** @type {{ rate: number, kinds: Fault[], match: (r: EmulatorRequest) => boolean, random: () => number } | undefined} */
    this.faultRate = undefined
    this.faultMatch = () => true
    /** @type {{ limit: number, windowMs: number, retryAfterSeconds: number, mode: string } | undefined} */
    this.rateLimit = undefined
    this.recentTimes = []
    this.counters = { throttled: 0, faults: 0 }
    /** Requests being handled now, and the most seen at once. */
    this.inFlight = 0
    this.peakInFlight = 0
    /** Keep request bodies (off for big benchmarks to bound memory). */
    this.recordBodies = true
    this.server = createServer((req, res) => {
      this.inFlight++
      this.peakInFlight = Math.max(this.peakInFlight, this.inFlight)
      res.on('close', () => this.inFlight--)
      this.onRequest(req, res).catch((err) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ emulator_error: String(err && err.stack ? err.stack : err) }))
        }
      })
    })
    this.server.keepAliveTimeout = 5000
    this.sockets = new Set()
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
  }

  /** @returns {Promise<string>} the origin, e.g. http://127.0.0.1:41234 */
  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const addr = /** @type {import('node:net').AddressInfo} */ (this.server.address())
    this.origin = `http://127.0.0.1:${addr.port}`
    return this.origin
  }

  async stop() {
    for (const s of this.sockets) s.destroy()
    await new Promise((resolve) => this.server.close(() => resolve(undefined)))
  }

  /**
   * @param {Fault[]} faults applied to the next requests that match `match` (default: every request)
   * @param {(req: EmulatorRequest) => boolean} [match]
   */
  queueFaults(faults, match) {
    this.queuedFaults.push(...faults)
    if (match) this.faultMatch = match
  }

  /**
   * Injects a fault into a share `rate` (0..1) of matching requests, chosen by a seeded PRNG.
   * @param {number} rate
   * @param {Fault[]} kinds
   * @param {{ seed?: number, match?: (req: EmulatorRequest) => boolean }} [opts]
   */
  setFaultRate(rate, kinds, { seed = 7, match = (/** @type {EmulatorRequest} */ _req) => true } = {}) {
    this.faultRate = rate > 0 ? { rate, kinds, match, random: seededRandom(seed) } : undefined
  }

  /** Answers throttled once more than `limit` requests arrive within `windowMs`. */
  setRateLimit(limit, windowMs = 60_000, { retryAfterSeconds = 1, mode = 'seconds' } = {}) {
    this.rateLimit = { limit, windowMs, retryAfterSeconds, mode }
  }

  /** Requests that change state (anything but GET/HEAD). */
  mutating() {
    return this.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')
  }

  /**
   * The most requests seen in any window of `windowMs`.
   * @param {number} windowMs
   * @param {(r: EmulatorRequest) => boolean} [filter]
   */
  peakInWindow(windowMs, filter = () => true) {
    const times = this.requests.filter(filter).map((r) => r.at)
    let peak = 0
    let start = 0
    for (let end = 0; end < times.length; end++) {
      while (times[end] - times[start] >= windowMs) start++
      peak = Math.max(peak, end - start + 1)
    }
    return peak
  }

  reset() {
    this.requests = []
    this.queuedFaults = []
    this.faultRate = undefined
    this.faultMatch = () => true
    this.rateLimit = undefined
    this.recentTimes = []
    this.latencyMs = 0
    this.counters = { throttled: 0, faults: 0 }
    this.peakInFlight = 0
  }

  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  async onRequest(req, res) {
    const chunks = []
    for await (const c of req) chunks.push(c)
    const bodyText = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url ?? '/', 'http://emulator')
    let json
    let jsonError = false
    if (bodyText !== '') {
      try {
        json = JSON.parse(bodyText)
      } catch {
        jsonError = true
      }
    }
    /** @type {EmulatorRequest & { status?: number, fault?: string }} */
    const entry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      bodyText: this.recordBodies ? bodyText : '',
      json: this.recordBodies ? json : undefined,
      jsonError,
      at: Date.now()
    }
    this.requests.push(entry)
    const live = { ...entry, bodyText, json }
    if (this.latencyMs > 0) await sleep(this.latencyMs)

    if (this.rateLimit) {
      const { limit, windowMs, retryAfterSeconds, mode } = this.rateLimit
      const now = Date.now()
      while (this.recentTimes.length > 0 && now - this.recentTimes[0] >= windowMs) this.recentTimes.shift()
      if (this.recentTimes.length >= limit) {
        this.counters.throttled++
        entry.fault = 'rate-limit'
        const wait = Math.max(retryAfterSeconds, Math.ceil((this.recentTimes[0] + windowMs - now) / 1000))
        return this.send(res, entry, this.throttleResponse({ retryAfterSeconds: wait, mode, resetHeader: mode === 'reset' }, live))
      }
      this.recentTimes.push(now)
    }

    const fault = this.pickFault(live)
    if (fault) {
      this.counters.faults++
      entry.fault = fault.kind
      switch (fault.kind) {
        case 'status':
          return this.send(res, entry, this.errorResponse(fault.status, live))
        case 'throttle': {
          const mode = fault.retryAfter ?? 'seconds'
          return this.send(
            res,
            entry,
            this.throttleResponse({ retryAfterSeconds: fault.seconds ?? 1, mode, resetHeader: fault.resetHeader ?? mode === 'none' }, live)
          )
        }
        case 'reset':
          entry.status = 0
          req.socket.destroy()
          return
        case 'html':
          entry.status = 502
          res.writeHead(502, { 'content-type': 'text/html' })
          res.end('<html><body><h1>502 Bad Gateway</h1></body></html>')
          return
        case 'custom':
          return this.send(res, entry, fault.respond(live))
        case 'slow': {
          // The work is done, the answer comes too late: the client times out and must cope.
          const answer = await this.handle(live)
          await sleep(fault.ms)
          if (!req.socket.destroyed) this.send(res, entry, answer)
          return
        }
        case 'truncated': {
          // The work is done, the connection drops mid-body.
          const answer = await this.handle(live)
          const body = JSON.stringify(answer.body ?? { ok: true })
          entry.status = answer.status
          res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': String(body.length + 50) })
          res.write(body.slice(0, Math.max(1, Math.floor(body.length / 2))))
          setTimeout(() => req.socket.destroy(), 5)
          return
        }
      }
    }
    return this.send(res, entry, await this.handle(live))
  }

  pickFault(req) {
    if (this.queuedFaults.length > 0 && this.faultMatch(req)) return this.queuedFaults.shift()
    const fr = this.faultRate
    if (fr && fr.match(req) && fr.random() < fr.rate) return fr.kinds[Math.floor(fr.random() * fr.kinds.length)]
    return undefined
  }

  /** @param {EmulatorResponse} answer */
  send(res, entry, answer) {
    entry.status = answer.status
    const headers = { ...(answer.headers ?? {}) }
    let payload = ''
    if (answer.body !== undefined) {
      payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
    }
    res.writeHead(answer.status, headers)
    res.end(payload)
  }
}

/** What every provider emulator shares: its loopback server, stopping it, and the requests it saw. */
export class ProviderEmulator {
  /** @type {EmulatorServer} set by the subclass's constructor */
  server

  stop() {
    return this.server.stop()
  }

  get requests() {
    return this.server.requests
  }
}

function defaultThrottle({ retryAfterSeconds, mode }) {
  return { status: 429, headers: retryAfterHeaders(retryAfterSeconds, mode), body: { message: 'Too Many Requests' } }
}

/** Headers for a throttle answer: Retry-After in seconds, as an HTTP date, or only reset headers. */
export function retryAfterHeaders(seconds, mode) {
  if (mode === 'date') return { 'retry-after': new Date(Date.now() + seconds * 1000 + 999).toUTCString() }
  if (mode === 'reset' || mode === 'none') return { 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + seconds) }
  return { 'retry-after': String(seconds) }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Reads the bearer token of a request, or undefined. */
export function bearerOf(req) {
  const h = req.headers.authorization
  if (typeof h !== 'string') return undefined
  const m = /^Bearer (.+)$/i.exec(h)
  return m ? m[1] : undefined
}
