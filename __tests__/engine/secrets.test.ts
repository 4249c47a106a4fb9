import { describe, expect, it } from '@jest/globals'
import { Logger, escapeLogText } from '../../src/engine/logger.js'
import { SecretStore } from '../../src/engine/secrets.js'
import { markdownText } from '../../src/report/summary.js'
import { RecordingSink } from './helpers.js'

const SECRET = `s3cr&t<"x'>/+ =%~é-Zz`

describe('SecretStore', () => {
  const store = (): { s: SecretStore; masked: string[] } => {
    const masked: string[] = []
    const s = new SecretStore((v) => masked.push(v))
    s.add(`  ${SECRET}\n`)
    return { s, masked }
  }

  it.each([
    ['as given', SECRET],
    ['URL-encoded, upper-case hex', encodeURIComponent(SECRET)],
    ['URL-encoded, lower-case hex', encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['form-encoded', new URLSearchParams({ v: SECRET }).toString().slice(2)],
    ['JSON-escaped', JSON.stringify(SECRET).slice(1, -1)],
    ['HTML-escaped with names', SECRET.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')],
    ['HTML-escaped with hex numbers', SECRET.replace(/[&<>"']/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`)],
    ['base64', Buffer.from(SECRET).toString('base64')],
    ['base64 without padding', Buffer.from(SECRET).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(SECRET).toString('base64url')]
  ])('scrubs the secret %s, and masks that form with the runner', (_, form) => {
    const { s, masked } = store()
    expect(s.scrub(`before ${form} after`)).toBe('before *** after')
    expect(masked).toContain(form)
  })

  it('scrubs every long line of a multi-line secret (a PEM key), since logs break lines', () => {
    const lines = ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj', 'short']
    const pem = ['-----BEGIN PRIVATE KEY-----', ...lines, '-----END PRIVATE KEY-----'].join('\n')
    const s = new SecretStore()
    s.add(pem)
    expect(s.scrub(`line: ${lines[1]}`)).toBe('line: ***')
    expect(s.scrub(`${lines[0]}\r\n${lines[1]}`)).toBe('***\r\n***')
    // Markers and short lines are not secrets on their own.
    expect(s.scrub('-----BEGIN PRIVATE KEY----- short')).toBe('-----BEGIN PRIVATE KEY----- short')
    expect(s.scrub(pem)).toBe('***')
  })

  it('removes a secret that contains another one whole (longest first)', () => {
    const s = new SecretStore()
    s.add('abcd1234')
    s.add('abcd1234-and-more')
    expect(s.scrub('x abcd1234-and-more y abcd1234')).toBe('x *** y ***')
  })

  it('ignores values too short to mask safely, and empty ones', () => {
    const masked: string[] = []
    const s = new SecretStore((v) => masked.push(v))
    s.add(undefined)
    s.add('')
    s.add(' ab ')
    expect(masked).toEqual([])
    expect(s.scrub('ab the ab')).toBe('ab the ab')
    s.add('abcd1234')
    const count = masked.length
    s.add('abcd1234') // again: nothing new to mask
    expect(masked).toHaveLength(count)
  })

  it.each([
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig', 'Authorization: Bearer ***'],
    ['authorization: basic dXNlcjpwYXNz', 'authorization: basic ***'],
    ['Authorization: SSWS 00abcDEF_ghi-jkl', 'Authorization: SSWS ***'],
    ['{"access_token":"zzzz1111","token_type":"bearer"}', '{"access_token":"***","token_type":"bearer"}'],
    ['{"refresh_token": "r-123456"}', '{"refresh_token": "***"}'],
    ['grant_type=password&password=hunter22&user=a', 'grant_type=password&password=***&user=a'],
    ['client_secret=abc123&client_id=x', 'client_secret=***&client_id=x'],
    ['client_assertion=eyJ.a.b', 'client_assertion=***'],
    ['X-Auth-Token: 0123456789abcdef', 'X-Auth-Token: ***'],
    ['"X-Security-Token":"gQ5jbi1ub3J0aC"', '"X-Security-Token":"***"'],
    ['{"private_key":"-----BEGIN"}', '{"private_key":"***"}'],
    ['Credential=AK/20260101, Signature=0123456789abcdef0123', 'Credential=AK/20260101, Signature=***'],
    ['token=abcd', 'token=***'],
    ['a plain sentence about a token', 'a plain sentence about a token']
  ])('scrubs credential-shaped text: %s', (text, expected) => {
    expect(new SecretStore().scrub(text)).toBe(expected)
  })
})

describe('escapeLogText and the Logger', () => {
  it('makes line breaks visible, so provider text cannot start a line of its own', () => {
    expect(escapeLogText('a\r\nb\nc')).toBe('a\\r\\nb\\nc')
    expect(escapeLogText('ok\n::error::pwned')).toBe('ok\\n:\u200b:error:\u200b:pwned')
  })

  it('breaks workflow commands (::) and ##[ markers', () => {
    expect(escapeLogText('::add-mask::x')).toBe(':\u200b:add-mask:\u200b:x')
    expect(escapeLogText('##[group]fake')).toBe('#\u200b#[group]fake')
    expect(escapeLogText('  ##[error]fake')).toBe('  #\u200b#[error]fake')
    expect(escapeLogText('text ##[not at the start]')).toBe('text ##[not at the start]')
    expect(escapeLogText('a single : colon')).toBe('a single : colon')
  })

  it('scrubs, then escapes, every kind of line it writes', () => {
    const sink = new RecordingSink()
    const secrets = new SecretStore()
    secrets.add('tok-SECRET-123')
    const log = new Logger(sink, secrets)
    log.info('info tok-SECRET-123')
    log.debug('debug\n::set-output::x')
    log.warning('warn tok-SECRET-123', { title: 't' })
    log.notice('notice')
    log.annotate('error ::stop-commands::')
    log.group('group tok-SECRET-123', ['line\none', 'tok-SECRET-123'])
    expect(sink.lines).toEqual([
      { kind: 'info', text: 'info ***' },
      { kind: 'debug', text: 'debug\\n:\u200b:set-output:\u200b:x' },
      { kind: 'warning', text: 'warn ***', props: { title: 't' } },
      { kind: 'notice', text: 'notice', props: undefined },
      { kind: 'error', text: 'error :\u200b:stop-commands:\u200b:', props: undefined },
      { kind: 'group', text: 'group ***' },
      { kind: 'info', text: 'line\\none' },
      { kind: 'info', text: '***' },
      { kind: 'endgroup', text: '' }
    ])
  })
})

describe('markdownText', () => {
  it.each([
    ['a link', '[click](https://evil.example/x)', '\\[click\\]\\(https:\\/\\/evil.example/x\\)'],
    ['an image', '![pixel](http://t.example/p.png)', '\\!\\[pixel\\]\\(http:\\/\\/t.example/p.png\\)'],
    ['emphasis', '*bold* _it_ ~~gone~~', '\\*bold\\* \\_it\\_ \\~\\~gone\\~\\~'],
    ['a code span', '`rm -rf`', '\\`rm -rf\\`'],
    ['table pipes', 'a | b', 'a \\| b'],
    ['a bare autolink', 'see https://evil.example', 'see https:\\/\\/evil.example'],
    ['a www autolink', 'visit www.evil.example or WWW.EVIL.example', 'visit www\\.evil.example or WWW\\.EVIL.example'],
    ['HTML', '<img src=x onerror=alert(1)> & co', '&lt;img src=x onerror=alert\\(1\\)&gt; &amp; co'],
    ['a backslash', 'C:\\path', 'C:\\\\path'],
    ['line breaks', 'one\r\ntwo\nthree', 'one two three']
  ])('makes %s inert', (_, input, expected) => {
    expect(markdownText(input)).toBe(expected)
  })

  it('cuts long text before escaping, and shows nothing for empty values', () => {
    expect(markdownText('x'.repeat(10), 4)).toBe('xxxx…')
    expect(markdownText('<'.repeat(10), 2)).toBe('&lt;&lt;…')
    expect(markdownText(undefined)).toBe('')
    expect(markdownText(null)).toBe('')
    expect(markdownText('')).toBe('')
    expect(markdownText(42)).toBe('42')
  })
})
