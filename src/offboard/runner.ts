// Runs the action (dist/index.js) for one provider, the way the Actions runner runs a step: inputs as
// INPUT_<NAME> variables, its own GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the job's environment.
// Several providers run at once; each one's log is relayed as one group when it ends, except `::add-mask::`
// lines, which are relayed at once so the runner masks a value before any line could show it.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunReport } from '../report/run-info.js'

export interface StepRun {
  provider: string
  exitCode: number
  outputs: Record<string, string>
  /** The step summary the provider's run wrote. */
  summary: string
  /** The provider's JSON report, when it was written. */
  report?: ProviderReport
  reportPath: string
  log: string[]
}

/** The part of the action's JSON report (src/report/run-info.ts) the pipeline reads. */
export type ProviderReport = Pick<RunReport, 'provider' | 'providerTitle' | 'status' | 'error' | 'halted' | 'planHash' | 'counts' | 'results'>

/** Parses a GITHUB_OUTPUT file (name<<delimiter ... delimiter blocks, or name=value lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const [, name, delim] = heredoc
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i])
      out[name] = value.join('\n')
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
    }
  }
  return out
}

/** The runner's environment variable for an input: INPUT_ + upper case, spaces to underscores. */
function inputVar(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/** Variables of the job the provider's run inherits (never another provider's secret). */
function jobEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('INPUT_') || k.startsWith('OFFBOARD_')) continue
    out[k] = v
  }
  return out
}

export interface RunStepOptions {
  /** dist/index.js of the action. */
  entry: string
  provider: string
  inputs: Record<string, string>
  /** Where this run's files go (outputs, summary, report). */
  dir: string
  env: NodeJS.ProcessEnv
  /** Relays a line of the run's log to the job's log. */
  relay: (line: string) => void
}

export async function runStep(o: RunStepOptions): Promise<StepRun> {
  mkdirSync(o.dir, { recursive: true })
  const outputFile = join(o.dir, 'github_output')
  const summaryFile = join(o.dir, 'step_summary.md')
  const reportPath = join(o.dir, 'report.json')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env: NodeJS.ProcessEnv = { ...jobEnv(o.env), GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile }
  for (const [name, value] of Object.entries({ ...o.inputs, 'report-path': reportPath })) env[inputVar(name)] = value
  const child = spawn(process.execPath, [o.entry], { env, cwd: o.env.GITHUB_WORKSPACE || process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] })
  const log: string[] = []
  let pending = ''
  const take = (chunk: Buffer): void => {
    pending += chunk.toString('utf8')
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (line.startsWith('::add-mask::')) o.relay(line)
      else log.push(line)
    }
  }
  child.stdout.on('data', take)
  child.stderr.on('data', take)
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))))
  if (pending !== '') log.push(pending)
  // Nested groups do not exist in the log: the run's own groups become plain lines inside its group.
  o.relay(`::group::${o.provider} (exit code ${exitCode})`)
  for (const line of log) {
    if (line.startsWith('::group::')) o.relay(`▸ ${line.slice(9)}`)
    else if (line.startsWith('::endgroup::')) continue
    else o.relay(line)
  }
  o.relay('::endgroup::')
  const report = existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')) as ProviderReport) : undefined
  return {
    provider: o.provider,
    exitCode,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    report,
    reportPath,
    log
  }
}
