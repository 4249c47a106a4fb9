// The one way providers talk HTTP. Composes the transport (one exchange), the retry policy (what a
// failure means), throttling (the shared limiter, server-requested pauses, the wait budget) and auth
// (headers per attempt, one renewal after a 401). Every attempt passes the shared limiter and holds one
// of `concurrency` slots on the wire; a request waiting to retry holds none.
import type { z } from 'zod'
import type { Clock } from '../clock.js'
import type { RunControl } from '../control.js'
import { ProviderRequestError, RunHaltedError, UNEXPECTED_RESPONSE, describeProviderError } from '../errors.js'
import type { Logger } from '../logger.js'
import { Semaphore } from '../pool.js'
import type { SecretStore } from '../secrets.js'
import type { ProviderErrorInfo } from '../types.js'
import type { Credentials } from './auth.js'
import { decideOnStatus, decideOnTransport, resetWaitMs, type RetryRules, type Verdict } from './retry-policy.js'
import type { RateLimiter, WaitBudget } from './throttle.js'
import { MAX_BODY_BYTES, TransportError, prepare, send, type FetchLike, type RawResponse } from './transport.js'

export type { FetchLike, PreparedRequest } from './transport.js'

export interface HttpRequest<T = unknown> {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH'
  url: string
  headers?: Record<string, string>
  /** Sent as JSON with content-type application/json. */
  json?: unknown
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>
  /** Credentials for this request; undefined: the client's default; null: none (a token endpoint). */
  auth?: Credentials | null
  /** Whether repeating the request is harmless. Default true; false: never resent once it may have arrived. */
  idempotent?: boolean
  /** The statuses that mean success, as the API documents them. Default: any 2xx. */
  ok?: readonly number[]
  /** Other statuses returned to the caller instead of raised (e.g. 404 meaning "not found"). */
  pass?: readonly number[]
  /** The success body must match this; otherwise the call fails as an unexpected response. */
  schema?: z.ZodType<T>
  /**
   * What the success body must be: JSON (the default with a schema), empty, or either. A 2xx whose body
   * is something else — an HTML sign-in page, a proxy's error page — is a failure, not a success.
   */
  body?: 'json' | 'empty' | 'json-or-empty'
  /** What is asked for, for messages ("the user list", "revokeSignInSessions"). */
  what?: string
  /** The provider's rate-limit window this request counts against, when it has several. */
  bucket?: string
}

export interface HttpResponse<T = unknown> {
  status: number
  headers: Headers
  /** The parsed JSON body, or undefined when there is none or it is not JSON. */
  body: unknown
  /** The body checked against the request's schema (the body itself when there is no schema). */
  data: T
  text: string
  /** The body with every known secret scrubbed: use it (never `text`) for anything shown or cut. */
  safeText: string
  requestId?: string
  attempts: number
  /** For a status returned through `pass`: what the provider's error body says. */
  error?: ProviderErrorInfo
}

export interface HttpProfile extends RetryRules {
  parseError(status: number, body: unknown, text: string): ProviderErrorInfo
  requestIdHeaders: readonly string[]
  /** Pace by the X-Rate-Limit-Remaining / -Reset headers of each answer (Okta). */
  paceByHeaders?: boolean
  /**
   * For APIs that answer failures with a 2xx (Slack's HTTP 200 {"ok":false,"error":...}): the failure a
   * success status carries, or undefined when the answer is a success. The failure is then judged by the
   * same rules as any other (isThrottle, isFatal, isRetryable) and never returned as a success.
   */
  failureInBody?(status: number, body: unknown): ProviderErrorInfo | undefined
  /** Whether this failure means the credential was refused (a renewable token is minted again once). Default: 401. */
  isAuthFailure?(status: number, error: ProviderErrorInfo): boolean
}

export interface HttpClientOptions {
  fetch: FetchLike
  limiter: RateLimiter
  budget: WaitBudget
  clock: Clock
  secrets: SecretStore
  log: Logger
  control: RunControl
  profile: HttpProfile
  maxRetries: number
  timeoutMs: number
  /** Requests on the wire at once (the concurrency input). */
  maxInFlight: number
  maxBodyBytes?: number
  random?: () => number
}

/** Counts of what the client did, for the report and the benchmark. */
export interface HttpStats {
  requests: number
  retries: number
  throttled: number
}

/** The request surface providers get. */
export interface Http {
  request<T = unknown>(req: HttpRequest<T>): Promise<HttpResponse<T>>
  /**
   * Waits before retrying something the provider refused inside a successful answer (an item of a
   * batch throttled with its own Retry-After): the limiter pauses and the wait budget is charged like
   * any retry. False when the budget is spent (give up).
   */
  waitToRetry(waitMs: number, opts: { throttled: boolean; bucket?: string; label: string }): Promise<boolean>
  readonly stats: HttpStats
}

export class HttpClient implements Http {
  readonly stats: HttpStats = { requests: 0, retries: 0, throttled: 0 }
  private readonly inFlight: Semaphore
  private active = 0
  credentials: Credentials | undefined

  constructor(private readonly opts: HttpClientOptions) {
    this.inFlight = new Semaphore(opts.maxInFlight)
  }

  /** A view of this client that fills in defaults (credentials, headers) for every request. */
  with(defaults: { auth?: Credentials | null; headers?: Record<string, string> }): Http {
    return {
      request: (req) => this.request({ ...req, auth: req.auth !== undefined ? req.auth : defaults.auth, headers: { ...defaults.headers, ...req.headers } }),
      waitToRetry: (ms, o) => this.waitToRetry(ms, o),
      stats: this.stats
    }
  }

  async request<T = unknown>(req: HttpRequest<T>): Promise<HttpResponse<T>> {
    const { clock, maxRetries, control } = this.opts
    const idempotent = req.idempotent ?? true
    const creds = req.auth === null ? undefined : (req.auth ?? this.credentials)
    const prepared = prepare(req)
    const label = `${req.method} ${redactQuery(req.url)}`
    let renewed = false
    let sent = false
    for (let attempt = 1; ; attempt++) {
      this.throwIfStopped(sent)
      await creds?.ready?.()
      await this.acquireSlot(req.bucket, sent)
      const auth = creds?.authorize(prepared, clock.now())
      this.stats.requests++
      sent = true
      let exchange: { raw: RawResponse } | { info: ProviderErrorInfo; verdict: Verdict }
      try {
        this.active++
        exchange = {
          raw: await send(
            this.opts.fetch,
            { ...prepared, headers: { ...prepared.headers, ...auth?.headers } },
            {
              timeoutMs: this.opts.timeoutMs,
              maxBodyBytes: this.opts.maxBodyBytes ?? MAX_BODY_BYTES,
              signal: control.signal
            }
          )
        }
      } catch (err) {
        if (!(err instanceof TransportError)) throw err
        if (err.kind === 'cancelled' || control.cancelledBy !== undefined) throw new RunHaltedError(control.cancelledBy ?? 'the run was cancelled', true)
        const info: ProviderErrorInfo = { status: err.status, message: err.message, requestId: err.headers ? this.requestIdOf(err.headers) : undefined }
        const verdict: Verdict =
          err.kind === 'too-large' ? { action: 'fail', fatal: false } : decideOnTransport({ attempt, maxRetries, idempotent, random: this.opts.random })
        exchange = { info, verdict }
      } finally {
        this.active--
        this.inFlight.release()
      }
      if (!('raw' in exchange)) {
        // Waited for here, once the slot on the wire is released: a request waiting to retry holds none.
        const { info, verdict } = exchange
        if (verdict.action === 'retry' && (await this.retryAfter(label, attempt, verdict, info, req.bucket))) continue
        throw new ProviderRequestError(this.scrubInfo(this.exhausted(info, verdict, attempt)), attempt)
      }
      const { raw } = exchange

      const requestId = this.requestIdOf(raw.headers)
      // A 429 is throttling, handled (and charged to the wait budget) by the retry below; other answers pace.
      if (this.opts.profile.paceByHeaders && raw.status !== 429) this.observeAllowance(raw.headers, req.bucket)
      const success = req.ok ? req.ok.includes(raw.status) : raw.status >= 200 && raw.status < 300
      const body = parseJson(raw.text)
      // A 2xx whose body says failure (Slack's {"ok":false,"error":...}) is a failure, judged like any other.
      const inBody = success ? this.opts.profile.failureInBody?.(raw.status, body) : undefined
      if (success && inBody === undefined) {
        const kind = req.body ?? (req.schema ? 'json' : undefined)
        const empty = raw.text.trim() === ''
        if (kind !== undefined && !(empty ? kind !== 'json' : body !== undefined && kind !== 'empty')) {
          const saw = empty ? 'an empty body' : body === undefined ? 'a body that is not JSON' : 'a body where none is documented'
          throw this.unexpected(raw.status, `${req.what ?? label} answered HTTP ${raw.status} with ${saw}`, raw.text, requestId, attempt)
        }
        let data = body as T
        if (req.schema) {
          const parsed = req.schema.safeParse(body)
          if (!parsed.success) {
            const issue = parsed.error.issues[0]
            const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
            throw this.unexpected(
              raw.status,
              `${req.what ?? label} answered outside the documented shape (${issue?.message ?? 'bad shape'}${where})`,
              raw.text,
              requestId,
              attempt
            )
          }
          data = parsed.data
        }
        const secrets = this.opts.secrets
        return {
          status: raw.status,
          headers: raw.headers,
          body,
          data,
          text: raw.text,
          // Scrubbed only when a provider reads it (rarely, on a success): a copy per answer is garbage at 10,000 targets.
          get safeText(): string {
            return secrets.scrub(raw.text)
          },
          requestId,
          attempts: attempt
        }
      }
      if (req.pass?.includes(raw.status)) {
        const safeText = this.opts.secrets.scrub(raw.text)
        const info = this.opts.profile.parseError(raw.status, parseJson(safeText), safeText)
        const error = this.scrubInfo({ ...info, status: raw.status, requestId: info.requestId ?? requestId })
        return { status: raw.status, headers: raw.headers, body, data: body as T, text: raw.text, safeText, requestId, attempts: attempt, error }
      }
      if (raw.status >= 200 && raw.status < 300 && inBody === undefined) {
        throw this.unexpected(
          raw.status,
          `${req.what ?? label} answered HTTP ${raw.status}, which the API does not document as its success (expected ${req.ok?.join(' or ')})`,
          raw.text,
          requestId,
          attempt
        )
      }
      if (raw.status >= 300 && raw.status < 400) {
        const location = raw.headers.get('location') ?? '(no Location header)'
        throw new ProviderRequestError(
          this.scrubInfo({
            status: raw.status,
            code: 'redirect',
            message: `the server redirected to ${redactQuery(location)}; redirects are not followed — check base-url (scheme, host and path)`,
            requestId
          }),
          attempt
        )
      }
      // Scrub before the provider trims the text to a snippet, or a cut secret would survive.
      const safeText = this.opts.secrets.scrub(raw.text)
      let info = inBody ?? this.opts.profile.parseError(raw.status, parseJson(safeText), safeText)
      info = { ...info, status: raw.status, requestId: info.requestId ?? requestId }
      if ((raw.status === 401 || this.opts.profile.isAuthFailure?.(raw.status, info)) && creds?.renew && !renewed && auth) {
        renewed = true
        if (await creds.renew(auth.used)) {
          attempt--
          continue
        }
      }
      const verdict = decideOnStatus({
        status: raw.status,
        error: info,
        headers: raw.headers,
        attempt,
        maxRetries,
        idempotent,
        rules: this.opts.profile,
        now: clock.now(),
        random: this.opts.random
      })
      if (verdict.action === 'fail') {
        const error = new ProviderRequestError(this.scrubInfo(this.exhausted(info, verdict, attempt)), attempt, verdict.fatal)
        if (verdict.fatal) control.halt(`the run stopped after ${describeProviderError(error.info)}`)
        throw error
      }
      if (await this.retryAfter(label, attempt, verdict, info, req.bucket)) continue
      throw new ProviderRequestError(this.scrubInfo(info), attempt)
    }
  }

  async waitToRetry(waitMs: number, o: { throttled: boolean; bucket?: string; label: string }): Promise<boolean> {
    const { clock, budget, limiter, control } = this.opts
    if (control.stopped !== undefined) return false
    const now = clock.now()
    if (!budget.tryConsume(now, waitMs)) return false
    if (o.throttled) {
      this.stats.throttled++
      limiter.pauseUntil(now + waitMs, o.bucket)
    }
    this.stats.retries++
    this.opts.log.debug(`${o.label}: retry in ${waitMs} ms`)
    await control.sleep((ms) => clock.sleep(ms), waitMs)
    return control.stopped === undefined
  }

  /** Waits as the verdict says; false (with the reason added to `info`) when the wait budget is spent. */
  private async retryAfter(
    label: string,
    attempt: number,
    verdict: Extract<Verdict, { action: 'retry' }>,
    info: ProviderErrorInfo,
    bucket?: string
  ): Promise<boolean> {
    const { clock, budget, limiter, control } = this.opts
    const now = clock.now()
    if (!budget.tryConsume(now, verdict.waitMs)) {
      const asked = verdict.serverAsked ? `the provider asked to wait ${Math.ceil(verdict.waitMs / 1000)} s, and ` : ''
      info.message = `${info.message} (gave up: ${asked}the wait budget of max-wait-seconds is spent)`
      return false
    }
    if (verdict.throttled) {
      this.stats.throttled++
      // A throttle answer slows every worker (of that rate-limit window), not only this one.
      limiter.pauseUntil(now + verdict.waitMs, this.opts.profile.paceByHeaders ? bucket : undefined)
    }
    this.stats.retries++
    this.opts.log.debug(`${label}: ${info.status ?? 'network'} ${info.message}; retry ${attempt}/${this.opts.maxRetries} in ${verdict.waitMs} ms`)
    await control.sleep((ms) => clock.sleep(ms), verdict.waitMs)
    return true
  }

  /** A slot on the wire, then a moment from the shared limiter; both give way to a stop. */
  private async acquireSlot(bucket: string | undefined, sent: boolean): Promise<void> {
    const { control, limiter } = this.opts
    try {
      await this.inFlight.acquire(control.signal)
    } catch {
      throw new RunHaltedError(control.cancelledBy ?? 'the run was cancelled', sent)
    }
    try {
      // Allowance headers of answers without a bucket are recorded under 'default' (observeAllowance): pace by it.
      await Promise.race([limiter.acquire(bucket ?? (this.opts.profile.paceByHeaders ? 'default' : undefined)), control.cancelled])
      this.throwIfStopped(sent)
    } catch (err) {
      this.inFlight.release()
      throw err
    }
  }

  private throwIfStopped(sent: boolean): void {
    const reason = this.opts.control.stopped
    if (reason !== undefined) throw new RunHaltedError(reason, sent)
  }

  private observeAllowance(headers: Headers, bucket: string | undefined): void {
    const remaining = Number(headers.get('x-rate-limit-remaining') ?? headers.get('x-ratelimit-remaining') ?? Number.NaN)
    const waitMs = resetWaitMs(headers, this.opts.clock.now())
    if (!Number.isFinite(remaining) || waitMs === undefined) return
    const limit = Number(headers.get('x-rate-limit-limit') ?? headers.get('x-ratelimit-limit') ?? Number.NaN)
    this.opts.limiter.observe(
      bucket ?? 'default',
      { remaining, limit: Number.isFinite(limit) ? limit : undefined, resetAt: this.opts.clock.now() + waitMs },
      // The requests on the wire, and one spare for a request granted but not yet sent.
      this.active + 1
    )
  }

  private unexpected(status: number, what: string, text: string, requestId: string | undefined, attempts: number): ProviderRequestError {
    // Scrub first, then cut: a secret echoed in the body must not survive as a prefix.
    return new ProviderRequestError(
      this.scrubInfo({ status, code: UNEXPECTED_RESPONSE, message: `${what}: ${bodySnippet(this.opts.secrets.scrub(text))}`, requestId }),
      attempts
    )
  }

  private exhausted(info: ProviderErrorInfo, verdict: Verdict, attempt: number): ProviderErrorInfo {
    if (verdict.action === 'fail' && attempt > this.opts.maxRetries && this.opts.maxRetries > 0 && !verdict.fatal) {
      return { ...info, message: `${info.message} (gave up after ${attempt} attempts)` }
    }
    return info
  }

  private requestIdOf(headers: Headers): string | undefined {
    for (const name of this.opts.profile.requestIdHeaders) {
      const v = headers.get(name)
      if (v) return v.slice(0, 200)
    }
    return undefined
  }

  private scrubInfo(info: ProviderErrorInfo): ProviderErrorInfo {
    const s = this.opts.secrets
    return {
      ...info,
      message: s.scrub(info.message),
      code: info.code === undefined ? undefined : s.scrub(info.code),
      requestId: info.requestId === undefined ? undefined : s.scrub(info.requestId)
    }
  }
}

export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Text of a body, flattened and cut for a report line. Scrub it before calling this. */
export function bodySnippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || '(empty body)'
}

function redactQuery(url: string): string {
  const i = url.indexOf('?')
  return i === -1 ? url : `${url.slice(0, i)}?…`
}
