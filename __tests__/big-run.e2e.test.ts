// 130,000 targets through the bundled action (past the 125,000 at which spreading results into an array
// overflowed the call stack, issue 10): memory stays bounded, the step summary stays under
// GitHub's 1 MiB limit, and progress is logged at a steady rate rather than per request.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from './emulators/iproyal/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

const N = 130_000
const emu = new IPRoyalEmulator({ subUsers: makeSubUsers(N, 'big') })
let baseUrl = ''
beforeAll(async () => {
  emu.server.recordBodies = false
  baseUrl = await emu.start()
})
afterAll(() => emu.stop())

describe('a 130,000-target run', () => {
  it('accounts for every target with bounded memory, a small summary and steady progress lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'big-'))
    const file = join(dir, 'hashes.txt')
    writeFileSync(file, [...emu.subUsers.keys()].join('\n'))
    const r = await runAction({
      cwd: dir,
      inputs: {
        provider: 'iproyal',
        token: IPROYAL_TOKEN,
        'base-url': baseUrl,
        'targets-file': file,
        'max-targets': String(N),
        'rate-limit': '60000',
        concurrency: '8'
      },
      measureRss: true,
      timeoutMs: 120_000
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe(String(N))
    expect(r.report.results).toHaveLength(N)
    expect(emu.server.requests.filter((q: { method: string }) => q.method === 'DELETE')).toHaveLength(N / 100)
    expect(Buffer.byteLength(r.summary)).toBeLessThan(1024 * 1024)
    expect(r.summary).toMatch(/Showing \d+ of 130000 targets/)
    // 1,300 batches: no group per batch, a progress line at most every 2 s plus the last one.
    const log = visibleLog(r.stdout).split('\n')
    const progress = log.filter((l: string) => /^batch \d+\/1300 done/.test(l))
    expect(progress.length).toBeGreaterThanOrEqual(1)
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(r.durationMs / 2000) + 2)
    expect(log.filter((l: string) => l.startsWith('::group::batch'))).toHaveLength(0)
    expect(log.length).toBeLessThan(1200) // the plan lists the first 1,000 targets, then a count
    // The targets output would exceed GitHub's 1 MiB output limit: left empty, with a warning.
    expect(r.outputs.targets).toBe('')
    expect(r.stdout).toContain('::warning::The targets output is left empty')
    // About 3 KB per target at its peak (the plan, the results, the report's JSON): bounded, and far from the runner's 7 GB.
    if (r.peakRssKb !== undefined) expect(r.peakRssKb / 1024).toBeLessThan(450)
  })
})
