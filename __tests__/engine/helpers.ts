// In-process test kit for the engine, after octokit's TestOctokit: a `fetch` that answers from a script
// and records every request, a clock whose sleeps take no wall time, a sink that records every line.
import type { Clock } from '../../src/engine/clock.js'
import { RunControl } from '../../src/engine/control.js'
import { HttpClient, type HttpClientOptions, type HttpProfile } from '../../src/engine/http/client.js'
import { RateLimiter, WaitBudget } from '../../src/engine/http/throttle.js'
import { Logger } from '../../src/engine/logger.js'
import { SecretStore } from '../../src/engine/secrets.js'
import type { ActionSink, AnnotationProps } from '../../src/engine/sink.js'
import type { ProviderErrorInfo } from '../../src/engine/types.js'

/** 2026-01-01T00:00:00Z: a realistic epoch, so HTTP dates and epoch reset headers make sense. */
export const T0 = Date.UTC(2026, 0, 1)

/**
 * Virtual time. `sleep(ms)` schedules a wake-up at now + ms; whenever the process has gone quiet (no
 * pending microtasks or immediates), the clock jumps to the earliest wake-up and resolves it. Concurrent
 * sleeps overlap as they would in real time, and no test waits for real.
 */
export class VirtualClock implements Clock {
  private t: number
  private seq = 0
  private readonly timers: Array<{ at: number; seq: number; resolve: () => void }> = []
  private driving = false
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[] = []

  constructor(start = T0) {
    this.t = start
  }

  now(): number {
    return this.t
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms)
    if (!(ms > 0)) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.timers.push({ at: this.t + ms, seq: this.seq++, resolve })
      this.drive()
    })
  }

  /** Moves time forward by hand (e.g. between two requests of a test). */
  advance(ms: number): void {
    this.t += ms
  }

  private drive(): void {
    if (this.driving) return
    this.driving = true
    void (async () => {
      for (;;) {
        await quiet()
        if (this.timers.length === 0) break
        this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq)
        const next = this.timers.shift()!
        this.t = Math.max(this.t, next.at)
        next.resolve()
      }
      this.driving = false
    })()
  }
}

/** Lets every pending microtask and immediate run. */
export async function quiet(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r))
}

/** A sink that records everything the action would show. */
export class RecordingSink implements ActionSink {
  readonly lines: Array<{ kind: string; text: string; props?: AnnotationProps }> = []
  readonly secrets: string[] = []
  readonly outputs = new Map<string, string>()
  readonly summaries: string[] = []
  failed: string | undefined

  constructor(private readonly inputs: Record<string, string> = {}) {}

  getInput(name: string): string {
    return this.inputs[name] ?? ''
  }
  setSecret(value: string): void {
    this.secrets.push(value)
  }
  setOutput(name: string, value: string): void {
    this.outputs.set(name, value)
  }
  setFailed(message: string): void {
    this.failed = message
  }
  info(message: string): void {
    this.lines.push({ kind: 'info', text: message })
  }
  debug(message: string): void {
    this.lines.push({ kind: 'debug', text: message })
  }
  warning(message: string, props?: AnnotationProps): void {
    this.lines.push({ kind: 'warning', text: message, props })
  }
  error(message: string, props?: AnnotationProps): void {
    this.lines.push({ kind: 'error', text: message, props })
  }
  notice(message: string, props?: AnnotationProps): void {
    this.lines.push({ kind: 'notice', text: message, props })
  }
  startGroup(name: string): void {
    this.lines.push({ kind: 'group', text: name })
  }
  endGroup(): void {
    this.lines.push({ kind: 'endgroup', text: '' })
  }
  async writeSummary(markdown: string): Promise<void> {
    this.summaries.push(markdown)
  }
  async getIDToken(audience: string): Promise<string> {
    return `oidc-token-for-${audience}`
  }

  /** Every line of one kind (or all), as text. */
  text(kind?: string): string[] {
    return this.lines.filter((l) => kind === undefined || l.kind === kind).map((l) => l.text)
  }
  all(): string {
    return this.lines.map((l) => `${l.kind}: ${l.text}`).join('\n')
  }
}

export interface RecordedRequest {
  method: string
  url: string
  headers: Record<string, string>
  body: string
  /** Virtual time the request reached the fetch. */
  at: number
  /** Virtual time the answer was given (or the exchange failed). */
  doneAt?: number
  signal?: AbortSignal
}

/** What the script answers with. */
export type Answer =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  /** Throws like undici on a reset connection. */
  | { network: string; delayMs?: number }
  /** Never answers: resolves only when the signal aborts (timeout, cancel). */
  | { hang: true; delayMs?: undefined }

export type Script = (req: RecordedRequest, n: number) => Answer | Promise<Answer>

export interface ScriptedFetch {
  (input: string, init: RequestInit): Promise<Response>
  requests: RecordedRequest[]
  /** Most exchanges under way at once. */
  maxConcurrent: number
  active: number
}

/**
 * A fetch that answers from `script` (called with the recorded request and its 0-based number) and
 * records each request. Latency (`delayMs`) is spent on the virtual clock and gives way to the signal.
 */
export function scriptedFetch(clock: Clock, script: Script): ScriptedFetch {
  const f = (async (input: string, init: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v
    })
    const req: RecordedRequest = {
      method: init.method ?? 'GET',
      url: input,
      headers,
      body: typeof init.body === 'string' ? init.body : '',
      at: clock.now(),
      signal: init.signal ?? undefined
    }
    const n = f.requests.length
    f.requests.push(req)
    f.active++
    f.maxConcurrent = Math.max(f.maxConcurrent, f.active)
    try {
      const answer = await script(req, n)
      const signal = init.signal ?? undefined
      if ('hang' in answer) {
        await new Promise<never>((_, reject) => {
          const fail = (): void => reject(signal?.reason ?? new DOMException('aborted', 'AbortError'))
          if (signal?.aborted) fail()
          signal?.addEventListener('abort', fail, { once: true })
        })
      }
      if (answer.delayMs) await abortable(clock.sleep(answer.delayMs), signal)
      if ('network' in answer) {
        const cause = Object.assign(new Error(answer.network), { code: answer.network })
        throw new TypeError('fetch failed', { cause })
      }
      const a = answer as Extract<Answer, { status: number }>
      const text = a.body === undefined || a.body === null ? null : typeof a.body === 'string' ? a.body : JSON.stringify(a.body)
      const nullBody = [101, 204, 205, 304].includes(a.status)
      return new Response(nullBody ? null : text, { status: a.status, headers: a.headers })
    } finally {
      f.active--
      req.doneAt = clock.now()
    }
  }) as ScriptedFetch
  f.requests = []
  f.maxConcurrent = 0
  f.active = 0
  return f
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p
  return new Promise<T>((resolve, reject) => {
    const fail = (): void => reject(signal.reason ?? new DOMException('aborted', 'AbortError'))
    if (signal.aborted) return fail()
    signal.addEventListener('abort', fail, { once: true })
    p.then(resolve, reject)
  })
}

/** A provider's error body reader as most providers write it: {"message","code"}. */
export function parseError(status: number, body: unknown, text: string): ProviderErrorInfo {
  if (body !== null && typeof body === 'object' && 'message' in body) {
    const b = body as { message: unknown; code?: unknown; request_id?: unknown }
    return {
      status,
      message: String(b.message),
      code: b.code === undefined ? undefined : String(b.code),
      requestId: b.request_id === undefined ? undefined : String(b.request_id)
    }
  }
  const flat = text.replace(/\s+/g, ' ').trim()
  return { status, message: flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || '(empty body)' }
}

export const profile: HttpProfile = { parseError, requestIdHeaders: ['x-request-id'] }

export interface TestClient {
  http: HttpClient
  fetch: ScriptedFetch
  clock: VirtualClock
  control: RunControl
  sink: RecordingSink
  secrets: SecretStore
  log: Logger
  limiter: RateLimiter
  budget: WaitBudget
}

/** An HttpClient over a scripted fetch, a virtual clock and a recording sink; fast defaults. */
export function testClient(script: Script, over: Partial<Omit<HttpClientOptions, 'fetch'>> & { rateLimit?: number; maxWaitMs?: number } = {}): TestClient {
  const clock = (over.clock as VirtualClock | undefined) ?? new VirtualClock()
  const sink = new RecordingSink()
  const secrets = over.secrets ?? new SecretStore((v) => sink.setSecret(v))
  const log = over.log ?? new Logger(sink, secrets)
  const control = over.control ?? new RunControl()
  const limiter = over.limiter ?? new RateLimiter(over.rateLimit ?? 600_000, clock)
  const budget = over.budget ?? new WaitBudget(over.maxWaitMs ?? 300_000)
  const fetch = scriptedFetch(clock, script)
  const http = new HttpClient({
    fetch,
    limiter,
    budget,
    clock,
    secrets,
    log,
    control,
    profile: over.profile ?? profile,
    maxRetries: over.maxRetries ?? 3,
    timeoutMs: over.timeoutMs ?? 30_000,
    maxInFlight: over.maxInFlight ?? 4,
    maxBodyBytes: over.maxBodyBytes,
    random: over.random ?? (() => 0.5)
  })
  return { http, fetch, clock, control, sink, secrets, log, limiter, budget }
}

/** The rejection of `p`, or a failure when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the promise to reject, it resolved')
}

/** Waits, one immediate at a time, until `cond` holds. */
export async function until(cond: () => boolean, turns = 1000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return
    await new Promise<void>((r) => setImmediate(r))
  }
  throw new Error('the condition was not reached')
}
