import { describe, expect, it } from '@jest/globals'
import { decideOnStatus, decideOnTransport, isTransientStatus, resetWaitMs } from '../../src/engine/http/retry-policy.js'
import { RateLimiter, WaitBudget } from '../../src/engine/http/throttle.js'
import { T0, VirtualClock } from './helpers.js'

/** Runs `n` concurrent acquires (optionally per bucket) and returns when each was granted, from T0. */
async function grants(limiter: RateLimiter, clock: VirtualClock, buckets: Array<string | undefined>): Promise<number[]> {
  const at: number[] = []
  await Promise.all(
    buckets.map(async (b, i) => {
      await limiter.acquire(b)
      at[i] = clock.now() - T0
    })
  )
  return at
}

describe('RateLimiter', () => {
  it('spaces concurrent callers evenly at the rate, with no burst', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(120, clock)
    expect(await grants(limiter, clock, [undefined, undefined, undefined, undefined])).toEqual([0, 500, 1000, 1500])
  })

  it('at 1 a minute, the second caller goes at 60 s and the third at 120 s: a long wait keeps its place', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(1, clock)
    expect(await grants(limiter, clock, [undefined, undefined, undefined])).toEqual([0, 60_000, 120_000])
  })

  it('a pause that starts while a caller waits for its slot does not send it to the back of the queue', async () => {
    // 1 a minute: B holds the slot at 60 s. At 30 s the provider asks everyone to wait until 70 s.
    const clock = new VirtualClock()
    const limiter = new RateLimiter(1, clock)
    await limiter.acquire()
    const b = grants(limiter, clock, [undefined])
    await clock.sleep(30_000)
    limiter.pauseUntil(T0 + 70_000)
    expect((await b)[0]).toBe(70_000)
    // The one after it keeps the spacing from there.
    expect(await grants(limiter, clock, [undefined])).toEqual([130_000])
  })

  it('callers queued behind a pause keep their order and spacing after it', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60, clock)
    await limiter.acquire()
    const queued = grants(limiter, clock, [undefined, undefined, undefined, undefined])
    await clock.sleep(500)
    limiter.pauseUntil(T0 + 10_000)
    expect(await queued).toEqual([10_000, 11_000, 12_000, 13_000])
  })

  it('does not save up unused time for a burst later', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60, clock)
    await limiter.acquire()
    clock.advance(10_000)
    expect(await grants(limiter, clock, [undefined, undefined, undefined])).toEqual([10_000, 11_000, 12_000])
  })

  it('pauseUntil holds every caller back, and a later, shorter pause does not shorten it', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(6000, clock)
    limiter.pauseUntil(T0 + 5000)
    limiter.pauseUntil(T0 + 1000)
    const at = await grants(limiter, clock, [undefined, 'users'])
    expect(Math.min(...at)).toBe(5000)
  })

  it('a pause announced while a caller sleeps holds it back too', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60, clock)
    await limiter.acquire()
    const second = grants(limiter, clock, [undefined])
    await clock.sleep(500)
    limiter.pauseUntil(T0 + 3000)
    expect((await second)[0]).toBeGreaterThanOrEqual(3000)
  })

  it('a bucket pause holds back only that bucket', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60_000, clock)
    limiter.pauseUntil(T0 + 10_000, 'users')
    const at = await grants(limiter, clock, ['users', 'groups', undefined])
    expect(at[0]).toBeGreaterThanOrEqual(10_000)
    expect(at[1]).toBeLessThan(10)
    expect(at[2]).toBeLessThan(10)
  })

  it('a bucket pause announced while its caller sleeps holds it back', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60, clock)
    await limiter.acquire('users')
    const second = grants(limiter, clock, ['users'])
    await clock.sleep(100)
    limiter.pauseUntil(T0 + 4000, 'users')
    expect((await second)[0]).toBeGreaterThanOrEqual(4000)
  })

  it('observe: no more left than in flight pauses the bucket until a little past the reset', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60_000, clock)
    limiter.observe('users', { remaining: 2, limit: 100, resetAt: T0 + 8000 }, 2)
    const at = await grants(limiter, clock, ['users', 'groups'])
    expect(at[0]).toBe(8500)
    expect(at[1]).toBeLessThan(10)
  })

  it('observe: a low allowance spreads the rest over the time to the reset; plenty clears it', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60_000, clock)
    // 11 left of 100 (below 20 %), 1 in flight: 10 calls over 10.5 s (the reset, and a 500 ms margin).
    limiter.observe('users', { remaining: 11, limit: 100, resetAt: T0 + 10_000 }, 1)
    const at = await grants(limiter, clock, ['users', 'users', 'users'])
    expect(at[1] - at[0]).toBeCloseTo(1050, 0)
    expect(at[2] - at[1]).toBeCloseTo(1050, 0)
    // A new window with plenty left: no more spacing (past the slot already announced).
    limiter.observe('users', { remaining: 90, limit: 100, resetAt: clock.now() + 60_000 }, 1)
    await limiter.acquire('users')
    const start = clock.now()
    await limiter.acquire('users')
    await limiter.acquire('users')
    expect(clock.now() - start).toBeLessThan(10)
  })

  it('observe: within one window the smallest remaining count wins; a past reset is ignored', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60_000, clock)
    limiter.observe('users', { remaining: 5, limit: 100, resetAt: T0 + 10_000 }, 0)
    // An answer that left earlier, with more remaining in the same window, does not lift the spacing.
    limiter.observe('users', { remaining: 50, limit: 100, resetAt: T0 + 10_000 }, 0)
    // Nor does one whose window is over.
    limiter.observe('users', { remaining: 50, limit: 100, resetAt: T0 - 1 }, 0)
    const at = await grants(limiter, clock, ['users', 'users'])
    expect(at[1] - at[0]).toBe(2100)
  })

  it('observe: without a limit, the low-water mark is twice what is in flight', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60_000, clock)
    limiter.observe('a', { remaining: 8, resetAt: T0 + 4000 }, 4) // 8 <= 2*4: spaced over 4 calls
    limiter.observe('b', { remaining: 9, resetAt: T0 + 4000 }, 4) // 9 > 8: not spaced
    const a = await grants(limiter, clock, ['a', 'a'])
    expect(a[1] - a[0]).toBeCloseTo(1125, 0)
    const start = clock.now()
    await grants(limiter, clock, ['b', 'b'])
    expect(clock.now() - start).toBeLessThan(10)
  })
})

describe('WaitBudget', () => {
  it('counts the union of overlapping waits, and refuses a wait past the limit', () => {
    const b = new WaitBudget(10_000)
    expect(b.tryConsume(0, 4000)).toBe(true)
    expect(b.tryConsume(1000, 2000)).toBe(true) // inside the first wait: free
    expect(b.spent).toBe(4000)
    expect(b.tryConsume(3000, 4000)).toBe(true) // adds 3000
    expect(b.spent).toBe(7000)
    expect(b.tryConsume(20_000, 3001)).toBe(false)
    expect(b.spent).toBe(7000)
    expect(b.tryConsume(20_000, 3000)).toBe(true)
    expect(b.tryConsume(30_000, 0)).toBe(true)
    expect(new WaitBudget(0).tryConsume(0, 1)).toBe(false)
  })
})

describe('retry policy', () => {
  const h = (o: Record<string, string> = {}): Headers => new Headers(o)
  const base = { error: { message: 'x' }, headers: h(), attempt: 1, maxRetries: 3, idempotent: true, rules: {}, now: T0, random: () => 0 }

  it('decides on statuses: fatal, redirects, transient, throttled, exhausted', () => {
    expect(decideOnStatus({ ...base, status: 401 })).toEqual({ action: 'fail', fatal: true })
    expect(decideOnStatus({ ...base, status: 403, rules: { fatalStatuses: [403] } })).toEqual({ action: 'fail', fatal: true })
    expect(decideOnStatus({ ...base, status: 401, rules: { fatalStatuses: [] } })).toEqual({ action: 'fail', fatal: false })
    expect(decideOnStatus({ ...base, status: 307 })).toEqual({ action: 'fail', fatal: false })
    expect(decideOnStatus({ ...base, status: 503 })).toEqual({ action: 'retry', waitMs: 50, throttled: false, serverAsked: false })
    expect(decideOnStatus({ ...base, status: 503, headers: h({ 'retry-after': '2' }) })).toEqual({
      action: 'retry',
      waitMs: 2000,
      throttled: true,
      serverAsked: true
    })
    expect(decideOnStatus({ ...base, status: 429 })).toEqual({ action: 'retry', waitMs: 50, throttled: true, serverAsked: false })
    expect(decideOnStatus({ ...base, status: 429, attempt: 4 })).toEqual({ action: 'fail', fatal: false })
    expect(decideOnStatus({ ...base, status: 503, idempotent: false })).toEqual({ action: 'fail', fatal: false })
    expect(decideOnStatus({ ...base, status: 418, rules: { isRetryable: () => true } }).action).toBe('retry')
    expect(decideOnStatus({ ...base, status: 200, rules: { isFatal: () => true } })).toEqual({ action: 'fail', fatal: true })
  })

  it('decides on transport failures: retried only when idempotent, within max-retries', () => {
    expect(decideOnTransport({ attempt: 1, maxRetries: 1, idempotent: true, random: () => 1 })).toEqual({
      action: 'retry',
      waitMs: 100,
      throttled: false,
      serverAsked: false
    })
    expect(decideOnTransport({ attempt: 2, maxRetries: 1, idempotent: true })).toEqual({ action: 'fail', fatal: false })
    expect(decideOnTransport({ attempt: 1, maxRetries: 5, idempotent: false })).toEqual({ action: 'fail', fatal: false })
  })

  it('reads the reset headers in order, and skips values that are not numbers', () => {
    expect(resetWaitMs(h({ 'x-rate-limit-reset': 'soon', 'ratelimit-reset': '2.5' }), T0)).toBe(2500)
    expect(resetWaitMs(h({ 'x-ratelimit-reset': String(T0 / 1000 - 5) }), T0)).toBe(0)
    expect(isTransientStatus(425)).toBe(true)
    expect(isTransientStatus(505)).toBe(false)
  })
})
