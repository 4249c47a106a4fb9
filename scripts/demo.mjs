#!/usr/bin/env node
// npm run demo: starts each provider's loopback emulator and runs the committed dist/index.js
// exactly as the Actions runner does (INPUT_* variables with action.yml defaults, GITHUB_OUTPUT
// and GITHUB_STEP_SUMMARY files) — first as a dry run, then for real — printing the outputs and
// the step summary of each run.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot, runAction, visibleLog } from '../__tests__/helpers/run-action.js'
import { scenarios } from './demo-scenarios.mjs'
import { approvedFrom, runOffboard } from '../__tests__/helpers/run-offboard.js'
import { BOX_DEVELOPER_TOKEN, BoxEmulator, makeUsers as makeBoxUsers } from '../__tests__/emulators/box/index.js'
import { OKTA_API_TOKEN, OktaEmulator, makeUsers as makeOktaUsers } from '../__tests__/emulators/okta/index.js'
import { SLACK_ADMIN_TOKEN, SlackEmulator } from '../__tests__/emulators/slack/index.js'

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
// The offboard-everywhere pipeline: two people by email at three providers at once (one has no Slack
// account), plan -> (approval) -> execute bound to the approved hashes.
if (only.length === 0 || only.includes('offboard')) {
  const box = new BoxEmulator({ users: makeBoxUsers(6) })
  const okta = new OktaEmulator({ users: makeOktaUsers(6, { domain: 'example.com' }) })
  const slack = new SlackEmulator()
  await Promise.all([box.start(), okta.start(), slack.start()])
  try {
    const env = {
      PEOPLE: 'user2@example.com\nuser5@example.com',
      PROVIDERS: [`box: { base-url: ${box.baseUrl} }`, `okta: { base-url: ${okta.origin} }`, `slack: { base-url: ${slack.baseUrl} }`].join('\n'),
      OFFBOARD_SECRET_BOX_TOKEN: BOX_DEVELOPER_TOKEN,
      OFFBOARD_SECRET_OKTA_TOKEN: OKTA_API_TOKEN,
      OFFBOARD_SECRET_SLACK_TOKEN: SLACK_ADMIN_TOKEN
    }
    slack.removeUser?.([...slack.users.values()].find((u) => u.email === 'user5@example.com')?.id)
    const plan = await runOffboard('plan', env)
    console.log(
      bar(
        `Offboard everywhere (box, okta, slack; two people): PLAN — exit code ${plan.code}, mutating requests: ${box.terminateRequests().length + okta.sessionRequests().length + slack.resetRequests().length}`
      )
    )
    console.log(plan.summary.trim())
    const run = await runOffboard('execute', { ...env, ...approvedFrom(plan) })
    console.log(bar(`Offboard everywhere: EXECUTE (after the approval) — exit code ${run.code}`))
    console.log(run.summary.trim())
    if (plan.code !== 0 || run.code !== 0) failures++
  } finally {
    await Promise.all([box.stop(), okta.stop(), slack.stop()])
  }
}
process.exit(failures === 0 ? 0 : 1)
