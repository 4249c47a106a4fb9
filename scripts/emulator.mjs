#!/usr/bin/env node
// Starts the IPRoyal emulator (the one the end-to-end tests use) as a standalone loopback server,
// for CI and demos: `node scripts/emulator.mjs [--port N] [--users N] [--token T] [--url-file F] [--record F]`.
//
// It prints `base-url=<url>` once it listens; with --url-file it also writes the URL to that file
// (CI waits for the file, then copies it to $GITHUB_OUTPUT). With --record, every request it answered
// (method, path, status) is written to that file as JSON when it stops (SIGTERM/SIGINT), so a CI step
// can prove that a dry run sent no mutating request. It never listens on anything but 127.0.0.1.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from '../__tests__/emulators/iproyal/index.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    users: { type: 'string', default: '30' },
    token: { type: 'string', default: IPROYAL_TOKEN },
    'url-file': { type: 'string' },
    record: { type: 'string' }
  }
})

const port = Number(values.port)
const users = Number(values.users)
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: give a port from 0 to 65535`)
if (!Number.isInteger(users) || users < 0 || users > 100_000) throw new Error(`--users ${values.users}: give a count from 0 to 100000`)

const emu = new IPRoyalEmulator({ token: values.token, subUsers: makeSubUsers(users) })
const origin = await listen(emu, port)
const baseUrl = `${origin}/v1`
if (values['url-file']) writeFileSync(values['url-file'], `${baseUrl}\n`)
console.log(`base-url=${baseUrl}`)
console.log(`iproyal emulator: ${users} sub-users (user1..user${users}); stop it with SIGTERM`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  if (values.record) {
    const requests = emu.server.requests.map((r) => ({ method: r.method, path: r.path, status: r.status }))
    writeFileSync(values.record, JSON.stringify({ requests, mutating: emu.server.mutating().length }, null, 2))
  }
  await emu.stop()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

/** EmulatorServer.start() takes a free port; a fixed port is bound here the same way. */
async function listen(emulator, wanted) {
  if (wanted === 0) {
    await emulator.start()
    return emulator.server.origin
  }
  const server = emulator.server
  await new Promise((resolve, reject) => {
    server.server.once('error', reject)
    server.server.listen(wanted, '127.0.0.1', resolve)
  })
  server.origin = `http://127.0.0.1:${wanted}`
  emulator.baseUrl = `${server.origin}/v1`
  return server.origin
}
