// Box planning at the least number of calls: the bundled action against the Box emulator, counting
// the calls it makes. Many user targets are resolved from the enterprise's user list (GET /users,
// 1,000 a page); a few are looked up one by one; whatever the list does not hold is still looked up.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BOX_DEVELOPER_TOKEN, BoxEmulator, makeUsers } from './emulators/box/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

type Result = { id: string; kind: string; label?: string; outcome: string; reason?: string; details?: Record<string, unknown> }

const work = mkdtempSync(join(tmpdir(), 'box-planning-'))
const emulators: BoxEmulator[] = []

async function enterprise(
  users: ReturnType<typeof makeUsers>,
  extra: { groups?: { id: string; name: string; members: string[] }[]; external?: boolean } = {}
): Promise<BoxEmulator> {
  const emu = new BoxEmulator({
    users: extra.external ? [...users, { id: '9000001', login: 'guest@partner.org', name: 'Guest Partner', status: 'active', external: true }] : users,
    groups: extra.groups
  })
  await emu.start()
  emulators.push(emu)
  return emu
}

function targetsFile(name: string, targets: string[]): string {
  const file = join(work, `${name}.txt`)
  writeFileSync(file, `${targets.join('\n')}\n`)
  return file
}

function inputs(emu: BoxEmulator, extra: Record<string, string>): Record<string, string> {
  return { provider: 'box', token: BOX_DEVELOPER_TOKEN, 'base-url': emu.baseUrl, 'rate-limit': '100000', concurrency: '16', 'if-unresolved': 'skip', ...extra }
}

const byId = (results: Result[], id: string): Result | undefined => results.find((x) => x.id === id)

const big = makeUsers(10_000)
let emu10k: BoxEmulator

beforeAll(async () => {
  emu10k = await enterprise(big)
})
afterAll(async () => {
  await Promise.all(emulators.map((e) => e.stop()))
})

describe('box planning at the least number of calls', () => {
  it('10,000 user ids in an enterprise of 10,000: planned in 10 list pages, the whole run in 210 calls', async () => {
    emu10k.reset()
    const ids = big.map((u) => u.id)
    const r = await runAction({ cwd: work, inputs: inputs(emu10k, { 'targets-file': targetsFile('ten-thousand', ids), 'max-targets': '10000' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('10000')
    const counts = emu10k.callCounts()
    // Plan: one offset page tells the size (total_count), nine more read the rest; no per-user lookup.
    expect(counts.get_users).toBe(10)
    expect(counts.get_users_id ?? 0).toBe(0)
    expect(counts.post_users_terminate_sessions).toBe(200) // 50 ids a call
    expect(emu10k.requests.length).toBe(210)
    expect(emu10k.requests.length).toBeLessThanOrEqual(220)
    const plan = emu10k.requests.filter((q) => q.method === 'GET')
    expect(plan.length).toBeLessThanOrEqual(15)
    expect(plan.map((q) => q.query.get('offset'))).toEqual(Array.from({ length: 10 }, (_, i) => String(i * 1000)))
    for (const q of plan) {
      expect(q.query.get('limit')).toBe('1000')
      expect(q.query.get('fields')).toBe('id,login,name,status')
      expect(q.query.has('usemarker')).toBe(false)
    }
    expect(new Set(emu10k.terminatedUserIds())).toEqual(new Set(ids))
    for (const q of emu10k.userTerminateRequests()) expect((q.json as { user_logins: string[] }).user_logins).toEqual([])
    expect(visibleLog(r.stdout)).toContain("from the enterprise's user list")
    // The plan still shows name, login and status for each target.
    expect(byId(r.report.results as Result[], big[6].id)).toMatchObject({ label: 'User 7', details: { login: 'user7@example.com', status: 'inactive' } })
  })

  it('a small run (fewer than 10 user targets) looks each one up: 5 lookups, no list page', async () => {
    emu10k.reset()
    const ids = [big[0].id, big[4321].id, big[9999].id, '1999999']
    const r = await runAction({ inputs: inputs(emu10k, { targets: [...ids, big[42].login].join('\n'), 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('4')
    expect(emu10k.userLookupRequests()).toHaveLength(4)
    // The login is found by a search on it (marker paging, 100 a page), not by reading the enterprise.
    const lists = emu10k.userListRequests()
    expect(lists).toHaveLength(1)
    expect(lists[0].query.get('filter_term')).toBe(big[42].login)
    expect(lists[0].query.get('usemarker')).toBe('true')
    expect(emu10k.requests).toHaveLength(5)
  })

  it('few targets spread over a big enterprise: one list page tells the size, the rest are looked up one by one', async () => {
    const huge = await enterprise(makeUsers(50_000))
    const inFirstPage = [0, 999].map((i) => `${1000001 + i}`)
    const further = [1000, 4999, 12_000, 20_000, 30_000, 39_999, 40_000, 45_000, 49_000, 49_999].map((i) => `${1000001 + i}`)
    const r = await runAction({ inputs: inputs(huge, { targets: [...inFirstPage, ...further].join('\n'), 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('12')
    // 50 pages of 1,000 (past offset 10,000: markers from the start) > 10 lookups left.
    expect(huge.userListRequests()).toHaveLength(1)
    expect(
      huge
        .userLookupRequests()
        .map((q) => q.path.split('/').pop())
        .sort()
    ).toEqual([...further].sort())
    expect(huge.requests).toHaveLength(11)
    expect(visibleLog(r.stdout)).toContain('cost fewer calls than 50 more pages')
  })

  it('past offset 10,000 the list is read with markers, and reading stops once every target is found', async () => {
    const e15k = await enterprise(makeUsers(15_000))
    // 2,000 targets, the last one at position 13,999: pages 1..14 of the marker scan.
    const ids = Array.from({ length: 2000 }, (_, i) => `${1000001 + i * 7}`)
    const r = await runAction({ cwd: work, inputs: inputs(e15k, { 'targets-file': targetsFile('fifteen', ids), 'max-targets': '2000', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('2000')
    const pages = e15k.userListRequests()
    expect(pages[0].query.get('offset')).toBe('0')
    const marker = pages.slice(1)
    expect(marker).toHaveLength(14)
    for (const [i, q] of marker.entries()) {
      expect(q.query.get('usemarker')).toBe('true')
      expect(q.query.has('offset')).toBe(false)
      expect(q.query.has('marker')).toBe(i > 0)
    }
    expect(e15k.userLookupRequests()).toHaveLength(0)
    expect(e15k.requests).toHaveLength(15)

    // Targets among the first 3,000 users of 10,000: offset pages 0, 1000, 2000, then stop.
    emu10k.reset()
    const early = Array.from({ length: 30 }, (_, i) => big[i * 100].id)
    const s = await runAction({ inputs: inputs(emu10k, { targets: early.join('\n'), 'max-targets': '30', 'dry-run': 'true' }) })
    expect(s.code).toBe(0)
    expect(emu10k.userListRequests().map((q) => q.query.get('offset'))).toEqual(['0', '1000', '2000'])
    expect(emu10k.requests).toHaveLength(3)
  })

  it('from the list: logins, duplicates, external users and unknown targets plan exactly as with lookups', async () => {
    const users = makeUsers(3000)
    const e3k = await enterprise(users, { external: true, groups: [{ id: '5550001', name: 'Sales', members: [users[0].id, users[1].id] }] })
    const ids = [0, 10, 1200, 1500, 2100, 2500, 2999].map((i) => users[i].id)
    const logins = [users[5].login.toUpperCase(), users[1800].login, users[10].login] // users[10] also given by id
    const targets = [...ids, ...logins, '9000001', 'guest@partner.org', '1999999', 'nobody@example.com', 'group:5550001']
    const r = await runAction({ inputs: inputs(e3k, { targets: targets.join('\n'), 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('11') // 7 ids + 2 new logins + the external user + the group
    const results = r.report.results as Result[]
    expect(byId(results, users[5].id)).toMatchObject({ label: 'User 6', details: { login: 'user6@example.com', status: 'active', given: 'USER6@EXAMPLE.COM' } })
    expect(byId(results, users[2100].id)).toMatchObject({ label: 'User 2101', details: { login: users[2100].login, status: 'active' } })
    expect(byId(results, users[2100].id)?.details).not.toHaveProperty('given')
    expect(byId(results, '9000001')).toMatchObject({ label: 'Guest Partner' })
    expect(byId(results, '1999999')?.reason).toContain('no Box user with this id (HTTP 404, code not_found')
    expect(byId(results, 'nobody@example.com')?.reason).toContain('no Box user with this login')
    expect(visibleLog(r.stdout)).toContain(`${users[10].login} is the same Box user as ${users[10].id}`)
    // 3 list pages (the whole enterprise), then one lookup for what the list cannot hold: the external
    // user by id and by login (externals are listed only on a whole-login search), and the unknowns.
    expect(
      e3k
        .userListRequests()
        .filter((q) => !q.query.has('filter_term'))
        .map((q) => q.query.get('offset'))
    ).toEqual(['0', '1000', '2000'])
    expect(
      e3k
        .userLookupRequests()
        .map((q) => q.path.split('/').pop())
        .sort()
    ).toEqual(['1999999', '9000001'])
    expect(
      e3k
        .userListRequests()
        .filter((q) => q.query.has('filter_term'))
        .map((q) => q.query.get('filter_term'))
        .sort()
    ).toEqual(['guest@partner.org', 'nobody@example.com'])
    expect(e3k.callCounts()).toMatchObject({ get_groups_id: 1, get_groups_id_memberships: 1 })
  })

  it('a user removed while the list is read shifts the offset pages: the target it pushed out is looked up, not lost', async () => {
    const users = makeUsers(3000)
    const e3k = await enterprise(users)
    const ids = [users[1000].id, ...Array.from({ length: 19 }, (_, i) => users[1001 + i * 100].id)]
    // Before the second page is answered, the enterprise loses its first user: users[1000] moves to
    // position 999, which page 1 already covered.
    e3k.onApiRequest = (_q, n) => {
      if (n === 2) e3k.removeUser(users[0].id)
    }
    const r = await runAction({ inputs: inputs(e3k, { targets: ids.join('\n'), 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('20')
    expect(e3k.userLookupRequests().map((q) => q.path.split('/').pop())).toEqual([users[1000].id])
    expect(byId(r.report.results as Result[], users[1000].id)).toMatchObject({ label: 'User 1001' })
  })
})
