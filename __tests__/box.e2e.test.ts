// The bundled action (dist/index.js) run as the Actions runner runs it, against the Box emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_DEVELOPER_TOKEN, BOX_ENTERPRISE_ID, BoxEmulator, makeUsers } from './emulators/box/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

const users = makeUsers(120)
const emu = new BoxEmulator({
  users: [
    ...users,
    { id: '9000001', login: 'guest@partner.org', name: 'Guest Partner', status: 'active', external: true },
    // More than one page (1000) of search matches, to prove marker paging end to end.
    ...Array.from({ length: 1050 }, (_, i) => ({ id: String(3000001 + i), login: `bulk${i + 1}@example.net`, name: `Bulk ${i + 1}`, status: 'active' }))
  ],
  groups: [
    { id: '5550001', name: 'Sales', members: ['1000001', '1000002', '1000003'] },
    { id: '5550002', name: 'Contractors', members: ['1000010'] }
  ]
})

beforeAll(async () => {
  await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

type Result = {
  id: string
  kind: string
  label?: string
  outcome: string
  reason?: string
  status?: number
  code?: string
  message?: string
  requestId?: string
  details?: Record<string, unknown>
}

function inputs(extra: Record<string, string>): Record<string, string> {
  return {
    provider: 'box',
    token: BOX_DEVELOPER_TOKEN,
    'base-url': emu.baseUrl as string,
    'auth-base-url': emu.authBaseUrl as string,
    'rate-limit': '6000',
    ...extra
  }
}

function ccgInputs(extra: Record<string, string>): Record<string, string> {
  return inputs({ token: BOX_CLIENT_SECRET, 'client-id': BOX_CLIENT_ID, 'enterprise-id': BOX_ENTERPRISE_ID, ...extra })
}

/** User ids of the terminate calls Box accepted (202). */
const sentUserIds = (): string[] =>
  emu
    .terminateRequests()
    .filter((q) => q.path === '/2.0/users/terminate_sessions' && q.status === 202)
    .flatMap((q) => (q.json as { user_ids: string[] }).user_ids)
const byId = (results: Result[], id: string): Result | undefined => results.find((x) => x.id === id)

/** Every place a secret could leak to, as the admin would see it. */
function shown(r: Awaited<ReturnType<typeof runAction>>): string[] {
  return [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report), JSON.stringify(r.outputs)]
}

describe('box end to end', () => {
  it('dry run resolves ids and logins with name and status, skips what does not resolve, sends no terminate', async () => {
    const r = await runAction({
      inputs: inputs({ targets: '1000001\nUSER7@example.com\n1999999\nnobody@example.com', 'dry-run': 'true', 'if-unresolved': 'skip' })
    })
    expect(r.code).toBe(0)
    expect(emu.terminateRequests()).toHaveLength(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.outputs['planned-count']).toBe('2')
    // The login resolves to the Box user id: the plan holds ids, whatever was typed.
    expect(JSON.parse(r.outputs.targets)).toEqual(['1000001', '1000007'])
    const results = r.report.results as Result[]
    expect(byId(results, '1000007')).toMatchObject({
      label: 'User 7',
      outcome: 'planned',
      reason: 'dry run: would terminate',
      details: { login: 'user7@example.com', status: 'inactive', given: 'USER7@example.com' }
    })
    expect(byId(results, '1999999')).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(byId(results, '1999999')?.reason).toContain('no Box user with this id')
    expect(byId(results, 'nobody@example.com')?.reason).toContain('no Box user with this login')
    expect(r.summary).toContain('User 7')
    expect(r.summary).toContain('inactive')
    // Logins are looked up with marker paging, never offsets.
    const lookups = emu.requests.filter((q) => q.path === '/2.0/users')
    expect(lookups.length).toBeGreaterThanOrEqual(2)
    for (const q of lookups) {
      expect(q.query.get('usemarker')).toBe('true')
      expect(q.query.has('offset')).toBe(false)
      expect(q.query.get('fields')).toBe('id,login,name,status')
    }
  })

  it('real run: a mixed list of ids, logins and groups ends accepted, never terminated, in unmixed batches', async () => {
    const ids = users.slice(0, 30).map((u) => u.id)
    const logins = users.slice(30, 45).map((u) => u.login)
    const targets = [...ids, ...logins, 'group:5550001', 'group:5550002', users[0].login].join('\n')
    const r = await runAction({ inputs: inputs({ targets, 'batch-size': '20', 'max-targets': '100' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('47')
    expect(r.outputs['terminated-count']).toBe('0')
    expect(r.outputs['failed-count']).toBe('0')
    const calls = emu.terminateRequests()
    const userCalls = calls.filter((q) => q.path === '/2.0/users/terminate_sessions')
    const groupCalls = calls.filter((q) => q.path === '/2.0/groups/terminate_sessions')
    expect(userCalls).toHaveLength(3) // 45 users, 20 a batch
    expect(groupCalls).toHaveLength(1)
    for (const q of calls) {
      expect(q.headers.authorization).toBe(`Bearer ${BOX_DEVELOPER_TOKEN}`)
      expect(q.headers['content-type']).toBe('application/json')
      expect(q.status).toBe(202)
    }
    for (const q of userCalls) {
      // Box's description requires both arrays; every target is sent by id, so user_logins is empty.
      expect(Object.keys(q.json as object)).toEqual(['user_ids', 'user_logins'])
      expect((q.json as { user_logins: string[] }).user_logins).toEqual([])
      expect((q.json as { user_ids: string[] }).user_ids.length).toBeLessThanOrEqual(20)
    }
    expect(groupCalls[0].json).toEqual({ group_ids: ['5550001', '5550002'] })
    // The login typed twice (as users[0].login and as its id) is sent once.
    expect(sentUserIds().sort()).toEqual(
      users
        .slice(0, 45)
        .map((u) => u.id)
        .sort()
    )
    expect(emu.jobs.filter((j) => j.kind === 'user')).toHaveLength(45)
    const results = r.report.results as Result[]
    expect(results.every((x) => x.outcome === 'accepted')).toBe(true)
    expect(byId(results, '1000001')?.reason).toContain('queued by Box (HTTP 202)')
    expect(byId(results, '1000001')?.requestId).toMatch(/^0[0-9a-f]+$/)
    expect(r.summary).toContain('Box Admin Console')
    expect(r.summary).toContain('**accepted**')
  })

  it('groups: plan shows name and member count; unknown groups are skipped, not sent', async () => {
    const dry = await runAction({ inputs: inputs({ 'target-type': 'group-id', targets: '5550001\n5550009', 'dry-run': 'true', 'if-unresolved': 'skip' }) })
    expect(dry.code).toBe(0)
    expect(emu.terminateRequests()).toHaveLength(0)
    const plan = dry.report.results as Result[]
    expect(byId(plan, 'group:5550001')).toMatchObject({ label: 'Sales', details: { members: 3 } })
    expect(byId(plan, 'group:5550009')?.reason).toContain('no Box group')
    expect(dry.summary).toContain('Sales')

    const real = await runAction({ inputs: inputs({ 'target-type': 'group-id', targets: '5550001\n5550009', 'if-unresolved': 'skip' }) })
    expect(real.code).toBe(0)
    expect(real.outputs['accepted-count']).toBe('1')
    expect(real.outputs['skipped-count']).toBe('1')
    expect(emu.terminateRequests().map((q) => q.json)).toEqual([{ group_ids: ['5550001'] }])
    expect(dry.outputs['plan-hash']).toBe(real.outputs['plan-hash'])
  })

  it('filter: the plan is what the user search returns, and max-targets refuses a bigger one before any terminate', async () => {
    const big = await runAction({ inputs: inputs({ filter: 'filter_term=user1\nuser_type=managed', 'max-targets': '10' }) })
    expect(big.code).not.toBe(0)
    expect(emu.terminateRequests()).toHaveLength(0)
    expect(big.stdout).toContain("Input 'max-targets'")

    emu.reset()
    // user10, user100..user109 and user11x: ask for user10 -> user10, user100..user109
    const ok = await runAction({ inputs: inputs({ filter: 'filter_term=user10\nuser_type=managed', 'max-targets': '20' }) })
    expect(ok.code).toBe(0)
    expect(ok.outputs['accepted-count']).toBe('11')
    const expected = users.filter((u) => u.login.startsWith('user10')).map((u) => u.id)
    expect(sentUserIds().sort()).toEqual(expected.sort())
    const search = emu.requests.filter((q) => q.path === '/2.0/users')
    expect(search.every((q) => q.query.get('usemarker') === 'true' && q.query.get('filter_term') === 'user10' && q.query.get('user_type') === 'managed')).toBe(
      true
    )
  })

  it('filter pages through markers when the search is longer than a page, and stops one past max-targets', async () => {
    const r = await runAction({ inputs: inputs({ filter: 'filter_term=bulk', 'max-targets': '2000', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['planned-count']).toBe('1050')
    expect(emu.terminateRequests()).toHaveLength(0)
    const pages = emu.requests.filter((q) => q.path === '/2.0/users')
    expect(pages).toHaveLength(2)
    expect(pages[0].query.get('limit')).toBe('1000')
    expect(pages[0].query.has('marker')).toBe(false)
    expect(pages[1].query.get('marker')).toBeTruthy()
    expect(pages.every((q) => q.query.get('usemarker') === 'true' && !q.query.has('offset'))).toBe(true)

    emu.reset()
    const capped = await runAction({ inputs: inputs({ filter: 'filter_term=bulk', 'max-targets': '30', 'dry-run': 'true' }) })
    expect(capped.code).not.toBe(0) // 31 found > 30: refused, not truncated
    expect(capped.stdout).toContain('more than max-targets (30)')
    const one = emu.requests.filter((q) => q.path === '/2.0/users')
    expect(one).toHaveLength(1)
    expect(one[0].query.get('limit')).toBe('31')
  })

  it('Client Credentials Grant: mints a token, masks it at once, and never shows it or the secret', async () => {
    const r = await runAction({ inputs: ccgInputs({ targets: '1000001\nuser2@example.com\ngroup:5550002' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('3')
    const mints = emu.tokenRequests()
    expect(mints).toHaveLength(1)
    expect(mints[0].headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(new URLSearchParams(mints[0].bodyText))).toEqual({
      grant_type: 'client_credentials',
      client_id: BOX_CLIENT_ID,
      client_secret: BOX_CLIENT_SECRET,
      box_subject_type: 'enterprise',
      box_subject_id: BOX_ENTERPRISE_ID
    })
    const minted = [...emu.minted.keys()]
    expect(minted).toHaveLength(1)
    const token = minted[0]
    // Every API call used the minted token.
    for (const q of emu.requests.filter((x) => x.path.startsWith('/2.0/'))) expect(q.headers.authorization).toBe(`Bearer ${token}`)
    // The runner learnt to mask it, before the first API call was logged.
    const lines = r.stdout.split('\n')
    const maskAt = lines.indexOf(`::add-mask::${token}`)
    expect(maskAt).toBeGreaterThanOrEqual(0)
    expect(lines.findIndex((l) => l.includes('plan:'))).toBeGreaterThan(maskAt)
    for (const text of shown(r)) {
      expect(text).not.toContain(token)
      expect(text).not.toContain(BOX_CLIENT_SECRET)
    }
  })

  it('Client Credentials Grant: a token that expires mid-run is re-minted once, the run goes on, the new token is masked too', async () => {
    // 12 targets resolve from one page of the enterprise's user list, then the first token dies after
    // 2 of the 6 terminate calls (the token minted next lives on).
    emu.onApiRequest = (_q, n) => {
      if (n === 3) emu.expireMintedTokens()
    }
    const targets = users
      .slice(0, 12)
      .map((u) => u.id)
      .join('\n')
    const r = await runAction({ inputs: ccgInputs({ targets, 'batch-size': '2', concurrency: '2' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('12')
    expect(sentUserIds().sort()).toEqual(
      users
        .slice(0, 12)
        .map((u) => u.id)
        .sort()
    )
    const tokens = [...emu.minted.keys()]
    expect(tokens).toHaveLength(2) // one re-mint, shared by the workers that saw 401 together
    const rejected = emu.requests.filter((q) => q.status === 401)
    expect(rejected.length).toBeGreaterThanOrEqual(1)
    expect(rejected.map((q) => [q.headers.authorization === `Bearer ${tokens[0]}`, q.path])).toEqual(
      rejected.map(() => [true, '/2.0/users/terminate_sessions'])
    )
    expect(emu.tokenRequests()).toHaveLength(2)
    expect(visibleLog(r.stdout)).toContain('minting a Box Client Credentials token again and retrying once')
    for (const t of tokens) {
      expect(r.stdout).toContain(`::add-mask::${t}`)
      for (const text of shown(r)) expect(text).not.toContain(t)
    }
  })

  it('Client Credentials Grant: wrong secret or enterprise fails the run with the OAuth error, and sends nothing else', async () => {
    const bad = await runAction({ inputs: ccgInputs({ token: 'not-the-secret-123', targets: '1000001' }) })
    expect(bad.code).not.toBe(0)
    expect(bad.report.status).toBe('plan-failed')
    expect(bad.report.error).toContain('invalid_client')
    expect(emu.requests.filter((q) => q.path.startsWith('/2.0/'))).toHaveLength(0)
    for (const text of shown(bad)) expect(text).not.toContain('not-the-secret-123')

    const grant = await runAction({ inputs: ccgInputs({ 'enterprise-id': '1234', targets: '1000001' }) })
    expect(grant.code).not.toBe(0)
    expect(grant.report.error).toContain('Grant credentials are invalid')
    expect(grant.report.error).toContain('enterprise-id')
  })

  it('a developer token that expires mid-run stops the run: the refused batch fails, the rest is not attempted', async () => {
    // A plain token cannot be renewed: 401 on the first terminate stops everything.
    emu.server.queueFaults([{ kind: 'custom', respond: () => ({ status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }) }], (q) =>
      q.path.endsWith('/terminate_sessions')
    )
    const targets = users
      .slice(0, 6)
      .map((u) => u.id)
      .join('\n')
    const r = await runAction({ inputs: inputs({ targets, 'batch-size': '2', concurrency: '1' }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('2')
    expect(r.outputs['not-attempted-count']).toBe('4')
    expect(emu.terminateRequests()).toHaveLength(1)
    const results = r.report.results as Result[]
    expect(results[0]).toMatchObject({ status: 401, code: 'unauthorized' })
    expect(results[5]).toMatchObject({ outcome: 'not-attempted' })
    expect(results[5].reason).toContain('not attempted')
  })

  it('survives a 429 storm honouring retry-after, with every target accepted once', async () => {
    emu.server.queueFaults(
      [
        { kind: 'throttle', retryAfter: 'seconds', seconds: 1 },
        { kind: 'throttle', retryAfter: 'seconds', seconds: 1 },
        { kind: 'throttle', retryAfter: 'seconds', seconds: 1 },
        { kind: 'status', status: 503 },
        { kind: 'throttle', retryAfter: 'seconds', seconds: 1 }
      ],
      (q) => q.path.endsWith('/terminate_sessions')
    )
    const ids = users.slice(0, 40).map((u) => u.id)
    const r = await runAction({ inputs: inputs({ targets: ids.join(','), 'batch-size': '5', concurrency: '4', 'max-targets': '50' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['accepted-count']).toBe('40')
    expect(r.report.http.throttled).toBeGreaterThanOrEqual(4)
    expect(r.report.http.retries).toBeGreaterThanOrEqual(5)
    expect(emu.jobs.map((j) => j.id).sort()).toEqual([...ids].sort()) // each accepted job exactly once
    const throttled = emu.requests.filter((q) => q.status === 429)
    const after = emu.terminateRequests().filter((q) => q.status === 202)
    // Nothing was sent again within the second Retry-After asked for.
    expect(Math.min(...after.map((q) => q.at)) - Math.min(...throttled.map((q) => q.at))).toBeGreaterThanOrEqual(900)
  })

  it('reports a Box error per target with status, code, message and request id', async () => {
    emu.server.setFaultRate(
      1,
      [
        {
          kind: 'custom',
          respond: () => ({
            status: 403,
            headers: { 'box-request-id': '0abc' },
            body: {
              type: 'error',
              status: 403,
              code: 'access_denied_insufficient_permissions',
              message: 'Access denied - insufficient permission',
              request_id: 'req403xyz'
            }
          })
        }
      ],
      { match: (q) => q.path.endsWith('/terminate_sessions') }
    )
    const r = await runAction({ inputs: inputs({ targets: '1000001\n1000002' }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('2')
    expect(byId(r.report.results, '1000001')).toMatchObject({
      outcome: 'failed',
      status: 403,
      code: 'access_denied_insufficient_permissions',
      message: 'Access denied - insufficient permission',
      requestId: 'req403xyz'
    })
    expect(emu.terminateRequests()).toHaveLength(1) // 403 is not retried
  })

  it('a 400 from the documented list is not retried', async () => {
    emu.server.queueFaults(
      [
        {
          kind: 'custom',
          respond: () => ({ status: 400, body: { type: 'error', status: 400, code: 'bad_request', message: 'User id format is string', request_id: 'r400' } })
        }
      ],
      (q) => q.path.endsWith('/terminate_sessions')
    )
    const r = await runAction({ inputs: inputs({ targets: '1000001' }) })
    expect(r.code).not.toBe(0)
    expect(byId(r.report.results, '1000001')).toMatchObject({ outcome: 'failed', status: 400, message: 'User id format is string', requestId: 'r400' })
    expect(emu.terminateRequests()).toHaveLength(1)
  })

  it('bad inputs fail before any request: client-id without enterprise-id, and a target that is neither id nor login', async () => {
    const half = await runAction({ inputs: inputs({ 'client-id': BOX_CLIENT_ID, targets: '1000001' }) })
    expect(half.code).not.toBe(0)
    expect(half.stdout).toContain("Input 'enterprise-id'")
    const other = await runAction({ inputs: inputs({ 'enterprise-id': BOX_ENTERPRISE_ID, targets: '1000001' }) })
    expect(other.stdout).toContain("Input 'client-id'")
    const bad = await runAction({ inputs: inputs({ targets: '1000001\nalice' }) })
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).toContain("Input 'targets'")
    expect(bad.stdout).toContain('"alice"')
    const group = await runAction({ inputs: inputs({ 'target-type': 'group-id', targets: 'sales' }) })
    expect(group.code).not.toBe(0)
    expect(group.stdout).toContain("Input 'targets'")
    expect(emu.requests).toHaveLength(0)
  })
})
