// The security review's findings (issue 10), each shown against the bundled action run as the runner
// runs it: every target accounted for, nothing forged into the log or the summary, nothing leaked,
// an approval that authorizes exactly what was shown, files only where they belong.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BOX_DEVELOPER_TOKEN, BoxEmulator, makeUsers as makeBoxUsers } from './emulators/box/index.js'
import { DNL_ADMIN_TOKEN, DNL_PASSWORD, DNL_USERNAME, DnlEmulator, makeUsers as makeDnlUsers } from './emulators/denovolab/index.js'
import { HW_AK, HW_SK, HW_STORE_ID, HuaweiCloudEmulator, makeUsers as makeHwUsers } from './emulators/huaweicloud/index.js'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from './emulators/iproyal/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

const iproyal = new IPRoyalEmulator({ subUsers: makeSubUsers(60, 'hard') })
const box = new BoxEmulator({
  users: [...makeBoxUsers(4), { id: '7000001', login: 'eve@example.com', name: 'Eve\n::error title=Approved::Plan verified\n::add-mask::2', status: 'active' }],
  groups: [
    { id: '5550001', name: 'Sales [click](https://evil.example) ![x](https://evil.example/i.png) *bold* `code` | cell', members: ['1000001', '1000002'] }
  ]
})
const hw = new HuaweiCloudEmulator({ users: makeHwUsers(3, { prefix: 'hard', sessionsFor: () => 3 }) })
const dnlA = new DnlEmulator({ users: makeDnlUsers(12) })
const dnlB = new DnlEmulator({ users: makeDnlUsers(12) })

beforeAll(async () => {
  await Promise.all([iproyal.start(), box.start(), hw.start(), dnlA.start(), dnlB.start()])
})
afterAll(async () => {
  await Promise.all([iproyal.stop(), box.stop(), hw.stop(), dnlA.stop(), dnlB.stop()])
})
beforeEach(() => {
  iproyal.server.reset()
  box.reset()
  hw.reset()
  dnlA.resetState(makeDnlUsers(12))
  dnlB.resetState(makeDnlUsers(12))
})

const hashes = (n: number): string[] => [...iproyal.subUsers.keys()].slice(0, n)
const ipr = (extra: Record<string, string>): Record<string, string> => ({
  provider: 'iproyal',
  token: IPROYAL_TOKEN,
  'base-url': iproyal.baseUrl,
  'rate-limit': '60000',
  ...extra
})
const boxIn = (extra: Record<string, string>): Record<string, string> => ({
  provider: 'box',
  token: BOX_DEVELOPER_TOKEN,
  'base-url': box.baseUrl,
  'rate-limit': '60000',
  ...extra
})
const hwIn = (extra: Record<string, string>): Record<string, string> => ({
  provider: 'huaweicloud',
  region: 'ap-southeast-1',
  'base-url': hw.origin,
  'auth-base-url': hw.origin,
  'identity-store-id': HW_STORE_ID,
  'access-key-id': HW_AK,
  token: HW_SK,
  'rate-limit': '60000',
  ...extra
})
const dnlIn = (emu: DnlEmulator, extra: Record<string, string>): Record<string, string> => ({
  provider: 'denovolab',
  token: DNL_ADMIN_TOKEN,
  'base-url': emu.baseUrl,
  'rate-limit': '60000',
  ...extra
})

type Result = { id: string; outcome: string; reason?: string; status?: number; code?: string; message?: string }
const errors = (stdout: string): string[] =>
  visibleLog(stdout)
    .split('\n')
    .filter((l: string) => l.startsWith('::error'))

describe('cancellation (SIGINT/SIGTERM from the runner)', () => {
  it('stops sending, marks in-flight targets unknown and the rest not attempted, writes report and summary, exits non-zero', async () => {
    iproyal.server.latencyMs = 150
    const targets = hashes(40)
    const r = await runAction({
      inputs: ipr({ targets: targets.join('\n'), 'batch-size': '1', concurrency: '2', 'max-targets': '100' }),
      signal: { name: 'SIGINT', when: (out) => /batch \d+\/40 done/.test(out) }
    })
    iproyal.server.latencyMs = 0
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('cancelled')
    const results = r.report.results as Result[]
    expect(results).toHaveLength(40)
    const by = (o: string): Result[] => results.filter((x) => x.outcome === o)
    expect(by('terminated').length).toBeGreaterThanOrEqual(1)
    expect(by('not-attempted').length).toBeGreaterThan(20)
    expect(by('terminated').length + by('unknown').length + by('not-attempted').length).toBe(40)
    for (const u of by('unknown')) expect(u.reason).toContain('may have taken effect')
    // Nothing was sent after the cancel: at most the requests already on the wire reached the server,
    // and each of those is terminated (answered) or unknown (abandoned: it may or may not have arrived).
    const sent = iproyal.server.mutating().length
    expect(sent).toBeGreaterThanOrEqual(by('terminated').length)
    expect(sent).toBeLessThanOrEqual(by('terminated').length + by('unknown').length)
    expect(by('unknown').length).toBeLessThanOrEqual(2) // concurrency 2: never more than two on the wire
    expect(r.outputs['not-attempted-count']).toBe(String(by('not-attempted').length))
    expect(r.outputs['unknown-count']).toBe(String(by('unknown').length))
    expect(r.summary).toContain('cancelled')
    expect(errors(r.stdout).some((l) => l.includes('the run was cancelled'))).toBe(true)
  })
})

describe('the plan hash covers what will be done (an approval binds exactly what was shown)', () => {
  it('Huawei: a plan narrowed by a session filter does not authorize a run without it', async () => {
    const user = [...(hw.users?.keys() ?? [])][0]
    const ip = hw.users?.get(user)?.sessions[0].ip_address ?? ''
    const plan = await runAction({ inputs: hwIn({ targets: user, filter: `ip_address=${ip}`, 'dry-run': 'true' }) })
    expect(plan.code).toBe(0)
    const r = await runAction({
      inputs: hwIn({ targets: user, 'expected-plan-hash': plan.outputs['plan-hash'], 'expected-count': plan.outputs['planned-count'] })
    })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('refused')
    expect(hw.requests.filter((q) => q.method === 'POST')).toHaveLength(0)
  })

  it('Box: a group that gained a member after approval is refused', async () => {
    const plan = await runAction({ inputs: boxIn({ targets: 'group:5550001', 'dry-run': 'true' }) })
    expect(plan.code).toBe(0)
    box.addGroupMember('5550001', '1000003')
    const r = await runAction({ inputs: boxIn({ targets: 'group:5550001', 'expected-plan-hash': plan.outputs['plan-hash'] }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('refused')
    expect(box.terminateRequests()).toHaveLength(0)
  })

  it('DeNovoLab: a plan made on one server does not authorize deletes on another with the same users', async () => {
    const plan = await runAction({ inputs: dnlIn(dnlA, { targets: '3,4', 'dry-run': 'true' }) })
    expect(plan.code).toBe(0)
    const r = await runAction({ inputs: dnlIn(dnlB, { targets: '3,4', 'expected-plan-hash': plan.outputs['plan-hash'] }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('refused')
    expect(dnlB.deleted).toEqual([])
  })
})

describe('provider data is data: no workflow commands, no markup', () => {
  it('a Box user named with line breaks and workflow commands writes none of them into the dry-run log, and markup stays text in the summary', async () => {
    const r = await runAction({ inputs: boxIn({ targets: '7000001\ngroup:5550001', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines.some((l) => l.startsWith('::error title=Approved'))).toBe(false)
    expect(lines.some((l) => l === '::add-mask::2')).toBe(false)
    expect(lines.filter((l) => l.startsWith('::error'))).toEqual([])
    // The name is still shown, escaped, so the reviewer sees it was odd.
    expect(r.stdout).toContain('Eve\\n:\u200b:error title=Approved')
    expect(r.summary).not.toMatch(/\]\(https:\/\/evil/)
    expect(r.summary).not.toContain('![x]')
    expect(r.summary).toContain('Sales \\[click\\]\\(https:\\/\\/evil.example\\)')
    expect(r.summary).not.toContain('`code`')
    expect(r.outputs['plan-hash']).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('a 2xx is not success by itself', () => {
  const html = { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>Sign in to continue</body></html>' }

  it('IPRoyal: a 200 HTML page answering DELETE /sessions fails the targets, with the body in the report', async () => {
    iproyal.server.queueFaults([{ kind: 'custom', respond: () => html }], (q) => q.method === 'DELETE')
    const r = await runAction({ inputs: ipr({ targets: hashes(2).join(',') }) })
    expect(r.code).not.toBe(0)
    const results = r.report.results as Result[]
    expect(results.map((x) => x.outcome)).toEqual(['failed', 'failed'])
    expect(results[0]).toMatchObject({ status: 200, code: 'unexpected-response' })
    expect(results[0].message).toContain('Sign in to continue')
    expect(iproyal.server.mutating()).toHaveLength(1)
  })

  it('Box: a 200 HTML page answering terminate_sessions fails, it is not accepted', async () => {
    box.server.queueFaults([{ kind: 'custom', respond: () => html }], (q) => q.path.endsWith('/terminate_sessions'))
    const r = await runAction({ inputs: boxIn({ targets: '1000001' }) })
    expect(r.code).not.toBe(0)
    expect((r.report.results as Result[])[0]).toMatchObject({ outcome: 'failed', status: 200, code: 'unexpected-response' })
    expect(r.outputs['accepted-count']).toBe('0')
  })

  it('Huawei: a 200 HTML page answering batch-delete fails the user', async () => {
    hw.server.queueFaults([{ kind: 'custom', respond: () => html }], (q) => q.method === 'POST')
    const user = [...(hw.users?.keys() ?? [])][0]
    const r = await runAction({ inputs: hwIn({ targets: user }) })
    expect(r.code).not.toBe(0)
    expect((r.report.results as Result[])[0]).toMatchObject({ outcome: 'failed', status: 200, code: 'unexpected-response' })
  })

  it('DeNovoLab: 200 {"success":false} and a 200 sign-in page are failures, not deletions', async () => {
    dnlA.server.queueFaults(
      [
        { kind: 'custom', respond: () => ({ status: 200, body: { success: false, error: { message: 'user is locked', code: 77 } } }) },
        { kind: 'custom', respond: () => html }
      ],
      (q) => q.method === 'DELETE'
    )
    const r = await runAction({ inputs: dnlIn(dnlA, { targets: '3,4,5', concurrency: '1' }) })
    expect(r.code).not.toBe(0)
    const results = r.report.results as Result[]
    expect(results.map((x) => x.outcome)).toEqual(['failed', 'failed', 'terminated'])
    expect(results[0].message).toContain('success=false')
    expect(results[0].message).toContain('user is locked')
    expect(results[1]).toMatchObject({ status: 200, code: 'unexpected-response' })
  })
})

describe('secrets are scrubbed before any text is cut, in every encoded form', () => {
  it('a token echoed near the cut of a short non-JSON 2xx body leaves no prefix in log, summary, outputs or report', async () => {
    const body = `${'x'.repeat(185)} ${IPROYAL_TOKEN} ${encodeURIComponent(IPROYAL_TOKEN).toLowerCase()} ${Buffer.from(IPROYAL_TOKEN).toString('base64')}`
    iproyal.server.queueFaults(
      [{ kind: 'custom', respond: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body }) }],
      (q) => q.method === 'DELETE'
    )
    const r = await runAction({ inputs: ipr({ targets: hashes(1).join(',') }) })
    expect(r.code).not.toBe(0)
    const prefix = IPROYAL_TOKEN.slice(0, 10)
    for (const text of [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report), JSON.stringify(r.outputs)]) {
      expect(text).not.toContain(prefix)
      expect(text).not.toContain(Buffer.from(IPROYAL_TOKEN).toString('base64').slice(0, 12))
    }
  })

  it('a token too short to mask safely is refused before any request', async () => {
    const r = await runAction({ inputs: ipr({ token: 'abc12', targets: hashes(1).join(',') }) })
    expect(r.code).not.toBe(0)
    expect(errors(r.stdout)).toHaveLength(1)
    expect(errors(r.stdout)[0]).toContain("Input 'token'")
    expect(iproyal.requests).toHaveLength(0)
  })
})

describe('files: where the action reads and writes', () => {
  const workspace = (): string => mkdtempSync(join(tmpdir(), 'hard-ws-'))

  it.each([
    ['a directory', (ws: string) => (mkdirSync(join(ws, 'out')), 'out')],
    ['a path under a file', (ws: string) => (writeFileSync(join(ws, 'afile'), 'x'), 'afile/report.json')],
    ['a path outside the workspace', () => join(tmpdir(), 'elsewhere-report.json')],
    ['a symlink', (ws: string) => (symlinkSync(join(tmpdir(), 'target.json'), join(ws, 'link.json')), 'link.json')]
  ])('report-path that is %s is refused before any request', async (_what, make) => {
    const ws = workspace()
    const r = await runAction({ cwd: ws, env: { RUNNER_TEMP: join(ws, '.tmp') }, inputs: ipr({ targets: hashes(1).join(','), 'report-path': make(ws) }) })
    expect(r.code).not.toBe(0)
    expect(errors(r.stdout)).toHaveLength(1)
    expect(errors(r.stdout)[0]).toContain("Input 'report-path'")
    expect(iproyal.requests).toHaveLength(0)
  })

  it('targets-file outside the workspace, or reached through a symlink, is refused and its content never echoed', async () => {
    const ws = workspace()
    const outside = join(tmpdir(), `secret-${Date.now()}.txt`)
    writeFileSync(outside, 'root:x:0:0:root:/root:/bin/bash\n')
    symlinkSync(outside, join(ws, 'list.txt'))
    for (const file of [outside, 'list.txt']) {
      const r = await runAction({ cwd: ws, inputs: ipr({ 'targets-file': file }) })
      expect(r.code).not.toBe(0)
      expect(errors(r.stdout)[0]).toContain("Input 'targets-file'")
      expect(r.stdout).not.toContain('root:x:0:0')
    }
    expect(iproyal.requests).toHaveLength(0)
  })

  it('a file with an unreadable line quotes its line number, never its content', async () => {
    const ws = workspace()
    writeFileSync(join(ws, 'list.txt'), `${hashes(1)[0]}\nsecret-\u0007-value\n`)
    const r = await runAction({ cwd: ws, inputs: ipr({ 'targets-file': 'list.txt' }) })
    expect(r.code).not.toBe(0)
    expect(errors(r.stdout)[0]).toContain('line 2')
    expect(r.stdout).not.toContain('secret-')
  })

  it('a one-column CSV without a header keeps its first target', async () => {
    const ws = workspace()
    writeFileSync(join(ws, 'hashes.csv'), `${hashes(3).join('\n')}\n`)
    const r = await runAction({ cwd: ws, inputs: ipr({ 'targets-file': 'hashes.csv', 'dry-run': 'true' }) })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.outputs.targets)).toEqual(hashes(3))
  })

  it('the summary and outputs are written even when the report file cannot be', async () => {
    const ws = workspace()
    const dir = join(ws, 'reports')
    mkdirSync(dir)
    // Writable when checked, gone when written: the report directory is replaced by a file mid-run.
    iproyal.server.queueFaults(
      [
        {
          kind: 'custom',
          respond: () => {
            rmSync(dir, { recursive: true })
            writeFileSync(dir, 'not a directory')
            return { status: 204 }
          }
        }
      ],
      (q) => q.method === 'DELETE'
    )
    const r = await runAction({ cwd: ws, inputs: ipr({ targets: hashes(1).join(','), 'report-path': 'reports/r.json' }) })
    expect(r.outputs['terminated-count']).toBe('1')
    expect(r.summary).toContain('could not be written')
  })
})

describe('inputs', () => {
  it.each([
    ['provider named after an Object.prototype member', 'provider', { provider: 'constructor' }],
    ['a base-url holding a line break', 'base-url', { 'base-url': 'https://resi-api.iproyal.com/v1\r\nX-Injected: 1' }],
    ['a JSON filter with a key given twice', 'filter', { targets: '', filter: '{"search":"a","search":"b"}' }]
  ])('%s: one error naming %s, nothing sent', async (_what, input, over) => {
    const r = await runAction({ inputs: ipr({ targets: hashes(1).join(','), ...over }) })
    expect(r.code).not.toBe(0)
    expect(errors(r.stdout)).toHaveLength(1)
    expect(errors(r.stdout)[0]).toContain(`Input '${input}'`)
    expect(r.stdout).not.toContain('Cannot read properties')
    expect(iproyal.requests).toHaveLength(0)
  })

  it('plain http:// to a host that is not loopback is warned about; a target dropped as a # comment is reported', async () => {
    const r = await runAction({
      inputs: ipr({
        targets: `${hashes(1)[0]}\n#${hashes(2)[1]}`,
        'base-url': 'http://iproyal.invalid/v1',
        'dry-run': 'true',
        'timeout-seconds': '2',
        'max-retries': '0'
      })
    })
    expect(visibleLog(r.stdout)).toMatch(/::warning::base-url is plain http:\/\/ to a host that is not loopback/)
    expect(visibleLog(r.stdout)).toContain('1 line(s) starting with # were read as comments, not targets (targets line 2)')
  })
})

describe('waits and bodies', () => {
  it('a redirect fails once, naming where it pointed; it is neither followed nor retried', async () => {
    iproyal.server.queueFaults(
      [{ kind: 'custom', respond: () => ({ status: 302, headers: { location: 'https://login.example.com/sso?next=x' } }) }],
      (q) => q.method === 'DELETE'
    )
    const r = await runAction({ inputs: ipr({ targets: hashes(1).join(',') }) })
    expect(r.code).not.toBe(0)
    expect(iproyal.server.mutating()).toHaveLength(1)
    const res = (r.report.results as Result[])[0]
    expect(res).toMatchObject({ outcome: 'failed', status: 302, code: 'redirect' })
    expect(res.message).toContain('https://login.example.com/sso')
  })

  it('a response body over the cap is refused as it streams, not read whole', async () => {
    const huge = 'y'.repeat(17 * 1024 * 1024)
    iproyal.server.queueFaults(
      [{ kind: 'custom', respond: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: `{"pad":"${huge}"}` }) }],
      (q) => q.method === 'DELETE'
    )
    const r = await runAction({ inputs: ipr({ targets: hashes(1).join(',') }), measureRss: true })
    expect(r.code).not.toBe(0)
    expect((r.report.results as Result[])[0].message).toMatch(/byte limit/)
    if (r.peakRssKb !== undefined) expect(r.peakRssKb).toBeLessThan(400 * 1024)
  })
})

describe('DeNovoLab long runs', () => {
  it('with username/password, a token that expires mid-run is minted again once and the run goes on', async () => {
    dnlA.expireMintedAfterRequests = 10
    const targets = Array.from({ length: 8 }, (_, i) => String(i + 1)).join(',')
    const r = await runAction({ inputs: dnlIn(dnlA, { token: DNL_PASSWORD, username: DNL_USERNAME, targets, concurrency: '1' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('8')
    expect(dnlA.minted).toHaveLength(2)
    expect(visibleLog(r.stdout)).toContain('minting an admin token for ops-admin again')
    for (const m of dnlA.minted) {
      expect(r.stdout).toContain(`::add-mask::${m.token}`)
      for (const t of [visibleLog(r.stdout), r.summary, JSON.stringify(r.report)]) expect(t).not.toContain(m.token)
    }
    for (const t of [visibleLog(r.stdout), r.summary, JSON.stringify(r.report)]) expect(t).not.toContain(DNL_PASSWORD)
  })
})

describe('a targets-file line the provider refuses', () => {
  it('is named by its line, never quoted, and the error names targets-file', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'hard-ws-'))
    writeFileSync(join(ws, 'list.txt'), `${hashes(1)[0]}\nroot:x:0:0:root:/root:/bin/bash\n`)
    const r = await runAction({ cwd: ws, inputs: ipr({ 'targets-file': 'list.txt' }) })
    expect(r.code).not.toBe(0)
    const errs = errors(r.stdout)
    expect(errs).toHaveLength(1)
    expect(errs[0]).toContain("Input 'targets-file': line 2 of list.txt is not a valid user-hash for iproyal")
    expect(r.stdout).not.toContain('root:x:0:0')
    expect(iproyal.requests).toHaveLength(0)
  })
})
