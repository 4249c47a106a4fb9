import type { Clock } from './clock.js'

/**
 * One limiter per provider, shared by every worker: requests are spaced evenly at
 * `perMinute` (no burst), and a throttle answer from the provider pauses everyone.
 *
 * Written here rather than taken from a library: the well-known ones either allow bursts
 * above the configured rate (token buckets) or are unmaintained (bottleneck), and neither
 * lets a Retry-After from one worker hold back the others.
 */
export class RateLimiter {
  private readonly intervalMs: number
  private nextSlot = 0
  private pausedUntil = 0

  constructor(
    perMinute: number,
    private readonly clock: Clock
  ) {
    this.intervalMs = 60_000 / perMinute
  }

  /** Resolves when the caller may send one request. */
  async acquire(): Promise<void> {
    for (;;) {
      const now = this.clock.now()
      const slot = Math.max(now, this.nextSlot, this.pausedUntil)
      this.nextSlot = slot + this.intervalMs
      await this.clock.sleep(slot - now)
      // A pause announced while this caller slept holds it back too.
      if (this.pausedUntil <= this.clock.now()) return
    }
  }

  /** Holds every worker back until `untilMs` (the provider asked us to slow down). */
  pauseUntil(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs)
  }
}
