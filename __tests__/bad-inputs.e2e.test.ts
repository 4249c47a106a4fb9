// Every bad input ends the step with one error that names the input, a non-zero exit code,
// and not a single request to the provider. Runs the bundled action as the runner does.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IPRoyalEmulator, IPROYAL_TOKEN } from './emulators/iproyal/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

const emu = new IPRoyalEmulator()
let baseUrl = ''
const files = mkdtempSync(join(tmpdir(), 'bad-inputs-'))
const file = (name: string, text: string): string => {
  const p = join(files, name)
  writeFileSync(p, text)
  return p
}

beforeAll(async () => {
  baseUrl = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.server.reset())

const HASHES = 'h000001use,h000002use,h000003use'

type Case = [title: string, input: string, inputs: Record<string, string>]

const cases: Case[] = [
  ['unknown provider', 'provider', { provider: 'no-such-provider' }],
  ['empty provider', 'provider', { provider: '' }],
  ['missing token', 'token', { token: '' }],
  ['no targets and no filter', 'targets', { targets: '' }],
  ['only separators as targets', 'targets', { targets: ' , ,\n' }],
  ['targets and a selecting filter together', 'filter', { filter: 'search=user' }],
  ['targets and targets-file together', 'targets-file', { 'targets-file': file('both.txt', 'h000001use\n') }],
  ['malformed JSON targets', 'targets', { targets: '["h000001use",' }],
  ['JSON targets that are not strings', 'targets', { targets: '[{"hash":"h000001use"}]' }],
  ['a target that is not a user hash', 'targets', { targets: '../../admin' }],
  ['targets-file that does not exist', 'targets-file', { targets: '', 'targets-file': join(files, 'missing.txt') }],
  ['targets-file CSV with an unclosed quote', 'targets-file', { targets: '', 'targets-file': file('q.csv', 'user-hash,note\n"h000001use,x\n') }],
  ['targets-file CSV without a target column', 'targets-file', { targets: '', 'targets-file': file('cols.csv', 'email,note\na@b.c,x\n') }],
  ['targets-file CSV with a short row', 'targets-file', { targets: '', 'targets-file': file('short.csv', 'user-hash,note\nh000001use\n') }],
  ['targets-file with invalid JSON', 'targets-file', { targets: '', 'targets-file': file('bad.json', '["h000001use" "x"]') }],
  ['non-numeric max-targets', 'max-targets', { 'max-targets': 'lots' }],
  ['negative batch-size', 'batch-size', { 'batch-size': '-5' }],
  ['zero concurrency', 'concurrency', { concurrency: '0' }],
  ['fractional rate-limit', 'rate-limit', { 'rate-limit': '1.5' }],
  ['non-numeric timeout-seconds', 'timeout-seconds', { 'timeout-seconds': 'ten' }],
  ['max-retries out of range', 'max-retries', { 'max-retries': '99' }],
  ['non-numeric expected-count', 'expected-count', { 'expected-count': 'three' }],
  ['plan larger than max-targets', 'max-targets', { 'max-targets': '2' }],
  ['expected-count mismatch', 'expected-count', { 'expected-count': '2' }],
  ['expected-plan-hash mismatch', 'expected-plan-hash', { 'expected-plan-hash': 'a'.repeat(64) }],
  ['expected-plan-hash that is not a sha256', 'expected-plan-hash', { 'expected-plan-hash': 'approved' }],
  ['unknown filter key', 'filter', { targets: '', filter: 'name=bob' }],
  ['filter line without =', 'filter', { targets: '', filter: 'search' }],
  ['malformed JSON filter', 'filter', { targets: '', filter: '{"search": }' }],
  ['empty JSON filter', 'filter', { targets: '', filter: '{}' }],
  ['a filter key every JS object has (JSON)', 'filter', { targets: '', filter: '{"isPrototypeOf":"1"}' }],
  ['a filter key every JS object has (key=value)', 'filter', { targets: '', filter: 'toString=x' }],
  ['a __proto__ filter key', 'filter', { targets: '', filter: '__proto__=x' }],
  ['empty filter value', 'filter', { targets: '', filter: 'search=' }],
  ['unknown target-type', 'target-type', { 'target-type': 'email' }],
  ['dry-run that is not a boolean', 'dry-run', { 'dry-run': 'maybe' }],
  ['unknown fail-on', 'fail-on', { 'fail-on': 'sometimes' }],
  ['base-url that is not a URL', 'base-url', { 'base-url': 'resi-api.iproyal.com' }],
  ['base-url with credentials in it', 'base-url', { 'base-url': 'https://user:pw@resi-api.iproyal.com/v1' }]
]

describe('bad inputs', () => {
  it.each(cases)('%s: names %s, exits non-zero, sends nothing', async (_title, input, overrides) => {
    const r = await runAction({
      inputs: { provider: 'iproyal', token: IPROYAL_TOKEN, targets: HASHES, 'base-url': baseUrl, ...overrides }
    })
    expect(r.code).not.toBe(0)
    const errors = visibleLog(r.stdout)
      .split('\n')
      .filter((l: string) => l.startsWith('::error::'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`Input '${input}'`)
    expect(errors[0]).toMatch(/Fix: /)
    expect(emu.server.requests).toHaveLength(0)
    expect(visibleLog(r.stdout)).not.toContain(IPROYAL_TOKEN)
    expect(r.stderr).not.toContain(IPROYAL_TOKEN)
  })

  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20)
  })
})
