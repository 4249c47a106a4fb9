import { describe, expect, it } from '@jest/globals'
import type { TargetResult } from '../src/engine/types.js'
import { SUMMARY_BYTE_BUDGET, renderSummary } from '../src/report/summary.js'
import type { RunReport } from '../src/report/run-info.js'
import { countOutcomes } from '../src/report/counts.js'

function report(results: TargetResult[], mode: 'dry-run' | 'real' = 'real'): RunReport {
  const counts = countOutcomes(results, results.length)
  return {
    tool: 'terminate-sessions',
    version: 2,
    provider: 'iproyal',
    providerTitle: 'IPRoyal',
    mode,
    destructive: false,
    status: 'completed',
    startedAt: '',
    finishedAt: '',
    durationMs: 0,
    context: { actor: 'octo', runUrl: 'https://github.com/a/b/actions/runs/1' },
    settings: {},
    planHash: 'f'.repeat(64),
    counts,
    results
  }
}

describe('job summary', () => {
  it('stays under the 1 MiB step-summary limit for 100,000 targets and keeps every failure it can', () => {
    const results: TargetResult[] = Array.from({ length: 100_000 }, (_, i) => ({
      id: `target-${i}-${'x'.repeat(40)}`,
      kind: 'user-hash',
      label: `user ${i}`,
      outcome: i % 7 === 0 ? 'failed' : 'terminated',
      reason: i % 7 === 0 ? `HTTP 503: Service Unavailable ${'y'.repeat(100)} (gave up after 6 attempts)` : 'sessions reset'
    }))
    const md = renderSummary({ report: report(results), reportPath: '/tmp/r.json', verb: 'terminate' })
    expect(Buffer.byteLength(md)).toBeLessThan(SUMMARY_BYTE_BUDGET)
    expect(md).toContain('| 100000 | 85714 | 0 | 0 | 14286 |')
    expect(md).toMatch(/Showing \d+ of 100000 targets/)
    expect(md).toContain('target-99-') // in the first rows
    expect(md).toContain('target-700-') // a failure past the first rows
  })

  it('escapes provider text so it cannot break the table or inject markup', () => {
    const md = renderSummary({
      report: report([{ id: 'a|b', kind: 'x', outcome: 'failed', reason: 'bad <script>alert(1)</script>\nnext | col' }]),
      reportPath: '/tmp/r.json',
      verb: 'terminate'
    })
    expect(md).toContain('a\\|b')
    expect(md).toContain('&lt;script&gt;')
    expect(md).not.toContain('<script>')
  })

  it('says plainly that a dry run changed nothing, and notes accepted targets', () => {
    const dry = renderSummary({
      report: report([{ id: 'a', kind: 'x', outcome: 'skipped', reason: 'dry run: would terminate' }], 'dry-run'),
      reportPath: '/r',
      verb: 'terminate'
    })
    expect(dry).toContain('dry run (nothing was changed)')
    expect(dry).toContain('what a real run would terminate')
    const acc = renderSummary({
      report: report([{ id: 'a', kind: 'x', outcome: 'accepted' }]),
      acceptedNote: 'follow it in the admin console',
      reportPath: '/r',
      verb: 'terminate'
    })
    expect(acc).toContain('follow it in the admin console')
  })
})
