import { describe, expect, it } from '@jest/globals'
import { RunControl } from '../../src/engine/control.js'
import { ProviderRequestError, RunHaltedError } from '../../src/engine/errors.js'
import { executePlan, type ExecuteOptions } from '../../src/engine/execute.js'
import { Logger } from '../../src/engine/logger.js'
import type { ProviderRun } from '../../src/engine/provider.js'
import { SecretStore } from '../../src/engine/secrets.js'
import type { BatchOutcome, PlanEntry, TargetResult } from '../../src/engine/types.js'
import { RecordingSink, VirtualClock, testClient, until } from './helpers.js'

const entries = (n: number, prefix = 't'): PlanEntry[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i + 1}`, kind: 'user-id', label: `user ${i + 1}` }))
const terminated = (batch: PlanEntry[]): BatchOutcome[] =>
  batch.map((e) => ({ id: e.id, outcome: 'terminated', reason: 'sessions ended', requestId: `r-${e.id}`, attempts: 1 }))

function setup(execute: (batch: PlanEntry[]) => Promise<BatchOutcome[]>, over: Partial<ExecuteOptions> = {}) {
  const sink = new RecordingSink()
  const log = new Logger(sink, new SecretStore())
  const clock = (over.clock as VirtualClock | undefined) ?? new VirtualClock()
  const control = over.control ?? new RunControl()
  const calls: string[][] = []
  const run: ProviderRun = {
    plan: async () => [],
    execute: async (batch) => {
      calls.push(batch.map((e) => e.id))
      return execute(batch)
    }
  }
  const go = (list: PlanEntry[], more: Partial<ExecuteOptions> = {}): Promise<TargetResult[]> =>
    executePlan({ run, entries: list, batchSize: 10, concurrency: 1, log, clock, control, verb: 'terminate', ...over, ...more })
  return { sink, log, clock, control, calls, run, go }
}

const outcomes = (results: TargetResult[]): Record<string, string> => Object.fromEntries(results.map((r) => [r.id, r.outcome]))

describe('executePlan', () => {
  it.each([400, 404, 409, 422])('splits a batch refused with %i until the bad target is isolated', async (status) => {
    const s = setup(async (batch) => {
      if (batch.some((e) => e.id === 't6')) throw new ProviderRequestError({ status, code: 'invalid', message: 'user t6 is invalid', requestId: 'rq' }, 1)
      return terminated(batch)
    })
    const results = await s.go(entries(8))
    expect(results.map((r) => r.id)).toEqual(entries(8).map((e) => e.id))
    expect(results.filter((r) => r.outcome === 'failed').map((r) => r.id)).toEqual(['t6'])
    expect(results.filter((r) => r.outcome === 'terminated')).toHaveLength(7)
    expect(results.find((r) => r.id === 't6')).toMatchObject({
      status,
      code: 'invalid',
      message: 'user t6 is invalid',
      requestId: 'rq',
      reason: `HTTP ${status}, code invalid: user t6 is invalid (request id rq)`,
      batch: 1,
      attempts: 1
    })
    // 8 -> t1-t4 (ok) + t5-t8 -> t5,t6 -> t5 (ok) + t6 (failed); then t7,t8 (ok)
    expect(s.calls).toEqual([entries(8).map((e) => e.id), ['t1', 't2', 't3', 't4'], ['t5', 't6', 't7', 't8'], ['t5', 't6'], ['t5'], ['t6'], ['t7', 't8']])
    expect(s.sink.text('debug').some((l) => l.includes('splitting 8 targets'))).toBe(true)
  })

  it('does not split on a failure that is not about one target (500): the whole batch fails', async () => {
    const s = setup(async () => {
      throw new ProviderRequestError({ status: 500, message: 'server error' }, 4)
    })
    const results = await s.go(entries(6))
    expect(s.calls).toHaveLength(1)
    expect(results.every((r) => r.outcome === 'failed' && r.attempts === 4 && r.status === 500)).toBe(true)
  })

  it('after a fatal failure (credentials refused) sends no later batch: they end not-attempted', async () => {
    const s = setup(async (batch) => {
      if (batch[0].id === 't1') throw new ProviderRequestError({ status: 401, message: 'invalid token' }, 1, true)
      return terminated(batch)
    })
    const results = await s.go(entries(30))
    expect(s.calls).toHaveLength(1)
    expect(s.control.stopped).toBe('the run stopped after HTTP 401: invalid token')
    expect(results.slice(0, 10).every((r) => r.outcome === 'failed')).toBe(true)
    expect(results.slice(10).every((r) => r.outcome === 'not-attempted' && r.reason === 'not attempted: the run stopped after HTTP 401: invalid token')).toBe(
      true
    )
  })

  it('a fatal failure while isolating stops the split too', async () => {
    const s = setup(async (batch) => {
      if (batch.length > 2) throw new ProviderRequestError({ status: 400, message: 'bad' }, 1)
      throw new ProviderRequestError({ status: 401, message: 'expired' }, 1, true)
    })
    const results = await s.go(entries(4))
    expect(s.calls.map((c) => c.length)).toEqual([4, 2])
    expect(outcomes(results)).toEqual({ t1: 'failed', t2: 'failed', t3: 'not-attempted', t4: 'not-attempted' })
  })

  it('marks the batches on the wire at a cancel unknown and the rest not-attempted', async () => {
    const t = testClient(() => ({ hang: true }), { maxInFlight: 2 })
    const s = setup(
      async (batch) => {
        const res = await t.http.request({ method: 'POST', url: 'https://api.example.test/revoke', json: batch.map((e) => e.id), idempotent: false })
        return batch.map((e) => ({ id: e.id, outcome: 'terminated', requestId: res.requestId }))
      },
      { control: t.control, clock: t.clock, concurrency: 3 }
    )
    const done = s.go(entries(50), { batchSize: 5 })
    await until(() => t.fetch.requests.length === 2)
    t.control.cancel('the job was cancelled (SIGINT)')
    const results = await done
    const by = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.outcome]: (acc[r.outcome] ?? 0) + 1 }), {})
    // Two batches were on the wire (unknown); the third worker waited for a slot and never sent (not attempted).
    expect(by).toEqual({ unknown: 10, 'not-attempted': 40 })
    expect(
      results
        .filter((r) => r.outcome === 'unknown')
        .every((r) => r.reason?.startsWith('unknown: the job was cancelled (SIGINT) while its request was in flight'))
    ).toBe(true)
    expect(t.fetch.requests).toHaveLength(2)
  })

  it('accounts for every entry exactly once, whatever the provider returns', async () => {
    const s = setup(async (batch) => [
      // t1 twice, t2 missing, an id that is not in the batch.
      { id: 't1', outcome: 'terminated' },
      { id: 't1', outcome: 'failed', reason: 'second' },
      { id: 'zzz', outcome: 'terminated' },
      ...batch.slice(2).map((e): BatchOutcome => ({ id: e.id, outcome: 'skipped', reason: 'no sessions' }))
    ])
    const results = await s.go(entries(4))
    expect(results.map((r) => r.id)).toEqual(['t1', 't2', 't3', 't4'])
    expect(['terminated', 'failed']).toContain(results[0].outcome)
    expect(outcomes(results)).toMatchObject({ t2: 'failed', t3: 'skipped', t4: 'skipped' })
    expect(results[1].reason).toBe('the provider returned no outcome for this target')
    expect(results[2]).toMatchObject({ kind: 'user-id', label: 'user 3', reason: 'no sessions', batch: 1 })
  })

  it('records a bug in the provider as an internal error of its batch, and goes on', async () => {
    const s = setup(async (batch) => {
      if (batch[0].id === 't1') throw new TypeError("Cannot read properties of undefined (reading 'id')")
      return terminated(batch)
    })
    const results = await s.go(entries(20))
    expect(results[0]).toMatchObject({ outcome: 'failed', reason: "internal error: Cannot read properties of undefined (reading 'id')" })
    expect(results.slice(10).every((r) => r.outcome === 'terminated')).toBe(true)
  })

  it('ends a batch whose request was not sent (halted) not-attempted, one that may have gone out unknown', async () => {
    const s = setup(async (batch) => {
      throw new RunHaltedError('credentials refused', batch[0].id === 't11')
    })
    const results = await s.go(entries(20))
    expect(outcomes(results).t1).toBe('not-attempted')
    expect(outcomes(results).t11).toBe('unknown')
  })

  it("uses the provider's own batching when it has one", async () => {
    const s = setup(async (batch) => terminated(batch))
    s.run.batches = (list) => [list.slice(0, 1), list.slice(1)]
    await s.go(entries(5))
    expect(s.calls.map((c) => c.length)).toEqual([1, 4])
  })

  it('logs each batch as a group when there are few, naming each target and its outcome', async () => {
    const s = setup(async (batch) =>
      batch.map((e, i) => (i === 0 ? { id: e.id, outcome: 'failed', error: { status: 403, message: 'forbidden' } } : { id: e.id, outcome: 'terminated' }))
    )
    const batches: number[] = []
    await s.go(entries(25), { onBatch: (r) => batches.push(r.size) })
    expect(s.sink.text('info')[0]).toBe('terminate: 25 targets in 3 batches')
    const groups = s.sink.text('group')
    expect(groups).toEqual([
      'batch 1/3 done, 10/25 targets (1 batches finished)',
      'batch 2/3 done, 20/25 targets (2 batches finished)',
      'batch 3/3 done, 25/25 targets (3 batches finished)'
    ])
    expect(s.sink.text('info')).toContain('t1 (user 1): failed — HTTP 403: forbidden')
    expect(s.sink.text('info')).toContain('t2 (user 2): terminated')
    expect(batches).toEqual([10, 20, 25])
  })

  it('logs progress at a steady rate when there are many batches, and every failure', async () => {
    const s = setup(async (batch) => {
      await s.clock.sleep(100)
      return batch.map((e) => (e.id === 't77' ? { id: e.id, outcome: 'failed', reason: 'refused' } : { id: e.id, outcome: 'terminated' }))
    })
    await s.go(entries(150), { batchSize: 1, progressIntervalMs: 1000 })
    const progress = s.sink.text('info').filter((l) => /^batch \d+\/150 done/.test(l))
    // One line a second of (virtual) time, and the last batch.
    expect(progress.length).toBeGreaterThanOrEqual(14)
    expect(progress.length).toBeLessThanOrEqual(17)
    expect(progress[progress.length - 1]).toBe('batch 150/150 done, 150/150 targets (150 batches finished)')
    expect(s.sink.text('group')).toHaveLength(0)
    expect(s.sink.text('info')).toContain('t77: failed — refused')
  })

  it('runs batches concurrently up to the concurrency', async () => {
    let active = 0
    let most = 0
    const s = setup(async (batch) => {
      active++
      most = Math.max(most, active)
      await s.clock.sleep(50)
      active--
      return terminated(batch)
    })
    const results = await s.go(entries(100), { batchSize: 5, concurrency: 4 })
    expect(most).toBe(4)
    expect(results.every((r) => r.outcome === 'terminated')).toBe(true)
  })
})
