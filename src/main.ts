// Wiring only: settings -> pipeline -> publish. Everything with a decision in it lives in the engine
// (pipeline, verdict), the providers, or the report modules.
import * as core from '@actions/core'
import { systemClock, type Clock } from './engine/clock.js'
import { RunControl } from './engine/control.js'
import { errorMessage } from './engine/errors.js'
import type { FetchLike } from './engine/http/client.js'
import { Logger } from './engine/logger.js'
import { runPipeline, verbOf } from './engine/pipeline.js'
import { SecretStore } from './engine/secrets.js'
import type { ActionSink } from './engine/sink.js'
import { failureMessage } from './engine/verdict.js'
import { publish, writeReportFile } from './report/publish.js'
import { readRunContext } from './report/run-info.js'
import { readSettings } from './settings.js'

export interface RunDeps {
  core?: ActionSink
  fetch?: FetchLike
  env?: NodeJS.ProcessEnv
  clock?: Clock
  random?: () => number
  control?: RunControl
  /** Listen for SIGINT/SIGTERM (the runner's cancel): default true with the real core. */
  signals?: boolean
}

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
    },
    getIDToken: (audience) => core.getIDToken(audience)
  }
}

/** How the run ended, for the entry point. */
export interface RunResult {
  failed: boolean
  cancelled: boolean
}

/** Never throws; failures set the step failed. */
export async function run(deps: RunDeps = {}): Promise<RunResult> {
  const sink = deps.core ?? actionsCoreSink()
  const env = deps.env ?? process.env
  const clock = deps.clock ?? systemClock
  const control = deps.control ?? new RunControl()
  const secrets = new SecretStore((v) => sink.setSecret(v))
  const log = new Logger(sink, secrets)

  let settings
  try {
    settings = readSettings(
      (name) => sink.getInput(name),
      env,
      (v) => secrets.add(v)
    )
  } catch (err) {
    sink.setFailed(log.clean(errorMessage(err)))
    return { failed: true, cancelled: false }
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    log.warning(`${signal} received: stopping — no new requests; the report will say what was done`)
    control.cancel(`the job was cancelled (${signal})`)
  }
  const listen = deps.signals ?? deps.core === undefined
  if (listen) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  try {
    const reportPath = settings.reportPath
    const report = await runPipeline(settings, {
      fetch: deps.fetch ?? globalThis.fetch,
      clock,
      random: deps.random ?? Math.random,
      secrets,
      log,
      control,
      context: readRunContext(env),
      getIdToken: (audience) => sink.getIDToken(audience),
      checkpoint: (partial) => writeReportFile(reportPath, partial, secrets, log)
    })
    const failure = failureMessage(report, settings)
    await publish(sink, secrets, log, { report, reportPath, verb: verbOf(settings.provider), acceptedNote: settings.provider.acceptedNote, failure })
    return { failed: failure !== undefined, cancelled: report.status === 'cancelled' }
  } catch (err) {
    // Reaching here is a bug; the message still must not carry a secret.
    sink.setFailed(log.clean(`terminate-sessions stopped unexpectedly: ${errorMessage(err)}`))
    return { failed: true, cancelled: control.cancelledBy !== undefined }
  } finally {
    if (listen) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
