import { describe, expect, it } from '@jest/globals'
import type { Outcome, TargetResult } from '../../src/engine/types.js'
import { failureMessage, type VerdictSettings } from '../../src/engine/verdict.js'
import { countOutcomes } from '../../src/report/counts.js'
import type { RunReport, RunStatus } from '../../src/report/run-info.js'

function report(outcomes: Outcome[], over: Partial<RunReport> & { unresolved?: number } = {}): RunReport {
  const results: TargetResult[] = outcomes.map((outcome, i) => ({ id: `t${i + 1}`, kind: 'user-id', outcome }))
  for (let i = 0; i < (over.unresolved ?? 0); i++)
    results.push({ id: `missing-${i + 1}`, kind: 'user-id', outcome: 'skipped', unresolved: true, reason: 'not found' })
  const planned = outcomes.filter((o) => o !== 'skipped').length
  return {
    tool: 'terminate-sessions',
    version: 2,
    provider: 'fake',
    providerTitle: 'Fake Service',
    mode: 'real',
    destructive: false,
    status: 'completed' as RunStatus,
    startedAt: '',
    finishedAt: '',
    durationMs: 0,
    context: {},
    settings: {},
    counts: countOutcomes(results, planned),
    results,
    ...over
  }
}

const any: VerdictSettings = { failOn: 'any', ifUnresolved: 'fail' }
const all: VerdictSettings = { failOn: 'all', ifUnresolved: 'fail' }
const never: VerdictSettings = { failOn: 'never', ifUnresolved: 'fail' }

describe('failureMessage', () => {
  it('passes a run where every target ended well', () => {
    for (const s of [any, all, never]) expect(failureMessage(report(['terminated', 'accepted', 'skipped']), s)).toBeUndefined()
  })

  it('fail-on any: one failure fails the step', () => {
    expect(failureMessage(report(['terminated', 'failed']), any)).toBe('1 of 2 targets failed (fail-on: any); see the job summary and report')
  })

  it('fail-on all: only when every target failed', () => {
    expect(failureMessage(report(['terminated', 'failed']), all)).toBeUndefined()
    expect(failureMessage(report(['failed', 'failed']), all)).toBe('all 2 targets failed (fail-on: all); see the job summary and report')
  })

  it('fail-on never: failures alone do not fail the step', () => {
    expect(failureMessage(report(['failed', 'failed']), never)).toBeUndefined()
  })

  it('credentials refused always fail, whatever fail-on says', () => {
    const halted = report(['failed', 'not-attempted', 'not-attempted'], { halted: 'the run stopped after HTTP 401: bad token' })
    for (const s of [any, all, never]) {
      expect(failureMessage(halted, s)).toBe(
        'Fake Service rejected the credentials: the run stopped after HTTP 401: bad token. 1 targets failed, 2 were not attempted; see the job summary and report'
      )
    }
  })

  it('unknown or not-attempted targets always fail, whatever fail-on says', () => {
    for (const s of [any, all, never]) {
      expect(failureMessage(report(['terminated', 'unknown']), s)).toBe('the run stopped: 0 failed, 1 unknown, 0 not attempted; see the job summary and report')
      expect(failureMessage(report(['terminated', 'not-attempted']), s)).toBe(
        'the run stopped: 0 failed, 0 unknown, 1 not attempted; see the job summary and report'
      )
    }
  })

  it('refused, plan-failed and cancelled runs fail with their own message', () => {
    expect(failureMessage(report([], { status: 'refused', error: "Input 'max-targets': too many" }), never)).toBe("Input 'max-targets': too many")
    expect(failureMessage(report([], { status: 'plan-failed' }), never)).toBe('the run plan-failed')
    expect(failureMessage(report(['terminated', 'accepted', 'unknown', 'not-attempted', 'not-attempted'], { status: 'cancelled' }), never)).toBe(
      'the run was cancelled: 1 terminated, 1 accepted, 1 unknown (in flight), 2 not attempted; see the job summary and report'
    )
  })

  it('if-unresolved fail: names the targets that do not exist (at most 20) after acting on the rest', () => {
    expect(failureMessage(report(['terminated'], { unresolved: 2 }), never)).toBe(
      '2 listed target(s) do not exist at Fake Service: "missing-1", "missing-2" (if-unresolved: fail; the others were acted on; set if-unresolved: skip when a missing account is expected); see the job summary and report'
    )
    const many = failureMessage(report(['terminated'], { unresolved: 25 }), never)!
    expect(many).toContain('25 listed target(s) do not exist')
    expect(many).toContain('"missing-20" and 5 more')
    expect(many).not.toContain('"missing-21"')
  })

  it('if-unresolved skip: missing targets do not fail the step; both reasons are joined when both apply', () => {
    expect(failureMessage(report(['terminated'], { unresolved: 3 }), { failOn: 'any', ifUnresolved: 'skip' })).toBeUndefined()
    expect(failureMessage(report(['failed'], { unresolved: 1 }), any)).toBe(
      '1 of 1 targets failed (fail-on: any); 1 listed target(s) do not exist at Fake Service: "missing-1" (if-unresolved: fail; the others were acted on; set if-unresolved: skip when a missing account is expected); see the job summary and report'
    )
  })
})
