// The offboard-everywhere pipeline's steps (dist/offboard/index.js, as .github/workflows/offboard.yml runs
// them) against several providers' emulators at once: two people, one of whom has no account at one
// provider; one combined plan, summary and hash; execution bound to the approved plans; a provider whose
// plan changed is refused while the others run.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { BOX_DEVELOPER_TOKEN, BoxEmulator, makeUsers as makeBoxUsers } from './emulators/box/index.js'
import { DNL_ADMIN_TOKEN, DnlEmulator, makeUsers as makeDnlUsers } from './emulators/denovolab/index.js'
import { HW_AK, HW_SK, HW_STORE_ID, HuaweiCloudEmulator, makeUsers as makeHwUsers } from './emulators/huaweicloud/index.js'
import { runOffboard, approvedFrom } from './helpers/run-offboard.js'
import { visibleLog } from './helpers/run-action.js'

const box = new BoxEmulator({ users: makeBoxUsers(5) })
const HW_USERS = makeHwUsers(3, { prefix: 'off', sessionsFor: () => 2 })
const hw = new HuaweiCloudEmulator({ users: HW_USERS })
const dnl = new DnlEmulator({ users: makeDnlUsers(6) })

beforeAll(async () => {
  await Promise.all([box.start(), hw.start(), dnl.start()])
})
afterAll(async () => {
  await Promise.all([box.stop(), hw.stop(), dnl.stop()])
})
beforeEach(() => {
  box.reset()
  hw.reset()
  hw.setUsers(HW_USERS)
  dnl.resetState(makeDnlUsers(6))
})

const hwUser = (i: number): string => [...(hw.users?.keys() ?? [])][i]

/** alice is user1 at Box, has a Huawei account and DNL user 2; bob has no Box account and is DNL user 4. */
const people = (): string => ['person,huaweicloud,denovolab', `user1@example.com,${hwUser(0)},2`, 'bob@example.com,,4'].join('\n')

const providers = (): string =>
  [
    'box: { rate-limit: 60000 }',
    `huaweicloud: { region: ap-southeast-1, base-url: ${hw.origin}, auth-base-url: ${hw.origin}, identity-store-id: ${HW_STORE_ID}, access-key-id: ${HW_AK}, rate-limit: 60000 }`,
    `denovolab: { base-url: ${dnl.baseUrl}, rate-limit: 60000 }`,
    'iproyal: {}'
  ].join('\n')

// Box's base-url is per test run (the emulator's port): passed in the providers map.
const providersWithBox = (): string => providers().replace('box: { rate-limit: 60000 }', `box: { base-url: ${box.baseUrl}, rate-limit: 60000 }`)

const secrets = {
  OFFBOARD_SECRET_BOX_TOKEN: BOX_DEVELOPER_TOKEN,
  OFFBOARD_SECRET_HUAWEICLOUD_TOKEN: HW_SK,
  OFFBOARD_SECRET_DENOVOLAB_TOKEN: DNL_ADMIN_TOKEN
}

const stage = runOffboard

describe('offboard everywhere', () => {
  it('prepare validates the inputs before any request and says what the keyless Google step needs', async () => {
    const ok = await stage('prepare', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets })
    expect(ok.code).toBe(0)
    expect(ok.outputs['google-keyless']).toBe('false')
    for (const [over, input] of [
      [{ PEOPLE: '' }, 'people'],
      [{ PROVIDERS: 'dropbox: {}' }, 'providers'],
      [{ PROVIDERS: 'box: { token: abc }' }, 'providers'],
      [{ PROVIDERS: 'box: { regoin: x }' }, 'providers'],
      [{ PEOPLE: 'person,slackk\nalice@example.com,W1' }, 'people']
    ] as Array<[Record<string, string>, string]>) {
      const r = await stage('prepare', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets, ...over })
      expect(r.code).not.toBe(0)
      const errors = visibleLog(r.stdout)
        .split('\n')
        .filter((l: string) => l.startsWith('::error::'))
      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain(`Input '${input}'`)
    }
    expect(box.requests).toHaveLength(0)
  })

  it('plans every provider at once: one person × provider table, per-provider hashes, one combined hash; nothing changed', async () => {
    const plan = await stage('plan', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets })
    expect(plan.code).toBe(0)
    expect(box.terminateRequests()).toHaveLength(0)
    expect(hw.requests.filter((q) => q.method === 'POST')).toHaveLength(0)
    expect(dnl.deleted).toEqual([])
    const hashes = JSON.parse(plan.outputs.hashes)
    expect(Object.keys(hashes).sort()).toEqual(['box', 'denovolab', 'huaweicloud'])
    expect(JSON.parse(plan.outputs.planned)).toEqual({ box: 1, huaweicloud: 1, denovolab: 2 })
    expect(plan.outputs['combined-hash']).toMatch(/^[0-9a-f]{64}$/)
    // iproyal has no secret: left out with a notice, not a failure.
    expect(plan.stdout).toMatch(/::notice::IPRoyal is left out: no secret iproyal-token was passed/)
    // The table: bob has no Box account; both are planned at DNL.
    const bobRow = plan.summary.split('\n').find((l) => l.startsWith('| bob@example.com'))
    expect(bobRow).toContain('no account')
    expect(bobRow).toContain('planned')
    expect(plan.summary).toContain(plan.outputs['combined-hash'])
    for (const h of Object.values(hashes)) expect(plan.summary).toContain(h as string)
    const rows = plan.report.rows as Array<{ person?: string; provider: string; outcome: string }>
    expect(
      rows
        .filter((r) => r.person === 'bob@example.com')
        .map((r) => `${r.provider}:${r.outcome}`)
        .sort()
    ).toEqual(['box:no account', 'denovolab:planned'])
    // Each provider's log is one group; the secrets never show.
    expect(plan.stdout).toContain('::group::box (exit code 0)')
    for (const s of Object.values(secrets)) expect(visibleLog(plan.stdout)).not.toContain(s)
  })

  it('executes each provider bound to its approved plan, in parallel, with one combined outcome table and report', async () => {
    const plan = await stage('plan', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets })
    const run = await stage('execute', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets, ...approvedFrom(plan) })
    expect(run.code).toBe(0)
    expect(box.terminatedUserIds()).toEqual(['1000001'])
    expect(dnl.deleted.sort()).toEqual([2, 4])
    expect(hw.requests.filter((q) => q.method === 'POST')).toHaveLength(1)
    expect(run.summary).toContain('(matches)')
    const rows = run.report.rows as Array<{ person?: string; provider: string; outcome: string }>
    expect(
      rows
        .filter((r) => r.person === 'user1@example.com')
        .map((r) => `${r.provider}:${r.outcome}`)
        .sort()
    ).toEqual(['box:accepted', 'denovolab:terminated', 'huaweicloud:terminated'])
    expect(run.report).toMatchObject({ stage: 'execute', actor: 'octo-admin', runUrl: 'https://github.com/acme/it-automation/actions/runs/77' })
  })

  it('refuses a provider whose plan changed since the approval; the others run; the job fails naming it', async () => {
    const plan = await stage('plan', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets })
    // A new session appears for alice at Huawei after the approval: that plan is no longer the one approved.
    const alice = hw.users?.get(hwUser(0))
    alice?.sessions.push({ ...(alice.sessions[0] as any), session_id: 'new-session-after-approval' })
    const run = await stage('execute', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets, ...approvedFrom(plan) })
    expect(run.code).not.toBe(0)
    expect(hw.requests.filter((q) => q.method === 'POST')).toHaveLength(0)
    expect(box.terminatedUserIds()).toEqual(['1000001'])
    expect(dnl.deleted.sort()).toEqual([2, 4])
    expect(JSON.parse(run.outputs['refused-providers'])).toEqual(['huaweicloud'])
    expect(visibleLog(run.stdout)).toMatch(/::error::Huawei Cloud IAM Identity Center \(refused: its plan changed since the approval\) did not complete/)
  })

  it('refuses everything when the approved outputs do not add up (missing or altered hashes)', async () => {
    const plan = await stage('plan', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets })
    const altered = { ...JSON.parse(plan.outputs.hashes), box: 'f'.repeat(64) }
    for (const env of [
      { ...approvedFrom(plan), APPROVED_HASHES: JSON.stringify(altered) },
      { ...approvedFrom(plan), APPROVED_COMBINED_HASH: '' }
    ]) {
      const run = await stage('execute', { PEOPLE: people(), PROVIDERS: providersWithBox(), ...secrets, ...env })
      expect(run.code).not.toBe(0)
    }
    expect(box.terminateRequests()).toHaveLength(0)
    expect(dnl.deleted).toEqual([])
  })
})
