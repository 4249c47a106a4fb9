// The Box emulator against the published contract: what it accepts and, above all, what it rejects.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_DEVELOPER_TOKEN, BOX_ENTERPRISE_ID, BoxEmulator, TERMINATE_MESSAGE, makeUsers } from './emulators/box/index.js'
import { contractPath, startContractProxy } from './helpers/contract-proxy.js'

const emu = new BoxEmulator({
  users: [...makeUsers(10_050), { id: '9000001', login: 'guest@partner.org', name: 'Guest', status: 'active', external: true }],
  groups: [{ id: '5550001', name: 'Sales', members: ['1000001', '1000002'] }]
})
let base = ''

beforeAll(async () => {
  base = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

const auth = { authorization: `Bearer ${BOX_DEVELOPER_TOKEN}` }

async function get(path: string, headers: Record<string, string> = auth, root = base): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${root}${path}`, { headers })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers }
}

async function post(
  path: string,
  body: string,
  contentType = 'application/json',
  headers: Record<string, string> = auth,
  root = base
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${root}${path}`, { method: 'POST', headers: { ...headers, 'content-type': contentType }, body })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

function form(values: Record<string, string>): string {
  return new URLSearchParams(values).toString()
}

const ccg = {
  grant_type: 'client_credentials',
  client_id: BOX_CLIENT_ID,
  client_secret: BOX_CLIENT_SECRET,
  box_subject_type: 'enterprise',
  box_subject_id: BOX_ENTERPRISE_ID
}

describe('box emulator contract', () => {
  it('terminates users by id and login with 202 and the documented message', async () => {
    const r = await post('/users/terminate_sessions', JSON.stringify({ user_ids: ['1000001'], user_logins: ['USER2@example.com'] }))
    expect(r.status).toBe(202)
    expect(r.body).toEqual({ message: TERMINATE_MESSAGE })
    expect(emu.jobs).toEqual([
      { kind: 'user', id: '1000001', via: 'user_ids' },
      { kind: 'user', id: '1000002', via: 'user_logins' }
    ])
  })

  it('answers the documented 400 bodies for empty lists, non-string ids and non-JSON payloads', async () => {
    const empty = await post('/users/terminate_sessions', JSON.stringify({ user_ids: [], user_logins: [] }))
    expect(empty.status).toBe(400)
    expect(empty.body).toMatchObject({ type: 'error', status: 400, code: 'bad_request', message: 'Users can not be NULL or EMPTY' })
    expect(empty.body.request_id).toMatch(/^[0-9a-f]+$/)
    const missing = await post('/users/terminate_sessions', '{}')
    expect(missing.body.message).toBe('Users can not be NULL or EMPTY')
    const numeric = await post('/users/terminate_sessions', JSON.stringify({ user_ids: [1000001], user_logins: [] }))
    expect(numeric).toMatchObject({ status: 400, body: { message: 'User id format is string' } })
    const notJson = await post('/users/terminate_sessions', 'user_ids=1000001', 'application/x-www-form-urlencoded')
    expect(notJson).toMatchObject({ status: 400, body: { message: 'Supported payload format is JSON' } })
    const broken = await post('/users/terminate_sessions', '{"user_ids": [', 'application/json')
    expect(broken).toMatchObject({ status: 400, body: { message: 'Supported payload format is JSON' } })
    const groupsEmpty = await post('/groups/terminate_sessions', JSON.stringify({ group_ids: [] }))
    expect(groupsEmpty.status).toBe(400)
    expect(emu.jobs).toHaveLength(0)
  })

  it('rejects a missing, wrong or expired bearer token with 401', async () => {
    expect((await get('/users/1000001', {})).status).toBe(401)
    const wrong = await get('/users/1000001', { authorization: 'Bearer nope-nope' })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toContain('invalid_token')
  })

  it('mints Client Credentials tokens only for the right grant, client and subject', async () => {
    const token = (body: string, ct = 'application/x-www-form-urlencoded') =>
      fetch(`${emu.authBaseUrl}/oauth2/token`, { method: 'POST', headers: { 'content-type': ct }, body }).then(async (r) => ({
        status: r.status,
        body: await r.json()
      }))
    const ok = await token(form(ccg))
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ token_type: 'bearer', expires_in: 3600 })
    expect(await token(form({ ...ccg, grant_type: 'password' }))).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } })
    expect(await token(form({ ...ccg, client_secret: 'wrong' }))).toMatchObject({ status: 400, body: { error: 'invalid_client' } })
    expect(await token(form({ ...ccg, box_subject_id: '1' }))).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Grant credentials are invalid' }
    })
    expect(await token(form({ ...ccg, box_subject_type: 'user' }))).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    expect(await token(JSON.stringify(ccg), 'application/json')).toMatchObject({ status: 400, body: { error: 'invalid_request' } })

    const minted = ok.body.access_token as string
    expect((await get('/users/1000001', { authorization: `Bearer ${minted}` })).status).toBe(200)
    emu.expireMintedTokens()
    expect((await get('/users/1000001', { authorization: `Bearer ${minted}` })).status).toBe(401)
  })

  it('pages users with markers, and refuses offsets past 10000', async () => {
    const seen: string[] = []
    let marker: string | null = null
    let pages = 0
    do {
      const q = new URLSearchParams({ usemarker: 'true', limit: '1000', fields: 'id,login,name,status' })
      if (marker) q.set('marker', marker)
      const r = await get(`/users?${q}`)
      expect(r.status).toBe(200)
      expect(Object.keys(r.body.entries[0]).sort()).toEqual(['id', 'login', 'name', 'status', 'type'])
      seen.push(...r.body.entries.map((u: { id: string }) => u.id))
      marker = r.body.next_marker
      pages++
    } while (marker && pages < 20)
    expect(pages).toBe(11)
    expect(new Set(seen).size).toBe(10_050)

    const past = await get('/users?offset=10001&limit=10')
    expect(past.status).toBe(400)
    expect(past.body).toMatchObject({ type: 'error', status: 400 })
    expect(past.body.message).toContain('offset')
    expect((await get('/users?offset=10000&limit=10')).status).toBe(200)
    expect((await get('/users?limit=1001')).status).toBe(400)
    expect((await get('/users?user_type=everyone')).status).toBe(400)
    expect((await get('/users?usemarker=true&marker=garbage')).status).toBe(400)
  })

  it('filters by the start of login or name, and finds externals only by their whole login', async () => {
    const r = await get('/users?filter_term=user1000&usemarker=true&limit=100')
    expect(r.body.entries.map((u: { login: string }) => u.login)).toEqual([
      'user1000@example.com',
      ...Array.from({ length: 10 }, (_, i) => `user1000${i}@example.com`)
    ])
    expect((await get('/users?filter_term=guest')).body.entries).toHaveLength(0)
    expect((await get('/users?filter_term=guest@partner.org&user_type=all')).body.entries.map((u: { id: string }) => u.id)).toEqual(['9000001'])
    expect((await get('/users?filter_term=guest@partner.org')).body.entries).toHaveLength(0) // managed only by default
  })

  it('answers groups, member counts, group terminations, and 404 for unknown ids', async () => {
    expect((await get('/groups/5550001')).body).toMatchObject({ type: 'group', name: 'Sales' })
    expect((await get('/groups/5550001/memberships?limit=1')).body).toMatchObject({ total_count: 2 })
    expect((await get('/groups/42')).body).toMatchObject({ status: 404, code: 'not_found' })
    expect((await get('/users/42')).status).toBe(404)
    const g = await post('/groups/terminate_sessions', JSON.stringify({ group_ids: ['5550001'] }))
    expect(g.status).toBe(202)
    expect(emu.users.get('1000001')?.sessions).toBe(0)
    expect((await post('/groups/terminate_sessions', JSON.stringify({ group_ids: [5550001] }))).status).toBe(400)
  })

  it('throttles with a Box 429 body and retry-after', async () => {
    emu.server.queueFaults([{ kind: 'throttle', retryAfter: 'seconds', seconds: 3 }])
    const r = await get('/users/1000001')
    expect(r.status).toBe(429)
    expect(r.headers.get('retry-after')).toBe('3')
    expect(r.body).toMatchObject({ type: 'error', status: 429, code: 'rate_limit_exceeded' })
  })

  it('requires both user_ids and user_logins (the description marks both required); either may be empty, not both', async () => {
    const idsOnly = await post('/users/terminate_sessions', JSON.stringify({ user_ids: ['1000001'] }))
    expect(idsOnly).toMatchObject({ status: 400, body: { type: 'error', code: 'bad_request', message: 'Users can not be NULL or EMPTY' } })
    const loginsOnly = await post('/users/terminate_sessions', JSON.stringify({ user_logins: ['user1@example.com'] }))
    expect(loginsOnly.status).toBe(400)
    const nullLogins = await post('/users/terminate_sessions', JSON.stringify({ user_ids: ['1000001'], user_logins: null }))
    expect(nullLogins.status).toBe(400)
    const notArray = await post('/users/terminate_sessions', JSON.stringify({ user_ids: '1000001', user_logins: [] }))
    expect(notArray).toMatchObject({ status: 400, body: { message: 'Supported payload format is JSON' } })
    expect(emu.jobs).toHaveLength(0)
    const ok = await post('/users/terminate_sessions', JSON.stringify({ user_ids: ['1000001'], user_logins: [] }))
    expect(ok.status).toBe(202)
    const byLogin = await post('/users/terminate_sessions', JSON.stringify({ user_ids: [], user_logins: ['user3@example.com'] }))
    expect(byLogin.status).toBe(202)
    expect(emu.terminatedUserIds().sort()).toEqual(['1000001', '1000003'])
    // Unconfirmed behaviour, kept strict: an unknown user fails the whole call with 404.
    expect((await post('/users/terminate_sessions', JSON.stringify({ user_ids: ['1000001', '42'], user_logins: [] }))).status).toBe(404)
    const groupMissing = await post('/groups/terminate_sessions', JSON.stringify({}))
    expect(groupMissing).toMatchObject({ status: 400, body: { message: 'Groups can not be NULL or EMPTY' } })
    expect(await post('/groups/terminate_sessions', JSON.stringify({ group_ids: [5550001] }))).toMatchObject({
      status: 400,
      body: { message: 'group id format is string' }
    })
  })

  it('offset paging answers total_count; marker paging omits it, and its keyset markers survive users added or removed between pages', async () => {
    const offset = await get('/users?limit=1000&offset=0&fields=id,login,name,status')
    expect(offset.body).toMatchObject({ total_count: 10_050, limit: 1000, offset: 0 })
    expect(offset.body.entries).toHaveLength(1000)
    expect((await get('/users?limit=100&offset=10000')).body.entries).toHaveLength(50)
    const first = await get('/users?limit=1000&usemarker=true')
    expect(first.body).not.toHaveProperty('total_count')
    expect(JSON.parse(Buffer.from(first.body.next_marker, 'base64url').toString())).toEqual({ type: 'id', dir: 'next', tail: '1001000' })
    // A user before the marker goes away and one is added before it: the next page still starts right after 1001000.
    emu.removeUser('1000001')
    emu.addUser({ id: '999999', login: 'early@example.com', name: 'Early', status: 'active' })
    const second = await get(`/users?limit=1000&usemarker=true&marker=${first.body.next_marker}`)
    expect(second.body.entries[0].id).toBe('1001001')
    // reset() restores the enterprise as built.
    emu.reset()
    expect(emu.users.has('1000001')).toBe(true)
    expect(emu.users.has('999999')).toBe(false)
    // fields: the mini representation (type, id, name, login) plus what was asked for.
    expect(Object.keys((await get('/users/1000001?fields=status')).body).sort()).toEqual(['id', 'login', 'name', 'status', 'type'])
  })

  it('hooks: onApiRequest runs before each API call is answered; group members added in between are terminated; a developer token can expire', async () => {
    emu.groups.get('5550001')!.members.push('1000003')
    emu.onApiRequest = (_q, n) => {
      if (n === 2) emu.addGroupMember('5550001', '1000004')
    }
    expect((await get('/groups/5550001/memberships?limit=1')).body.total_count).toBe(3)
    expect((await post('/groups/terminate_sessions', JSON.stringify({ group_ids: ['5550001'] }))).status).toBe(202)
    expect(emu.terminatedUserIds().sort()).toEqual(['1000001', '1000002', '1000003', '1000004'])
    expect(emu.callCounts()).toEqual({ get_groups_id_memberships: 1, post_groups_terminate_sessions: 1 })
    emu.expireDeveloperToken()
    expect((await get('/users/1000001')).status).toBe(401)
    emu.reset()
    expect((await get('/users/1000001')).status).toBe(200)
    expect(emu.groups.get('5550001')!.members).toEqual(['1000001', '1000002'])
  })
})

describe('box emulator against the vendored description (Prism)', () => {
  it('a valid request for every sliced operation passes; a malformed one is flagged', async () => {
    const [api, oauth] = await Promise.all([
      startContractProxy({ spec: contractPath('box'), upstream: emu.baseUrl }),
      startContractProxy({ spec: contractPath('box'), upstream: emu.origin })
    ])
    try {
      const token = await post('/oauth2/token', form(ccg), 'application/x-www-form-urlencoded', {}, oauth.origin)
      expect(token.status).toBe(200)
      const bearer = { authorization: `Bearer ${token.body.access_token as string}` }
      const list = await get('/users?fields=id,login,name,status&limit=1000&offset=0', bearer, api.origin)
      expect(list.status).toBe(200)
      const marked = await get('/users?fields=id,login,name,status&limit=1000&usemarker=true', bearer, api.origin)
      expect(
        (await get(`/users?fields=id,login,name,status&limit=1000&usemarker=true&marker=${marked.body.next_marker as string}`, bearer, api.origin)).status
      ).toBe(200)
      expect(
        (await get('/users?filter_term=guest@partner.org&user_type=all&fields=id,login,name,status&limit=100&usemarker=true', bearer, api.origin)).body.entries
      ).toHaveLength(1)
      expect((await get('/users/1000001?fields=id,login,name,status', bearer, api.origin)).status).toBe(200)
      expect((await get('/groups/5550001?fields=id,name', bearer, api.origin)).status).toBe(200)
      expect((await get('/groups/5550001/memberships?limit=1', bearer, api.origin)).status).toBe(200)
      expect(
        (
          await post(
            '/users/terminate_sessions',
            JSON.stringify({ user_ids: ['1000001'], user_logins: ['user2@example.com'] }),
            'application/json',
            bearer,
            api.origin
          )
        ).status
      ).toBe(202)
      expect((await post('/groups/terminate_sessions', JSON.stringify({ group_ids: ['5550001'] }), 'application/json', bearer, api.origin)).status).toBe(202)
      await Promise.all([api.settle(), oauth.settle()])
      expect([...api.requestViolations(), ...oauth.requestViolations()]).toEqual([])
      expect([...api.responseViolations(), ...oauth.responseViolations()]).toEqual([])
      expect(api.received).toHaveLength(9)
      expect(oauth.received).toHaveLength(1)

      // Malformed: limit over the documented maximum, and a terminate body without user_logins.
      await get('/users?limit=5000', bearer, api.origin)
      await post('/users/terminate_sessions', JSON.stringify({ user_ids: ['1000001'] }), 'application/json', bearer, api.origin)
      await api.settle()
      const flagged = api.requestViolations().map((v) => v.message)
      expect(flagged).toContain("Request body must have required property 'user_logins'")
      expect(flagged.some((m) => m.includes('limit') && m.includes('1000'))).toBe(true)
    } finally {
      await Promise.all([api.stop(), oauth.stop()])
    }
  }, 30_000)
})
