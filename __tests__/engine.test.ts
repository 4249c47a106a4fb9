import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../src/engine/clock.js'
import { InputError } from '../src/engine/errors.js'
import { RateLimiter, WaitBudget } from '../src/engine/http/throttle.js'
import { chunk, planHash, type PlanScope } from '../src/engine/plan.js'
import type { PlanEntry } from '../src/engine/types.js'
import { backoffMs, isTransientStatus, serverRequestedWaitMs } from '../src/engine/http/retry-policy.js'
import { SecretStore } from '../src/engine/secrets.js'
import { dedupe, parseFilter, parseTargetList, readTargetsFile } from '../src/engine/targets.js'

/** A clock that only moves when someone sleeps: limiter tests run instantly and exactly. */
function fakeClock(start = 1_000_000): Clock & { sleeps: number[] } {
  let now = start
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms)
      if (ms > 0) now += ms
    }
  }
}

describe('RateLimiter', () => {
  it('spaces requests evenly at the configured rate, with no burst', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter(120, clock) // one every 500 ms
    const times: number[] = []
    for (let i = 0; i < 5; i++) {
      await limiter.acquire()
      times.push(clock.now())
    }
    expect(times.map((t) => t - times[0])).toEqual([0, 500, 1000, 1500, 2000])
  })

  it('holds every caller back while the provider asked to pause', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter(6000, clock)
    await limiter.acquire()
    limiter.pauseUntil(clock.now() + 3000)
    const before = clock.now()
    await limiter.acquire()
    expect(clock.now() - before).toBeGreaterThanOrEqual(3000)
  })

  it('shares one schedule between concurrent workers', async () => {
    let now = 0
    const timers: Array<{ at: number; resolve: () => void }> = []
    const clock: Clock = {
      now: () => now,
      sleep: (ms) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve }))
    }
    const limiter = new RateLimiter(60, clock) // one a second
    const granted: number[] = []
    const workers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 3; i++) {
        await limiter.acquire()
        granted.push(now)
      }
    })
    for (let step = 0; step < 200 && granted.length < 12; step++) {
      await Promise.resolve()
      await new Promise((r) => setImmediate(r))
      timers.sort((a, b) => a.at - b.at)
      const t = timers.shift()
      if (t) {
        now = Math.max(now, t.at)
        t.resolve()
      }
    }
    await Promise.all(workers)
    expect(granted).toHaveLength(12)
    const sorted = [...granted].sort((a, b) => a - b)
    for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1]).toBeGreaterThanOrEqual(1000)
  })
})

describe('retry rules', () => {
  const now = Date.parse('2026-11-23T18:00:00Z')
  it('reads Retry-After in seconds and as an HTTP date', () => {
    expect(serverRequestedWaitMs(new Headers({ 'retry-after': '7' }), now)).toBe(7000)
    expect(serverRequestedWaitMs(new Headers({ 'retry-after': 'Mon, 23 Nov 2026 18:00:05 GMT' }), now)).toBe(5000)
  })
  it('falls back to reset headers, epoch seconds or a small delta', () => {
    expect(serverRequestedWaitMs(new Headers({ 'x-ratelimit-reset': String(now / 1000 + 4) }), now)).toBe(4000)
    expect(serverRequestedWaitMs(new Headers({ 'X-Rate-Limit-Reset': '3' }), now)).toBe(3000)
    expect(serverRequestedWaitMs(new Headers({}), now)).toBeUndefined()
    expect(serverRequestedWaitMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined()
  })
  it('never shortens what the server asked for, and never goes negative', () => {
    expect(serverRequestedWaitMs(new Headers({ 'retry-after': '86400' }), now)).toBe(86_400_000)
    expect(serverRequestedWaitMs(new Headers({ 'retry-after': 'Mon, 23 Nov 2026 17:00:00 GMT' }), now)).toBe(0)
  })
  it('retries throttling and server errors, not requests that are wrong', () => {
    for (const s of [408, 429, 500, 502, 503, 504]) expect(isTransientStatus(s)).toBe(true)
    for (const s of [400, 401, 403, 404, 409, 422, 501]) expect(isTransientStatus(s)).toBe(false)
  })
  it('backs off exponentially with jitter and a cap', () => {
    expect(backoffMs(1, () => 0)).toBe(50)
    expect(backoffMs(1, () => 1)).toBe(100)
    expect(backoffMs(4, () => 1)).toBe(800)
    expect(backoffMs(30, () => 1)).toBe(20_000)
  })
  it('bounds the wall time spent waiting, counting overlapping waits once', () => {
    const budget = new WaitBudget(10_000)
    expect(budget.tryConsume(0, 4000)).toBe(true)
    expect(budget.tryConsume(0, 4000)).toBe(true) // overlaps the first wait: costs nothing more
    expect(budget.tryConsume(1000, 6000)).toBe(true) // adds 3000
    expect(budget.spent).toBe(7000)
    expect(budget.tryConsume(7000, 5000)).toBe(false)
    expect(budget.tryConsume(7000, 3000)).toBe(true)
  })
})

describe('targets and filters', () => {
  it('accepts newline, comma and JSON lists, and removes repeats', () => {
    expect(parseTargetList('a\nb, c\n\n# comment\n')).toEqual({ targets: ['a', 'b', 'c'], where: ['line 1', 'line 2', 'line 2'], commentLines: [4] })
    expect(parseTargetList('["a", "b", 42]').targets).toEqual(['a', 'b', '42'])
    expect(dedupe(['a', 'b', 'a'])).toEqual({ unique: ['a', 'b'], duplicates: 1 })
  })
  it('rejects control characters and empty JSON entries, naming the input', () => {
    expect(() => parseTargetList('["a", ""]')).toThrow(InputError)
    expect(() => parseTargetList('a\u0007b')).toThrow(/Input 'targets'/)
  })
  it('reads CSV files by the column named after the target type, with quoting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'targets-'))
    const csv = join(dir, 'people.csv')
    writeFileSync(csv, 'name,username,note\n"Doe, Jane",jdoe,"left ""today"""\nBob,bob,\n')
    expect(readTargetsFile(csv, 'username', { workspace: dir }).targets).toEqual(['jdoe', 'bob'])
    const json = join(dir, 'people.json')
    writeFileSync(json, JSON.stringify([{ id: 'x1' }, { id: 'x2' }]))
    expect(readTargetsFile(json, 'user-hash', { workspace: dir }).targets).toEqual(['x1', 'x2'])
    const lines = join(dir, 'list.txt')
    writeFileSync(lines, '\uFEFFone\r\ntwo\r\n')
    expect(readTargetsFile(lines, 'user-hash', { workspace: dir }).targets).toEqual(['one', 'two'])
  })
  it('parses key=value lines and JSON objects, and refuses repeated keys', () => {
    expect(parseFilter('search = al\nuser_type=managed')).toEqual({ search: 'al', user_type: 'managed' })
    expect(parseFilter('{"active": true, "role_id": 3}')).toEqual({ active: 'true', role_id: '3' })
    expect(parseFilter('  ')).toBeUndefined()
    expect(() => parseFilter('a=1\na=2')).toThrow(/given twice/)
    expect(() => parseFilter('{"a": {"b": 1}}')).toThrow(/Input 'filter'/)
    expect(Object.keys(parseFilter('toString=x\n__proto__=y') ?? {})).toEqual(['toString', '__proto__'])
  })
})

describe('plan hash', () => {
  const scope = (over: Partial<PlanScope> = {}): PlanScope => ({
    provider: 'iproyal',
    endpoint: { baseUrl: 'https://a' },
    targetType: 'user-hash',
    settings: {},
    ...over
  })
  const e = (id: string, binds?: unknown): PlanEntry => ({ id, kind: 'user-hash', binds })
  it('depends on the set of entries, not their order', () => {
    const h = planHash(scope(), [e('b'), e('a')])
    expect(h).toBe(planHash(scope(), [e('a'), e('b')]))
    expect(h).not.toBe(planHash(scope(), [e('a'), e('b'), e('c')]))
    expect(h).toMatch(/^[0-9a-f]{64}$/)
  })
  it('covers the provider, the endpoint, the target type, the filter, the settings and what each entry binds', () => {
    const h = planHash(scope(), [e('a')])
    expect(planHash(scope({ provider: 'box' }), [e('a')])).not.toBe(h)
    expect(planHash(scope({ endpoint: { baseUrl: 'https://b' } }), [e('a')])).not.toBe(h)
    expect(planHash(scope({ targetType: 'username' }), [e('a')])).not.toBe(h)
    expect(planHash(scope({ filter: { ip_address: '10.0.0.1' } }), [e('a')])).not.toBe(h)
    expect(planHash(scope({ settings: { revokeTokens: true } }), [e('a')])).not.toBe(h)
    expect(planHash(scope(), [e('a', { members: ['1'] })])).not.toBe(planHash(scope(), [e('a', { members: ['1', '2'] })]))
  })
  it('has no framing collisions: one id holding a line break is not two ids', () => {
    expect(planHash(scope(), [e('h1\nh2')])).not.toBe(planHash(scope(), [e('h1'), e('h2')]))
  })
  it('chunks in order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]])
  })
})

describe('SecretStore', () => {
  it('masks known secrets and credential-shaped text', () => {
    const masked: string[] = []
    const s = new SecretStore((v) => masked.push(v))
    s.add('s3cr3t-token')
    s.add('ab') // too short to mask safely
    expect(masked).toContain('s3cr3t-token')
    expect(masked).toContain(Buffer.from('s3cr3t-token').toString('base64'))
    expect(masked.some((m) => m.includes('ab') && m.length < 4)).toBe(false)
    expect(s.scrub('token s3cr3t-token here')).toBe('token *** here')
    expect(s.scrub('Authorization: Bearer eyJhbGciOi.abc.def')).toBe('Authorization: Bearer ***')
    expect(s.scrub('{"access_token":"zzzzzzzz","expires_in":3600}')).toBe('{"access_token":"***","expires_in":3600}')
    expect(s.scrub('grant_type=client_credentials&client_secret=abcd1234&x=1')).toBe('grant_type=client_credentials&client_secret=***&x=1')
  })
})
