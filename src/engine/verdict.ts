// Whether the step fails, and with what message: a pure function of the report and two inputs.
import type { RunReport } from '../report/run-info.js'

export interface VerdictSettings {
  failOn: 'any' | 'all' | 'never'
  ifUnresolved: 'fail' | 'skip'
}

/** Targets listed by name in a failure message; the rest are counted. */
const NAMED = 20

/** The failure message of the step, or undefined when it succeeds. */
export function failureMessage(report: RunReport, s: VerdictSettings): string | undefined {
  const c = report.counts
  if (report.status === 'refused' || report.status === 'plan-failed') return report.error ?? `the run ${report.status}`
  if (report.status === 'cancelled') {
    return `the run was cancelled: ${c.terminated} terminated, ${c.accepted} accepted, ${c.unknown} unknown (in flight), ${c.notAttempted} not attempted; see the job summary and report`
  }
  const parts: string[] = []
  // Rejected credentials, or requests whose fate is unknown, are never a partial success, whatever fail-on says.
  if (report.halted !== undefined) {
    parts.push(`${report.providerTitle} rejected the credentials: ${report.halted}. ${c.failed} targets failed, ${c.notAttempted} were not attempted`)
  } else if (c.notAttempted > 0 || c.unknown > 0) {
    parts.push(`the run stopped: ${c.failed} failed, ${c.unknown} unknown, ${c.notAttempted} not attempted`)
  } else if (c.failed > 0 && s.failOn === 'any') {
    parts.push(`${c.failed} of ${c.planned} targets failed (fail-on: any)`)
  } else if (c.failed > 0 && c.failed === c.planned && s.failOn === 'all') {
    parts.push(`all ${c.planned} targets failed (fail-on: all)`)
  }
  if (s.ifUnresolved === 'fail') {
    const unresolved = report.results.filter((r) => r.unresolved)
    if (unresolved.length > 0) {
      const named = unresolved
        .slice(0, NAMED)
        .map((r) => JSON.stringify(r.id))
        .join(', ')
      const more = unresolved.length > NAMED ? ` and ${unresolved.length - NAMED} more` : ''
      parts.push(
        `${unresolved.length} listed target(s) do not exist at ${report.providerTitle}: ${named}${more} (if-unresolved: fail; the others were acted on; set if-unresolved: skip when a missing account is expected)`
      )
    }
  }
  return parts.length > 0 ? `${parts.join('; ')}; see the job summary and report` : undefined
}
