// Throttling: the one rate limiter a provider's workers share, the pauses a provider asks for
// (Retry-After, reset headers, rate-limit allowance running low) and the bound on the time spent waiting.
import type { Clock } from '../clock.js'

/** Reset headers count whole seconds and clocks differ a little: wait this long past a stated reset. */
const RESET_MARGIN_MS = 500

interface Bucket {
  pausedUntil: number
  nextSlot: number
  /** Extra spacing while the provider says its allowance is running low; 0 when it is not. */
  intervalMs: number
  /** The window the spacing was computed for (the reset time), so a newer window replaces it. */
  resetAt: number
  remaining: number
}

/** What a response said about its rate-limit window (X-Rate-Limit-Remaining / -Reset, and -Limit). */
export interface Allowance {
  remaining: number
  limit?: number
  resetAt: number
}

/**
 * One limiter per provider, shared by every worker: requests are spaced evenly at `perMinute` (no
 * burst), and a throttle answer from the provider pauses everyone. A provider with several rate-limit
 * windows (Okta: one per endpoint) names them as buckets: a pause, or a low allowance reported in the
 * response headers, holds back only that bucket's requests.
 *
 * Written here rather than taken from a library: the well-known ones either allow bursts above the
 * configured rate (token buckets) or are unmaintained (bottleneck), and neither lets a Retry-After or
 * an allowance header from one worker hold back the others.
 */
export class RateLimiter {
  private readonly intervalMs: number
  private nextSlot = 0
  private pausedUntil = 0
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    perMinute: number,
    private readonly clock: Clock
  ) {
    this.intervalMs = 60_000 / perMinute
  }

  private bucket(name: string): Bucket {
    let b = this.buckets.get(name)
    if (!b) {
      b = { pausedUntil: 0, nextSlot: 0, intervalMs: 0, resetAt: 0, remaining: Number.POSITIVE_INFINITY }
      this.buckets.set(name, b)
    }
    return b
  }

  /** Resolves when the caller may send one request (to `bucket`, when the provider has several). */
  async acquire(bucket?: string): Promise<void> {
    const b = bucket === undefined ? undefined : this.bucket(bucket)
    for (;;) {
      let now = this.clock.now()
      if (b) {
        const ready = Math.max(b.pausedUntil, b.nextSlot)
        if (ready > now) {
          await this.clock.sleep(ready - now)
          continue
        }
        if (b.intervalMs > 0) b.nextSlot = now + b.intervalMs
      }
      const slot = Math.max(now, this.nextSlot, this.pausedUntil)
      this.nextSlot = slot + this.intervalMs
      await this.clock.sleep(slot - now)
      now = this.clock.now()
      // A pause announced while this caller slept holds it back too.
      if (this.pausedUntil <= now && (!b || b.pausedUntil <= now)) return
      // It waits for the pause without losing its place: when no one has queued behind it, its slot is
      // given back, so it goes when the pause ends rather than one interval after its own old slot.
      if (this.nextSlot === slot + this.intervalMs) this.nextSlot = slot
    }
  }

  /** Holds every worker back (or those of one bucket) until `untilMs`: the provider asked to slow down. */
  pauseUntil(untilMs: number, bucket?: string): void {
    if (bucket === undefined) this.pausedUntil = Math.max(this.pausedUntil, untilMs)
    else {
      const b = this.bucket(bucket)
      b.pausedUntil = Math.max(b.pausedUntil, untilMs)
    }
  }

  /**
   * Paces a bucket by what the provider says is left of its window, before it answers 429: with
   * `reserve` or fewer calls left (the requests already in flight), the bucket waits for the reset;
   * with little left, the remaining calls are spread evenly over the time to the reset.
   */
  observe(bucket: string, allowance: Allowance, reserve: number): void {
    const b = this.bucket(bucket)
    const now = this.clock.now()
    if (allowance.resetAt <= now) return
    // Answers arrive out of order: within one window, the smallest remaining count is the truth.
    if (allowance.resetAt === b.resetAt && allowance.remaining >= b.remaining) return
    b.resetAt = allowance.resetAt
    b.remaining = allowance.remaining
    const lowWater = Math.max(reserve * 2, Math.ceil((allowance.limit ?? 0) * 0.2))
    if (allowance.remaining <= reserve) {
      // Reset headers have whole-second precision: wait a little past the stated time.
      b.pausedUntil = Math.max(b.pausedUntil, allowance.resetAt + RESET_MARGIN_MS)
      b.intervalMs = 0
    } else if (allowance.remaining <= lowWater) {
      b.intervalMs = (allowance.resetAt + RESET_MARGIN_MS - now) / (allowance.remaining - reserve)
    } else {
      b.intervalMs = 0
    }
  }
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
