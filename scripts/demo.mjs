#!/usr/bin/env node
// npm run demo: starts each provider's loopback emulator and runs the committed dist/index.js
// exactly as the Actions runner does (INPUT_* variables with action.yml defaults, GITHUB_OUTPUT
// and GITHUB_STEP_SUMMARY files) — first as a dry run, then for real — printing the outputs and
// the step summary of each run.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot, runAction, visibleLog } from '../__tests__/helpers/run-action.js'
import { scenarios } from './demo-scenarios.mjs'

if (!existsSync(join(repoRoot, 'dist', 'index.js'))) {
  console.error('dist/index.js is missing: run `npm run package` first.')
  process.exit(1)
}

const only = process.argv.slice(2)
const bar = (text) => `\n${'='.repeat(100)}\n${text}\n${'='.repeat(100)}`
let failures = 0

for (const scenario of scenarios.filter((s) => only.length === 0 || only.includes(s.provider))) {
  const emulator = await scenario.start()
  try {
    for (const dryRun of ['true', 'false']) {
      const inputs = { ...scenario.inputs(emulator), 'dry-run': dryRun }
      const before = emulator.server.requests.length
      const r = await runAction({ inputs })
      const sent = emulator.server.requests.slice(before)
      const mutating = sent.filter(scenario.isMutating ?? ((q) => q.method !== 'GET')).length
      console.log(
        bar(
          `${scenario.title}: ${dryRun === 'true' ? 'DRY RUN' : 'REAL RUN'} — exit code ${r.code}, ${sent.length} requests to the emulator (${mutating} mutating)`
        )
      )
      console.log('\n--- log (as the runner shows it) ---')
      console.log(visibleLog(r.stdout).trim().split('\n').slice(0, 40).join('\n'))
      console.log('\n--- step outputs ---')
      for (const [k, v] of Object.entries(r.outputs)) console.log(`${k.padEnd(18)} ${v.length > 160 ? `${v.slice(0, 160)}…` : v}`)
      console.log('\n--- step summary (GITHUB_STEP_SUMMARY) ---')
      console.log(r.summary.trim())
      if (r.code !== 0) failures++
      if (dryRun === 'true' && mutating > 0) {
        console.error('dry run sent a mutating request')
        failures++
      }
    }
    scenario.after?.(emulator)
  } finally {
    await emulator.stop()
  }
}
process.exit(failures === 0 ? 0 : 1)
