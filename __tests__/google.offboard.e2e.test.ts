// Google in the offboard-everywhere pipeline (dist/offboard/index.js, as .github/workflows/offboard.yml runs it):
// the keyless route, where the workflow's google-github-actions/auth step mints an access token for the admin
// named by `subject` and hands it over as GOOGLE_ACCESS_TOKEN; people by email; one approval; the execution
// bound to the approved plan.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GOOGLE_ADMIN, GoogleEmulator, SCOPES, makeUsers } from './emulators/google/index.js'
import { actionNode, parseOutputFile, repoRoot, visibleLog } from './helpers/run-action.js'

const emu = new GoogleEmulator({ users: makeUsers(10), quota: false })

beforeAll(async () => {
  await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

interface StageRun {
  code: number | null
  stdout: string
  outputs: Record<string, string>
  summary: string
  report?: { rows: Array<{ person?: string; provider: string; outcome: string; target?: string; id?: string }> }
}

async function stage(command: string, env: Record<string, string>): Promise<StageRun> {
  const dir = mkdtempSync(join(tmpdir(), 'offboard-google-'))
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
      GITHUB_RUN_ID: '78',
      GITHUB_SERVER_URL: 'https://github.com',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stdout += d))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const outputs = parseOutputFile(readFileSync(outputFile, 'utf8')) as Record<string, string>
  const report = outputs['report-path'] ? JSON.parse(readFileSync(outputs['report-path'], 'utf8')) : undefined
  return { code, stdout, outputs, summary: readFileSync(summaryFile, 'utf8'), report }
}

// alice is user3 (by her primary email), bob is user7 (listed by his alias), carol has no Google account.
const PEOPLE = ['user3@example.com', 'alias7@example.com', 'carol@example.com'].join('\n')
const providers = (): string =>
  `google: { subject: ${GOOGLE_ADMIN}, workload-identity-provider: projects/1/locations/global/workloadIdentityPools/github/providers/repo, service-account: terminate-sessions@p.iam.gserviceaccount.com, base-url: ${emu.baseUrl}, rate-limit: 60000 }`

describe('google in the offboard-everywhere pipeline (keyless)', () => {
  it('prepare asks the auth step for the admin and the scopes; plan and execute sign the people out, bound to the approval', async () => {
    const prep = await stage('prepare', { PEOPLE, PROVIDERS: providers() })
    expect(prep.code).toBe(0)
    expect(prep.outputs).toMatchObject({ 'google-keyless': 'true', 'google-subject': GOOGLE_ADMIN })
    expect(prep.outputs['google-scopes'].split(',')).toEqual([SCOPES.userSecurity, SCOPES.userReadonly])

    // What google-github-actions/auth would mint for access_token_subject and access_token_scopes.
    const token = emu.registerAccessToken({ subject: GOOGLE_ADMIN, scopes: prep.outputs['google-scopes'].split(',') })
    const env = { PEOPLE, PROVIDERS: providers(), GOOGLE_ACCESS_TOKEN: token }
    const plan = await stage('plan', env)
    expect(plan.code).toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(JSON.parse(plan.outputs.planned)).toEqual({ google: 2 })
    const planned = (plan.report?.rows ?? []).filter((r) => r.provider === 'google').map((r) => `${r.person}:${r.outcome}`)
    expect(planned.sort()).toEqual(['alias7@example.com:planned', 'carol@example.com:no account', 'user3@example.com:planned'])

    const run = await stage('execute', {
      ...env,
      APPROVED_HASHES: plan.outputs.hashes,
      APPROVED_PLANNED: plan.outputs.planned,
      APPROVED_COMBINED_HASH: plan.outputs['combined-hash']
    })
    expect(run.code).toBe(0) // a person without an account there is 'no account', not a failure
    expect(emu.signedOutEmails()).toEqual(new Set(['user3@example.com', 'user7@example.com']))
    const done = (run.report?.rows ?? []).filter((r) => r.provider === 'google').map((r) => `${r.person}:${r.outcome}`)
    expect(done.sort()).toEqual(['alias7@example.com:terminated', 'carol@example.com:no account', 'user3@example.com:terminated'])
    for (const s of [plan, run]) expect(visibleLog(s.stdout)).not.toContain(token)
  })
})
