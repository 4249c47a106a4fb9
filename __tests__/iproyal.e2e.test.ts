// The bundled action (dist/index.js) run as the Actions runner runs it, against the IPRoyal emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from './emulators/iproyal/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

const emu = new IPRoyalEmulator({ subUsers: makeSubUsers(250) })
let baseUrl = ''

beforeAll(async () => {
  baseUrl = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => {
  emu.server.reset()
  emu.resets.clear()
})

const hashes = (n: number, from = 0): string[] => [...emu.subUsers.keys()].slice(from, from + n)

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'iproyal', token: IPROYAL_TOKEN, 'base-url': baseUrl, 'rate-limit': '6000', ...extra }
}

describe('iproyal end to end', () => {
  it('dry run lists the plan and sends no mutating request', async () => {
    const r = await runAction({ inputs: inputs({ targets: hashes(3).join('\n'), 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.outputs['planned-count']).toBe('3')
    // A dry run's targets end `planned` ("would terminate"), not skipped.
    expect(r.outputs['skipped-count']).toBe('0')
    expect(r.outputs['terminated-count']).toBe('0')
    expect(r.report.results.map((x: { outcome: string }) => x.outcome)).toEqual(['planned', 'planned', 'planned'])
    expect(JSON.parse(r.outputs.targets)).toEqual(hashes(3))
    expect(r.outputs['plan-hash']).toMatch(/^[0-9a-f]{64}$/)
    expect(r.summary).toContain('dry run')
    expect(r.summary).toContain(hashes(1)[0])
    expect(r.report.mode).toBe('dry-run')
  })

  it('real run sends authenticated, correctly shaped batches and terminates every target', async () => {
    const targets = hashes(230)
    const r = await runAction({ inputs: inputs({ targets: targets.join(','), 'max-targets': '500', 'batch-size': '100' }) })
    expect(r.code).toBe(0)
    const deletes = emu.server.mutating()
    expect(deletes).toHaveLength(3)
    for (const d of deletes) {
      expect(d.method).toBe('DELETE')
      expect(d.path).toBe('/v1/sessions')
      expect(d.headers.authorization).toBe(`Bearer ${IPROYAL_TOKEN}`)
      expect(d.headers['content-type']).toBe('application/json')
      expect(Object.keys(d.json as object)).toEqual(['residential_user_hashes'])
    }
    const sent = deletes.flatMap((d) => (d.json as { residential_user_hashes: string[] }).residential_user_hashes)
    expect(sent.sort()).toEqual([...targets].sort())
    expect(r.outputs['terminated-count']).toBe('230')
    expect(r.outputs['failed-count']).toBe('0')
    expect(targets.every((h) => emu.subUsers.get(h)?.sessions === 0)).toBe(true)
    expect(r.report.results).toHaveLength(230)
    expect(r.report.context).toMatchObject({
      actor: 'octo-admin',
      repository: 'acme/it-automation',
      runUrl: 'https://github.com/acme/it-automation/actions/runs/4242'
    })
    expect(visibleLog(r.stdout)).toMatch(/batch \d\/3 done, \d+\/230 targets/)
  })

  it('resolves usernames through the sub-user list and skips names that do not exist', async () => {
    const r = await runAction({ inputs: inputs({ 'target-type': 'username', targets: 'user1\nuser120\nnobody', 'if-unresolved': 'skip' }) })
    expect(r.code).toBe(0)
    expect(emu.server.requests.filter((q: { method: string }) => q.method === 'GET').length).toBe(3) // 250 users, 100 a page
    expect(r.outputs['terminated-count']).toBe('2')
    expect(r.outputs['skipped-count']).toBe('1')
    const skipped = r.report.results.find((x: { id: string }) => x.id === 'nobody')
    expect(skipped.reason).toContain('no sub-user named')
    expect(skipped.unresolved).toBe(true)
    expect(r.summary).toContain('user120')
  })

  it('a typo is not a success: an unresolved target fails the step after the others are acted on, and names it', async () => {
    const r = await runAction({ inputs: inputs({ 'target-type': 'username', targets: 'user1\nnobody' }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['terminated-count']).toBe('1')
    expect(JSON.parse(r.outputs.unresolved)).toEqual(['nobody'])
    expect(visibleLog(r.stdout)).toMatch(/::error::1 listed target\(s\) do not exist at IPRoyal: "nobody"/)
  })

  it('plans from filter search= and refuses past max-targets before any mutating request', async () => {
    const r = await runAction({ inputs: inputs({ filter: 'search=user1', 'max-targets': '10' }) })
    expect(r.code).not.toBe(0)
    expect(emu.server.mutating()).toHaveLength(0)
    expect(r.stdout).toContain("Input 'max-targets'")
    const ok = await runAction({ inputs: inputs({ filter: 'search=user24', 'max-targets': '20' }) })
    expect(ok.code).toBe(0)
    // user24, user240..user249
    expect(ok.outputs['terminated-count']).toBe('11')
  })

  it('reports a rejected hash as failed with the provider message and still terminates the rest', async () => {
    const r = await runAction({ inputs: inputs({ targets: [...hashes(4), 'notarealhash'].join(',') }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['terminated-count']).toBe('4')
    expect(r.outputs['failed-count']).toBe('1')
    const bad = r.report.results.find((x: { id: string }) => x.id === 'notarealhash')
    expect(bad).toMatchObject({ outcome: 'failed', status: 422, code: '422' })
    expect(bad.message).toContain('is invalid')
    expect(r.stdout).toContain('::error')
  })

  it('survives a 429 storm and 5xx bursts with every target accounted for', async () => {
    emu.server.queueFaults(
      [
        { kind: 'throttle', retryAfter: 'seconds', seconds: 1 },
        { kind: 'throttle', retryAfter: 'date', seconds: 1 },
        { kind: 'status', status: 503 },
        { kind: 'status', status: 500 },
        { kind: 'reset' },
        { kind: 'html' }
      ],
      (q: { method: string }) => q.method === 'DELETE'
    )
    const targets = hashes(60)
    const r = await runAction({ inputs: inputs({ targets: targets.join(','), 'batch-size': '10', concurrency: '3', 'max-targets': '100' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('60')
    expect(r.report.results.map((x: { id: string }) => x.id).sort()).toEqual([...targets].sort())
    expect(r.report.http.retries).toBeGreaterThanOrEqual(6)
  })

  it('reports every target failed with the reason when faults outlast the retry budget', async () => {
    emu.server.setFaultRate(1, [{ kind: 'status', status: 503 }], { match: (q: { method: string }) => q.method === 'DELETE' })
    const r = await runAction({ inputs: inputs({ targets: hashes(5).join(','), 'max-retries': '2' }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('5')
    expect(r.report.results[0].reason).toContain('gave up after 3 attempts')
    expect(emu.server.mutating()).toHaveLength(3)
  })

  it('fails the step when the credentials are rejected, even with fail-on: never', async () => {
    const r = await runAction({ inputs: inputs({ token: 'revoked-token-123456', targets: hashes(3).join(','), 'fail-on': 'never' }) })
    expect(r.code).not.toBe(0)
    expect(r.stdout).toMatch(/::error::IPRoyal rejected the credentials/)
  })

  it('refuses a sub-user list that repeats itself instead of paging forever', async () => {
    const page = { data: [{ hash: 'loophash01', username: 'loop' }], meta: { current_page: 1, last_page: 1_000_000_000, per_page: 100, total: 1 } }
    emu.server.setFaultRate(1, [{ kind: 'custom', respond: () => ({ status: 200, body: page }) }], { match: (q: { method: string }) => q.method === 'GET' })
    const r = await runAction({ inputs: inputs({ 'target-type': 'username', targets: 'loop' }) })
    expect(r.code).not.toBe(0)
    expect(r.stdout).toContain('nothing new')
    expect(emu.server.requests).toHaveLength(2)
    expect(emu.server.mutating()).toHaveLength(0)
  })

  it('stops on 401 and never shows the token', async () => {
    const r = await runAction({ inputs: inputs({ token: 'wrong-token-abcdef', targets: hashes(3).join(',') }) })
    expect(r.code).not.toBe(0)
    expect(r.outputs['failed-count']).toBe('3')
    expect(r.report.results[0]).toMatchObject({ status: 401, message: 'Unauthenticated.' })
    for (const text of [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report), JSON.stringify(r.outputs)]) {
      expect(text).not.toContain('wrong-token-abcdef')
    }
  })
})
