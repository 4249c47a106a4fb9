import type { Clock } from './clock.js'
import type { RunControl } from './control.js'
import { ProviderRequestError, RunHaltedError, describeProviderError, errorMessage } from './errors.js'
import type { Logger } from './logger.js'
import { chunk } from './plan.js'
import type { ProviderRun } from './provider.js'
import type { BatchOutcome, PlanEntry, TargetResult } from './types.js'

export interface ExecuteOptions {
  run: ProviderRun
  entries: PlanEntry[]
  batchSize: number
  concurrency: number
  log: Logger
  clock: Clock
  control: RunControl
  /** Verb for log lines ("terminate", "delete"). */
  verb: string
  /** Minimum ms between progress lines once there are many batches. */
  progressIntervalMs?: number
  /** Called after each batch with every result so far (the report is written as batches finish). */
  onBatch?: (results: ReadonlyMap<string, TargetResult>) => void
}

/** Statuses that blame one of the targets rather than the call: the batch is split to find it. */
const ISOLATE_STATUSES = new Set([400, 404, 409, 422])
/** Above this many batches, progress is logged at a steady rate instead of per batch. */
const GROUP_EVERY_BATCH_UP_TO = 100

/**
 * Runs the batches with bounded concurrency and accounts for every entry: each ends in exactly one
 * result. A batch rejected for its content is split until the bad targets are isolated. When the run
 * stops (credentials rejected, job cancelled), batches not sent end `not-attempted` and requests that
 * were on the wire end `unknown`.
 */
export async function executePlan(opts: ExecuteOptions): Promise<TargetResult[]> {
  const { run, entries, log, clock, control } = opts
  const batches = run.batches ? run.batches(entries, opts.batchSize) : chunk(entries, opts.batchSize)
  const results = new Map<string, TargetResult>()
  const total = entries.length
  const interval = opts.progressIntervalMs ?? 2000
  let done = 0
  let finishedBatches = 0
  let lastProgress = 0
  let next = 0

  const record = (entry: PlanEntry, outcome: BatchOutcome, batchNo: number): void => {
    if (results.has(entry.id)) return
    const err = outcome.error
    results.set(entry.id, {
      id: entry.id,
      kind: entry.kind,
      label: entry.label,
      given: entry.given,
      details: entry.details,
      outcome: outcome.outcome,
      reason: outcome.reason ?? (err ? describeProviderError(err) : undefined),
      status: err?.status,
      code: err?.code,
      message: err?.message,
      requestId: outcome.requestId ?? err?.requestId,
      attempts: outcome.attempts,
      batch: batchNo
    })
  }

  const stopped = (batch: PlanEntry[], batchNo: number, err: RunHaltedError): void => {
    const outcome = err.mayHaveTakenEffect ? 'unknown' : 'not-attempted'
    for (const e of batch) record(e, { id: e.id, outcome, reason: err.message }, batchNo)
  }

  const runBatch = async (batch: PlanEntry[], batchNo: number): Promise<void> => {
    if (control.stopped !== undefined) return stopped(batch, batchNo, new RunHaltedError(control.stopped))
    let outcomes: BatchOutcome[]
    try {
      outcomes = await run.execute(batch)
    } catch (err) {
      if (err instanceof RunHaltedError) return stopped(batch, batchNo, err)
      if (err instanceof ProviderRequestError) {
        if (err.fatal) control.halt(`the run stopped after ${describeProviderError(err.info)}`)
        else if (batch.length > 1 && err.info.status !== undefined && ISOLATE_STATUSES.has(err.info.status)) {
          const half = Math.ceil(batch.length / 2)
          log.debug(`batch ${batchNo}: ${describeProviderError(err.info)}; splitting ${batch.length} targets to find the one(s) rejected`)
          await runBatch(batch.slice(0, half), batchNo)
          await runBatch(batch.slice(half), batchNo)
          return
        }
        for (const e of batch) record(e, { id: e.id, outcome: 'failed', error: err.info, attempts: err.attempts }, batchNo)
        return
      }
      for (const e of batch) record(e, { id: e.id, outcome: 'failed', reason: `internal error: ${errorMessage(err)}` }, batchNo)
      return
    }
    const byId = new Map(outcomes.map((o) => [o.id, o]))
    for (const e of batch) {
      record(e, byId.get(e.id) ?? { id: e.id, outcome: 'failed', reason: 'the provider returned no outcome for this target' }, batchNo)
    }
  }

  const reportBatch = (batch: PlanEntry[], batchNo: number): void => {
    const progress = `batch ${batchNo}/${batches.length} done, ${done}/${total} targets (${finishedBatches} batches finished)`
    if (batches.length <= GROUP_EVERY_BATCH_UP_TO) {
      log.group(
        progress,
        batch.map((e) => {
          const r = results.get(e.id)
          return `${e.id}${e.label ? ` (${e.label})` : ''}: ${r?.outcome ?? 'unknown'}${r?.reason ? ` — ${r.reason}` : ''}`
        })
      )
      return
    }
    const now = clock.now()
    if (now - lastProgress >= interval || finishedBatches === batches.length) {
      lastProgress = now
      log.info(progress)
    }
    for (const e of batch) {
      const r = results.get(e.id)
      if (r?.outcome === 'failed' || r?.outcome === 'unknown') log.info(`${e.id}: ${r.outcome} — ${r.reason ?? ''}`)
    }
  }

  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const index = next++
      const batch = batches[index]
      const batchNo = index + 1
      await runBatch(batch, batchNo)
      done += batch.length
      finishedBatches++
      reportBatch(batch, batchNo)
      opts.onBatch?.(results)
    }
  }

  const workers = Math.max(1, Math.min(opts.concurrency, batches.length))
  log.info(`${opts.verb}: ${total} targets in ${batches.length} batches`)
  await Promise.all(Array.from({ length: workers }, worker))
  return entries.map(
    (e) =>
      results.get(e.id) ?? {
        id: e.id,
        kind: e.kind,
        label: e.label,
        given: e.given,
        details: e.details,
        outcome: 'not-attempted',
        reason: `not attempted: ${control.stopped ?? 'the run stopped'}`
      }
  )
}
