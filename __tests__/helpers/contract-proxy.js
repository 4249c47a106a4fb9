// A contract-checking proxy in front of an emulator: Prism (@stoplight/prism-cli) in proxy mode, loaded
// with the vendor's own API description (sliced and vendored under __tests__/contracts/<provider>/).
// Every request the action sends goes through it unchanged (no --errors, so the emulator's answers reach
// the action as they are); Prism validates each request and response against the description and logs
// a `Violation:` line for each mismatch, which the tests read.
//   request violations:  the action sent something the vendor's contract does not allow (a test failure);
//   response violations: the emulator answered outside the contract (a finding about the emulator).
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { repoRoot } from './run-action.js'

const PRISM = join(repoRoot, 'node_modules', '@stoplight', 'prism-cli', 'dist', 'index.js')

/** The vendored description of a provider. */
export function contractPath(provider) {
  return join(repoRoot, '__tests__', 'contracts', provider, 'openapi.json')
}

async function freePort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * @param {{ spec: string, upstream: string, startTimeoutMs?: number }} opts
 *   spec: absolute path of the OpenAPI document; upstream: the emulator URL that stands for the spec's
 *   server URL (e.g. http://127.0.0.1:1234/2.0 for https://api.box.com/2.0).
 */
export async function startContractProxy({ spec, upstream, startTimeoutMs = 30_000 }) {
  const port = await freePort()
  const child = spawn(process.execPath, [PRISM, 'proxy', spec, upstream, '--port', String(port), '--host', '127.0.0.1', '--cors', 'false'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: repoRoot
  })
  /** @type {{ method: string, path: string }[]} */
  const received = []
  /** @type {{ where: 'request' | 'response', severity: string, message: string, method?: string, path?: string }[]} */
  const violations = []
  let log = ''
  let buffered = ''
  let last
  const onLine = (line) => {
    const plain = line.replace(/\u001b\[[0-9;]*m/g, '')
    const got = /\[HTTP SERVER\] (\w+) (\S+) .*Request received/.exec(plain)
    if (got) {
      last = { method: got[1].toUpperCase(), path: got[2] }
      received.push(last)
      return
    }
    const v = /(error|warning)\s+Violation: (request|response)\S*\s(.*)$/.exec(plain)
    if (v) violations.push({ where: /** @type {'request'|'response'} */ (v[2]), severity: v[1], message: v[3].trim(), method: last?.method, path: last?.path })
  }
  const onData = (d) => {
    log += d
    buffered += d
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const l of lines) onLine(l)
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // A Prism that never came up must not outlive the test (it keeps a core busy loading the description).
      child.kill('SIGKILL')
      reject(new Error(`Prism did not start within ${startTimeoutMs} ms:\n${log}`))
    }, startTimeoutMs)
    const check = () => {
      if (/Prism is listening/.test(log)) {
        clearTimeout(timer)
        resolve(undefined)
      }
    }
    child.stdout.on('data', check)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Prism exited (${code}) before listening:\n${log}`))
    })
  })
  return {
    origin: `http://127.0.0.1:${port}`,
    /** Requests Prism saw, in order. */
    received,
    /** Mismatches between the traffic and the description. */
    requestViolations: () => violations.filter((v) => v.where === 'request'),
    responseViolations: () => violations.filter((v) => v.where === 'response'),
    reset() {
      received.length = 0
      violations.length = 0
    },
    log: () => log,
    /** Prism logs a violation just after it answers: wait for its log to catch up before reading. */
    settle: (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms)),
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }
}
