import * as core from '@actions/core'
import { systemClock, type Clock } from './engine/clock.js'
import { GuardError, InputError, ProviderRequestError, errorMessage } from './engine/errors.js'
import { executePlan } from './engine/execute.js'
import { checkGuards } from './engine/guards.js'
import { HttpClient, type FetchLike } from './engine/http.js'
import { RateLimiter } from './engine/limiter.js'
import { Logger } from './engine/logger.js'
import { actionable, planHash } from './engine/plan.js'
import { WaitBudget } from './engine/retry.js'
import { SecretStore } from './engine/secrets.js'
import type { ActionSink } from './engine/sink.js'
import type { PlanEntry, TargetResult } from './engine/types.js'
import { readInputs, type Settings } from './inputs.js'
import { countOutcomes } from './report/counts.js'
import { writeJsonReport } from './report/json-report.js'
import { readRunContext, type RunReport } from './report/run-info.js'
import { renderSummary } from './report/summary.js'

export interface RunDeps {
  core?: ActionSink
  fetch?: FetchLike
  env?: NodeJS.ProcessEnv
  clock?: Clock
}

const TASKS_PER_REQUEST_SLOT = 3

/** GitHub limits one step output to 1 MiB; a larger target list is left to the report file. */
const MAX_TARGETS_OUTPUT_BYTES = 900 * 1024

/** The real @actions/core behind the sink interface. */
export function actionsCoreSink(): ActionSink {
  return {
    getInput: (name) => core.getInput(name),
    setSecret: (v) => core.setSecret(v),
    setOutput: (n, v) => core.setOutput(n, v),
    setFailed: (m) => core.setFailed(m),
    info: (m) => core.info(m),
    debug: (m) => core.debug(m),
    warning: (m, p) => core.warning(m, p),
    error: (m, p) => core.error(m, p),
    notice: (m, p) => core.notice(m, p),
    startGroup: (n) => core.startGroup(n),
    endGroup: () => core.endGroup(),
    writeSummary: async (md) => {
      if (!process.env.GITHUB_STEP_SUMMARY) return
      await core.summary.addRaw(md, true).write()
    }
  }
}

/** read inputs -> plan -> guard -> execute -> report. Never throws; failures set the step failed. */
export async function run(deps: RunDeps = {}): Promise<void> {
  const sink = deps.core ?? actionsCoreSink()
  const env = deps.env ?? process.env
  const clock = deps.clock ?? systemClock
  const secrets = new SecretStore((v) => sink.setSecret(v))
  const log = new Logger(sink, secrets)

  let settings: Settings
  try {
    settings = readInputs(sink, env, (v) => secrets.add(v))
  } catch (err) {
    sink.setFailed(secrets.scrub(errorMessage(err)))
    return
  }
  try {
    await runWithSettings(settings, { sink, env, clock, secrets, log, fetch: deps.fetch ?? globalThis.fetch })
  } catch (err) {
    // Reaching here is a bug; the message still must not carry a secret.
    sink.setFailed(secrets.scrub(`terminate-sessions stopped unexpectedly: ${errorMessage(err)}`))
  }
}

interface RunEnv {
  sink: ActionSink
  env: NodeJS.ProcessEnv
  clock: Clock
  secrets: SecretStore
  log: Logger
  fetch: FetchLike
}

async function runWithSettings(s: Settings, r: RunEnv): Promise<void> {
  const { sink, clock, secrets, log } = r
  const provider = s.provider
  const startedAt = clock.now()
  const verb = provider.destructive ? 'delete' : 'terminate'
  if (s.duplicateTargets > 0) log.info(`${s.duplicateTargets} duplicate targets removed`)
  log.info(`${provider.title}: ${s.dryRun ? 'dry run' : 'real run'}; ${s.targets.length > 0 ? `${s.targets.length} ${s.targetType} targets` : 'targets from filter'}; batch ${s.batchSize}, concurrency ${s.concurrency}, ${s.rateLimit} requests/min`)

  const limiter = new RateLimiter(s.rateLimit, clock)
  // `concurrency` caps requests on the wire (in the HTTP client). More tasks than that run, so a
  // task sleeping before a retry does not leave a slot idle.
  const tasks = s.concurrency * TASKS_PER_REQUEST_SLOT
  const http = new HttpClient({
    fetch: r.fetch,
    limiter,
    budget: new WaitBudget(s.maxWaitSeconds * 1000),
    clock,
    secrets,
    log,
    profile: { parseError: provider.parseError, isRetryable: provider.isRetryable?.bind(provider), requestIdHeaders: provider.requestIdHeaders },
    maxRetries: s.maxRetries,
    timeoutMs: s.timeoutSeconds * 1000,
    maxInFlight: s.concurrency
  })

  const report: RunReport = {
    tool: 'terminate-sessions',
    version: 1,
    provider: provider.name,
    mode: s.dryRun ? 'dry-run' : 'real',
    destructive: provider.destructive === true,
    status: 'completed',
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: '',
    durationMs: 0,
    context: readRunContext(r.env),
    settings: reportedSettings(s),
    counts: { planned: 0, terminated: 0, accepted: 0, skipped: 0, failed: 0 },
    results: []
  }

  const finish = async (failMessage?: string): Promise<void> => {
    const end = clock.now()
    report.finishedAt = new Date(end).toISOString()
    report.durationMs = end - startedAt
    report.http = { ...http.stats }
    writeJsonReport(s.reportPath, report, secrets)
    sink.setOutput('report-path', s.reportPath)
    const md = renderSummary({ report, providerTitle: provider.title, acceptedNote: provider.acceptedNote, reportPath: s.reportPath, verb })
    await sink.writeSummary(secrets.scrub(md))
    if (failMessage) sink.setFailed(secrets.scrub(failMessage))
  }

  // Plan: read-only requests only.
  let entries: PlanEntry[]
  try {
    const run = await provider.start({ http, log, token: s.token, options: s.options, addSecret: (v) => secrets.add(v), concurrency: tasks, maxTargets: s.maxTargets, dryRun: s.dryRun })
    entries = uniqueById(await run.plan({ targets: s.targets, targetType: s.targetType, filter: s.filter }))
    const planned = actionable(entries)
    const hash = planHash(provider.name, planned.map((e) => e.id))
    report.planHash = hash
    setPlanOutputs(sink, log, planned, hash)
    logPlan(log, entries)

    try {
      checkGuards(planned.length, hash, s)
    } catch (err) {
      if (!(err instanceof GuardError)) throw err
      report.status = 'refused'
      report.error = err.message
      report.counts = { planned: planned.length, terminated: 0, accepted: 0, skipped: 0, failed: 0 }
      setCountOutputs(sink, report.counts)
      await finish(err.message)
      return
    }

    const results: TargetResult[] = entries
      .filter((e) => e.skip !== undefined)
      .map((e) => ({ id: e.id, kind: e.kind, label: e.label, details: e.details, outcome: 'skipped', reason: e.skip }))
    if (s.dryRun) {
      for (const e of planned) results.push({ id: e.id, kind: e.kind, label: e.label, details: e.details, outcome: 'skipped', reason: `dry run: would ${verb}` })
    } else if (planned.length > 0) {
      results.push(...(await executePlan({ run, entries: planned, batchSize: s.batchSize, concurrency: tasks, log, clock, verb, onFatal: (reason) => http.halt(reason) })))
    }
    const order = new Map(entries.map((e, i) => [e.id, i]))
    results.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
    report.results = results
    report.counts = countOutcomes(results, planned.length)
  } catch (err) {
    const reason = err instanceof ProviderRequestError || err instanceof InputError ? err.message : `internal error: ${errorMessage(err)}`
    report.status = 'plan-failed'
    report.error = `Planning failed, nothing was ${verb === 'delete' ? 'deleted' : 'terminated'}: ${reason}`
    setCountOutputs(sink, report.counts)
    await finish(report.error)
    return
  }

  setCountOutputs(sink, report.counts)
  annotateFailures(log, report.results)
  const c = report.counts
  log.info(`done: ${c.planned} planned, ${c.terminated} terminated, ${c.accepted} accepted, ${c.skipped} skipped, ${c.failed} failed`)
  const acted = c.planned
  let failMessage: string | undefined
  if (c.failed > 0 && s.failOn === 'any') failMessage = `${c.failed} of ${acted} targets failed (fail-on: any); see the job summary and report`
  if (c.failed > 0 && c.failed === acted && s.failOn === 'all') failMessage = `all ${acted} targets failed (fail-on: all); see the job summary and report`
  // Rejected credentials are never a partial success, whatever fail-on says.
  if (http.halted !== undefined) failMessage = `${provider.title} rejected the credentials: ${http.halted}. ${c.failed} targets failed or were not attempted; see the job summary and report`
  await finish(failMessage)
}

function uniqueById(entries: PlanEntry[]): PlanEntry[] {
  const seen = new Set<string>()
  return entries.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)))
}

function setPlanOutputs(sink: ActionSink, log: Logger, planned: PlanEntry[], hash: string): void {
  sink.setOutput('plan-hash', hash)
  const ids = JSON.stringify(planned.map((e) => e.id))
  if (Buffer.byteLength(ids) > MAX_TARGETS_OUTPUT_BYTES) {
    log.warning(`The targets output is left empty: ${planned.length} ids exceed GitHub's 1 MiB output limit. Read them from the report file.`)
    sink.setOutput('targets', '')
  } else {
    sink.setOutput('targets', ids)
  }
}

function setCountOutputs(sink: ActionSink, c: RunReport['counts']): void {
  sink.setOutput('planned-count', String(c.planned))
  sink.setOutput('terminated-count', String(c.terminated))
  sink.setOutput('accepted-count', String(c.accepted))
  sink.setOutput('skipped-count', String(c.skipped))
  sink.setOutput('failed-count', String(c.failed))
}

const PLAN_LOG_LINES = 1000

function logPlan(log: Logger, entries: PlanEntry[]): void {
  const lines = entries.slice(0, PLAN_LOG_LINES).map((e) => {
    const extra = e.details ? Object.entries(e.details).filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}=${v}`).join(' ') : ''
    return `${e.skip ? 'skip' : 'plan'} ${e.id}${e.label && e.label !== e.id ? ` (${e.label})` : ''}${extra ? ` ${extra}` : ''}${e.skip ? ` — ${e.skip}` : ''}`
  })
  if (entries.length > PLAN_LOG_LINES) lines.push(`… and ${entries.length - PLAN_LOG_LINES} more (see the report)`)
  const planned = entries.filter((e) => e.skip === undefined).length
  log.group(`plan: ${planned} targets${entries.length > planned ? `, ${entries.length - planned} to skip` : ''}`, lines)
}

/** GitHub shows ten error annotations per step: annotate the first failures and summarise the rest. */
function annotateFailures(log: Logger, results: TargetResult[]): void {
  const failed = results.filter((r) => r.outcome === 'failed')
  for (const r of failed.slice(0, 9)) log.annotate(`${r.id}${r.label ? ` (${r.label})` : ''}: ${r.reason ?? 'failed'}`, { title: 'terminate-sessions: target failed' })
  if (failed.length > 9) log.annotate(`${failed.length - 9} more targets failed; see the job summary and the JSON report`, { title: 'terminate-sessions: more failures' })
}

function reportedSettings(s: Settings): Record<string, unknown> {
  return {
    targetType: s.targetType,
    targetsSource: s.targetsSource,
    targetsGiven: s.targets.length,
    filter: s.filter,
    dryRun: s.dryRun,
    maxTargets: s.maxTargets,
    expectedCount: s.expectedCount,
    expectedPlanHash: s.expectedPlanHash,
    batchSize: s.batchSize,
    concurrency: s.concurrency,
    rateLimit: s.rateLimit,
    maxRetries: s.maxRetries,
    timeoutSeconds: s.timeoutSeconds,
    maxWaitSeconds: s.maxWaitSeconds,
    failOn: s.failOn,
    baseUrl: s.options.baseUrl,
    region: s.options.region,
    identityStoreId: s.options.identityStoreId,
    accessKeyId: s.options.accessKeyId,
    clientId: s.options.clientId,
    enterpriseId: s.options.enterpriseId,
    username: s.options.username
  }
}
