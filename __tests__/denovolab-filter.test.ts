// Unit tests for the DeNovoLab filter: every documented key's parsing, the cross-key checks,
// the request normalisation, the plan cross-check against returned users, and the error bodies.
import { describe, expect, it } from '@jest/globals'
import { tmpdir } from 'node:os'
import { InputError } from '../src/engine/errors.js'
import type { ActionSink } from '../src/engine/sink.js'
import { readSettings } from '../src/settings.js'
import { FILTER_KEYS, contradictions, denovolab, dnlUser, filterQuery, filterRangeProblem, parseDnlTime, parseError } from '../src/providers/denovolab/index.js'

const VALID: Record<string, string[]> = {
  active: ['true', 'false', 'TRUE', 'False'],
  is_online: ['true', 'false'],
  create_time_gt: [
    '2024-01-01',
    '2024-01-01T10:00',
    '2024-01-01T10:00:00Z',
    '2024-01-01 10:00:00',
    '2024-01-01T10:00:00.123+02:00',
    '2024-02-29',
    '1735689600',
    '0'
  ],
  create_time_lt: ['2025-12-31T23:59:59-05:00', '2025-12-31T23:59:59+0530'],
  last_login_time_gt: ['1700000000', '2023-11-14'],
  last_login_time_lt: ['2030-01-01T00:00:00Z'],
  email: ['jane@example.com', 'j.doe+ops@mail.example.co.uk'],
  login_ip: ['10.0.0.1', '255.255.255.255', '::1', '2001:db8::8a2e:370:7334'],
  name: ['alice', 'Alice Smith', 'x', 'a'.repeat(200)],
  role_id: ['1', '42', '9007199254740991'],
  user_id: ['1', '123456'],
  user_id_in: ['5', '1,2,3', '1, 2 ,3', Array.from({ length: 1000 }, (_, i) => i + 1).join(',')],
  user_type: ['admin', 'client', 'agent']
}

const INVALID: Record<string, string[]> = {
  active: ['yes', '1', '0', 'on', '', 'truee'],
  is_online: ['no', '1', 'online'],
  create_time_gt: [
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '2024-00-10',
    '2024-01-01T24:00',
    '2024-01-01T10:60',
    'yesterday',
    '01/02/2024',
    '-5',
    '2024-1-1',
    '1e9',
    '123456789012',
    '2024-01-01T10:00:00+15:00',
    '1969-12-31'
  ],
  create_time_lt: ['now', ''],
  last_login_time_gt: ['2025-04-31', 'T10:00'],
  last_login_time_lt: ['2025-01-01T10:00:00ZZ', '12:00'],
  email: ['jane', '@example.com', 'jane@', 'jane@example', 'ja ne@example.com', `${'a'.repeat(250)}@example.com`, '%@example.com@x'],
  login_ip: ['10.0.0.300', '10.0.0', 'localhost', '10.0.0.0/24', ''],
  name: ['', '%', '%%', '_', '*', 'a'.repeat(201), 'bad\u0001name'],
  role_id: ['0', '-1', '1.5', 'admin', '01', '9007199254740993', ''],
  user_id: ['0', '-4', 'abc', '1e3', ' '],
  user_id_in: ['', '1,,2', '1,', ',1', '1;2', 'a,b', '0,1', Array.from({ length: 1001 }, (_, i) => i + 1).join(',')],
  user_type: ['root', 'Admin', 'carrier', '', 'admin,client']
}

function sinkWith(inputs: Record<string, string>): ActionSink {
  return {
    getInput: (n) => inputs[n] ?? '',
    setSecret: () => {},
    setOutput: () => {},
    setFailed: () => {},
    info: () => {},
    debug: () => {},
    warning: () => {},
    error: () => {},
    notice: () => {},
    startGroup: () => {},
    endGroup: () => {},
    writeSummary: async () => {},
    getIDToken: async () => ''
  }
}

const read = (extra: Record<string, string>) =>
  readSettings(
    (n) => sinkWith({ provider: 'denovolab', token: 'tok-12345678', 'base-url': 'https://dnl.example.com/api_dnl/v1', ...extra }).getInput(n),
    { GITHUB_WORKSPACE: tmpdir() },
    () => {}
  )

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error('expected an InputError')
}

describe('denovolab filter keys', () => {
  it('declares exactly the 13 documented keys', () => {
    expect(Object.keys(FILTER_KEYS).sort()).toEqual([
      'active',
      'create_time_gt',
      'create_time_lt',
      'email',
      'is_online',
      'last_login_time_gt',
      'last_login_time_lt',
      'login_ip',
      'name',
      'role_id',
      'user_id',
      'user_id_in',
      'user_type'
    ])
    expect(Object.keys(VALID).sort()).toEqual(Object.keys(FILTER_KEYS).sort())
    expect(Object.keys(INVALID).sort()).toEqual(Object.keys(FILTER_KEYS).sort())
    expect(denovolab.filter).toMatchObject({ mode: 'select', requireNonEmpty: true })
    expect(denovolab.destructive).toBe(true)
    expect(denovolab.baseUrl.default).toBeUndefined()
  })

  for (const key of Object.keys(FILTER_KEYS)) {
    it(`${key}: accepts well-formed values`, () => {
      for (const v of VALID[key]) expect({ v, problem: FILTER_KEYS[key](v) }).toEqual({ v, problem: undefined })
    })
    it(`${key}: rejects malformed values, through readInputs too`, () => {
      for (const v of INVALID[key]) {
        expect({ v, problem: typeof FILTER_KEYS[key](v) }).toEqual({ v, problem: 'string' })
      }
      // The same value given as the filter input fails the run before any request, naming the key.
      const v = INVALID[key].find((x) => x !== '') ?? 'bad'
      const err = inputError(() => read({ filter: JSON.stringify({ [key]: v }) }))
      expect(err.input).toBe('filter')
      expect(err.message).toContain(`${key}=`)
    })
  }
})

describe('denovolab filter input', () => {
  it('refuses an empty filter, as JSON and as key=value lines', () => {
    for (const filter of ['{}', '# nothing here']) {
      const err = inputError(() => read({ filter }))
      expect(err.input).toBe('filter')
      expect(err.message).toContain('is empty')
    }
  })

  it('refuses an unknown key and names the 13 allowed ones', () => {
    const err = inputError(() => read({ filter: 'username=bob' }))
    expect(err.message).toContain('unknown key "username"')
    expect(err.message).toContain('last_login_time_lt')
  })

  it('refuses filter together with targets, and malformed target ids', () => {
    expect(inputError(() => read({ filter: 'user_type=agent', targets: '5' })).input).toBe('filter')
    expect(inputError(() => read({ targets: '5,0' })).input).toBe('targets')
    expect(inputError(() => read({ targets: '5,x7' })).message).toContain('"x7" is not a DNL user id')
    expect(read({ targets: '5\n7' }).targets).toEqual(['5', '7'])
  })

  it('refuses a time range whose start is not before its end', () => {
    const err = inputError(() => read({ filter: 'last_login_time_gt=2025-02-01\nlast_login_time_lt=1735689600' }))
    expect(err.message).toContain('last_login_time_gt (2025-02-01) is not before last_login_time_lt (1735689600)')
    expect(filterRangeProblem({ create_time_gt: '2025-01-01', create_time_lt: '2025-01-02' })).toBeUndefined()
    expect(filterRangeProblem({ create_time_gt: '2025-01-02' })).toBeUndefined()
    expect(filterRangeProblem({ create_time_gt: '2025-01-02', create_time_lt: '2025-01-02' })).toContain('is not before')
  })

  it('reads a valid filter with JSON scalars and requires base-url', () => {
    const s = read({ filter: '{"active": false, "role_id": 3, "user_type": "client"}' })
    expect(s.filter).toEqual({ active: 'false', role_id: '3', user_type: 'client' })
    expect(inputError(() => read({ filter: 'role_id=3', 'base-url': '' })).input).toBe('base-url')
  })
})

describe('denovolab timestamps', () => {
  it('reads epoch seconds and ISO 8601, no zone meaning UTC', () => {
    expect(parseDnlTime('1735689600')).toBe(Date.UTC(2025, 0, 1))
    expect(parseDnlTime('2025-01-01')).toBe(Date.UTC(2025, 0, 1))
    expect(parseDnlTime('2025-01-01 08:00')).toBe(Date.UTC(2025, 0, 1, 8))
    expect(parseDnlTime('2025-01-01T08:00:00+02:00')).toBe(Date.UTC(2025, 0, 1, 6))
    expect(parseDnlTime('2025-01-01T08:00:00.5-0130')).toBe(Date.UTC(2025, 0, 1, 9, 30, 0, 500))
    expect(parseDnlTime('2025-02-29')).toBeUndefined()
  })
})

describe('denovolab request normalisation', () => {
  it('lower-cases booleans and strips spaces from id lists, leaving other values as given', () => {
    expect(filterQuery({ active: 'TRUE', is_online: 'False', user_id_in: '1, 2 ,3', name: 'Alice Smith', last_login_time_lt: '2025-12-31 23:59:59' })).toEqual({
      active: 'true',
      is_online: 'false',
      user_id_in: '1,2,3',
      name: 'Alice Smith',
      last_login_time_lt: '2025-12-31 23:59:59'
    })
  })
})

describe('denovolab plan cross-check', () => {
  const user = dnlUser.parse({
    user_id: 7,
    name: 'Alice Smith',
    email: 'alice@example.com',
    role_id: 2,
    user_type: 'client',
    active: false,
    is_online: 1,
    create_time: '2024-03-01T10:00:00Z',
    last_login_time: null,
    login_ip: '10.0.0.7'
  })

  it('passes a user that matches every key it can judge', () => {
    expect(
      contradictions(user, {
        active: 'false',
        is_online: 'true',
        role_id: '2',
        user_id: '7',
        user_id_in: '1, 7',
        user_type: 'client',
        login_ip: '10.0.0.7',
        email: 'alice@example.com',
        name: 'alice',
        create_time_gt: '2024-01-01',
        create_time_lt: '1735689600',
        last_login_time_gt: '2020-01-01'
      })
    ).toEqual([])
  })

  it('names each key the user contradicts', () => {
    expect(contradictions(user, { active: 'true' })).toEqual(['active'])
    expect(contradictions(user, { user_id_in: '1,2', role_id: '3' })).toEqual(['user_id_in', 'role_id'])
    expect(contradictions(user, { user_type: 'admin', name: 'bob', email: 'bob@example.com' })).toEqual(['user_type', 'name', 'email'])
    expect(contradictions(user, { create_time_gt: '2024-06-01' })).toEqual(['create_time_gt'])
    expect(contradictions(user, { create_time_lt: '2024-01-01' })).toEqual(['create_time_lt'])
    // within the 14 h time-zone slack: not judged a contradiction
    expect(contradictions(user, { create_time_gt: '2024-03-01T20:00:00Z' })).toEqual([])
  })

  it('does not judge fields the record does not show', () => {
    const bare = dnlUser.parse({ user_id: '9' })
    expect(contradictions(bare, { active: 'true', email: 'x@example.com', create_time_gt: '2030-01-01', user_id: '9' })).toEqual([])
    expect(contradictions(bare, { user_id: '8' })).toEqual(['user_id'])
  })
})

describe('denovolab error bodies', () => {
  it('reads both 401 bodies and the 404 body', () => {
    expect(
      parseError(
        401,
        {
          error_type: 'unauthenticated_error',
          success: false,
          error: { message: 'No header X-Auth-Token present', code: 110, reason: 'auth_token_not_provided' }
        },
        ''
      )
    ).toEqual({
      status: 401,
      code: '110',
      message: 'No header X-Auth-Token present (auth_token_not_provided)'
    })
    expect(
      parseError(
        401,
        { error_type: 'unauthenticated_error', success: false, error: { message: 'Incorrect token', code: 120, reason: 'incorrect_token_provided' } },
        ''
      )
    ).toMatchObject({ code: '120' })
    expect(parseError(404, { error_type: 'Object not found error', success: false }, '')).toEqual({ status: 404, message: 'Object not found error' })
    expect(parseError(502, undefined, '<html>Bad Gateway</html>')).toEqual({ status: 502, message: '<html>Bad Gateway</html>' })
  })
})
