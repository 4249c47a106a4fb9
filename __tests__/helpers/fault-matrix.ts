// Transient faults at a set rate and in bursts, for one provider's emulator (__tests__/fault-matrix/<provider>). Whatever happens,
// every target ends in exactly one state, the report and outputs agree, and a run whose faults
// outlast the retry budget reports those targets failed with the reason.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { EmulatorLike, FaultProfile } from './fault-profiles.js'
import { runAction } from './run-action.js'

const SHARED_FAULTS: Array<[string, unknown]> = [
  ['429 with Retry-After in seconds', { kind: 'throttle', retryAfter: 'seconds', seconds: 1 }],
  ['429 with Retry-After as an HTTP date', { kind: 'throttle', retryAfter: 'date', seconds: 1 }],
  ['429 with only reset headers', { kind: 'throttle', retryAfter: 'none', seconds: 1 }],
  ['500', { kind: 'status', status: 500 }],
  ['502', { kind: 'status', status: 502 }],
  ['503', { kind: 'status', status: 503 }],
  ['connection reset', { kind: 'reset' }],
  ['answer slower than timeout-seconds', { kind: 'slow', ms: 1600 }],
  ['truncated body', { kind: 'truncated' }],
  ['non-JSON (HTML) body', { kind: 'html' }]
]

interface Result {
  id: string
  outcome: string
  reason?: string
}

/** The whole matrix for one provider: one test file each, so Jest runs providers in parallel. */
export function faultMatrix(profile: FaultProfile): void {
  describe(`fault matrix: ${profile.provider}`, () => {
    let emu: EmulatorLike
    beforeAll(async () => {
      emu = await profile.start()
    })
    afterAll(() => emu.stop())
    const reset = (): void => (profile.reset ? profile.reset(emu) : emu.server.reset())

    const faults = [...SHARED_FAULTS, ...profile.extraFaults]
    it.each(faults)('%s, in a burst and at a 25 %% rate: every target accounted for once', async (_name, fault) => {
      reset()
      const targets = profile.targets(emu)
      const before = new Map(profile.effects?.(emu) ?? [])
      // A burst of three on the first mutating requests, then a quarter of all requests.
      emu.server.queueFaults([fault, fault, fault], profile.isMutating)
      emu.server.setFaultRate(0.25, [fault], { seed: 11 })
      const r = await runAction({
        inputs: { ...profile.inputs(emu), targets: targets.join('\n'), 'timeout-seconds': '1', 'max-retries': '8', 'max-targets': '50', 'rate-limit': '6000' }
      })
      const results: Result[] = r.report.results
      expect(results.map((x) => x.id).sort()).toEqual([...targets].sort())
      expect(new Set(results.map((x) => x.id)).size).toBe(results.length)
      for (const k of ['terminated', 'accepted', 'skipped', 'failed']) {
        expect(Number(r.outputs[`${k}-count`])).toBe(results.filter((x) => x.outcome === k).length)
        expect(r.report.counts[k]).toBe(results.filter((x) => x.outcome === k).length)
      }
      const done = results.filter((x) => x.outcome !== profile.success && !(x.outcome === profile.acceptAlso && /already deleted/.test(x.reason ?? '')))
      expect(done).toEqual([])
      expect(r.code).toBe(0)
      expect(emu.server.requests.some((q) => q.fault !== undefined)).toBe(true)
      if (profile.effects && profile.repeatMatters) {
        const after = profile.effects(emu)
        for (const id of targets) expect((after.get(id) ?? 0) - (before.get(id) ?? 0)).toBe(1)
      }
    })

    it('reports the targets failed, with the reason, when faults outlast the retry budget', async () => {
      reset()
      const targets = profile.targets(emu)
      emu.server.setFaultRate(1, [{ kind: 'status', status: 503 }], { match: profile.isMutating })
      const r = await runAction({
        inputs: { ...profile.inputs(emu), targets: targets.join('\n'), 'max-retries': '2', 'max-targets': '50', 'rate-limit': '6000' }
      })
      expect(r.code).not.toBe(0)
      const results: Result[] = r.report.results
      const failed = results.filter((x) => x.outcome === 'failed')
      expect(failed.length).toBeGreaterThan(0)
      expect(Number(r.outputs['failed-count'])).toBe(failed.length)
      for (const f of failed) expect(f.reason).toMatch(/503.*gave up after 3 attempts/)
      expect(results.filter((x) => x.outcome === profile.success)).toEqual([])
    })

    it('gives up within max-wait-seconds when the provider keeps throttling', async () => {
      reset()
      const targets = profile.targets(emu)
      emu.server.setFaultRate(1, [{ kind: 'throttle', retryAfter: 'seconds', seconds: 2 }], { match: profile.isMutating })
      const r = await runAction({
        inputs: { ...profile.inputs(emu), targets: targets.join('\n'), 'max-retries': '10', 'max-wait-seconds': '3', 'max-targets': '50', 'rate-limit': '6000' }
      })
      expect(r.code).not.toBe(0)
      expect(r.durationMs).toBeLessThan(15_000)
      const failed = (r.report.results as Result[]).filter((x) => x.outcome === 'failed')
      expect(failed.length).toBeGreaterThan(0)
      expect(failed.some((f) => /max-wait-seconds/.test(f.reason ?? ''))).toBe(true)
    })
  })
}
