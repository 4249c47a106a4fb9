// Google in the offboard-everywhere pipeline (dist/offboard/index.js, as .github/workflows/offboard.yml runs it):
// the keyless route, where the workflow's google-github-actions/auth step mints an access token for the admin
// named by `subject` and hands it over as GOOGLE_ACCESS_TOKEN; people by email; one approval; the execution
// bound to the approved plan.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GOOGLE_ADMIN, GoogleEmulator, SCOPES, makeUsers } from './emulators/google/index.js'
import { visibleLog } from './helpers/run-action.js'
import { runOffboard } from './helpers/run-offboard.js'

const emu = new GoogleEmulator({ users: makeUsers(10), quota: false })

beforeAll(async () => {
  await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

const stage = runOffboard

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
    const planned = (plan.report?.rows ?? [])
      .filter((r: { provider: string }) => r.provider === 'google')
      .map((r: { person?: string; outcome: string }) => `${r.person}:${r.outcome}`)
    expect(planned.sort()).toEqual(['alias7@example.com:planned', 'carol@example.com:no account', 'user3@example.com:planned'])

    const run = await stage('execute', {
      ...env,
      APPROVED_HASHES: plan.outputs.hashes,
      APPROVED_PLANNED: plan.outputs.planned,
      APPROVED_COMBINED_HASH: plan.outputs['combined-hash']
    })
    expect(run.code).toBe(0) // a person without an account there is 'no account', not a failure
    expect(emu.signedOutEmails()).toEqual(new Set(['user3@example.com', 'user7@example.com']))
    const done = (run.report?.rows ?? [])
      .filter((r: { provider: string }) => r.provider === 'google')
      .map((r: { person?: string; outcome: string }) => `${r.person}:${r.outcome}`)
    expect(done.sort()).toEqual(['alias7@example.com:terminated', 'carol@example.com:no account', 'user3@example.com:terminated'])
    for (const s of [plan, run]) expect(visibleLog(s.stdout)).not.toContain(token)
  })
})
