// Retry policy: pure decisions, no I/O. What a failed attempt means (retry, give up, stop the run)
// and how long to wait first. The client (client.ts) schedules; this module only decides.
import type { ProviderErrorInfo } from '../types.js'

// As the AWS SDKs' "standard" retry mode: 100 ms base, doubling, capped at 20 s. Used only when the
// provider gave no Retry-After or reset header; the limiter keeps the overall rate either way.
const BASE_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 20_000

/** Statuses that say "try again": throttled, or the server side failed. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status !== 501 && status !== 505)
}

/**
 * How long the server asked us to wait, in ms: Retry-After (seconds or HTTP date) first, then
 * the reset headers (epoch seconds, or seconds from now when the value is small).
 */
export function serverRequestedWaitMs(headers: Headers, now: number): number | undefined {
  const retryAfter = headers.get('retry-after')
  if (retryAfter !== null && retryAfter.trim() !== '') {
    const value = retryAfter.trim()
    if (/^\d+(\.\d+)?$/.test(value)) return clampWait(Number(value) * 1000)
    const at = Date.parse(value)
    if (!Number.isNaN(at)) return clampWait(at - now)
  }
  return resetWaitMs(headers, now)
}

/** The wait until a rate-limit window resets, from x-rate-limit-reset / x-ratelimit-reset / ratelimit-reset. */
export function resetWaitMs(headers: Headers, now: number): number | undefined {
  for (const name of ['x-rate-limit-reset', 'x-ratelimit-reset', 'ratelimit-reset']) {
    const raw = headers.get(name)
    if (raw === null || !/^\d+(\.\d+)?$/.test(raw.trim())) continue
    const n = Number(raw.trim())
    // Epoch seconds are large; a small number is a delta in seconds (IETF RateLimit-Reset).
    return clampWait(n > 1_000_000_000 ? n * 1000 - now : n * 1000)
  }
  return undefined
}

/** Never negative; never shortened either: the wait budget decides whether to wait that long. */
function clampWait(ms: number): number {
  return Math.max(0, Math.ceil(ms))
}

/** Exponential backoff with full jitter for attempt 1, 2, 3... */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1))
  return Math.round(cap / 2 + (random() * cap) / 2)
}

/** Provider-specific rules the policy consults. */
export interface RetryRules {
  /** Provider verdict for a non-2xx answer; undefined falls back to the shared rules. */
  isRetryable?(status: number, error: ProviderErrorInfo): boolean | undefined
  /** Whether this answer is the provider throttling (beyond 429), e.g. Google's quota 403s. */
  isThrottle?(status: number, error: ProviderErrorInfo): boolean
  /** Statuses that mean the credentials are wrong: the run stops. Default [401]. */
  fatalStatuses?: readonly number[]
  /** Failures that stop the run whatever their status (Slack's invalid_auth, missing_scope in an HTTP 200). */
  isFatal?(status: number, error: ProviderErrorInfo): boolean
}

export type Verdict = { action: 'retry'; waitMs: number; throttled: boolean; serverAsked: boolean } | { action: 'fail'; fatal: boolean }

/** What to do after an answer that was not a success. */
export function decideOnStatus(input: {
  status: number
  error: ProviderErrorInfo
  headers: Headers
  attempt: number
  maxRetries: number
  idempotent: boolean
  rules: RetryRules
  now: number
  random?: () => number
}): Verdict {
  const { status, error, rules } = input
  if ((rules.fatalStatuses ?? [401]).includes(status) || rules.isFatal?.(status, error)) return { action: 'fail', fatal: true }
  if (status >= 300 && status < 400) return { action: 'fail', fatal: false }
  const throttled = status === 429 || (rules.isThrottle?.(status, error) ?? false)
  let retryable = throttled || (rules.isRetryable?.(status, error) ?? isTransientStatus(status))
  // A server error on a request that must not repeat may have taken effect: never resend it.
  if (status >= 500 && !input.idempotent) retryable = false
  if (!retryable || input.attempt > input.maxRetries) return { action: 'fail', fatal: false }
  const asked = serverRequestedWaitMs(input.headers, input.now)
  return {
    action: 'retry',
    waitMs: asked ?? backoffMs(input.attempt, input.random),
    throttled: throttled || asked !== undefined,
    serverAsked: asked !== undefined
  }
}

/** What to do after an exchange that produced no answer (timeout, reset connection). */
export function decideOnTransport(input: { attempt: number; maxRetries: number; idempotent: boolean; random?: () => number }): Verdict {
  // A request that may have reached the server is repeated only when that is harmless.
  if (!input.idempotent || input.attempt > input.maxRetries) return { action: 'fail', fatal: false }
  return { action: 'retry', waitMs: backoffMs(input.attempt, input.random), throttled: false, serverAsked: false }
}
