// The Slack emulator against the published contract: what it accepts and, above all, what it rejects;
// then the operations the vendor's (2020) description still holds, through Prism.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { contractPath, startContractProxy } from './helpers/contract-proxy.js'
import {
  BOT_USER,
  DELETED_USER,
  METHOD_INFO,
  METHOD_LOOKUP,
  METHOD_RESET,
  METHOD_RESET_BULK,
  PRIMARY_OWNER,
  RESET_BULK_MAX,
  SLACK_ADMIN_TOKEN,
  SLACK_BOT_TOKEN,
  SLACK_NO_ADMIN_SCOPE_TOKEN,
  SLACK_NO_EMAIL_SCOPE_TOKEN,
  SLACK_NON_ADMIN_TOKEN,
  SLACK_WORKSPACE_TOKEN,
  SlackEmulator,
  makeUsers,
  specialUsers
} from './emulators/slack/index.js'

const emu = new SlackEmulator({ users: [...makeUsers(10_050), ...specialUsers()] })
let base = ''

beforeAll(async () => {
  base = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

type Answer = { status: number; body: any; headers: Headers }
const FORM = 'application/x-www-form-urlencoded'
const JSON_UTF8 = 'application/json; charset=utf-8'

async function call(method: string, init: { body?: string; contentType?: string; token?: string | null; verb?: string; query?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {}
  const token = init.token === undefined ? SLACK_ADMIN_TOKEN : init.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (init.contentType) headers['content-type'] = init.contentType
  const res = await fetch(`${base}/${method}${init.query ? `?${init.query}` : ''}`, {
    method: init.verb ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body
  })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

const json = (method: string, body: unknown, token?: string | null) => call(method, { body: JSON.stringify(body), contentType: JSON_UTF8, token })
const form = (method: string, values: Record<string, string>, token?: string | null) =>
  call(method, { body: new URLSearchParams(values).toString(), contentType: FORM, token })

describe('slack emulator: admin.users.session.resetBulk', () => {
  it('queues a job for JSON user_ids, wipes every session, and says which scopes it saw', async () => {
    const r = await json(METHOD_RESET_BULK, { user_ids: ['W00000001', 'U00000004'] })
    expect(r).toMatchObject({ status: 200, body: { ok: true } })
    expect(r.headers.get('x-oauth-scopes')).toBe('admin.users:write,users:read,users:read.email')
    expect(r.headers.get('x-accepted-oauth-scopes')).toBe('admin.users:write')
    expect(emu.jobs).toHaveLength(1)
    expect(emu.jobs[0]).toMatchObject({ userIds: ['W00000001', 'U00000004'], scope: 'all' })
    expect(emu.sessionsOf('W00000001')).toEqual({ web: 0, mobile: 0 })
    expect(emu.sessionsOf('W00000002')).toEqual({ web: 1, mobile: 1 })
    expect(emu.resetUserIds()).toEqual(['W00000001', 'U00000004'])
    expect(emu.tokenLeaks).toEqual([])
  })

  it('reads form user_ids comma-separated or as a JSON array, and wipes only web or mobile sessions', async () => {
    const web = await form(METHOD_RESET_BULK, { user_ids: 'W00000001,W00000002', web_only: 'true' })
    expect(web.body).toEqual({ ok: true })
    expect(emu.sessionsOf('W00000001')).toEqual({ web: 0, mobile: 1 })
    const mobile = await form(METHOD_RESET_BULK, { user_ids: '["W00000003"]', mobile_only: '1' })
    expect(mobile.body).toEqual({ ok: true })
    expect(emu.sessionsOf('W00000003')).toEqual({ web: 1, mobile: 0 })
    expect(emu.resetUserIds('web')).toEqual(['W00000001', 'W00000002'])
    expect(emu.sentUserIds()).toEqual(['W00000001', 'W00000002', 'W00000003'])
  })

  it('warns as Slack does about a JSON body without a charset, and a form body with one', async () => {
    const noCharset = await call(METHOD_RESET_BULK, { body: JSON.stringify({ user_ids: ['W00000001'] }), contentType: 'application/json' })
    expect(noCharset.body).toEqual({ ok: true, warning: 'missing_charset', response_metadata: { warnings: ['missing_charset'] } })
    const charset = await call(METHOD_RESET_BULK, { body: 'user_ids=W00000002', contentType: `${FORM}; charset=utf-8` })
    expect(charset.body).toMatchObject({ ok: true, warning: 'superfluous_charset' })
  })

  it('refuses more than 1,000 ids, none, malformed ids and flags as invalid_arguments, queueing nothing', async () => {
    const ids = makeUsers(RESET_BULK_MAX + 1).map((u) => u.id)
    const tooMany = await json(METHOD_RESET_BULK, { user_ids: ids })
    expect(tooMany).toMatchObject({ status: 200, body: { ok: false, error: 'invalid_arguments' } })
    expect(tooMany.body.response_metadata.messages[0]).toContain('no more than 1000 items')
    expect((await json(METHOD_RESET_BULK, { user_ids: [] })).body.error).toBe('invalid_arguments')
    expect((await json(METHOD_RESET_BULK, {})).body.response_metadata.messages).toEqual(['[ERROR] missing required field: user_ids'])
    expect((await json(METHOD_RESET_BULK, { user_ids: 'W00000001' })).body.error).toBe('invalid_arguments')
    expect((await json(METHOD_RESET_BULK, { user_ids: [12345678] })).body.error).toBe('invalid_arguments')
    expect((await json(METHOD_RESET_BULK, { user_ids: ['user1@example.com'] })).body.error).toBe('invalid_arguments')
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000001'], web_only: 'yes' })).body.error).toBe('invalid_arguments')
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000001'], web_only: true, mobile_only: true })).body.error).toBe('invalid_arguments')
    expect(emu.jobs).toEqual([])
    expect(emu.resets).toEqual([])

    const exactly = await json(METHOD_RESET_BULK, { user_ids: ids.slice(0, RESET_BULK_MAX) })
    expect(exactly.body).toEqual({ ok: true })
    expect(emu.jobs[0].userIds).toHaveLength(RESET_BULK_MAX)
  })

  it('answers failed_for_some_users naming exactly the users that failed, and queues the others', async () => {
    emu.failUser('W00000003', 'user_session_reset_failed')
    const r = await json(METHOD_RESET_BULK, { user_ids: ['W00000001', 'W09999999', BOT_USER.id, PRIMARY_OWNER.id, 'W00000003', DELETED_USER.id] })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      ok: false,
      error: 'failed_for_some_users',
      failed_user_ids: {
        W09999999: 'user_not_found',
        [BOT_USER.id]: 'cannot_reset_bot',
        [PRIMARY_OWNER.id]: 'cannot_reset_primary_owner',
        W00000003: 'user_session_reset_failed'
      }
    })
    expect(emu.jobs.map((j) => j.userIds)).toEqual([['W00000001', DELETED_USER.id]])

    emu.partialFailureDetails = 'none'
    const bare = await json(METHOD_RESET_BULK, { user_ids: ['W00000002', 'W09999999'] })
    expect(bare.body).toEqual({ ok: false, error: 'failed_for_some_users' })
  })

  it('can refuse resetBulk for the plan while reset still works, and refuses both off Enterprise Grid', async () => {
    emu.refuseResetBulk = 'feature_not_enabled'
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000001'] })).body).toEqual({ ok: false, error: 'feature_not_enabled' })
    expect((await form(METHOD_RESET, { user_id: 'W00000001' })).body).toEqual({ ok: true })
    expect(emu.resets.map((r) => [r.userId, r.via])).toEqual([['W00000001', 'reset']])
    emu.reset()
    emu.plan = 'business+'
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000001'] })).body.error).toBe('feature_not_enabled')
    expect((await form(METHOD_RESET, { user_id: 'W00000001' })).body.error).toBe('feature_not_enabled')
    expect(emu.resets).toEqual([])
  })
})

describe('slack emulator: admin.users.session.reset', () => {
  it('resets one user by form or JSON, and answers the documented per-user errors', async () => {
    expect((await form(METHOD_RESET, { user_id: 'W00000001', mobile_only: 'true' })).body).toEqual({ ok: true })
    expect(emu.sessionsOf('W00000001')).toEqual({ web: 1, mobile: 0 })
    expect((await json(METHOD_RESET, { user_id: 'U00000004' })).body).toEqual({ ok: true })
    expect((await form(METHOD_RESET, { user_id: 'W09999999' })).body).toEqual({ ok: false, error: 'user_not_found' })
    expect((await form(METHOD_RESET, { user_id: BOT_USER.id })).body).toEqual({ ok: false, error: 'cannot_reset_bot' })
    expect((await form(METHOD_RESET, { user_id: PRIMARY_OWNER.id })).body).toEqual({ ok: false, error: 'cannot_reset_primary_owner' })
    expect((await form(METHOD_RESET, {})).body.error).toBe('invalid_arguments')
    expect((await form(METHOD_RESET, { user_id: 'W00000002', web_only: 'sometimes' })).body.error).toBe('invalid_arguments')
    expect(emu.resetUserIds()).toEqual(['W00000001', 'U00000004'])
  })
})

describe('slack emulator: authentication and scopes', () => {
  it('answers not_authed, invalid_auth, token_expired and token_revoked with HTTP 200', async () => {
    expect(await json(METHOD_RESET_BULK, { user_ids: ['W00000001'] }, null)).toMatchObject({ status: 200, body: { ok: false, error: 'not_authed' } })
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000001'] }, 'xoxp-not-a-token')).body).toEqual({ ok: false, error: 'invalid_auth' })
    emu.expireToken(SLACK_ADMIN_TOKEN, { afterRequests: 1 })
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000001'] })).body.ok).toBe(true)
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000002'] })).body).toEqual({ ok: false, error: 'token_expired' })
    emu.expireToken(SLACK_BOT_TOKEN, { state: 'revoked' })
    expect((await call(METHOD_LOOKUP, { query: 'email=user1%40example.com', token: SLACK_BOT_TOKEN })).body.error).toBe('token_revoked')
    expect(emu.jobs).toHaveLength(1)
  })

  it('ignores and records a token in the query string or a JSON body; takes, but records, one in a form body', async () => {
    const inQuery = await call(METHOD_LOOKUP, { query: `email=user1%40example.com&token=${SLACK_ADMIN_TOKEN}`, token: null })
    expect(inQuery.body).toEqual({ ok: false, error: 'not_authed' })
    const inJson = await json(METHOD_RESET_BULK, { token: SLACK_ADMIN_TOKEN, user_ids: ['W00000001'] }, null)
    expect(inJson.body).toEqual({ ok: false, error: 'not_authed' })
    const inForm = await form(METHOD_RESET_BULK, { token: SLACK_ADMIN_TOKEN, user_ids: 'W00000001' }, null)
    expect(inForm.body).toEqual({ ok: true })
    expect(emu.tokenLeaks.map((l) => [l.where, l.method])).toEqual([
      ['query', METHOD_LOOKUP],
      ['json', METHOD_RESET_BULK],
      ['form', METHOD_RESET_BULK]
    ])
    expect(emu.callsTo(METHOD_RESET_BULK).map((c) => c.tokenVia)).toEqual([undefined, 'form'])
  })

  it('refuses admin methods to bot, workspace and non-admin tokens, and names the missing scope', async () => {
    const ids = { user_ids: ['W00000001'] }
    expect((await json(METHOD_RESET_BULK, ids, SLACK_BOT_TOKEN)).body).toEqual({ ok: false, error: 'not_allowed_token_type' })
    expect((await json(METHOD_RESET, { user_id: 'W00000001' }, SLACK_WORKSPACE_TOKEN)).body).toEqual({ ok: false, error: 'not_allowed_token_type' })
    expect((await json(METHOD_RESET_BULK, ids, SLACK_NON_ADMIN_TOKEN)).body).toEqual({ ok: false, error: 'not_an_admin' })
    const scope = await json(METHOD_RESET_BULK, ids, SLACK_NO_ADMIN_SCOPE_TOKEN)
    expect(scope.body).toEqual({ ok: false, error: 'missing_scope', needed: 'admin.users:write', provided: 'users:read,users:read.email' })
    expect(scope.headers.get('x-accepted-oauth-scopes')).toBe('admin.users:write')
    const email = await call(METHOD_LOOKUP, { query: 'email=user1%40example.com', token: SLACK_NO_EMAIL_SCOPE_TOKEN })
    expect(email.body).toMatchObject({ ok: false, error: 'missing_scope', needed: 'users:read.email' })
    expect((await call(METHOD_LOOKUP, { query: 'email=user1%40example.com', token: SLACK_BOT_TOKEN })).body.ok).toBe(true)
    emu.setScopes(SLACK_NO_ADMIN_SCOPE_TOKEN, ['admin.users:write'])
    expect((await json(METHOD_RESET_BULK, ids, SLACK_NO_ADMIN_SCOPE_TOKEN)).body).toEqual({ ok: true })
    expect(emu.jobs).toHaveLength(1)
  })
})

describe('slack emulator: users', () => {
  it('looks members up by email (GET or form POST), not deactivated or unknown ones', async () => {
    const r = await call(METHOD_LOOKUP, { query: 'email=USER7%40example.com' })
    expect(r.body).toMatchObject({
      ok: true,
      user: { id: 'W00000007', deleted: false, is_bot: false, profile: { email: 'user7@example.com' }, enterprise_user: { is_admin: false } }
    })
    expect((await form(METHOD_LOOKUP, { email: 'user8@example.com' })).body.user.id).toBe('U00000008')
    expect((await call(METHOD_LOOKUP, { query: 'email=nobody%40example.com' })).body).toEqual({ ok: false, error: 'users_not_found' })
    expect((await call(METHOD_LOOKUP, { query: `email=${encodeURIComponent(DELETED_USER.email)}` })).body).toEqual({ ok: false, error: 'users_not_found' })
    expect((await call(METHOD_LOOKUP)).body.error).toBe('invalid_arguments')
    // users.lookupByEmail takes no JSON body: its arguments are not read
    expect((await json(METHOD_LOOKUP, { email: 'user1@example.com' })).body.error).toBe('invalid_arguments')
    emu.restrictLookupForOrgTokens = true
    expect((await call(METHOD_LOOKUP, { query: 'email=user7%40example.com' })).body.error).toBe('enterprise_is_restricted')
  })

  it('answers users.info with deleted:true for deactivated members and user_not_found for unknown ids', async () => {
    expect((await call(METHOD_INFO, { query: `user=${DELETED_USER.id}` })).body).toMatchObject({ ok: true, user: { id: DELETED_USER.id, deleted: true } })
    expect((await call(METHOD_INFO, { query: 'user=W09999999' })).body).toEqual({ ok: false, error: 'user_not_found' })
  })

  it('lets tests change state between calls, and reset() restores it', async () => {
    emu.onCall(METHOD_LOOKUP, (_call, n) => {
      if (n === 1) emu.deactivate('W00000002')
    })
    expect((await call(METHOD_LOOKUP, { query: 'email=user2%40example.com' })).body).toEqual({ ok: false, error: 'users_not_found' })
    emu.addUser({ id: 'W0NEWHIRE1', email: 'new.hire@example.com' })
    expect((await call(METHOD_LOOKUP, { query: 'email=new.hire%40example.com' })).body.user.id).toBe('W0NEWHIRE1')
    emu.reset()
    expect((await call(METHOD_LOOKUP, { query: 'email=user2%40example.com' })).body.ok).toBe(true)
    expect((await call(METHOD_LOOKUP, { query: 'email=new.hire%40example.com' })).body.error).toBe('users_not_found')
  })

  it('builds 10,000+ users quickly and resets them all in 1,000-id batches', async () => {
    const t0 = Date.now()
    const users = makeUsers(20_000, { deletedEvery: 10 })
    expect(Date.now() - t0).toBeLessThan(500)
    expect(new Set(users.map((u) => u.id)).size).toBe(20_000)
    expect(users.filter((u) => u.deleted)).toHaveLength(2_000)
    const ids = makeUsers(10_000).map((u) => u.id)
    for (let i = 0; i < ids.length; i += RESET_BULK_MAX) {
      expect((await json(METHOD_RESET_BULK, { user_ids: ids.slice(i, i + RESET_BULK_MAX) })).body).toEqual({ ok: true })
    }
    expect(emu.jobs).toHaveLength(10)
    expect(new Set(emu.resetUserIds()).size).toBe(10_000)
  })
})

describe('slack emulator: bodies, methods, rate limits', () => {
  it('rejects bodies Slack cannot read, and unknown methods', async () => {
    const ids = JSON.stringify({ user_ids: ['W00000001'] })
    const noType = await fetch(`${base}/${METHOD_RESET_BULK}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SLACK_ADMIN_TOKEN}` },
      body: new Blob([ids])
    })
    expect(await noType.json()).toEqual({ ok: false, error: 'missing_post_type' })
    expect((await call(METHOD_RESET_BULK, { body: ids, contentType: 'text/xml' })).body.error).toBe('invalid_post_type')
    expect((await call(METHOD_RESET_BULK, { body: '{"user_ids": [', contentType: JSON_UTF8 })).body.error).toBe('invalid_json')
    expect((await call(METHOD_RESET_BULK, { body: '["W00000001"]', contentType: JSON_UTF8 })).body.error).toBe('json_not_object')
    expect((await call(METHOD_RESET_BULK, { body: ids, contentType: 'application/json; charset=utf-16' })).body.error).toBe('invalid_charset')
    expect((await call(METHOD_RESET_BULK, { body: ids, contentType: JSON_UTF8, verb: 'PUT' })).body.error).toBe('invalid_post_type')
    const unknown = await call('admin.users.session.resetAll', { body: ids, contentType: JSON_UTF8 })
    expect(unknown).toMatchObject({ status: 404, body: { ok: false, error: 'unknown_method', req_method: 'admin.users.session.resetAll' } })
    expect(emu.jobs).toEqual([])
  })

  it('limits each method on its own window with HTTP 429, Retry-After and ratelimited', async () => {
    emu.setMethodRateLimit(METHOD_RESET_BULK, 2, 400, { retryAfterSeconds: 1 })
    const one = { user_ids: ['W00000001'] }
    expect((await json(METHOD_RESET_BULK, one)).status).toBe(200)
    expect((await json(METHOD_RESET_BULK, one)).status).toBe(200)
    const over = await json(METHOD_RESET_BULK, one)
    expect(over.status).toBe(429)
    expect(over.headers.get('retry-after')).toBe('1')
    expect(over.body).toEqual({ ok: false, error: 'ratelimited' })
    expect((await form(METHOD_RESET, { user_id: 'W00000002' })).status).toBe(200) // another method, another window
    expect(emu.jobs).toHaveLength(2)
    expect(emu.throttled).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 420))
    expect((await json(METHOD_RESET_BULK, one)).body).toEqual({ ok: true })
  })

  it('applies the documented tiers on a compressed window, and queues ratelimited answers (429 or 200)', async () => {
    emu.useTierLimits({ windowMs: 5_000 })
    const statuses: number[] = []
    for (let i = 0; i < 21; i++) statuses.push((await form(METHOD_RESET, { user_id: 'W00000001' })).status)
    expect(statuses.filter((s) => s === 429)).toHaveLength(1) // Tier 2: 20 a window
    expect((await call(METHOD_LOOKUP, { query: 'email=user1%40example.com' })).status).toBe(200)
    emu.reset()
    emu.queueRatelimited(METHOD_RESET_BULK, 2, { seconds: 3 })
    emu.queueRatelimited(METHOD_LOOKUP, 1, { seconds: 2, status: 200 })
    const first = await json(METHOD_RESET_BULK, { user_ids: ['W00000001'] })
    expect(first).toMatchObject({ status: 429, body: { ok: false, error: 'ratelimited' } })
    expect(first.headers.get('retry-after')).toBe('3')
    const soft = await call(METHOD_LOOKUP, { query: 'email=user1%40example.com' })
    expect(soft).toMatchObject({ status: 200, body: { ok: false, error: 'ratelimited' } })
    expect(soft.headers.get('retry-after')).toBe('2')
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000001'] })).status).toBe(429)
    expect((await json(METHOD_RESET_BULK, { user_ids: ['W00000001'] })).body).toEqual({ ok: true })
    expect(emu.requestsTo(METHOD_RESET_BULK).map((r) => r.status)).toEqual([429, 429, 200])
  })
})

describe('slack contract (slackapi/slack-api-specs, through Prism)', () => {
  let proxy: Awaited<ReturnType<typeof startContractProxy>>
  beforeAll(async () => {
    proxy = await startContractProxy({ spec: contractPath('slack'), upstream: `${emu.origin}/api` })
  }, 30_000)
  afterAll(() => proxy?.stop())
  beforeEach(() => proxy.reset())

  const auth = { authorization: `Bearer ${SLACK_ADMIN_TOKEN}` }
  const via = (path: string, init: RequestInit = {}) => fetch(`${proxy.origin}${path}`, init).then(async (r) => ({ status: r.status, body: await r.json() }))

  it('finds no violation in valid calls to every sliced operation and the emulator answers', async () => {
    const reset = await via(`/${METHOD_RESET}`, { method: 'POST', headers: { ...auth, 'content-type': FORM }, body: 'user_id=W00000001&web_only=true' })
    expect(reset.body).toEqual({ ok: true })
    const lookup = await via(`/${METHOD_LOOKUP}?email=user2%40example.com`, { headers: auth })
    expect(lookup.body.user.id).toBe('W00000002')
    const info = await via(`/${METHOD_INFO}?user=W00000003`, { headers: auth })
    expect(info.body.user.id).toBe('W00000003')
    await proxy.settle()
    expect(proxy.received.map((r) => r.method)).toEqual(['POST', 'GET', 'GET'])
    expect(proxy.requestViolations()).toEqual([])
    expect(proxy.responseViolations()).toEqual([])
    expect(emu.resetUserIds('web')).toEqual(['W00000001'])
  })

  it('flags malformed requests: no user_id, no bearer token, a non-boolean flag', async () => {
    await via(`/${METHOD_RESET}`, { method: 'POST', headers: { ...auth, 'content-type': FORM }, body: 'web_only=true' })
    await via(`/${METHOD_RESET}`, { method: 'POST', headers: { 'content-type': FORM }, body: 'user_id=W00000001' })
    await via(`/${METHOD_RESET}`, { method: 'POST', headers: { ...auth, 'content-type': FORM }, body: 'user_id=W00000001&web_only=sometimes' })
    await via(`/${METHOD_LOOKUP}`, { headers: auth })
    await proxy.settle()
    const messages = proxy.requestViolations().map((v) => v.message)
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining("required property 'user_id'"),
        'Invalid security scheme used',
        expect.stringContaining('web_only must be boolean'),
        expect.stringContaining("required property 'email'")
      ])
    )
  })

  it('records what the 2020 description cannot check: JSON bodies on reset (Swagger 2 formData), resetBulk', async () => {
    const r = await via(`/${METHOD_RESET}`, { method: 'POST', headers: { ...auth, 'content-type': JSON_UTF8 }, body: JSON.stringify({ user_id: 'W00000001' }) })
    expect(r.body).toEqual({ ok: true }) // Slack (and the emulator) accept JSON here ...
    await via(`/${METHOD_RESET_BULK}`, { method: 'POST', headers: { ...auth, 'content-type': JSON_UTF8 }, body: JSON.stringify({ user_ids: ['W00000002'] }) })
    await proxy.settle()
    expect(proxy.requestViolations().map((v) => [v.path, v.message])).toEqual([
      [`/${METHOD_RESET}`, 'Supported content types: application/x-www-form-urlencoded'], // ... the spec's formData cannot say so
      [`/${METHOD_RESET_BULK}`, 'Selected route not found'] // not in the 2020 spec: the emulator alone checks it
    ])
  })
})
