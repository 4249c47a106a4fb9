// One view of a person's offboarding across providers: who is what where, the combined plan hash that an
// approval binds, the job summary, and the combined JSON report. Pure functions of the providers' reports.
import { createHash } from 'node:crypto'
import { canonicalJson } from '../engine/plan.js'
import { markdownText } from '../report/summary.js'
import type { Person } from './people.js'
import type { Counts } from '../report/counts.js'
import type { ProviderReport } from './runner.js'

/** How each provider's run went, as the pipeline saw it. */
export interface ProviderRun {
  provider: string
  title: string
  /** Not run: why (no secret, nothing approved). */
  leftOut?: string
  exitCode?: number
  planHash?: string
  planned?: number
  report?: ProviderReport
  /** The target sent for each person (undefined: the person has no id there). */
  targets: Record<string, string | undefined>
  /** Why a person has no target there. */
  noTarget?: string
}

export interface Cell {
  outcome: string
  text: string
}

const ICON: Record<string, string> = {
  planned: '📝',
  terminated: '✅',
  accepted: '📨',
  skipped: '⏭️',
  failed: '❌',
  unknown: '❓',
  'not-attempted': '⏸️',
  'no account': '—',
  'left out': '🚫',
  'plan failed': '❌'
}

type Result = ProviderReport['results'][number]

/** The results of one provider's report that belong to a person (by the target sent for them). */
export function resultsFor(run: ProviderRun, person: Person): Result[] {
  const target = run.targets[person.key]
  if (target === undefined || !run.report) return []
  const t = target.toLowerCase()
  return run.report.results.filter((r) => r.id.toLowerCase() === t || r.given?.toLowerCase() === t)
}

/** What happens (or happened) to a person at a provider, in a word and a line. */
export function cellFor(run: ProviderRun, person: Person): Cell {
  if (run.leftOut) return { outcome: 'left out', text: run.leftOut }
  const target = run.targets[person.key]
  if (target === undefined) return { outcome: 'no account', text: run.noTarget ?? 'no id given for this provider' }
  if (!run.report || run.report.status === 'plan-failed')
    return { outcome: 'plan failed', text: run.report?.error ?? `the run failed (exit code ${run.exitCode ?? '?'})` }
  const results = resultsFor(run, person)
  if (results.length === 0) return { outcome: 'not-attempted', text: run.report.error ?? 'not in the plan' }
  if (results.every((r) => r.unresolved)) return { outcome: 'no account', text: `skipped: no account there (${target})` }
  const order = ['failed', 'unknown', 'not-attempted', 'terminated', 'accepted', 'planned', 'skipped']
  const worst = order.find((o) => results.some((r) => r.outcome === o)) ?? results[0].outcome
  const r = results.find((x) => x.outcome === worst) ?? results[0]
  const who = r.label ? `${r.label} (${r.id})` : r.id
  return { outcome: worst, text: `${who}: ${r.reason ?? worst}${results.length > 1 ? ` (+${results.length - 1} more)` : ''}` }
}

/**
 * sha256 over a canonical JSON of the people, what each is called at each provider, and every provider's
 * own plan hash and count. One approval of this hash approves exactly these per-provider plans.
 */
export function combinedHash(people: Person[], runs: ProviderRun[]): string {
  const doc = {
    version: 1,
    people: [...people].map((p) => p.key.toLowerCase()).sort(),
    providers: runs
      .filter((r) => !r.leftOut)
      .map((r) => ({
        provider: r.provider,
        planHash: r.planHash ?? null,
        planned: r.planned ?? null,
        targets: Object.keys(r.targets)
          .sort()
          .map((k) => [k.toLowerCase(), r.targets[k] ?? null])
      }))
      .sort((a, b) => (a.provider < b.provider ? -1 : 1))
  }
  return createHash('sha256').update(canonicalJson(doc)).digest('hex')
}

export interface SummaryInput {
  stage: 'plan' | 'execute'
  people: Person[]
  runs: ProviderRun[]
  combined: string
  approvedCombined?: string
  runUrl?: string
  actor?: string
  failure?: string
}

export function renderCombinedSummary(s: SummaryInput): string {
  const title = s.stage === 'plan' ? 'Offboard everywhere: plan (dry run, nothing was changed)' : 'Offboard everywhere: execution'
  let md = `## ${title}\n\n`
  if (s.failure) md += `> [!WARNING]\n> ${markdownText(s.failure, 2000)}\n\n`
  const cols = s.runs
  md += `| person | ${cols.map((r) => markdownText(r.title)).join(' | ')} |\n|---|${cols.map(() => '---').join('|')}|\n`
  for (const person of s.people) {
    const cells = cols.map((run) => {
      const c = cellFor(run, person)
      return `${ICON[c.outcome] ?? ''} ${c.outcome} — ${markdownText(c.text, 200)}`
    })
    md += `| ${markdownText(person.key)} | ${cells.join(' | ')} |\n`
  }
  md += '\n| provider | status | planned | terminated | accepted | skipped | failed | plan hash |\n|---|---|---:|---:|---:|---:|---:|---|\n'
  for (const run of cols) {
    const c: Partial<Counts> = run.report?.counts ?? {}
    const status = run.leftOut ? `left out: ${markdownText(run.leftOut)}` : markdownText(run.report?.status ?? `exit ${run.exitCode ?? '?'}`)
    md += `| ${markdownText(run.title)} | ${status} | ${run.planned ?? ''} | ${c.terminated ?? ''} | ${c.accepted ?? ''} | ${c.skipped ?? ''} | ${c.failed ?? ''} | ${run.planHash ? `\`${run.planHash}\`` : ''} |\n`
  }
  md += `\nCombined plan hash: \`${s.combined}\`\n`
  if (s.approvedCombined)
    md += `\nApproved combined plan hash: \`${s.approvedCombined}\`${s.approvedCombined === s.combined ? ' (matches)' : ' (**does not match**)'}\n`
  const who = [s.actor && `actor ${markdownText(s.actor)}`, s.runUrl && `[run](${encodeURI(s.runUrl)})`].filter(Boolean).join(', ')
  if (who) md += `\nStarted by ${who}.\n`
  return md
}

export interface CombinedReport {
  tool: 'terminate-sessions'
  kind: 'offboard-everywhere'
  version: 1
  stage: 'plan' | 'execute'
  combinedHash: string
  approvedCombinedHash?: string
  actor?: string
  runUrl?: string
  people: Person[]
  providers: Array<{
    provider: string
    status?: string
    leftOut?: string
    exitCode?: number
    planHash?: string
    planned?: number
    counts?: Counts
    error?: string
  }>
  rows: Array<{
    person?: string
    provider: string
    target: string
    id: string
    label?: string
    outcome: string
    reason?: string
    status?: number
    code?: string
    message?: string
    requestId?: string
  }>
}

export function combinedReport(s: SummaryInput): CombinedReport {
  const rows: CombinedReport['rows'] = []
  for (const run of s.runs) {
    if (!run.report) continue
    const owner = new Map<string, string>()
    for (const person of s.people) for (const r of resultsFor(run, person)) owner.set(r.id, person.key)
    for (const r of run.report.results) {
      rows.push({
        person: owner.get(r.id),
        provider: run.provider,
        target: r.given ?? r.id,
        id: r.id,
        label: r.label,
        outcome: r.unresolved ? 'no account' : r.outcome,
        reason: r.reason,
        status: r.status,
        code: r.code,
        message: r.message,
        requestId: r.requestId
      })
    }
  }
  return {
    tool: 'terminate-sessions',
    kind: 'offboard-everywhere',
    version: 1,
    stage: s.stage,
    combinedHash: s.combined,
    approvedCombinedHash: s.approvedCombined,
    actor: s.actor,
    runUrl: s.runUrl,
    people: s.people,
    providers: s.runs.map((r) => ({
      provider: r.provider,
      status: r.report?.status,
      leftOut: r.leftOut,
      exitCode: r.exitCode,
      planHash: r.planHash,
      planned: r.planned,
      counts: r.report?.counts,
      error: r.report?.error ?? r.report?.halted
    })),
    rows
  }
}
