// Runs a step of the offboard-everywhere pipeline (dist/offboard/index.js prepare|plan|execute) the way
// .github/workflows/offboard.yml runs it: the job's GITHUB_* variables, its own GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files, the pipeline's inputs as environment variables.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { actionNode, parseOutputFile, repoRoot } from './run-action.js'

/**
 * @param {'prepare' | 'plan' | 'execute'} command
 * @param {Record<string, string>} env PEOPLE, PROVIDERS, OFFBOARD_SECRET_*, APPROVED_* ...
 * @returns {Promise<{ code: number | null, stdout: string, outputs: Record<string, string>, summary: string, dir: string, report?: any }>}
 */
export async function runOffboard(command, env) {
  const dir = mkdtempSync(join(tmpdir(), 'offboard-'))
  const outputFile = join(dir, 'github_output')
  const summaryFile = join(dir, 'summary.md')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const child = spawn(actionNode(), [join(repoRoot, 'dist', 'offboard', 'index.js'), command], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: dir,
      GITHUB_WORKSPACE: dir,
      GITHUB_REPOSITORY: 'acme/it-automation',
      GITHUB_ACTOR: 'octo-admin',
      GITHUB_RUN_ID: '77',
      GITHUB_SERVER_URL: 'https://github.com',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stdout += d))
  const code = await new Promise((resolve) => child.on('close', resolve))
  const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'))
  const report = outputs['report-path'] ? JSON.parse(readFileSync(outputs['report-path'], 'utf8')) : undefined
  return { code, stdout, outputs, summary: readFileSync(summaryFile, 'utf8'), dir, report }
}

/** What the plan job hands the execute job. */
export function approvedFrom(plan) {
  return { APPROVED_HASHES: plan.outputs.hashes, APPROVED_PLANNED: plan.outputs.planned, APPROVED_COMBINED_HASH: plan.outputs['combined-hash'] }
}
