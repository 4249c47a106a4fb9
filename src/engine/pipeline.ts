// The pipeline: plan -> guard -> execute -> report. It returns the report and does no Actions I/O;
// main.ts reads the settings before it and publishes the report after it.
import type { Clock } from './clock.js'
import type { RunControl } from './control.js'
import { GuardError, InputError, ProviderRequestError, RunHaltedError, errorMessage } from './errors.js'
import { executePlan } from './execute.js'
import { checkGuards } from './guards.js'
import { HttpClient, type FetchLike } from './http/client.js'
import { RateLimiter, WaitBudget } from './http/throttle.js'
import type { Logger } from './logger.js'
import { actionable, planHash, type PlanScope } from './plan.js'
import type { AnyProvider } from './provider.js'
import type { SecretStore } from './secrets.js'
import type { PlanEntry, TargetResult } from './types.js'
import { countOutcomes, emptyCounts } from '../report/counts.js'
import type { RunContext, RunReport } from '../report/run-info.js'

/** Everything a run needs, validated (settings.ts builds it from the action's inputs). */
export interface RunSettings {
  provider: AnyProvider
  token: string
  /** The provider's own inputs, validated. */
  options: Record<string, unknown>
  baseUrl: string
  authBaseUrl?: string
  targets: string[]
  targetType: string
  filter?: Record<string, string>
  dryRun: boolean
  maxTargets: number
  expectedCount?: number
  expectedPlanHash?: string
  batchSize: number
  concurrency: number
  rateLimit: number
  maxRetries: number
  timeoutSeconds: number
  maxWaitSeconds: number
  failOn: 'any' | 'all' | 'never'
  ifUnresolved: 'fail' | 'skip'
  reportPath: string
  /** The settings as the report shows them (no secrets). */
  reported: Record<string, unknown>
  /** Lines to log before the run (duplicates removed, comment lines, warnings). */
  notes: string[]
}

export interface PipelineDeps {
  fetch: FetchLike
  clock: Clock
  random: () => number
  secrets: SecretStore
  log: Logger
  control: RunControl
  context: RunContext
  getIdToken(audience: string): Promise<string>
  /** Called as the run goes (after planning, then every few seconds of execution) with the report so far. */
  checkpoint?(report: RunReport): void
  /** Minimum ms between checkpoints during execution. */
  checkpointIntervalMs?: number
}

/** More tasks than request slots run, so a task sleeping before a retry does not leave a slot idle. */
const TASKS_PER_REQUEST_SLOT = 3

export function verbOf(provider: AnyProvider): string {
  return provider.destructive ? 'delete' : 'terminate'
}

/** Runs the whole job and returns its report. Never throws for provider or input failures. */
export async function runPipeline(s: RunSettings, d: PipelineDeps): Promise<RunReport> {
  const { provider } = s
  const { clock, log, secrets, control } = d
  const startedAt = clock.now()
  const verb = verbOf(provider)
  for (const note of s.notes) {
    if (note.startsWith('warning: ')) log.warning(note.slice(9))
    else log.info(note)
  }
  log.info(
    `${provider.title}: ${s.dryRun ? 'dry run' : 'real run'}; ${s.targets.length > 0 ? `${s.targets.length} ${s.targetType} targets` : 'targets from filter'}; batch ${s.batchSize}, concurrency ${s.concurrency}, ${s.rateLimit} requests/min`
  )

  const limiter = new RateLimiter(s.rateLimit, clock)
  const tasks = s.concurrency * TASKS_PER_REQUEST_SLOT
  const http = new HttpClient({
    fetch: d.fetch,
    limiter,
    budget: new WaitBudget(s.maxWaitSeconds * 1000),
    clock,
    secrets,
    log,
    control,
    profile: provider.http,
    maxRetries: s.maxRetries,
    timeoutMs: s.timeoutSeconds * 1000,
    maxInFlight: s.concurrency,
    random: d.random
  })

  const report: RunReport = {
    tool: 'terminate-sessions',
    version: 2,
    provider: provider.name,
    providerTitle: provider.title,
    mode: s.dryRun ? 'dry-run' : 'real',
    destructive: provider.destructive === true,
    status: 'running',
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: '',
    durationMs: 0,
    context: d.context,
    settings: s.reported,
    counts: emptyCounts(),
    results: []
  }
  const stamp = (): RunReport => {
    const end = clock.now()
    report.finishedAt = new Date(end).toISOString()
    report.durationMs = end - startedAt
    report.http = { ...http.stats }
    return report
  }

  // Plan: read-only requests only. Nothing mutating has been sent if this fails.
  let entries: PlanEntry[]
  let planned: PlanEntry[]
  try {
    const run = await provider.start({
      http,
      log,
      token: s.token,
      options: s.options,
      baseUrl: s.baseUrl,
      authBaseUrl: s.authBaseUrl,
      addSecret: (v) => secrets.add(v),
      concurrency: tasks,
      maxTargets: s.maxTargets,
      maxRetries: s.maxRetries,
      dryRun: s.dryRun,
      clock,
      random: d.random,
      getIdToken: (audience) => d.getIdToken(audience)
    })
    entries = uniqueById(await run.plan({ targets: s.targets, targetType: s.targetType, filter: s.filter }))
    planned = actionable(entries)
    const scope: PlanScope = {
      provider: provider.name,
      endpoint: { baseUrl: s.baseUrl, authBaseUrl: s.authBaseUrl },
      targetType: s.targetType,
      filter: s.filter,
      settings: { ...(provider.bindsPlan?.(s.options) ?? {}), ...(run.scope?.() ?? {}) }
    }
    report.planHash = planHash(scope, planned)
    report.planScope = scope as unknown as Record<string, unknown>
    report.counts = emptyCounts(planned.length)
    logPlan(log, entries)

    try {
      checkGuards(planned.length, report.planHash, s)
    } catch (err) {
      if (!(err instanceof GuardError)) throw err
      report.status = 'refused'
      report.error = err.message
      report.results = inPlanOrder(entries, new Map(), (e) => ({
        ...resultOf(e),
        outcome: 'not-attempted',
        reason: `not attempted: the plan was refused (${err.input})`
      }))
      report.counts = countOutcomes(report.results, planned.length)
      return stamp()
    }

    if (s.dryRun) {
      report.results = inPlanOrder(entries, new Map(), (e) => ({ ...resultOf(e), outcome: 'planned', reason: `dry run: would ${verb}` }))
      report.counts = countOutcomes(report.results, planned.length)
      report.status = 'completed'
      return stamp()
    }
    d.checkpoint?.(stamp())
    if (control.stopped !== undefined) throw new RunHaltedError(control.stopped)

    // Execute. From here on, whatever happens, the report says what was done.
    // Writing the whole report costs time and memory in proportion to the plan: large plans checkpoint less often.
    const interval = d.checkpointIntervalMs ?? Math.max(5000, planned.length / 10)
    let lastCheckpoint = clock.now()
    const partial = (done: ReadonlyMap<string, TargetResult>): void => {
      if (!d.checkpoint || clock.now() - lastCheckpoint < interval) return
      lastCheckpoint = clock.now()
      report.results = inPlanOrder(entries, done, (e) =>
        e.skip !== undefined ? undefined : { ...resultOf(e), outcome: 'not-attempted', reason: 'not attempted yet (the run is under way)' }
      )
      report.counts = countOutcomes(report.results, planned.length)
      d.checkpoint(stamp())
    }
    let executed: TargetResult[]
    try {
      executed =
        planned.length === 0
          ? []
          : await executePlan({ run, entries: planned, batchSize: s.batchSize, concurrency: tasks, log, clock, control, verb, onBatch: partial })
    } catch (err) {
      // A bug in execution must not read as "nothing happened": every target without a result is unknown.
      log.warning(`execution stopped unexpectedly: ${errorMessage(err)}`)
      executed = planned.map((e) => ({ ...resultOf(e), outcome: 'unknown', reason: `unknown: execution stopped unexpectedly (${errorMessage(err)})` }))
    }
    const byId = new Map(executed.map((r) => [r.id, r]))
    report.results = inPlanOrder(entries, byId)
    report.counts = countOutcomes(report.results, planned.length)
    report.status = control.cancelledBy !== undefined ? 'cancelled' : 'completed'
    if (control.cancelledBy !== undefined) report.error = `the run was cancelled (${control.cancelledBy})`
    else if (control.stopped !== undefined) report.halted = control.stopped
    return stamp()
  } catch (err) {
    const reason =
      err instanceof ProviderRequestError || err instanceof InputError || err instanceof RunHaltedError ? err.message : `internal error: ${errorMessage(err)}`
    report.status = control.cancelledBy !== undefined ? 'cancelled' : 'plan-failed'
    report.error = `Planning ${control.cancelledBy !== undefined ? 'was cancelled' : 'failed'}, nothing was ${verb === 'delete' ? 'deleted' : 'terminated'}: ${reason}`
    report.results = []
    return stamp()
  }
}

function resultOf(e: PlanEntry): TargetResult {
  return { id: e.id, kind: e.kind, label: e.label, given: e.given, details: e.details, outcome: 'skipped', reason: e.skip, unresolved: e.unresolved }
}

/**
 * Every entry's result in plan order: skipped entries as planned, acted entries from `done`, else from
 * `fallback` (left out when it returns undefined). Built with a loop: plans hold 100,000+ entries.
 */
function inPlanOrder(
  entries: readonly PlanEntry[],
  done: ReadonlyMap<string, TargetResult>,
  fallback?: (e: PlanEntry) => TargetResult | undefined
): TargetResult[] {
  const out: TargetResult[] = []
  for (const e of entries) {
    if (e.skip !== undefined) {
      out.push(resultOf(e))
      continue
    }
    const r = done.get(e.id) ?? fallback?.(e)
    if (r !== undefined) out.push(r)
  }
  return out
}

function uniqueById(entries: PlanEntry[]): PlanEntry[] {
  const seen = new Set<string>()
  return entries.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)))
}

const PLAN_LOG_LINES = 1000

function logPlan(log: Logger, entries: PlanEntry[]): void {
  const lines: string[] = []
  for (const e of entries.slice(0, PLAN_LOG_LINES)) {
    const extra = e.details
      ? Object.entries(e.details)
          .filter(([, v]) => v !== null && v !== '')
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
      : ''
    lines.push(
      `${e.skip ? 'skip' : 'plan'} ${e.id}${e.label && e.label !== e.id ? ` (${e.label})` : ''}${extra ? ` ${extra}` : ''}${e.skip ? ` — ${e.skip}` : ''}`
    )
  }
  if (entries.length > PLAN_LOG_LINES) lines.push(`… and ${entries.length - PLAN_LOG_LINES} more (see the report)`)
  const planned = entries.filter((e) => e.skip === undefined).length
  log.group(`plan: ${planned} targets${entries.length > planned ? `, ${entries.length - planned} to skip` : ''}`, lines)
}
