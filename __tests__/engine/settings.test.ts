import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InputError } from '../../src/engine/errors.js'
import { run } from '../../src/main.js'
import { providerNames } from '../../src/providers/index.js'
import { SHARED_INPUTS, allInputNames, readSettings } from '../../src/settings.js'
import { RecordingSink, VirtualClock, scriptedFetch } from './helpers.js'

let root: string
let ws: string
let temp: string
let outside: string
let env: NodeJS.ProcessEnv

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'settings-'))
  ws = join(root, 'workspace')
  temp = join(root, 'runner-temp')
  outside = join(root, 'elsewhere')
  for (const d of [ws, temp, outside]) mkdirSync(d)
  env = { GITHUB_WORKSPACE: ws, RUNNER_TEMP: temp }
})

afterAll(() => rmSync(root, { recursive: true, force: true }))

const IPROYAL = { provider: 'iproyal', token: 'iproyal-token-123456', targets: 'abc123' }
const HUAWEI = {
  provider: 'huaweicloud',
  token: 'huawei-secret-key-0123456789',
  region: 'ap-southeast-1',
  'access-key-id': 'ABCDEFGHIJ0123456789',
  targets: 'user-1'
}

/** readSettings over a fixed set of inputs, recording what was masked. */
function read(inputs: Record<string, string>, e: NodeJS.ProcessEnv = env) {
  const masked: string[] = []
  const asked: string[] = []
  const settings = readSettings(
    (name) => {
      asked.push(name)
      return inputs[name] ?? ''
    },
    e,
    (v) => masked.push(v)
  )
  return { settings, masked, asked }
}

/** The InputError readSettings throws for these inputs. */
function refusal(inputs: Record<string, string>, e: NodeJS.ProcessEnv = env): InputError {
  try {
    read(inputs, e)
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return err as InputError
  }
  throw new Error(`expected an InputError for ${JSON.stringify(inputs)}`)
}

function file(name: string, content: string | Buffer, dir = ws): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

describe('readSettings: a valid configuration', () => {
  it('reads the shared inputs with the provider defaults, and reports no secret', () => {
    const { settings, masked } = read({ ...IPROYAL, 'expected-plan-hash': 'AB'.repeat(32), 'dry-run': 'YES', 'fail-on': ' All ' })
    expect(settings).toMatchObject({
      token: 'iproyal-token-123456',
      targets: ['abc123'],
      targetType: 'user-hash',
      baseUrl: 'https://resi-api.iproyal.com/v1',
      dryRun: true,
      maxTargets: 25,
      expectedPlanHash: 'ab'.repeat(32),
      batchSize: 100,
      concurrency: 4,
      rateLimit: 120,
      maxRetries: 5,
      timeoutSeconds: 30,
      maxWaitSeconds: 300,
      failOn: 'all',
      ifUnresolved: 'fail',
      reportPath: join(temp, 'terminate-sessions-report.json'),
      notes: []
    })
    expect(settings.provider.name).toBe('iproyal')
    expect(masked).toContain('iproyal-token-123456')
    expect(JSON.stringify(settings.reported)).not.toContain('iproyal-token-123456')
    expect(settings.reported).toMatchObject({ targetsSource: 'targets', targetsGiven: 1, tokenGiven: true, 'dry-run': true, 'fail-on': 'all' })
    // The probe of the report path leaves nothing behind.
    expect(readdirSync(temp)).toEqual([])
  })

  it('fills a provider URL template from its options, and leaves unreported and secret inputs out of the report', () => {
    const { settings, masked } = read({ ...HUAWEI, 'security-token': 'sts-token-abcdefgh' })
    expect(settings.baseUrl).toBe('https://identitystore.ap-southeast-1.myhuaweicloud.com')
    expect(settings.options).toMatchObject({ region: 'ap-southeast-1', accessKeyId: 'ABCDEFGHIJ0123456789', securityToken: 'sts-token-abcdefgh' })
    expect(masked).toContain('sts-token-abcdefgh')
    expect(settings.reported.region).toBe('ap-southeast-1')
    expect(JSON.stringify(settings.reported)).not.toContain('ABCDEFGHIJ0123456789')
    expect(JSON.stringify(settings.reported)).not.toContain('sts-token-abcdefgh')
  })

  it('lists every input of every provider once', () => {
    const names = allInputNames()
    for (const n of [
      'provider',
      'token',
      'targets',
      'report-path',
      'client-id',
      'region',
      'security-token',
      'username',
      ...Object.values(SHARED_INPUTS).map((d) => d.name)
    ])
      expect(names.has(n)).toBe(true)
  })
})

describe('readSettings: shared inputs', () => {
  const bad: Array<[string, string]> = [
    ['dry-run', 'maybe'],
    ['max-targets', '-1'],
    ['max-targets', '1.5'],
    ['max-targets', '10000001'],
    ['expected-count', 'ten'],
    ['expected-plan-hash', 'abc'],
    ['expected-plan-hash', 'g'.repeat(64)],
    ['batch-size', '0'],
    ['batch-size', '10001'],
    ['concurrency', '0'],
    ['concurrency', '65'],
    ['rate-limit', '0'],
    ['rate-limit', '100001'],
    ['max-retries', '21'],
    ['max-retries', 'two'],
    ['timeout-seconds', '0'],
    ['timeout-seconds', '601'],
    ['max-wait-seconds', '21601'],
    ['max-wait-seconds', 'forever'],
    ['fail-on', 'sometimes'],
    ['if-unresolved', 'ignore'],
    ['base-url', 'ftp://files.example.test'],
    ['base-url', 'https://user:pw@api.example.test'],
    ['base-url', 'https://api.example.test/v1?x=1'],
    ['base-url', 'https://api.example.test/v1#frag'],
    ['base-url', 'not a url'],
    ['base-url', 'https://api.example.test/v1\r\nX-Injected: 1'],
    ['base-url', 'https://api.example.test/v1\rX']
  ]
  it.each(bad)('%s = %j is refused naming the input and the fix', (name, value) => {
    const err = refusal({ ...IPROYAL, [name]: value })
    expect(err.input).toBe(name)
    expect(err.message).toMatch(new RegExp(`^Input '${name}': .+\\. Fix: .+`))
    expect(err.message).not.toContain('\n')
  })

  it('every shared input is covered above', () => {
    const covered = new Set(bad.map(([n]) => n))
    const missing = Object.values(SHARED_INPUTS)
      .map((d) => d.name)
      .filter((n) => !covered.has(n))
    expect(missing).toEqual(['auth-base-url'])
    expect(refusal({ provider: 'box', token: 'box-access-token-123', targets: '123', 'auth-base-url': 'https://a b' }).input).toBe('auth-base-url')
  })

  it('refuses auth-base-url for a provider without an authentication host', () => {
    expect(refusal({ ...IPROYAL, 'auth-base-url': 'https://auth.example.test' }).message).toContain('is set, but iproyal has no separate authentication host')
  })

  it('warns about plain http:// to a host that is not loopback, not about loopback', () => {
    expect(read({ ...IPROYAL, 'base-url': 'http://proxy.example.test/v1/' }).settings.notes).toEqual([
      'warning: base-url is plain http:// to a host that is not loopback: the credential travels unencrypted'
    ])
    expect(read({ ...IPROYAL, 'base-url': 'http://proxy.example.test/v1/' }).settings.baseUrl).toBe('http://proxy.example.test/v1')
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:3000/api', 'http://[::1]:9000'])
      expect(read({ ...IPROYAL, 'base-url': url }).settings.notes).toEqual([])
    expect(read({ provider: 'box', token: 'box-access-token-123', targets: '123', 'auth-base-url': 'http://auth.example.test' }).settings.notes[0]).toContain(
      'auth-base-url is plain http://'
    )
  })

  it('refuses a target list larger than max-targets before anything is sent', () => {
    const err = refusal({ ...IPROYAL, targets: 'a1,a2,a3', 'max-targets': '2' })
    expect(err.input).toBe('max-targets')
    expect(err.message).toContain('3 targets were given, more than max-targets (2)')
  })
})

describe('readSettings: provider, token and provider inputs', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'dropbox'])('refuses provider %j cleanly', (name) => {
    const err = refusal({ ...IPROYAL, provider: name })
    expect(err.input).toBe('provider')
    expect(err.message).toBe(`Input 'provider': "${name.toLowerCase()}" is not a supported provider. Fix: set provider to one of: ${providerNames.join(', ')}`)
  })

  it('refuses an empty provider, and reads one in any case', () => {
    expect(refusal({ ...IPROYAL, provider: ' ' }).message).toContain("Input 'provider': is empty")
    expect(read({ ...IPROYAL, provider: ' IPRoyal ' }).settings.provider.name).toBe('iproyal')
  })

  it('refuses a token shorter than 8 characters, masking it first', () => {
    const masked: string[] = []
    expect(() =>
      readSettings(
        (n) => ({ ...IPROYAL, token: 'short' })[n] ?? '',
        env,
        (v) => masked.push(v)
      )
    ).toThrow("Input 'token': is 5 characters long, too short to be masked in logs safely (at least 8)")
    expect(masked).toContain('short')
    expect(refusal({ ...IPROYAL, token: '' }).message).toContain("Input 'token': is empty")
  })

  it('refuses a secret provider input shorter than 8 characters without echoing it', () => {
    const err = refusal({ ...HUAWEI, 'security-token': 'abc1' })
    expect(err.input).toBe('security-token')
    expect(err.message).toContain('is 4 characters long, too short')
    const spaced = refusal({ ...HUAWEI, 'security-token': 'has spaces in it' })
    expect(spaced.input).toBe('security-token')
    expect(spaced.message).not.toContain('has spaces in it')
  })

  it('refuses an input that belongs to another provider', () => {
    for (const [name, value] of [
      ['client-id', 'abc'],
      ['region', 'ap-southeast-1'],
      ['security-token', 'sts-token-abcdefgh'],
      ['username', 'admin']
    ]) {
      const err = refusal({ ...IPROYAL, [name]: value })
      expect(err.input).toBe(name)
      expect(err.message).toBe(`Input '${name}': is set, but iproyal does not use it. Fix: remove ${name}, or check provider (iproyal)`)
    }
  })

  it('refuses a provider input with a bad value, and a target type the provider lacks', () => {
    expect(refusal({ provider: 'box', token: 'box-client-secret-1', targets: '123', 'client-id': 'bad id!' }).input).toBe('client-id')
    const err = refusal({ ...IPROYAL, 'target-type': 'email' })
    expect(err.message).toContain('"email" is not a iproyal target type')
  })

  it('requires base-url when the provider has no default', () => {
    expect(refusal({ provider: 'denovolab', token: 'dnl-admin-token-1', targets: '42' }).message).toContain("Input 'base-url': is required for denovolab")
  })
})

describe('readSettings: targets and filter', () => {
  it('reports comment lines and duplicates in notes', () => {
    const { settings } = read({ ...IPROYAL, targets: '# leavers\nabc\n  # more\nabc\ndef' })
    expect(settings.targets).toEqual(['abc', 'def'])
    expect(settings.notes).toEqual(['1 duplicate targets removed', '2 line(s) starting with # were read as comments, not targets (targets line 1, 3)'])
  })

  it('names at most 20 comment lines', () => {
    const text = Array.from({ length: 25 }, (_, i) => `# c${i}`).join('\n') + '\nabc'
    const note = read({ ...IPROYAL, targets: text }).settings.notes[0]
    expect(note).toContain('25 line(s)')
    expect(note).toContain('line 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, …)')
  })

  it('refuses a JSON filter that gives a key twice (JSON.parse would keep only the last)', () => {
    const err = refusal({ provider: 'iproyal', token: IPROYAL.token, filter: '{"search": "team-a", "search": "everyone"}' })
    expect(err.input).toBe('filter')
    expect(err.message).toContain('key "search" is given twice')
    expect(refusal({ provider: 'iproyal', token: IPROYAL.token, filter: '{"search": "a", " search ": "b"}' }).message).toContain('given twice')
    expect(refusal({ provider: 'iproyal', token: IPROYAL.token, filter: 'search=a\nsearch=b' }).message).toContain('given twice')
  })

  it('reads a select filter instead of targets, and refuses both together', () => {
    const { settings } = read({ provider: 'iproyal', token: IPROYAL.token, filter: '{"search": "team-a"}' })
    expect(settings.filter).toEqual({ search: 'team-a' })
    expect(settings.reported.targetsSource).toBe('filter')
    expect(refusal({ ...IPROYAL, filter: 'search=team-a' }).message).toContain('is set together with targets')
  })

  it('refuses unknown filter keys (prototype names included), an empty filter and bad values', () => {
    for (const key of ['toString', '__proto__', 'constructor', 'nope']) {
      const err = refusal({ provider: 'iproyal', token: IPROYAL.token, filter: `${key}=x` })
      expect(err.message).toContain(`unknown key "${key}" for iproyal`)
    }
    expect(refusal({ provider: 'iproyal', token: IPROYAL.token, filter: '{}' }).message).toContain("Input 'filter': is empty")
    expect(refusal({ provider: 'iproyal', token: IPROYAL.token, filter: `search=${'x'.repeat(201)}` }).message).toContain('is longer than 200 characters')
    expect(refusal({ provider: 'iproyal', token: IPROYAL.token, filter: '{"search": ["a"]}' }).message).toContain('value of "search" is object')
  })

  it('takes a narrowing filter together with targets', () => {
    expect(read({ ...HUAWEI, filter: 'ip_address=203.0.113.7' }).settings.filter).toEqual({ ip_address: '203.0.113.7' })
    expect(refusal({ ...HUAWEI, targets: '', filter: 'ip_address=203.0.113.7' }).message).toContain("Input 'targets': holds no targets")
  })

  it('refuses no targets at all, naming where they should be', () => {
    expect(refusal({ provider: 'iproyal', token: IPROYAL.token }).message).toContain(
      "Input 'targets': holds no targets. Fix: list at least one user-hash in targets or targets-file, or a filter (search)"
    )
  })

  it('refuses targets and targets-file together', () => {
    file('both.txt', 'abc\n')
    expect(refusal({ ...IPROYAL, 'targets-file': 'both.txt' }).message).toContain("Input 'targets-file': is set together with targets")
  })
})

describe('readSettings: targets-file', () => {
  it('reads a file in the workspace or RUNNER_TEMP, by relative or absolute path, with its comment lines', () => {
    file('list.txt', '# leavers\nabc\ndef\n')
    const { settings } = read({ ...IPROYAL, targets: '', 'targets-file': 'list.txt' })
    expect(settings.targets).toEqual(['abc', 'def'])
    expect(settings.notes).toEqual(['1 line(s) starting with # were read as comments, not targets (targets-file line 1)'])
    expect(settings.reported.targetsSource).toBe('targets-file')
    const inTemp = file('from-temp.txt', 'ghi\n', temp)
    expect(read({ ...IPROYAL, targets: '', 'targets-file': inTemp }).settings.targets).toEqual(['ghi'])
  })

  it('keeps the first target of a one-column CSV without a header', () => {
    file('hashes.csv', 'abc\ndef\n')
    expect(read({ ...IPROYAL, targets: '', 'targets-file': 'hashes.csv' }).settings.targets).toEqual(['abc', 'def'])
    file('headed.csv', 'User Hash\nabc\n')
    expect(read({ ...IPROYAL, targets: '', 'targets-file': 'headed.csv' }).settings.targets).toEqual(['abc'])
    file('wide.csv', 'name,id,note\n"Doe, J",abc,"a ""quoted"" note"\n# skipped\n\nBob,def,\n')
    const wide = read({ ...IPROYAL, targets: '', 'targets-file': 'wide.csv' }).settings
    expect(wide.targets).toEqual(['abc', 'def'])
    expect(wide.notes[0]).toContain('targets-file line 3')
  })

  it('reads JSON arrays of strings, numbers and objects with the column', () => {
    file('list.json', JSON.stringify(['abc', { id: 'def' }, { 'user-hash': 'ghi', other: 1 }]))
    expect(read({ ...IPROYAL, targets: '', 'targets-file': 'list.json' }).settings.targets).toEqual(['abc', 'def', 'ghi'])
  })

  it('refuses a path outside the workspace and RUNNER_TEMP', () => {
    const away = file('away.txt', 'abc\n', outside)
    for (const path of [away, '../elsewhere/away.txt', '/etc/hostname']) {
      const err = refusal({ ...IPROYAL, targets: '', 'targets-file': path })
      expect(err.input).toBe('targets-file')
      expect(err.message).toContain('is outside the workspace and RUNNER_TEMP')
    }
  })

  it('refuses a path through a symlink, to a file or a directory, even one that stays inside', () => {
    file('real.txt', 'abc\n')
    symlinkSync(join(ws, 'real.txt'), join(ws, 'link.txt'))
    symlinkSync(outside, join(ws, 'linked-dir'))
    file('away2.txt', 'abc\n', outside)
    for (const path of ['link.txt', 'linked-dir/away2.txt']) {
      const err = refusal({ ...IPROYAL, targets: '', 'targets-file': path })
      expect(err.input).toBe('targets-file')
      expect(err.message).toContain('goes through a symlink')
    }
  })

  it('refuses what is not a readable file, or an empty one', () => {
    mkdirSync(join(ws, 'a-dir'), { recursive: true })
    expect(refusal({ ...IPROYAL, targets: '', 'targets-file': 'a-dir' }).message).toContain('cannot read "a-dir" (not a regular file)')
    expect(refusal({ ...IPROYAL, targets: '', 'targets-file': 'missing.txt' }).message).toContain('cannot read "missing.txt" (ENOENT)')
    file('empty.txt', ' \n\n')
    expect(refusal({ ...IPROYAL, targets: '', 'targets-file': 'empty.txt' }).message).toContain('empty.txt is empty')
  })

  describe('errors about the content give line numbers, never the content', () => {
    const SECRETISH = 'root:x:0:0:Super User,,,:/root:/bin/bash'
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['binary.bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x0a, 0x41, 0x00, 0x42]), /line 1: target holds a control character/],
      ['passwd', `${SECRETISH}\ndaemon:x:1:1:daemon,,,:/usr/sbin:/usr/sbin/nologin\n`, /the first row of passwd has 4 columns and none is named/],
      ['rows.csv', `id,name\nabc,${SECRETISH}\n`, /line 2 of rows.csv has 5 cells, the first row has 2/],
      ['long.txt', `abc\n${'s'.repeat(600)}\n`, /line 2 holds a target of 600 characters/],
      ['quote.csv', `id\n"${SECRETISH}\n`, /line 2 of quote.csv has an unclosed quote/],
      ['bad.json', `["${SECRETISH}", `, /bad.json is not valid JSON/],
      ['object.json', JSON.stringify({ secret: SECRETISH }), /object.json must hold a JSON array/],
      ['items.json', JSON.stringify([{ name: SECRETISH, other: 1 }]), /item 1 has no "user-hash", "target" or "id" field/],
      ['nulls.json', JSON.stringify(['abc', null]), /item 2 is null, not a string/],
      ['ctrl.json', JSON.stringify([`${SECRETISH}\u0007`]), /item 1: target holds a control character/]
    ]
    it.each(cases)('%s', (name, content, expected) => {
      file(name, content)
      const err = refusal({ ...IPROYAL, targets: '', 'targets-file': name })
      expect(err.input).toBe('targets-file')
      expect(err.message).toMatch(expected)
      for (const part of ['root', 'Super User', '/bin/bash', 'daemon', 'sss', 'ELF']) expect(err.message).not.toContain(part)
    })
  })
})

describe('readSettings: report-path', () => {
  it('is refused outside the workspace and RUNNER_TEMP, or through a symlink', () => {
    expect(refusal({ ...IPROYAL, 'report-path': join(outside, 'r.json') }).message).toContain('is outside the workspace and RUNNER_TEMP')
    symlinkSync(outside, join(temp, 'out-link'))
    expect(refusal({ ...IPROYAL, 'report-path': join(temp, 'out-link', 'r.json') }).message).toContain('goes through a symlink')
    file('target-of-link.json', '{}', ws)
    symlinkSync(join(ws, 'target-of-link.json'), join(ws, 'report-link.json'))
    expect(refusal({ ...IPROYAL, 'report-path': 'report-link.json' }).message).toContain('goes through a symlink')
  })

  it('is refused when it is a directory, or lies under a file, before any request is sent', () => {
    mkdirSync(join(ws, 'reports'), { recursive: true })
    const dir = refusal({ ...IPROYAL, 'report-path': 'reports' })
    expect(dir.input).toBe('report-path')
    expect(dir.message).toContain('is a directory')
    file('plain.txt', 'x')
    const under = refusal({ ...IPROYAL, 'report-path': 'plain.txt/report.json' })
    expect(under.input).toBe('report-path')
    expect(under.message).toMatch(/cannot be written \((ENOTDIR|EEXIST)\)/)
  })

  it('a bad report-path fails the step before any request is sent', async () => {
    mkdirSync(join(ws, 'report-dir'), { recursive: true })
    const sink = new RecordingSink({ ...IPROYAL, 'report-path': 'report-dir' })
    const fetch = scriptedFetch(new VirtualClock(), () => ({ status: 204 }))
    const result = await run({ core: sink, fetch, env })
    expect(result).toEqual({ failed: true, cancelled: false })
    expect(sink.failed).toContain("Input 'report-path':")
    expect(sink.failed).toContain('is a directory')
    expect(fetch.requests).toHaveLength(0)
    expect(sink.outputs.size).toBe(0)
  })

  it('creates the missing directories of a good path, and writes nothing there yet', () => {
    const { settings } = read({ ...IPROYAL, 'report-path': 'out/deep/report.json' })
    expect(settings.reportPath).toBe(join(ws, 'out', 'deep', 'report.json'))
    expect(existsSync(join(ws, 'out', 'deep'))).toBe(true)
    expect(readdirSync(join(ws, 'out', 'deep'))).toEqual([])
  })

  it('defaults to the workspace without RUNNER_TEMP', () => {
    expect(read(IPROYAL, { GITHUB_WORKSPACE: ws }).settings.reportPath).toBe(join(ws, 'terminate-sessions-report.json'))
  })
})
