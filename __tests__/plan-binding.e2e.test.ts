// The approval binding the reusable workflow relies on, end to end: the plan job's dry run yields
// plan-hash and planned-count; the execute job re-plans and refuses, before any mutating request,
// unless the fresh plan is exactly the approved one. Runs the bundled action like the runner does,
// against the IPRoyal emulator, and changes the emulator's sub-users between "jobs".
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from './emulators/iproyal/index.js'
import { runAction } from './helpers/run-action.js'

const emu = new IPRoyalEmulator({ subUsers: makeSubUsers(30) })
const original = new Map([...emu.subUsers].map(([k, v]) => [k, { ...v }]))
let baseUrl = ''

beforeAll(async () => {
  baseUrl = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => {
  // Every test starts from the same 30 sub-users with live sessions.
  emu.subUsers.clear()
  for (const [k, v] of original) emu.subUsers.set(k, { ...v })
  emu.server.reset()
  emu.resets.clear()
})

// search=user2 matches user2 and user20..user29: 11 sub-users.
const FILTER = 'search=user2'

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'iproyal', token: IPROYAL_TOKEN, 'base-url': baseUrl, 'rate-limit': '6000', filter: FILTER, 'max-targets': '50', ...extra }
}

/** The plan job: a dry run that sends nothing mutating and yields the values a reviewer approves. */
async function planJob(): Promise<{ hash: string; count: string; targets: string[] }> {
  const r = await runAction({ inputs: inputs({ 'dry-run': 'true' }) })
  expect(r.code).toBe(0)
  expect(emu.server.mutating()).toHaveLength(0)
  expect(r.outputs['plan-hash']).toMatch(/^[0-9a-f]{64}$/)
  return { hash: r.outputs['plan-hash'], count: r.outputs['planned-count'], targets: JSON.parse(r.outputs.targets) as string[] }
}

function addSubUser(username: string): string {
  const hash = `hx${username}`
  emu.subUsers.set(hash, { hash, username, traffic_available: 5, traffic_used: 1, sessions: 2 })
  return hash
}

function removeSubUser(username: string): string {
  const entry = [...emu.subUsers.values()].find((u) => u.username === username)
  if (!entry) throw new Error(`no sub-user ${username} on the emulator`)
  emu.subUsers.delete(entry.hash)
  return entry.hash
}

describe('expected-plan-hash binds an execution to the approved plan', () => {
  it('executes exactly the approved plan when nothing changed between the jobs', async () => {
    const plan = await planJob()
    expect(plan.count).toBe('11')
    emu.server.reset()

    const r = await runAction({ inputs: inputs({ 'expected-count': plan.count, 'expected-plan-hash': plan.hash }) })
    expect(r.code).toBe(0)
    expect(r.outputs['plan-hash']).toBe(plan.hash)
    expect(r.outputs['terminated-count']).toBe('11')
    const sent = emu.server.mutating().flatMap((d) => (d.json as { residential_user_hashes: string[] }).residential_user_hashes)
    expect(sent.sort()).toEqual([...plan.targets].sort())
    expect(plan.targets.every((h) => emu.subUsers.get(h)?.sessions === 0)).toBe(true)
    expect(r.report.status).toBe('completed')
    expect(r.report.planHash).toBe(plan.hash)
    expect(r.report.settings['expected-plan-hash']).toBe(plan.hash)
  })

  it('refuses when a matching sub-user was added after approval, and sends no mutating request', async () => {
    const plan = await planJob()
    const added = addSubUser('user2-contractor')
    emu.server.reset()

    const r = await runAction({ inputs: inputs({ 'expected-plan-hash': plan.hash }) })
    expect(r.code).not.toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(emu.server.requests.length).toBeGreaterThan(0) // it did re-plan (read-only)
    expect(r.stdout).toContain("Input 'expected-plan-hash'")
    expect(r.stdout).toContain(plan.hash)
    expect(r.stdout).toContain('Nothing was terminated')
    expect(r.outputs['plan-hash']).not.toBe(plan.hash)
    expect(JSON.parse(r.outputs.targets)).toContain(added)
    expect(r.outputs['terminated-count']).toBe('0')
    expect(r.report.status).toBe('refused')
    expect(r.report.error).toContain('expected-plan-hash')
    // The refused plan is in the report, every target of it not attempted.
    expect(r.report.results.every((x: { outcome: string }) => x.outcome === 'not-attempted')).toBe(true)
    expect(r.report.results.map((x: { id: string }) => x.id)).toContain(added)
    expect([...emu.subUsers.values()].every((u) => u.sessions > 0)).toBe(true)
  })

  it('refuses when a planned sub-user was removed after approval', async () => {
    const plan = await planJob()
    const removed = removeSubUser('user25')
    expect(plan.targets).toContain(removed)
    emu.server.reset()

    const r = await runAction({ inputs: inputs({ 'expected-plan-hash': plan.hash }) })
    expect(r.code).not.toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.stdout).toContain("Input 'expected-plan-hash'")
    expect(r.report.status).toBe('refused')
    expect(r.outputs['planned-count']).toBe('10')
  })

  it('catches a same-size swap that expected-count alone would let through', async () => {
    const plan = await planJob()
    removeSubUser('user21')
    addSubUser('user2-new-hire')
    emu.server.reset()

    const r = await runAction({ inputs: inputs({ 'expected-count': plan.count, 'expected-plan-hash': plan.hash }) })
    expect(r.outputs['planned-count']).toBe(plan.count) // the count guard holds...
    expect(r.code).not.toBe(0) // ...and the hash guard refuses
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.stdout).toContain("Input 'expected-plan-hash'")
    expect(r.stdout).not.toContain("Input 'expected-count'")
  })

  it('refuses on an expected-count mismatch before checking the hash, with no mutating request', async () => {
    const plan = await planJob()
    addSubUser('user2-temp')
    emu.server.reset()

    const r = await runAction({ inputs: inputs({ 'expected-count': plan.count, 'expected-plan-hash': plan.hash }) })
    expect(r.code).not.toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.stdout).toContain("Input 'expected-count': the plan holds 12 targets, expected-count is 11")
    expect(r.report.status).toBe('refused')
    expect(r.report.error).toContain('expected-count')
  })

  it('binds to how the targets were chosen: a plan approved for a filter does not authorize the same ids listed by hand', async () => {
    const plan = await planJob()
    emu.server.reset()
    const r = await runAction({
      inputs: inputs({ filter: '', targets: [...plan.targets].reverse().join('\n'), 'expected-count': plan.count, 'expected-plan-hash': plan.hash })
    })
    expect(r.code).not.toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.report.status).toBe('refused')
  })

  it('binds to the set of listed targets, not to their order', async () => {
    const listed = ['h000002use', 'h000020use', 'h000021use']
    const first = await runAction({ inputs: inputs({ filter: '', targets: listed.join('\n'), 'dry-run': 'true' }) })
    emu.server.reset()
    const r = await runAction({
      inputs: inputs({ filter: '', targets: [...listed].reverse().join(','), 'expected-count': '3', 'expected-plan-hash': first.outputs['plan-hash'] })
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('3')
  })

  it('rejects a malformed expected-plan-hash as bad input, before any request', async () => {
    const r = await runAction({ inputs: inputs({ 'expected-plan-hash': 'abc123' }) })
    expect(r.code).not.toBe(0)
    expect(emu.server.requests).toHaveLength(0)
    expect(r.stdout).toContain('expected-plan-hash')
    expect(r.stdout).toContain('64 hex characters')
  })
})
