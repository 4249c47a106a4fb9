import type { TargetResult } from '../engine/types.js'
import type { RunReport } from './run-info.js'

/** GitHub refuses a step summary over 1 MiB; stay well under it whatever the target count. */
export const SUMMARY_BYTE_BUDGET = 900 * 1024
const FIRST_ROWS = 100
const MAX_ROWS = 2000

const ICON: Record<string, string> = { terminated: '✅', accepted: '📨', skipped: '⏭️', failed: '❌' }

function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return ''
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .slice(0, 300)
}

function detailsText(r: TargetResult): string {
  if (!r.details) return ''
  return Object.entries(r.details)
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ')
}

function row(index: number, r: TargetResult): string {
  return `| ${index} | \`${cell(r.id)}\` | ${cell(r.label)} | ${ICON[r.outcome] ?? ''} ${r.outcome} | ${cell(r.reason)} | ${cell(detailsText(r))} | ${cell(r.requestId)} |\n`
}

export interface SummaryInput {
  report: RunReport
  providerTitle: string
  acceptedNote?: string
  reportPath: string
  verb: string
}

/**
 * The job summary: what ran, the counts, and a table of targets that shows the first rows and
 * every failure it can fit, pointing to the report file for the rest.
 */
export function renderSummary({ report, providerTitle, acceptedNote, reportPath, verb }: SummaryInput): string {
  const c = report.counts
  const mode = report.mode === 'dry-run' ? 'dry run (nothing was changed)' : 'real run'
  let md = `## Terminate sessions: ${providerTitle} — ${mode}\n\n`
  if (report.destructive) {
    md += `> [!CAUTION]\n> ${providerTitle} runs **delete user accounts**, not only sessions. ${report.mode === 'dry-run' ? 'This preview deleted nothing.' : 'Deleted accounts cannot be restored by this action.'}\n\n`
  }
  if (report.status !== 'completed' && report.error) {
    md += `> [!WARNING]\n> ${cell(report.error)}\n\n`
  }
  md += '| planned | terminated | accepted | skipped | failed |\n|---:|---:|---:|---:|---:|\n'
  md += `| ${c.planned} | ${c.terminated} | ${c.accepted} | ${c.skipped} | ${c.failed} |\n\n`
  if (report.planHash) md += `Plan hash: \`${report.planHash}\`\n\n`
  if (c.accepted > 0 && acceptedNote) md += `> [!NOTE]\n> ${c.accepted} targets were **accepted**: ${cell(acceptedNote)}\n\n`
  const ctx = report.context
  const who = [ctx.actor && `actor \`${cell(ctx.actor)}\``, ctx.runUrl && `[run](${ctx.runUrl})`].filter(Boolean).join(', ')
  if (who) md += `Started by ${who}.\n\n`

  const results = report.results
  if (results.length === 0) {
    md += report.status === 'completed' ? 'The plan is empty: nothing matched, nothing was sent.\n' : ''
    return md
  }
  const heading = report.mode === 'dry-run' ? `### Plan: what a real run would ${verb}\n\n` : '### Targets\n\n'
  const header = '| # | target | name | outcome | reason | details | request id |\n|---:|---|---|---|---|---|---|\n'
  const budget = SUMMARY_BYTE_BUDGET - Buffer.byteLength(md) - 2048
  const indexes: number[] = []
  for (let i = 0; i < Math.min(FIRST_ROWS, results.length); i++) indexes.push(i)
  for (let i = FIRST_ROWS; i < results.length && indexes.length < MAX_ROWS; i++) {
    if (results[i].outcome === 'failed') indexes.push(i)
  }
  let table = header
  let shown = 0
  for (const i of indexes) {
    const line = row(i + 1, results[i])
    if (Buffer.byteLength(table) + Buffer.byteLength(line) > budget) break
    table += line
    shown++
  }
  md += heading + table
  if (shown < results.length) {
    md += `\nShowing ${shown} of ${results.length} targets (the first ${Math.min(FIRST_ROWS, shown)} and failures). Every target is in the JSON report: \`${cell(reportPath)}\` (step output \`report-path\`).\n`
  } else {
    md += `\nFull report: \`${cell(reportPath)}\` (step output \`report-path\`).\n`
  }
  return md
}
