// The bundled action (dist/index.js) run as the Actions runner runs it, against the Huawei Cloud
// IAM Identity Center emulator, which checks every request's AK/SK signature itself.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { HW_AK, HW_SECURITY_TOKEN, HW_SK, HW_STORE_ID, HW_TEMP_AK, HW_TEMP_SK, HuaweiCloudEmulator, makeUsers } from './emulators/huaweicloud/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'
import { signRequest } from '../src/providers/huaweicloud/signer.js'

// user1..user8 have i % 4 sessions: user4 and user8 have none; user3 and user7 have three.
const USERS = makeUsers(8, { sessionsFor: (i) => i % 4 })
const emu = new HuaweiCloudEmulator({ users: USERS })
let origin = ''

beforeAll(async () => {
  origin = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => {
  emu.reset()
  emu.setUsers(USERS)
})

const user = (n: number) => USERS[n - 1]
const ids = (...ns: number[]): string[] => ns.map((n) => user(n).user_id)

function inputs(extra: Record<string, string>): Record<string, string> {
  return {
    provider: 'huaweicloud',
    region: 'ap-southeast-1',
    'base-url': origin,
    'auth-base-url': origin,
    'identity-store-id': HW_STORE_ID,
    'access-key-id': HW_AK,
    token: HW_SK,
    'rate-limit': '6000',
    ...extra
  }
}

type Result = {
  id: string
  outcome: string
  reason?: string
  status?: number
  code?: string
  message?: string
  requestId?: string
  details?: Record<string, unknown>
}
const resultOf = (report: { results: Result[] }, id: string): Result | undefined => report.results.find((r) => r.id === id)
const posts = () => emu.requests.filter((r) => r.method === 'POST')

describe('huaweicloud end to end', () => {
  it('dry run lists every session of the planned users and deletes nothing', async () => {
    const r = await runAction({ inputs: inputs({ targets: ids(1, 3, 4).join('\n'), 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(posts()).toHaveLength(0)
    expect(emu.authFailures).toEqual([])
    expect(r.outputs['planned-count']).toBe('2')
    expect(r.outputs['skipped-count']).toBe('1')
    expect(JSON.parse(r.outputs.targets)).toEqual(ids(1, 3))
    expect(resultOf(r.report, user(4).user_id)?.reason).toBe('no active sessions')
    expect(resultOf(r.report, user(3).user_id)?.details).toMatchObject({ sessions: 3 })
    const log = visibleLog(r.stdout)
    for (const s of [...user(1).sessions, ...user(3).sessions]) {
      expect(log).toContain(`session ${s.session_id} ip=${s.ip_address}`)
    }
    expect(log).toMatch(/valid_until=\d{4}-\d{2}-\d{2}T/)
    // Nothing changed at the provider.
    expect(emu.sessionIds(user(3).user_id)).toHaveLength(3)
    // Every request was signed, GETs only.
    for (const q of emu.requests) {
      expect(q.method).toBe('GET')
      expect(q.headers.authorization).toMatch(/^SDK-HMAC-SHA256 Access=HPUAQ7ZKXW3N5T8R2M4B, SignedHeaders=accept;host;x-sdk-date, Signature=[0-9a-f]{64}$/)
    }
  })

  it('real run deletes exactly the planned sessions, chunked per user, and leaves the rest alone', async () => {
    const r = await runAction({ inputs: inputs({ targets: ids(2, 3, 4, 7).join(','), 'batch-size': '2' }) })
    expect(r.code).toBe(0)
    expect(emu.authFailures).toEqual([])
    // user2 has 2 sessions (1 call), user3 and user7 have 3 (2 calls each); user4 has none.
    expect(emu.deleteCalls.map((c) => c.sessionIds.length).sort()).toEqual([1, 1, 2, 2, 2])
    for (const n of [2, 3, 7]) {
      const sent = emu.deleteCalls.filter((c) => c.userId === user(n).user_id).flatMap((c) => c.sessionIds)
      expect(sent.sort()).toEqual(
        user(n)
          .sessions.map((s) => s.session_id)
          .sort()
      )
      expect(emu.sessionIds(user(n).user_id)).toEqual([])
    }
    for (const n of [1, 5, 6]) expect(emu.sessionIds(user(n).user_id)).toHaveLength(n % 4)
    for (const p of posts()) {
      expect(p.path).toMatch(new RegExp(`^/v1/identity-stores/${HW_STORE_ID}/users/[0-9a-f-]{36}/sessions/batch-delete$`))
      expect(p.headers['content-type']).toBe('application/json')
      expect(Object.keys(p.json as object)).toEqual(['session_ids'])
      expect(p.headers.authorization).toMatch(/SignedHeaders=accept;content-type;host;x-sdk-date,/)
    }
    expect(r.outputs['terminated-count']).toBe('3')
    expect(r.outputs['skipped-count']).toBe('1')
    expect(r.outputs['failed-count']).toBe('0')
    expect(resultOf(r.report, user(3).user_id)).toMatchObject({ outcome: 'terminated', reason: '3 sessions deleted' })
    expect(resultOf(r.report, user(3).user_id)?.requestId).toMatch(/^[0-9a-f]{32}$/)
    expect(JSON.parse(r.outputs.targets)).toEqual(ids(2, 3, 7))
  })

  it('a filter narrows the sessions: only matching ones are planned and deleted', async () => {
    const u3 = user(3)
    const ip = u3.sessions[1].ip_address
    const r = await runAction({ inputs: inputs({ targets: ids(3, 7).join('\n'), filter: `ip_address=${ip}` }) })
    expect(r.code).toBe(0)
    expect(emu.deleteCalls).toEqual([{ userId: u3.user_id, sessionIds: [u3.sessions[1].session_id] }])
    expect(emu.sessionIds(u3.user_id)).toEqual([u3.sessions[0].session_id, u3.sessions[2].session_id])
    expect(emu.sessionIds(user(7).user_id)).toHaveLength(3)
    expect(resultOf(r.report, user(7).user_id)?.reason).toContain('no active sessions match the filter')
    expect(r.outputs['terminated-count']).toBe('1')

    emu.setUsers(USERS)
    emu.deleteCalls = []
    const ua = await runAction({ inputs: inputs({ targets: ids(3).join('\n'), filter: 'user_agent=hcloud-cli' }) })
    expect(ua.code).toBe(0)
    expect(emu.deleteCalls).toEqual([{ userId: u3.user_id, sessionIds: [u3.sessions[2].session_id] }])
  })

  it('resolves user names through the paged user list, exact names only, and skips unknown names', async () => {
    const twin = { ...makeUsers(1, { prefix: 'USER', seed: 99, sessionsFor: () => 1 })[0], user_name: 'USER5' }
    emu.setUsers([...USERS, twin])
    emu.maxPageSize = 1 // "user5" and "USER5" come back on two pages
    const r = await runAction({ inputs: inputs({ 'target-type': 'user-name', targets: 'user5\nuser6\nnobody', 'if-unresolved': 'skip' }) })
    expect(r.code).toBe(0)
    const lists = emu.requests.filter((q) => q.path.endsWith('/users'))
    expect(lists.some((q) => q.query.get('marker') !== null)).toBe(true)
    expect(lists.every((q) => q.query.get('user_name') !== null)).toBe(true)
    expect(r.outputs['terminated-count']).toBe('2')
    expect(JSON.parse(r.outputs.targets)).toEqual(ids(5, 6))
    expect(emu.sessionIds(twin.user_id)).toHaveLength(1)
    expect(resultOf(r.report, 'nobody')).toMatchObject({ outcome: 'skipped' })
    expect(resultOf(r.report, 'nobody')?.reason).toContain('no user named "nobody"')
  })

  it('finds the identity store from GET /v1/instances when identity-store-id is empty', async () => {
    const r = await runAction({ inputs: inputs({ 'identity-store-id': '', targets: ids(1).join('\n') }) })
    expect(r.code).toBe(0)
    expect(emu.requests[0].path).toBe('/v1/instances')
    expect(visibleLog(r.stdout)).toContain(`identity store ${HW_STORE_ID} (from GET /v1/instances)`)
    expect(r.outputs['terminated-count']).toBe('1')
  })

  it('signs with temporary credentials: X-Security-Token sent, signed and never shown', async () => {
    const r = await runAction({
      inputs: inputs({ 'access-key-id': HW_TEMP_AK, token: HW_TEMP_SK, 'security-token': HW_SECURITY_TOKEN, targets: ids(1, 2).join('\n') })
    })
    expect(r.code).toBe(0)
    expect(emu.authFailures).toEqual([])
    expect(r.outputs['terminated-count']).toBe('2')
    for (const q of emu.requests) {
      expect(q.headers['x-security-token']).toBe(HW_SECURITY_TOKEN)
      expect(q.headers.authorization).toContain('x-security-token')
    }
    for (const text of [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report), JSON.stringify(r.outputs)]) {
      expect(text).not.toContain(HW_SECURITY_TOKEN)
      expect(text).not.toContain(HW_TEMP_SK)
    }
    // Without the token the same keys are refused, and the run stops.
    emu.reset()
    const bad = await runAction({ inputs: inputs({ 'access-key-id': HW_TEMP_AK, token: HW_TEMP_SK, targets: ids(1).join('\n') }) })
    expect(bad.code).not.toBe(0)
    expect(bad.report.error).toContain('APIGW.0301')
    expect(emu.authFailures[0].reason).toBe('security token')
  })

  it('retries gateway throttling (APIGW.0308 and APIG.0308) and 409 IIC.1006 with backoff', async () => {
    emu.server.queueFaults(
      [
        { kind: 'throttle' },
        { kind: 'status', status: 409 },
        {
          kind: 'custom',
          respond: () => ({
            status: 429,
            body: { error_code: 'APIG.0308', error_msg: 'The throttling threshold has been reached: policy ip over ratelimit', request_id: 'r1' }
          })
        },
        { kind: 'status', status: 409 }
      ],
      (q) => q.method === 'POST'
    )
    const r = await runAction({ inputs: inputs({ targets: ids(1, 2, 3).join(','), concurrency: '1' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('3')
    expect(r.report.http.retries).toBeGreaterThanOrEqual(4)
    expect(r.report.http.throttled).toBeGreaterThanOrEqual(2)
    for (const n of [1, 2, 3]) expect(emu.sessionIds(user(n).user_id)).toEqual([])
    // The 409s and 429s really reached the client and each retry was signed afresh.
    expect(emu.requests.filter((q) => q.status === 409)).toHaveLength(2)
    expect(emu.requests.filter((q) => q.status === 429)).toHaveLength(2)
    expect(emu.authFailures).toEqual([])
  })

  it('reports 403 IIC.1000 with the permission the caller lacks', async () => {
    emu.denied.add('batchDeleteSession')
    const r = await runAction({ inputs: inputs({ targets: ids(1, 2).join(',') }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('2')
    const res = resultOf(r.report, user(1).user_id)
    expect(res).toMatchObject({ outcome: 'failed', status: 403, code: 'IIC.1000' })
    expect(res?.message).toContain('IdentityCenter:user:batchDeleteSession')
    expect(res?.requestId).toMatch(/^[0-9a-f]{32}$/)
    expect(emu.sessionIds(user(1).user_id)).toHaveLength(1)

    emu.reset()
    emu.denied.add('listSessions')
    const plan = await runAction({ inputs: inputs({ targets: ids(1).join(',') }) })
    expect(plan.code).not.toBe(0)
    expect(plan.report.status).toBe('plan-failed')
    expect(plan.report.error).toContain('IdentityCenter:user:listSessions')
    expect(posts()).toHaveLength(0)
  })

  it('skips a user id the store does not know and fails a user the API rejects, terminating the rest', async () => {
    const unknown = '0a0a0a0a-1111-2222-3333-444455556666'
    emu.server.queueFaults([{ kind: 'status', status: 400 }], (q) => q.method === 'POST' && q.path.includes(user(2).user_id))
    const r = await runAction({ inputs: inputs({ targets: [...ids(1, 2), unknown].join('\n') }) })
    expect(r.code).not.toBe(0)
    expect(resultOf(r.report, unknown)).toMatchObject({ outcome: 'skipped' })
    expect(resultOf(r.report, unknown)?.reason).toContain('no user with this id')
    expect(resultOf(r.report, user(2).user_id)).toMatchObject({ outcome: 'failed', status: 400, code: 'IIC.400' })
    expect(resultOf(r.report, user(1).user_id)).toMatchObject({ outcome: 'terminated' })

    // A store id of the right shape that does not exist: Huawei's own 404 message is in the reason.
    emu.reset()
    const wrongStore = await runAction({ inputs: inputs({ 'identity-store-id': 'd-0000000000', targets: ids(1).join('\n') }) })
    // Every listed user is unresolved there: the step fails (if-unresolved: fail), naming them.
    expect(wrongStore.code).not.toBe(0)
    expect(posts()).toHaveLength(0)
    expect(resultOf(wrongStore.report, user(1).user_id)?.reason).toContain('code IIC.404: The identity store does not exist.')
  })

  it('a user whose second chunk is refused ends failed and says how many sessions went first', async () => {
    let seen = 0
    emu.server.queueFaults([{ kind: 'status', status: 400 }], (q) => q.method === 'POST' && ++seen === 2)
    const r = await runAction({ inputs: inputs({ targets: ids(3).join(','), 'batch-size': '2' }) })
    expect(r.code).not.toBe(0)
    const res = resultOf(r.report, user(3).user_id)
    expect(res).toMatchObject({ outcome: 'failed', status: 400, code: 'IIC.400' })
    expect(res?.message).toContain('(2 of 3 sessions were deleted before this)')
    expect(emu.sessionIds(user(3).user_id)).toHaveLength(1)
  })

  it('a wrong secret key or a skewed clock is refused by the gateway: the run stops and the key never shows', async () => {
    const wrongSk = 'WrongSecretKey0000000000000000000000000Z'
    const r = await runAction({ inputs: inputs({ token: wrongSk, targets: ids(1, 2, 3, 5, 6, 7).join(',') }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('APIGW.0301')
    expect(r.report.error).toContain('verify aksk signature fail')
    // 401 is never retried, and planning stops: at most the users already in flight were asked.
    expect(emu.requests.length).toBeGreaterThanOrEqual(1)
    expect(emu.requests.length).toBeLessThanOrEqual(4)
    expect(new Set(emu.requests.map((q) => q.path)).size).toBe(emu.requests.length)
    expect(emu.requests.every((q) => q.status === 401)).toBe(true)
    for (const text of [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report), JSON.stringify(r.outputs)]) {
      expect(text).not.toContain(wrongSk)
    }

    emu.reset()
    emu.clockOffsetMs = 20 * 60 * 1000
    const skew = await runAction({ inputs: inputs({ targets: ids(1).join(',') }) })
    expect(skew.code).not.toBe(0)
    expect(skew.report.error).toContain('15 minutes')
    expect(emu.authFailures.map((f) => f.reason)).toEqual(['clock skew'])
  })

  it('rejects bad region, access key, identity store id and user ids before any request', async () => {
    const cases: [string, Record<string, string>][] = [
      ['region', { region: '', 'base-url': '' }],
      ['region', { region: 'us-east-1', 'base-url': '' }],
      ['region', { region: 'Asia Pacific' }],
      ['access-key-id', { 'access-key-id': '' }],
      ['access-key-id', { 'access-key-id': 'hpuaq7zkxw3n5t8r2m4b' }],
      ['access-key-id', { 'access-key-id': 'HPUAQ7ZKXW3N5T8R2M4' }],
      ['identity-store-id', { 'identity-store-id': 'd-A00AAAA33F' }],
      ['identity-store-id', { 'identity-store-id': 'd-a00/../33f' }],
      ['security-token', { 'security-token': 'two words' }],
      ['targets', { targets: '../admin' }],
      ['targets', { targets: `${user(1).user_id}/sessions` }],
      ['targets', { targets: 'a b' }],
      ['filter', { targets: ids(1).join(','), filter: 'ip_address=10.0.0.300' }],
      ['filter', { targets: ids(1).join(','), filter: 'country=NL' }]
    ]
    for (const [input, extra] of cases) {
      emu.server.reset()
      const r = await runAction({ inputs: inputs({ targets: ids(1).join(','), ...extra }) })
      expect({ input, extra, code: r.code }).toEqual({ input, extra, code: 1 })
      expect(visibleLog(r.stdout)).toContain(`Input '${input}'`)
      expect(emu.requests).toHaveLength(0)
    }
  })
})

describe('huaweicloud emulator signature check', () => {
  const url = (path: string) => `${origin}${path}`
  async function call(path: string, sk = HW_SK, tamper?: (h: Record<string, string>) => void, nowMs = Date.now()) {
    const headers: Record<string, string> = { accept: 'application/json' }
    const signed = signRequest({ method: 'GET', url: url(path), headers, body: '' }, { accessKeyId: HW_AK, secretKey: sk }, nowMs)
    const all = { ...headers, ...signed }
    tamper?.(all)
    const res = await fetch(url(path), { headers: all })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }

  it('accepts a correctly signed request, with a query that needs encoding', async () => {
    const ok = await call(`/v1/identity-stores/${HW_STORE_ID}/users?limit=5&user_name=${encodeURIComponent('a b+c/é')}`)
    expect(ok.status).toBe(200)
  })

  it('rejects a wrong key, a changed header, a changed query and a stale date with the gateway 401 body', async () => {
    const path = `/v1/identity-stores/${HW_STORE_ID}/users?limit=5`
    const wrong = await call(path, 'x'.repeat(40))
    expect(wrong).toMatchObject({
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information: verify aksk signature fail' }
    })
    expect(wrong.body.request_id).toMatch(/^[0-9a-f]{32}$/)
    expect((await call(path, HW_SK, (h) => (h.accept = 'text/html'))).status).toBe(401)
    const headers: Record<string, string> = { accept: 'application/json' }
    const signed = signRequest({ method: 'GET', url: url(path), headers, body: '' }, { accessKeyId: HW_AK, secretKey: HW_SK })
    expect((await fetch(url(`${path}0`), { headers: { ...headers, ...signed } })).status).toBe(401)
    const stale = await call(path, HW_SK, undefined, Date.now() - 16 * 60 * 1000)
    expect(stale.status).toBe(401)
    expect(stale.body.error_msg).toContain('15 minutes')
    const unsigned = await fetch(url(path))
    expect(unsigned.status).toBe(401)
  })
})
