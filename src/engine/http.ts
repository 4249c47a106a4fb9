import type { Clock } from './clock.js'
import { ProviderRequestError, RunHaltedError, describeProviderError, errorMessage } from './errors.js'
import type { RateLimiter } from './limiter.js'
import { Semaphore } from './pool.js'
import type { Logger } from './logger.js'
import { backoffMs, isTransientStatus, serverRequestedWaitMs, type WaitBudget } from './retry.js'
import type { SecretStore } from './secrets.js'
import type { ProviderErrorInfo } from './types.js'

/** Credentials made longer ago than this are made again before sending (signatures carry a date). */
const REAUTHORIZE_AFTER_MS = 60_000

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH'
  url: string
  headers?: Record<string, string>
  /** Sent as JSON with content-type application/json. */
  json?: unknown
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>
  /**
   * Called before every attempt with the final method, url, headers and body; returns headers
   * to add (bearer tokens that may be re-minted, request signatures with a fresh date).
   */
  authorize?: (req: PreparedRequest) => Record<string, string> | Promise<Record<string, string>>
  /** Whether repeating the request is harmless. Default true; false disables retries after a send. */
  idempotent?: boolean
  /** The body must be JSON; a 2xx that is not is retried like a transient failure. */
  expectJson?: boolean
  /** Non-2xx statuses returned to the caller instead of raised (e.g. 404 meaning "already gone"). */
  passStatuses?: readonly number[]
  /**
   * The caller can recover from a 401 on this request (it re-mints the token and repeats it), so
   * the client does not halt the run for it. Without this, a 401 halts every later request.
   */
  authRecoverable?: boolean
}

export interface PreparedRequest {
  method: string
  url: string
  headers: Record<string, string>
  body: string
}

export interface HttpResponse {
  status: number
  headers: Headers
  body: unknown
  text: string
  requestId?: string
  attempts: number
}

export interface HttpProfile {
  parseError(status: number, body: unknown, text: string): ProviderErrorInfo
  isRetryable?(status: number, error: ProviderErrorInfo): boolean | undefined
  requestIdHeaders: readonly string[]
  /** Statuses that mean the credentials are wrong: the run stops. Default [401]. */
  fatalStatuses?: readonly number[]
}

export interface HttpClientOptions {
  fetch: FetchLike
  limiter: RateLimiter
  budget: WaitBudget
  clock: Clock
  secrets: SecretStore
  log: Logger
  profile: HttpProfile
  maxRetries: number
  timeoutMs: number
  /** Requests on the wire at once (the concurrency input); a request waiting to retry holds none. */
  maxInFlight: number
  random?: () => number
}

/** Counts of what the client did, for the report and the benchmark. */
export interface HttpStats {
  requests: number
  retries: number
  throttled: number
}

/**
 * The one way providers talk HTTP: every attempt passes the shared limiter, gets a timeout,
 * and is retried only when that is safe, for as long as the wait budget allows.
 */
export class HttpClient {
  readonly stats: HttpStats = { requests: 0, retries: 0, throttled: 0 }
  private readonly inFlight: Semaphore
  private haltReason: string | undefined

  constructor(private readonly opts: HttpClientOptions) {
    this.inFlight = new Semaphore(opts.maxInFlight)
  }

  /**
   * Stops the run's traffic: every request not yet on the wire, including those already waiting
   * for a slot or for the limiter, fails with RunHaltedError instead of being sent.
   */
  halt(reason: string): void {
    this.haltReason ??= reason
  }

  /** Why the run was halted, if it was. */
  get halted(): string | undefined {
    return this.haltReason
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const { clock, limiter, maxRetries } = this.opts
    const idempotent = req.idempotent ?? true
    const prepared = prepare(req)
    const label = `${req.method} ${redactQuery(req.url)}`
    for (let attempt = 1; ; attempt++) {
      const extra = await this.acquireSlot(req, prepared, attempt)
      this.stats.requests++
      let res: Response | undefined
      let text = ''
      let failure: { info: ProviderErrorInfo; retryable: boolean; waitMs?: number }
      try {
        res = await this.opts.fetch(prepared.url, {
          method: prepared.method,
          headers: { ...prepared.headers, ...extra },
          body: prepared.body === '' ? undefined : prepared.body,
          signal: AbortSignal.timeout(this.opts.timeoutMs),
          redirect: 'error'
        })
        text = await res.text()
        this.inFlight.release()
      } catch (err) {
        this.inFlight.release()
        const timedOut = isTimeout(err)
        const message = timedOut
          ? `no response within ${this.opts.timeoutMs / 1000}s`
          : `network error: ${describeNetworkError(err)}`
        failure = {
          info: { status: res?.status, message, requestId: res ? this.requestIdOf(res.headers) : undefined },
          // A request that may have reached the server is repeated only when that is harmless.
          retryable: idempotent
        }
        if (!(await this.waitToRetry(label, attempt, maxRetries, failure))) {
          throw new ProviderRequestError(this.scrub(this.exhausted(failure, attempt, maxRetries)), attempt)
        }
        continue
      }

      const requestId = this.requestIdOf(res.headers)
      const body = parseJson(text)
      const ok = res.status >= 200 && res.status < 300
      if (ok && !(req.expectJson && body === undefined)) {
        return { status: res.status, headers: res.headers, body, text, requestId, attempts: attempt }
      }
      if (!ok && req.passStatuses?.includes(res.status)) {
        return { status: res.status, headers: res.headers, body, text, requestId, attempts: attempt }
      }
      let info: ProviderErrorInfo
      let retryable: boolean
      if (ok) {
        info = { status: res.status, message: `response was not JSON: ${snippet(text)}`, requestId }
        retryable = idempotent
      } else {
        // Scrub before the provider trims the text to a snippet, or a cut secret would survive.
        const safeText = this.opts.secrets.scrub(text)
        info = this.opts.profile.parseError(res.status, parseJson(safeText) ?? body, safeText)
        info = { ...info, status: res.status, requestId: info.requestId ?? requestId }
        retryable = this.opts.profile.isRetryable?.(res.status, info) ?? isTransientStatus(res.status)
        if (res.status >= 500 && !idempotent) retryable = false
      }
      const fatal = (this.opts.profile.fatalStatuses ?? [401]).includes(res.status)
      if (fatal || !retryable) {
        const error = new ProviderRequestError(this.scrub(info), attempt, fatal)
        if (fatal && !req.authRecoverable) this.halt(`the run stopped after ${describeProviderError(error.info)}`)
        throw error
      }
      const waitMs = serverRequestedWaitMs(res.headers, clock.now())
      if (res.status === 429 || waitMs !== undefined) {
        this.stats.throttled++
      }
      failure = { info, retryable, waitMs }
      if (!(await this.waitToRetry(label, attempt, maxRetries, failure, res.status === 429))) {
        throw new ProviderRequestError(this.scrub(this.exhausted(failure, attempt, maxRetries)), attempt)
      }
    }
  }

  /**
   * Credentials first: authorize may itself send a request (minting a token), so it must not hold
   * a slot. Then a slot on the wire, then a moment from the shared limiter. When that wait was long
   * (a throttled provider), the credentials are made again: a request signature carries its date
   * and a token can expire. Returns the headers to add, holding one slot.
   */
  private async acquireSlot(req: HttpRequest, prepared: PreparedRequest, attempt: number): Promise<Record<string, string>> {
    for (;;) {
      this.throwIfHalted(attempt)
      const authorizedAt = this.opts.clock.now()
      const extra = req.authorize ? await req.authorize(prepared) : {}
      await this.inFlight.acquire()
      try {
        await this.opts.limiter.acquire()
        this.throwIfHalted(attempt)
      } catch (err) {
        this.inFlight.release()
        throw err
      }
      if (!req.authorize || this.opts.clock.now() - authorizedAt < REAUTHORIZE_AFTER_MS) return extra
      this.inFlight.release()
    }
  }

  private throwIfHalted(attempt: number): void {
    if (this.haltReason !== undefined) throw new RunHaltedError(this.haltReason, attempt > 1)
  }

  private async waitToRetry(
    label: string,
    attempt: number,
    maxRetries: number,
    failure: { info: ProviderErrorInfo; retryable: boolean; waitMs?: number },
    throttled = false
  ): Promise<boolean> {
    if (!failure.retryable || attempt > maxRetries) return false
    const { clock, budget, limiter } = this.opts
    const waitMs = failure.waitMs ?? backoffMs(attempt, this.opts.random)
    const now = clock.now()
    if (!budget.tryConsume(now, waitMs)) {
      const asked = failure.waitMs !== undefined ? `the provider asked to wait ${Math.ceil(failure.waitMs / 1000)} s, and ` : ''
      failure.info = { ...failure.info, message: `${failure.info.message} (gave up: ${asked}the wait budget of max-wait-seconds is spent)` }
      return false
    }
    // A throttle answer slows every worker, not only this one.
    if (throttled || failure.waitMs !== undefined) limiter.pauseUntil(now + waitMs)
    this.stats.retries++
    this.opts.log.debug(`${label}: ${failure.info.status ?? 'network'} ${failure.info.message}; retry ${attempt}/${maxRetries} in ${waitMs} ms`)
    await clock.sleep(waitMs)
    return true
  }

  private exhausted(
    failure: { info: ProviderErrorInfo; retryable: boolean },
    attempt: number,
    maxRetries: number
  ): ProviderErrorInfo {
    if (failure.retryable && attempt > maxRetries && maxRetries > 0) {
      return { ...failure.info, message: `${failure.info.message} (gave up after ${attempt} attempts)` }
    }
    return failure.info
  }

  private requestIdOf(headers: Headers): string | undefined {
    for (const name of this.opts.profile.requestIdHeaders) {
      const v = headers.get(name)
      if (v) return v
    }
    return undefined
  }

  private scrub(info: ProviderErrorInfo): ProviderErrorInfo {
    const s = this.opts.secrets
    return {
      ...info,
      message: s.scrub(info.message),
      code: info.code === undefined ? undefined : s.scrub(info.code),
      requestId: info.requestId === undefined ? undefined : s.scrub(info.requestId)
    }
  }
}

function prepare(req: HttpRequest): PreparedRequest {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
  let body = ''
  if (req.json !== undefined) {
    body = JSON.stringify(req.json)
    headers['content-type'] = 'application/json'
  } else if (req.form !== undefined) {
    body = new URLSearchParams(req.form).toString()
    headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  return { method: req.method, url: req.url, headers, body }
}

export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat || '(empty body)'
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
}

function describeNetworkError(err: unknown): string {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : ''
  const base = errorMessage(err)
  return code ? `${base} (${code})` : base
}

function redactQuery(url: string): string {
  const i = url.indexOf('?')
  return i === -1 ? url : `${url.slice(0, i)}?…`
}

/** Text of a non-JSON error body, trimmed for a report line. */
export function bodySnippet(text: string): string {
  return snippet(text)
}
