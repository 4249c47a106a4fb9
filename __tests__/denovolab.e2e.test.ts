// The bundled action run as the Actions runner runs it, against the DeNovoLab DNL emulator.
// This provider deletes accounts: every test checks what was sent, not only what was reported.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { DNL_ADMIN_TOKEN, DNL_PASSWORD, DNL_USERNAME, DnlEmulator, makeUsers } from './emulators/denovolab/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

type User = ReturnType<typeof makeUsers>[number]
type Req = { method: string; path: string; query: URLSearchParams; headers: Record<string, unknown>; at: number; status?: number }

const emu = new DnlEmulator()
let baseUrl = ''

beforeAll(async () => {
  baseUrl = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.resetState(makeUsers(40)))

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'denovolab', token: DNL_ADMIN_TOKEN, 'base-url': baseUrl, 'rate-limit': '6000', ...extra }
}

const requests = (): Req[] => emu.requests as unknown as Req[]
const deletes = (): Req[] => requests().filter((r) => r.method === 'DELETE')
const ids = (pred: (u: User) => boolean): string[] => [...(emu.users.values() as Iterable<User>)].filter(pred).map((u) => String(u.user_id))
const agentsActive = (u: User): boolean => u.user_type === 'agent' && u.active
const result = (r: { report: { results: { id: string }[] } }, id: string): Record<string, unknown> =>
  r.report.results.find((x) => x.id === id) as unknown as Record<string, unknown>

describe('denovolab end to end', () => {
  it('dry run lists exactly the matching users and deletes nothing', async () => {
    const expected = ids(agentsActive)
    expect(expected).toEqual(['5', '11', '17', '23', '29', '35'])
    const r = await runAction({ inputs: inputs({ filter: 'user_type=agent\nactive=true', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(JSON.parse(r.outputs.targets)).toEqual(expected)
    expect(r.outputs['planned-count']).toBe('6')
    expect(r.outputs['skipped-count']).toBe('0')
    expect(r.report.results.every((x: { outcome: string; reason: string }) => x.outcome === 'planned' && x.reason === 'dry run: would delete')).toBe(true)
    expect(r.outputs['terminated-count']).toBe('0')
    expect(r.report.destructive).toBe(true)
    expect(r.summary).toContain('[!CAUTION]')
    expect(r.summary).toContain('delete user accounts')
    expect(r.summary).toContain('what a real run would delete')
    // id, name, email, role, last login are shown for every match
    const row = result(r, '11')
    expect(row).toMatchObject({ label: 'user11', outcome: 'planned', reason: 'dry run: would delete' })
    expect(row.details).toMatchObject({ email: 'user11@example.com', role: 'Agent', user_type: 'agent', last_login: '2025-03-11T08:30:00Z', active: true })
    expect(r.summary).toContain('user11@example.com')
    for (const q of requests()) {
      expect(q.headers['x-auth-token']).toBe(DNL_ADMIN_TOKEN)
      expect(q.path).toBe('/v1/user/list')
      expect(q.query.get('user_type')).toBe('agent')
      expect(q.query.get('active')).toBe('true')
      expect(q.query.get('page')).toBe('0')
    }
  })

  it('real run deletes exactly the snapshot, even when the list changes before the first delete', async () => {
    const snapshot = ids(agentsActive)
    emu.beforeFirstDelete = () => {
      // A new user that matches the filter appears; a planned one is deleted by someone else.
      emu.users.set(1001, { ...makeUsers(1, { from: 1001 })[0], user_type: 'agent', active: true })
      emu.users.delete(11)
    }
    const r = await runAction({ inputs: inputs({ filter: 'user_type=agent\nactive=true' }) })
    expect(r.code).toBe(0)
    expect(emu.bulkDeletes).toBe(0)
    expect(emu.users.has(1001)).toBe(true)
    expect([...emu.deleted].sort((a, b) => a - b)).toEqual([5, 17, 23, 29, 35])
    // Every DELETE names one planned id and carries no filter.
    expect(
      deletes()
        .map((d) => d.path)
        .sort()
    ).toEqual(snapshot.map((id) => `/v1/user/${id}`).sort())
    for (const d of deletes()) {
      expect([...d.query.keys()]).toEqual([])
      expect(d.headers['x-auth-token']).toBe(DNL_ADMIN_TOKEN)
    }
    expect(r.outputs['terminated-count']).toBe('5')
    expect(r.outputs['skipped-count']).toBe('1')
    expect(r.outputs['failed-count']).toBe('0')
    expect(result(r, '11')).toMatchObject({ outcome: 'skipped' })
    expect(String(result(r, '11').reason)).toContain('already deleted')
    expect(result(r, '5')).toMatchObject({ outcome: 'terminated', reason: 'account deleted' })
    expect(r.report.results.map((x: { id: string }) => x.id)).not.toContain('1001')
    expect(visibleLog(r.stdout)).toMatch(/delete: 6 targets in 6 batches/)
  })

  it('plan, approve, delete: the approved plan-hash binds the run, and a changed list is refused', async () => {
    const plan = await runAction({ inputs: inputs({ filter: 'user_type=agent\nactive=true', 'dry-run': 'true' }) })
    expect(plan.code).toBe(0)
    const hash = plan.outputs['plan-hash']
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    // Someone adds a matching user between approval and execution: nothing may be deleted.
    emu.users.set(2002, { ...makeUsers(1, { from: 2002 })[0], user_type: 'agent', active: true })
    const refused = await runAction({ inputs: inputs({ filter: 'user_type=agent\nactive=true', 'expected-count': '6', 'expected-plan-hash': hash }) })
    expect(refused.code).not.toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(refused.stdout).toContain("Input 'expected-count'")
    emu.users.delete(2002)
    const ok = await runAction({ inputs: inputs({ filter: 'user_type=agent\nactive=true', 'expected-count': '6', 'expected-plan-hash': hash }) })
    expect(ok.code).toBe(0)
    expect(ok.outputs['terminated-count']).toBe('6')
    expect(ok.outputs['plan-hash']).toBe(hash)
  })

  it('collects every page before the first delete', async () => {
    emu.resetState(makeUsers(230))
    const r = await runAction({ inputs: inputs({ filter: 'create_time_gt=2023-12-31', 'max-targets': '300', concurrency: '4' }) })
    expect(r.code).toBe(0)
    const lists = requests().filter((q) => q.method === 'GET')
    expect(lists.map((q) => q.query.get('page'))).toEqual(['0', '1', '2'])
    expect(lists.every((q) => q.query.get('per_page') === '100')).toBe(true)
    const firstDelete = Math.min(...deletes().map((d) => d.at))
    expect(Math.max(...lists.map((q) => q.at))).toBeLessThanOrEqual(firstDelete)
    expect(r.outputs['terminated-count']).toBe('230')
    expect(emu.users.size).toBe(0)
    expect(deletes()).toHaveLength(230)
  })

  it('refuses a plan above max-targets (default 25) before any delete', async () => {
    const r = await runAction({ inputs: inputs({ filter: 'create_time_gt=2023-12-31' }) })
    expect(r.code).not.toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.stdout).toContain("Input 'max-targets'")
    expect(r.report.status).toBe('refused')
    expect(emu.users.size).toBe(40)
  })

  it('parses all 13 filter keys and sends them normalised', async () => {
    const filter = {
      active: 'TRUE',
      create_time_gt: '2024-01-01',
      create_time_lt: '2024-02-01T00:00:00Z',
      email: 'user5@example.com',
      is_online: 'false',
      last_login_time_gt: '1735689600',
      last_login_time_lt: '2025-12-31 23:59:59',
      login_ip: '10.0.0.5',
      name: 'user5',
      role_id: '1',
      user_id: '5',
      user_id_in: '3, 5,7',
      user_type: 'agent'
    }
    const r = await runAction({ inputs: inputs({ filter: JSON.stringify(filter), 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.outputs.targets)).toEqual(['5'])
    const q = requests()[0].query
    expect(q.get('active')).toBe('true')
    expect(q.get('user_id_in')).toBe('3,5,7')
    expect(q.get('last_login_time_lt')).toBe('2025-12-31 23:59:59')
    for (const key of Object.keys(filter)) expect(q.has(key)).toBe(true)
  })

  it('rejects a malformed value of every filter key with no request sent', async () => {
    const bad: [string, string][] = [
      ['active', 'yes'],
      ['create_time_gt', '2024-02-30'],
      ['create_time_lt', 'last week'],
      ['email', '@example.com'],
      ['is_online', '1'],
      ['last_login_time_gt', '2025-13-01'],
      ['last_login_time_lt', '12:00'],
      ['login_ip', '10.0.0.300'],
      ['name', '%'],
      ['role_id', 'admin'],
      ['user_id', '-4'],
      ['user_id_in', '1,,2'],
      ['user_type', 'root']
    ]
    const runs: { key: string; code: number | null; stdout: string; summaryHasKey: boolean }[] = []
    for (let i = 0; i < bad.length; i += 4) {
      const group = bad.slice(i, i + 4)
      const done = await Promise.all(
        group.map(async ([key, value]) => {
          const r = await runAction({ inputs: inputs({ filter: `${key}=${value}` }) })
          return { key, code: r.code, stdout: r.stdout, summaryHasKey: r.stdout.includes(`${key}=`) }
        })
      )
      runs.push(...done)
    }
    for (const r of runs) {
      expect({ key: r.key, code: r.code }).not.toEqual({ key: r.key, code: 0 })
      expect(r.stdout).toContain("Input 'filter'")
      expect(r.summaryHasKey).toBe(true)
    }
    expect(requests()).toHaveLength(0)
  })

  it('refuses an empty filter, an unknown key, a reversed time range and filter with targets, sending nothing', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ filter: '{}' }, "Input 'filter': is empty"],
      [{ filter: '# no keys\n' }, "Input 'filter': is empty"],
      [{ filter: 'role=1' }, 'unknown key "role"'],
      [{ filter: 'create_time_gt=2025-01-02\ncreate_time_lt=2025-01-01' }, 'is not before'],
      [{ filter: 'user_type=agent', targets: '5' }, 'filter'],
      [{}, "Input 'targets'"]
    ]
    const runs = await Promise.all(cases.map(([extra]) => runAction({ inputs: inputs(extra) })))
    runs.forEach((r, i) => {
      expect(r.code).not.toBe(0)
      expect(r.stdout).toContain(cases[i][1])
    })
    expect(requests()).toHaveLength(0)
    expect(emu.users.size).toBe(40)
  })

  it('requires base-url and refuses malformed target ids with no request', async () => {
    const [noBase, badTarget] = await Promise.all([
      runAction({ inputs: { provider: 'denovolab', token: DNL_ADMIN_TOKEN, targets: '5' } }),
      runAction({ inputs: inputs({ targets: '5\nabc' }) })
    ])
    expect(noBase.code).not.toBe(0)
    expect(noBase.stdout).toContain("Input 'base-url'")
    expect(badTarget.code).not.toBe(0)
    expect(badTarget.stdout).toContain('"abc" is not a DNL user id')
    expect(requests()).toHaveLength(0)
  })

  it('deletes listed user ids, skipping ids that do not exist', async () => {
    const r = await runAction({ inputs: inputs({ targets: '5, 11, 9999', 'if-unresolved': 'skip' }) })
    expect(r.code).toBe(0)
    expect(
      requests()
        .filter((q) => q.method === 'GET')
        .map((q) => q.path)
        .sort()
    ).toEqual(['/v1/user/11', '/v1/user/5', '/v1/user/9999'])
    expect(
      deletes()
        .map((d) => d.path)
        .sort()
    ).toEqual(['/v1/user/11', '/v1/user/5'])
    expect(r.outputs['terminated-count']).toBe('2')
    expect(result(r, '9999')).toMatchObject({ outcome: 'skipped' })
    expect(String(result(r, '9999').reason)).toContain('no such user')
    expect(result(r, '5')).toMatchObject({ label: 'user5', outcome: 'terminated' })
  })

  it('a wrong token stops the run at planning with the 401 code 120 body, nothing deleted', async () => {
    const r = await runAction({ inputs: inputs({ token: 'not-the-admin-token-77', filter: 'user_type=agent' }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('HTTP 401, code 120')
    expect(r.report.error).toContain('incorrect_token_provided')
    expect(requests()).toHaveLength(1)
    for (const t of [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report)]) expect(t).not.toContain('not-the-admin-token-77')
  })

  it('a 401 mid-run stops before more requests: the one refused fails, the rest are not attempted', async () => {
    emu.revokeAfterDeletes = 2
    const r = await runAction({ inputs: inputs({ filter: 'user_type=agent\nactive=true', concurrency: '1' }) })
    expect(r.code).not.toBe(0)
    expect(deletes()).toHaveLength(3)
    expect(r.outputs['terminated-count']).toBe('2')
    expect(r.outputs['failed-count']).toBe('1')
    expect(r.outputs['not-attempted-count']).toBe('3')
    const failed = r.report.results.filter((x: { outcome: string }) => x.outcome === 'failed')
    expect(failed[0]).toMatchObject({ status: 401, code: '120' })
    const rest = r.report.results.filter((x: { outcome: string }) => x.outcome === 'not-attempted')
    expect(rest.every((x: { reason: string }) => x.reason.startsWith('not attempted'))).toBe(true)
    expect(visibleLog(r.stdout)).toMatch(/::error::DeNovoLab DNL rejected the credentials/)
  })

  it('reports 404 per target and retries a lost delete answer without double counting', async () => {
    emu.server.queueFaults([{ kind: 'status', status: 503 }, { kind: 'truncated' }], (q) => q.method === 'DELETE')
    const r = await runAction({ inputs: inputs({ filter: 'user_id_in=5,11,17', concurrency: '1' }) })
    expect(r.code).toBe(0)
    expect(emu.users.has(5) || emu.users.has(11) || emu.users.has(17)).toBe(false)
    const outcomes = r.report.results.map((x: { outcome: string }) => x.outcome).sort()
    // The truncated answer's delete happened; its retry finds 404 and says so.
    expect(outcomes).toEqual(['skipped', 'terminated', 'terminated'])
    const skipped = r.report.results.find((x: { outcome: string }) => x.outcome === 'skipped')
    expect(skipped.reason).toContain('an earlier attempt of this run may have deleted it')
  })

  it('mints a token from portal credentials and never shows the password or the token', async () => {
    const r = await runAction({ inputs: inputs({ token: DNL_PASSWORD, username: DNL_USERNAME, filter: 'user_type=admin\nactive=false', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    const auth = requests()[0]
    expect(auth.path).toBe('/v1/auth')
    expect(auth.query.get('email_or_name')).toBe(DNL_USERNAME)
    expect(auth.query.get('password')).toBe(DNL_PASSWORD)
    expect(auth.query.get('expire_after_minutes')).toBe('60')
    const minted = emu.minted[0].token
    expect(
      requests()
        .slice(1)
        .every((q) => q.headers['x-auth-token'] === minted)
    ).toBe(true)
    expect(r.stdout).toContain(`::add-mask::${minted}`)
    const encoded = new URLSearchParams({ p: DNL_PASSWORD }).toString().slice(2)
    for (const t of [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report), JSON.stringify(r.outputs)]) {
      expect(t).not.toContain(minted)
      expect(t).not.toContain(DNL_PASSWORD)
      expect(t).not.toContain(encoded)
    }
    expect(JSON.parse(r.outputs.targets)).toEqual(ids((u) => u.user_type === 'admin' && !u.active))

    const wrong = await runAction({ inputs: inputs({ token: 'wrong password 123', username: DNL_USERNAME, filter: 'user_type=admin' }) })
    expect(wrong.code).not.toBe(0)
    expect(wrong.report.error).toContain('HTTP 401')
    for (const t of [visibleLog(wrong.stdout), wrong.summary, JSON.stringify(wrong.report)]) {
      expect(t).not.toContain('wrong password 123')
      expect(t).not.toContain('wrong+password+123')
    }
  })

  it('refuses the plan when the server ignores a filter and returns users that do not match', async () => {
    emu.ignoredFilters.add('active')
    const r = await runAction({ inputs: inputs({ filter: 'user_type=client\nactive=false' }) })
    expect(r.code).not.toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('does not match active=false')
  })

  it('falls back to GET /user when the installation has no /user/list route', async () => {
    emu.listPaths = ['/user']
    const r = await runAction({ inputs: inputs({ filter: 'user_type=agent\nactive=true', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(requests().map((q) => `${q.status} ${q.path}`)).toEqual(['404 /v1/user/list', '200 /v1/user'])
    expect(JSON.parse(r.outputs.targets)).toEqual(ids(agentsActive))
  })
})

describe('denovolab emulator', () => {
  it('implements the documented bulk delete: every match goes, and with no filter every user', async () => {
    const headers = { 'X-Auth-Token': DNL_ADMIN_TOKEN }
    let res = await fetch(`${baseUrl}/user?user_type=agent`, { method: 'DELETE', headers })
    expect(res.status).toBe(200)
    expect([...emu.users.values()].some((u) => (u as User).user_type === 'agent')).toBe(false)
    expect(emu.users.size).toBe(27)
    res = await fetch(`${baseUrl}/user`, { method: 'DELETE', headers })
    expect(res.status).toBe(200)
    expect(emu.users.size).toBe(0)
    res = await fetch(`${baseUrl}/user/5`, { method: 'DELETE', headers })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error_type: 'Object not found error', success: false })
    res = await fetch(`${baseUrl}/user/list`)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 110, reason: 'auth_token_not_provided' } })
  })
})
