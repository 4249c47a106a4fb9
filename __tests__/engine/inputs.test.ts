import { describe, expect, it } from '@jest/globals'
import { InputError, unexpectedResponse } from '../../src/engine/errors.js'
import { choice, flag, httpUrl, isLoopbackHost, readDeclared, text, wholeNumber } from '../../src/engine/inputs.js'
import { send, TransportError } from '../../src/engine/http/transport.js'
import { parseFilter, parseTargetList, topLevelKeys } from '../../src/engine/targets.js'
import { rejection } from './helpers.js'

const common = { description: 'd', fix: 'the fix' }

/** The InputError (input and problem) of reading one declared input with `value`. */
function problem(decl: Parameters<typeof readDeclared>[0][string], value: string): string {
  try {
    readDeclared(
      { x: decl },
      () => value,
      () => {}
    )
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return (err as Error).message
  }
  throw new Error('expected an InputError')
}

const value = <T>(decl: { schema: { parse(v: string): T } }, v: string): T => decl.schema.parse(v)

describe('input builders', () => {
  it('text: required, pattern, length, control characters', () => {
    const t = text({ ...common, name: 'region', pattern: /^[a-z-]+$/, maxLength: 10, required: true })
    expect(
      readDeclared(
        { r: t },
        () => '  eu-west ',
        () => {}
      )
    ).toEqual({ r: 'eu-west' })
    expect(problem(t, '')).toBe("Input 'region': is empty. Fix: the fix")
    expect(problem(t, 'EU')).toBe('Input \'region\': "EU" has the wrong format. Fix: the fix')
    expect(problem(t, 'a'.repeat(11))).toContain('is 11 characters long, more than 10')
    expect(problem(t, 'a\tb')).toContain('holds a control character')
    const optional = text({ ...common, name: 'o', problem: 'is not an id', pattern: /^\d+$/ })
    expect(value(optional, ' ')).toBeUndefined()
    expect(problem(optional, 'x')).toContain("Input 'o': is not an id")
  })

  it('text, secret: masked before it is checked, never shown in the error', () => {
    const s = text({ ...common, name: 'api-key', secret: true, pattern: /^[a-z]+$/ })
    const masked: string[] = []
    expect(() =>
      readDeclared(
        { k: s },
        () => ' Secret-Value-1 ',
        (v) => masked.push(v)
      )
    ).toThrow("Input 'api-key': has the wrong format. Fix: the fix")
    expect(masked).toEqual([' Secret-Value-1 '])
    expect(problem(s, 'abc')).toContain('is 3 characters long, too short to be masked in logs safely (at least 8)')
    expect(
      readDeclared(
        { k: s },
        () => ' abcdefgh\n',
        () => {}
      )
    ).toEqual({ k: 'abcdefgh' })
    // A schema message that quotes the value is hidden for a secret.
    const quoting = { ...s, schema: text({ ...common, name: 'q', pattern: /^x$/ }).schema }
    expect(problem(quoting, 'quoted-secret-value')).toBe("Input 'api-key': (value hidden) has the wrong format. Fix: the fix")
  })

  it('flag: the usual spellings; empty is the default', () => {
    const f = flag({ ...common, name: 'dry-run', default: true })
    for (const v of ['true', 'YES', ' 1 ', 'on']) expect(value(f, v)).toBe(true)
    for (const v of ['false', 'No', '0', 'OFF']) expect(value(f, v)).toBe(false)
    expect(value(f, '')).toBe(true)
    expect(problem(f, 'maybe')).toBe('Input \'dry-run\': "maybe" is not a boolean. Fix: the fix')
  })

  it('choice: one of the words, any case; empty is the default', () => {
    const c = choice({ ...common, name: 'fail-on', values: ['any', 'all'] as const, default: 'any' })
    expect(value(c, ' ALL ')).toBe('all')
    expect(value(c, '')).toBe('any')
    expect(problem(c, 'some')).toBe('Input \'fail-on\': "some" is not one of any, all. Fix: the fix')
  })

  it('wholeNumber: digits only, in range; empty is the default', () => {
    const n = wholeNumber({ ...common, name: 'n', min: 1, max: 5, default: 3 })
    expect(value(n, ' 5 ')).toBe(5)
    expect(value(n, '')).toBe(3)
    expect(problem(n, '6')).toContain('6 is out of range (1 to 5)')
    for (const v of ['-1', '1.0', '1e3', '0x10', 'two']) expect(problem(n, v)).toContain('is not a whole number')
    expect(value(wholeNumber({ ...common, name: 'm', min: 0, max: 9 }), '')).toBeUndefined()
  })

  it('httpUrl: normalised, no credentials, query, fragment or whitespace', () => {
    const u = httpUrl({ ...common, name: 'base-url' })
    expect(value(u, ' https://API.example.test:443/v1/ ')).toBe('https://api.example.test/v1')
    expect(value(u, '')).toBeUndefined()
    expect(problem(u, 'https://')).toBe('Input \'base-url\': "https://" is not a URL. Fix: the fix')
    expect(problem(u, 'javascript:alert(1)')).toContain('"javascript:" is not http or https')
    expect(problem(u, 'https://a.test/?')).toContain('has a query string or fragment')
    expect(problem(u, 'https://a.test/x y')).toContain('holds whitespace or a control character')
  })

  it('isLoopbackHost', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '[::1]', '::1']) expect(isLoopbackHost(h)).toBe(true)
    for (const h of ['example.test', '10.0.0.1', '127.0.0.1.nip.io', 'localhost.example']) expect(isLoopbackHost(h)).toBe(false)
  })
})

describe('target lists and filters', () => {
  it('refuses a JSON list that does not parse or is not a list of strings', () => {
    expect(() => parseTargetList('[abc')).toThrow("Input 'targets': looks like a JSON array but does not parse")
    expect(() => parseTargetList('[1.5]')).toThrow('item 1 is number, not a string')
    expect(() => parseTargetList('[{"id":"a"}]')).toThrow('item 1 is object, not a string')
    expect(() => parseTargetList(`["${'a'.repeat(513)}"]`)).toThrow('item 1 holds a target of 513 characters')
    expect(() => parseTargetList('a\n\u0001b')).toThrow('line 2: target "\\u0001b" holds a control character')
  })

  it('refuses a JSON filter that does not parse or is not an object', () => {
    expect(() => parseFilter('{"a":')).toThrow(/Input 'filter': looks like JSON but does not parse/)
    expect(() => parseFilter('{"a": null}')).toThrow('value of "a" is null')
    expect(() => parseFilter('search')).toThrow('line "search" is not key=value')
    expect(() => parseFilter('=x')).toThrow('is not key=value')
    expect(parseFilter('# comment\n\na = b = c')).toEqual({ a: 'b = c' })
  })

  it('topLevelKeys: keys of the top level only, in order, repeats and escapes included', () => {
    expect(topLevelKeys('{"a": {"a": 1, "b": [{"c": 2}]}, "b\\"q": "x:y", "a": 3}')).toEqual(['a', 'b"q', 'a'])
  })
})

describe('transport', () => {
  it('a body that breaks off mid-way is a network failure that reached the server, with its status', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"partial":'))
        c.error(new Error('socket hang up'))
      }
    })
    const err = (await rejection(
      send(
        async () => new Response(body, { status: 200, headers: { 'x-request-id': 'r1' } }),
        { method: 'GET', url: 'https://a', headers: {}, body: '' },
        { timeoutMs: 1000, maxBodyBytes: 1024 }
      )
    )) as TransportError
    expect(err).toBeInstanceOf(TransportError)
    expect(err).toMatchObject({ kind: 'network', sent: true, status: 200, message: 'network error: socket hang up' })
    expect(err.headers?.get('x-request-id')).toBe('r1')
  })

  it('an answer without a body reads as empty', async () => {
    const res = await send(
      async () => new Response(null, { status: 204 }),
      { method: 'DELETE', url: 'https://a', headers: {}, body: '' },
      { timeoutMs: 1000, maxBodyBytes: 10 }
    )
    expect(res).toMatchObject({ status: 204, text: '' })
  })

  it('unexpectedResponse: the one shape of "not what the API documents"', () => {
    const e = unexpectedResponse(200, 'the list came back without its list', 'rq')
    expect(e.info).toEqual({ status: 200, code: 'unexpected-response', message: 'the list came back without its list', requestId: 'rq' })
    expect(e.attempts).toBe(1)
  })
})
