import type { TargetResult } from '../engine/types.js'
import type { RunReport } from './run-info.js'

/** GitHub refuses a step summary over 1 MiB; stay well under it whatever the target count. */
export const SUMMARY_BYTE_BUDGET = 900 * 1024
const FIRST_ROWS = 100
const MAX_ROWS = 2000

const ICON: Record<string, string> = {
  terminated: '✅',
  accepted: '📨',
  skipped: '⏭️',
  failed: '❌',
  planned: '📝',
  unknown: '❓',
  'not-attempted': '⏸️'
}

/**
 * Provider text as inert Markdown: HTML-escaped, the characters that make links, images, emphasis,
 * code spans, strike-through and table cells backslash-escaped, autolinks (scheme://, www.) broken,
 * line breaks flattened, cut to `max`. Nothing a provider returns can become markup in the summary.
 */
export function markdownText(value: unknown, max = 300): string {
  if (value === undefined || value === null || value === '') return ''
  const flat = String(value).replace(/[\r\n]+/g, ' ')
  const cut = flat.length > max ? `${flat.slice(0, max)}…` : flat
  return cut
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]()!|~]/g, (c) => `\\${c}`)
    .replace(/:\/\//g, ':\\/\\/')
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\\.`)
}

function detailsText(r: TargetResult): string {
  if (!r.details) return ''
  return Object.entries(r.details)
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ')
}

function row(index: number, r: TargetResult): string {
  return `| ${index} | ${markdownText(r.id, 200)} | ${markdownText(r.label)} | ${ICON[r.outcome] ?? ''} ${r.outcome} | ${markdownText(r.reason)} | ${markdownText(detailsText(r))} | ${markdownText(r.requestId, 120)} |\n`
}

export interface SummaryInput {
  report: RunReport
  acceptedNote?: string
  reportPath: string
  verb: string
  /** The step's failure message, when it fails. */
  failure?: string
}

const STATUS_NOTE: Record<string, string> = {
  refused: 'The plan was refused before any change was made.',
  'plan-failed': 'Planning failed before any change was made.',
  cancelled: 'The run was cancelled. The table says what was done before it stopped.',
  running: 'This summary was written while the run was still going.'
}

/**
 * The job summary: what ran, the counts, and a table of targets that shows the first rows and
 * every failure it can fit, pointing to the report file for the rest.
 */
export function renderSummary({ report, acceptedNote, reportPath, verb, failure }: SummaryInput): string {
  const c = report.counts
  const title = markdownText(report.providerTitle)
  const mode = report.mode === 'dry-run' ? 'dry run (nothing was changed)' : 'real run'
  let md = `## Terminate sessions: ${title} — ${mode}\n\n`
  if (report.destructive) {
    md += `> [!CAUTION]\n> ${title} runs **delete user accounts**, not only sessions. ${report.mode === 'dry-run' ? 'This preview deleted nothing.' : 'Deleted accounts cannot be restored by this action.'}\n\n`
  }
  if (report.status !== 'completed') {
    md += `> [!WARNING]\n> ${STATUS_NOTE[report.status] ?? ''} ${markdownText(report.error ?? '', 2000)}\n\n`
  } else if (failure) {
    md += `> [!WARNING]\n> ${markdownText(failure, 2000)}\n\n`
  }
  const head = ['planned', 'terminated', 'accepted', 'skipped', 'failed']
  const values = [c.planned, c.terminated, c.accepted, c.skipped, c.failed]
  if (c.unknown > 0 || report.status === 'cancelled') {
    head.push('unknown')
    values.push(c.unknown)
  }
  if (c.notAttempted > 0 || report.status === 'cancelled') {
    head.push('not attempted')
    values.push(c.notAttempted)
  }
  md += `| ${head.join(' | ')} |\n|${head.map(() => '---:').join('|')}|\n| ${values.join(' | ')} |\n\n`
  if (report.planHash) md += `Plan hash: \`${report.planHash}\`\n\n`
  if (c.accepted > 0 && acceptedNote) md += `> [!NOTE]\n> ${c.accepted} targets were **accepted**: ${markdownText(acceptedNote, 1000)}\n\n`
  if (c.unknown > 0)
    md += `> [!IMPORTANT]\n> ${c.unknown} targets are **unknown**: their request was on the wire when the run stopped. Check them at the provider, or run again: ending sessions twice is harmless.\n\n`
  const ctx = report.context
  const who = [ctx.actor && `actor ${markdownText(ctx.actor)}`, ctx.runUrl && `[run](${encodeURI(ctx.runUrl)})`].filter(Boolean).join(', ')
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
    const o = results[i].outcome
    if (o === 'failed' || o === 'unknown' || results[i].unresolved) indexes.push(i)
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
  const where = markdownText(reportPath, 500)
  if (shown < results.length) {
    md += `\nShowing ${shown} of ${results.length} targets (the first ${Math.min(FIRST_ROWS, shown)}, then failures and unresolved targets). Every target is in the JSON report: ${where} (step output \`report-path\`).\n`
  } else {
    md += `\nFull report: ${where} (step output \`report-path\`).\n`
  }
  return md
}
