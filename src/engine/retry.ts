/** Retry rules shared by every provider. */

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

/**
 * Bounds the wall time the run spends waiting to retry. Waits of concurrent workers overlap,
 * so the budget counts the union of their waiting intervals, not their sum.
 */
export class WaitBudget {
  private spentMs = 0
  private coveredUntil = 0

  constructor(readonly limitMs: number) {}

  /** Records a wait from `now` for `ms`; false when it would exceed the budget. */
  tryConsume(now: number, ms: number): boolean {
    const start = Math.max(now, this.coveredUntil)
    const end = now + ms
    const added = Math.max(0, end - start)
    if (this.spentMs + added > this.limitMs) return false
    this.spentMs += added
    this.coveredUntil = Math.max(this.coveredUntil, end)
    return true
  }

  get spent(): number {
    return this.spentMs
  }
}
