// Publishing: everything the run shows the world, in one place — step outputs, annotations, the job
// summary, the JSON report file, and the step's result. The pipeline returns a report; this writes it.
import { errorMessage } from '../engine/errors.js'
import type { Logger } from '../engine/logger.js'
import type { SecretStore } from '../engine/secrets.js'
import type { ActionSink } from '../engine/sink.js'
import type { TargetResult } from '../engine/types.js'
import { COUNT_OUTPUTS, type Counts } from './counts.js'
import { writeJsonReport } from './json-report.js'
import type { RunReport } from './run-info.js'
import { renderSummary } from './summary.js'

/** GitHub limits one step output to 1 MiB; a larger target list is left to the report file. */
const MAX_TARGETS_OUTPUT_BYTES = 900 * 1024

export interface PublishInput {
  report: RunReport
  reportPath: string
  verb: string
  acceptedNote?: string
  /** The step's failure message (from verdict.ts), when it fails. */
  failure?: string
}

/** Writes the report file; false (with an error annotation) when it cannot: the rest is published anyway. */
export function writeReportFile(path: string, report: RunReport, secrets: SecretStore, log: Logger): boolean {
  try {
    writeJsonReport(path, report, secrets)
    return true
  } catch (err) {
    log.annotate(`the JSON report could not be written to ${path}: ${errorMessage(err)}`, { title: 'terminate-sessions: report not written' })
    return false
  }
}

export async function publish(sink: ActionSink, secrets: SecretStore, log: Logger, p: PublishInput): Promise<void> {
  const { report } = p
  const written = writeReportFile(p.reportPath, report, secrets, log)
  if (written) sink.setOutput('report-path', p.reportPath)
  if (report.planHash) sink.setOutput('plan-hash', report.planHash)
  setTargetsOutput(sink, log, report)
  setCountOutputs(sink, report.counts)
  annotateFailures(log, report.results)
  const c = report.counts
  log.info(
    `done: ${c.planned} planned, ${c.terminated} terminated, ${c.accepted} accepted, ${c.skipped} skipped, ${c.failed} failed${c.unknown ? `, ${c.unknown} unknown` : ''}${c.notAttempted ? `, ${c.notAttempted} not attempted` : ''}`
  )
  try {
    const md = renderSummary({
      report,
      acceptedNote: p.acceptedNote,
      reportPath: written ? p.reportPath : '(the report file could not be written)',
      verb: p.verb,
      failure: p.failure
    })
    await sink.writeSummary(secrets.scrub(md))
  } catch (err) {
    log.warning(`the job summary could not be written: ${errorMessage(err)}`)
  }
  if (p.failure) sink.setFailed(log.clean(p.failure))
}

function setTargetsOutput(sink: ActionSink, log: Logger, report: RunReport): void {
  if (report.planHash === undefined) return
  const ids: string[] = []
  const unresolved: string[] = []
  for (const r of report.results) {
    if (r.unresolved) unresolved.push(r.id)
    else if (r.outcome !== 'skipped') ids.push(r.id)
  }
  const json = JSON.stringify(ids)
  if (Buffer.byteLength(json) > MAX_TARGETS_OUTPUT_BYTES) {
    log.warning(`The targets output is left empty: ${ids.length} ids exceed GitHub's 1 MiB output limit. Read them from the report file.`)
    sink.setOutput('targets', '')
  } else {
    sink.setOutput('targets', json)
  }
  const u = JSON.stringify(unresolved)
  sink.setOutput('unresolved', Buffer.byteLength(u) > MAX_TARGETS_OUTPUT_BYTES ? '' : u)
}

function setCountOutputs(sink: ActionSink, c: Counts): void {
  for (const [key, output] of Object.entries(COUNT_OUTPUTS)) sink.setOutput(output, String(c[key as keyof Counts]))
}

/** GitHub shows ten error annotations per step: annotate the first failures and summarise the rest. */
function annotateFailures(log: Logger, results: TargetResult[]): void {
  const failed = results.filter((r) => r.outcome === 'failed' || r.outcome === 'unknown')
  for (const r of failed.slice(0, 9))
    log.annotate(`${r.id}${r.label ? ` (${r.label})` : ''}: ${r.reason ?? r.outcome}`, { title: `terminate-sessions: target ${r.outcome}` })
  if (failed.length > 9)
    log.annotate(`${failed.length - 9} more targets failed or are unknown; see the job summary and the JSON report`, {
      title: 'terminate-sessions: more failures'
    })
}
