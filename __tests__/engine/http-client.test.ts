import { describe, expect, it } from '@jest/globals'
import { z } from 'zod'
import { ProviderRequestError, RunHaltedError, UNEXPECTED_RESPONSE } from '../../src/engine/errors.js'
import { MintedToken, staticCredentials } from '../../src/engine/http/auth.js'
import { bodySnippet, parseJson, type HttpProfile } from '../../src/engine/http/client.js'
import { RateLimiter } from '../../src/engine/http/throttle.js'
import { prepare } from '../../src/engine/http/transport.js'
import { T0, VirtualClock, profile, quiet, rejection, testClient, until } from './helpers.js'

const URL_ = 'https://api.example.test/v1/things'
const get = { method: 'GET' as const, url: URL_ }

describe('HttpClient: what a success is', () => {
  it('returns any 2xx by default, with the parsed body, the request id and the attempt count', async () => {
    const t = testClient(() => ({ status: 200, body: { a: 1 }, headers: { 'x-request-id': 'req-1' } }))
    const res = await t.http.request(get)
    expect(res).toMatchObject({ status: 200, body: { a: 1 }, data: { a: 1 }, requestId: 'req-1', attempts: 1 })
    expect(t.fetch.requests).toHaveLength(1)
    expect(t.fetch.requests[0]).toMatchObject({ method: 'GET', url: URL_ })
    expect(t.fetch.requests[0].headers.accept).toBe('application/json')
    expect(t.http.stats).toEqual({ requests: 1, retries: 0, throttled: 0 })
  })

  it('accepts only the `ok` statuses: another 2xx is an unexpected response, never retried', async () => {
    const t = testClient(() => ({ status: 200, body: {} }))
    const err = (await rejection(t.http.request({ ...get, ok: [204], what: 'the reset' }))) as ProviderRequestError
    expect(err).toBeInstanceOf(ProviderRequestError)
    expect(err.info.code).toBe(UNEXPECTED_RESPONSE)
    expect(err.message).toContain('the reset answered HTTP 200, which the API does not document as its success (expected 204)')
    expect(t.fetch.requests).toHaveLength(1)

    const ok = testClient(() => ({ status: 204 }))
    expect((await ok.http.request({ ...get, ok: [204], body: 'empty' })).status).toBe(204)
  })

  it.each([
    ['json', '{"x":1}', true],
    ['json', '', 'an empty body'],
    ['json', '<html>sign in</html>', 'a body that is not JSON'],
    ['empty', '', true],
    ['empty', '  \n', true],
    ['empty', '{"x":1}', 'a body where none is documented'],
    ['empty', '<html/>', 'a body that is not JSON'],
    ['json-or-empty', '', true],
    ['json-or-empty', 'null', true],
    ['json-or-empty', '{"x":1}', true],
    ['json-or-empty', '<!doctype html><title>Proxy</title>', 'a body that is not JSON']
  ] as const)('body %s with %j: %s', async (kind, text, expected) => {
    const t = testClient(() => ({ status: 200, body: text }))
    const p = t.http.request({ ...get, body: kind })
    if (expected === true) {
      expect((await p).status).toBe(200)
    } else {
      const err = (await rejection(p)) as ProviderRequestError
      expect(err.info).toMatchObject({ status: 200, code: UNEXPECTED_RESPONSE })
      expect(err.info.message).toContain(`answered HTTP 200 with ${expected}`)
      expect(err.attempts).toBe(1)
      expect(t.fetch.requests).toHaveLength(1)
    }
  })

  it('checks the body against the schema: a mismatch is unexpected-response naming the path, not retried', async () => {
    const schema = z.object({ users: z.array(z.object({ id: z.string() })) })
    const good = testClient(() => ({ status: 200, body: { users: [{ id: 'u1' }], extra: true } }))
    const res = await good.http.request({ ...get, schema, what: 'the user list' })
    expect(res.data).toEqual({ users: [{ id: 'u1' }] })

    const bad = testClient(() => ({ status: 200, body: { users: [{ id: 7 }] }, headers: { 'x-request-id': 'r-9' } }))
    const err = (await rejection(bad.http.request({ ...get, schema, what: 'the user list' }))) as ProviderRequestError
    expect(err.info).toMatchObject({ status: 200, code: UNEXPECTED_RESPONSE, requestId: 'r-9' })
    expect(err.info.message).toMatch(/^the user list answered outside the documented shape \(.+ at users\.0\.id\)/)
    expect(bad.fetch.requests).toHaveLength(1)

    // A schema means a JSON body: an empty 200 fails.
    const empty = testClient(() => ({ status: 200, body: '' }))
    expect((await rejection(empty.http.request({ ...get, schema }))).message).toContain('with an empty body')
  })

  it('returns `pass` statuses with the parsed error instead of raising', async () => {
    const t = testClient(() => ({ status: 404, body: { message: 'no such user', code: 'E404' }, headers: { 'x-request-id': 'r-404' } }))
    const res = await t.http.request({ ...get, pass: [404] })
    expect(res.status).toBe(404)
    expect(res.error).toEqual({ status: 404, code: 'E404', message: 'no such user', requestId: 'r-404' })
    expect(t.fetch.requests).toHaveLength(1)
  })

  it('fails a 3xx once, naming the Location without its query, and does not follow or retry it', async () => {
    const t = testClient(() => ({ status: 302, headers: { location: 'https://login.example.test/sso?token=abc&next=/x' } }))
    const err = (await rejection(t.http.request(get))) as ProviderRequestError
    expect(err.info.status).toBe(302)
    expect(err.info.code).toBe('redirect')
    expect(err.info.message).toContain('redirected to https://login.example.test/sso?…')
    expect(err.info.message).not.toContain('token=abc')
    expect(err.attempts).toBe(1)
    expect(t.fetch.requests).toHaveLength(1)
    const noLocation = testClient(() => ({ status: 301 }))
    expect((await rejection(noLocation.http.request(get))).message).toContain('(no Location header)')
  })

  it('sends JSON and form bodies with their content type, and the credentials headers', async () => {
    const t = testClient(() => ({ status: 204 }))
    const auth = staticCredentials({ authorization: 'Bearer static-token-123' })
    await t.http.request({ method: 'POST', url: URL_, json: { ids: ['a'] }, auth })
    await t.http.with({ auth, headers: { 'x-extra': '1' } }).request({ method: 'POST', url: URL_, form: { a: 'b c' } })
    await t.http.with({ auth }).request({ method: 'POST', url: URL_, auth: null })
    const [a, b, c] = t.fetch.requests
    expect(a.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer static-token-123' })
    expect(a.body).toBe('{"ids":["a"]}')
    expect(b.headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded', 'x-extra': '1', authorization: 'Bearer static-token-123' })
    expect(b.body).toBe('a=b+c')
    expect(c.headers.authorization).toBeUndefined()
    expect(prepare({ method: 'GET', url: URL_ }).body).toBe('')
  })

  it('parses JSON leniently and cuts snippets', () => {
    expect(parseJson('')).toBeUndefined()
    expect(parseJson('<html>')).toBeUndefined()
    expect(parseJson('[1]')).toEqual([1])
    expect(bodySnippet('  ')).toBe('(empty body)')
    expect(bodySnippet('a\n\n b')).toBe('a b')
    expect(bodySnippet('x'.repeat(201))).toBe(`${'x'.repeat(200)}…`)
  })
})

describe('HttpClient: retries and waits', () => {
  it('waits as Retry-After says, in seconds, then succeeds; a 429 counts as throttled', async () => {
    const t = testClient((_, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '7' } } : { status: 200, body: {} }))
    const res = await t.http.request(get)
    expect(res.attempts).toBe(2)
    expect(t.fetch.requests[1].at - t.fetch.requests[0].at).toBe(7000)
    expect(t.http.stats).toEqual({ requests: 2, retries: 1, throttled: 1 })
    expect(t.sink.text('debug').join('\n')).toContain('retry 1/3 in 7000 ms')
  })

  it('reads Retry-After as an HTTP date against the clock', async () => {
    const date = new Date(T0 + 12_000).toUTCString()
    const t = testClient((_, n) => (n === 0 ? { status: 503, headers: { 'retry-after': date } } : { status: 200, body: {} }))
    await t.http.request(get)
    expect(t.fetch.requests[1].at - T0).toBe(12_000)
  })

  it('falls back to the reset headers (epoch seconds or a delta)', async () => {
    const epoch = testClient((_, n) => (n === 0 ? { status: 429, headers: { 'x-rate-limit-reset': String(T0 / 1000 + 9) } } : { status: 200, body: {} }))
    await epoch.http.request(get)
    expect(epoch.fetch.requests[1].at - T0).toBe(9000)
    const delta = testClient((_, n) => (n === 0 ? { status: 429, headers: { 'ratelimit-reset': '4' } } : { status: 200, body: {} }))
    await delta.http.request(get)
    expect(delta.fetch.requests[1].at - T0).toBe(4000)
  })

  it('backs off exponentially with the fixed random when the server names no wait, and gives up after max-retries', async () => {
    const t = testClient(() => ({ status: 503, body: { message: 'busy' } }), { maxRetries: 3, random: () => 0.5 })
    const err = (await rejection(t.http.request(get))) as ProviderRequestError
    const at = t.fetch.requests.map((r) => r.at - T0)
    // cap 100, 200, 400 ms; with random 0.5 the wait is 3/4 of the cap.
    expect(at).toEqual([0, 75, 75 + 150, 75 + 150 + 300])
    expect(err.attempts).toBe(4)
    expect(err.info).toMatchObject({ status: 503, message: 'busy (gave up after 4 attempts)' })
    expect(t.http.stats).toEqual({ requests: 4, retries: 3, throttled: 0 })
  })

  it('never resends a non-idempotent request after a 5xx, nor after a transport failure', async () => {
    const t = testClient(() => ({ status: 502, body: { message: 'bad gateway' } }))
    const err = (await rejection(t.http.request({ method: 'POST', url: URL_, idempotent: false }))) as ProviderRequestError
    expect(err.attempts).toBe(1)
    expect(err.info.message).toBe('bad gateway')
    const net = testClient(() => ({ network: 'ECONNRESET' }))
    expect(((await rejection(net.http.request({ method: 'POST', url: URL_, idempotent: false }))) as ProviderRequestError).attempts).toBe(1)
    // A 429 said nothing was done: it is retried even so.
    const throttled = testClient((_, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200, body: {} }))
    expect((await throttled.http.request({ method: 'POST', url: URL_, idempotent: false })).attempts).toBe(2)
  })

  it('does not retry what a retry cannot fix (400, 403, 404, 501)', async () => {
    for (const status of [400, 403, 404, 501]) {
      const t = testClient(() => ({ status, body: { message: `no ${status}` } }))
      const err = (await rejection(t.http.request(get))) as ProviderRequestError
      expect(err.info).toMatchObject({ status, message: `no ${status}` })
      expect(t.fetch.requests).toHaveLength(1)
    }
  })

  it('consults the provider: isRetryable overrides the shared rules, isThrottle marks throttling beyond 429', async () => {
    const rules: HttpProfile = {
      ...profile,
      isRetryable: (status) => (status === 409 ? true : status === 503 ? false : undefined),
      isThrottle: (status, e) => status === 403 && e.code === 'rateLimitExceeded'
    }
    const conflict = testClient((_, n) => (n === 0 ? { status: 409, body: { message: 'busy' } } : { status: 200, body: {} }), { profile: rules })
    expect((await conflict.http.request(get)).attempts).toBe(2)
    const unavailable = testClient(() => ({ status: 503, body: { message: 'down' } }), { profile: rules })
    await rejection(unavailable.http.request(get))
    expect(unavailable.fetch.requests).toHaveLength(1)
    const quota = testClient((_, n) => (n === 0 ? { status: 403, body: { message: 'quota', code: 'rateLimitExceeded' } } : { status: 200, body: {} }), {
      profile: rules
    })
    expect((await quota.http.request(get)).attempts).toBe(2)
    expect(quota.http.stats.throttled).toBe(1)
  })

  it('bounds the total wait: concurrent waits count once, then it gives up saying why', async () => {
    // Both workers are told to wait 10 s at the same moment: the budget of 15 s pays 10 s for both.
    const t = testClient(
      (req, n) => (req.url.endsWith('/3') || n < 2 ? { status: 429, headers: { 'retry-after': '10' }, delayMs: 100 } : { status: 200, body: {} }),
      { maxWaitMs: 15_000, maxRetries: 5 }
    )
    const [a, b] = await Promise.all([t.http.request({ ...get, url: `${URL_}/1` }), t.http.request({ ...get, url: `${URL_}/2` })])
    expect([a.attempts, b.attempts]).toEqual([2, 2])
    expect(t.budget.spent).toBeCloseTo(10_000, 0)
    // A third wait of 10 s would make 20 s: refused.
    const err = (await rejection(t.http.request({ ...get, url: `${URL_}/3` }))) as ProviderRequestError
    expect(err.info.message).toContain('(gave up: the provider asked to wait 10 s, and the wait budget of max-wait-seconds is spent)')
    expect(err.attempts).toBe(1)
  })

  it('gives up on a backoff the budget cannot pay, without the "provider asked" words', async () => {
    const t = testClient(() => ({ status: 500, body: { message: 'oops' } }), { maxWaitMs: 10 })
    const err = (await rejection(t.http.request(get))) as ProviderRequestError
    expect(err.info.message).toBe('oops (gave up: the wait budget of max-wait-seconds is spent)')
  })

  it('pauses every worker on a 429 (one shared limiter), not only the one that got it', async () => {
    const t = testClient((_, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '5' } } : { status: 200, body: {} }), { maxInFlight: 4 })
    const first = t.http.request({ ...get, url: `${URL_}/a` })
    // 1 ms later, after the 429 arrived, another worker sends: it is held back until the pause ends.
    await t.clock.sleep(1)
    const issuedAt = t.clock.now()
    const later = t.http.request({ ...get, url: `${URL_}/b` })
    await Promise.all([first, later])
    const b = t.fetch.requests.find((r) => r.url.endsWith('/b'))!
    expect(issuedAt - T0).toBe(1)
    expect(b.at - T0).toBe(5000)
    expect(t.http.stats.throttled).toBe(1)
  })

  it('keeps at most maxInFlight requests on the wire', async () => {
    const t = testClient(() => ({ status: 200, body: {}, delayMs: 100 }), { maxInFlight: 3 })
    await Promise.all(Array.from({ length: 10 }, (_, i) => t.http.request({ ...get, url: `${URL_}/${i}` })))
    expect(t.fetch.requests).toHaveLength(10)
    expect(t.fetch.maxConcurrent).toBe(3)
  })

  it('holds no slot on the wire while waiting to retry after a status', async () => {
    // One slot: while /a backs off (75 ms) to retry its 503, /b goes out. (A 503 with Retry-After would
    // pause every worker: the provider asked everyone to wait.)
    const t = testClient(
      (req) => (req.url.endsWith('/a') && req.at === T0 ? { status: 503, body: { message: 'busy' } } : { status: 200, body: {}, delayMs: 10 }),
      { maxInFlight: 1 }
    )
    await Promise.all([t.http.request({ ...get, url: `${URL_}/a` }), t.http.request({ ...get, url: `${URL_}/b` })])
    const [a1, a2] = t.fetch.requests.filter((r) => r.url.endsWith('/a'))
    const b = t.fetch.requests.find((r) => r.url.endsWith('/b'))!
    expect(a2.at - a1.at).toBeGreaterThanOrEqual(75)
    expect(b.at - T0).toBeLessThan(75)
  })

  it('holds no slot on the wire while waiting to retry after a transport failure', async () => {
    // One slot: while /a backs off after a reset connection, /b goes out.
    const t = testClient((req) => (req.url.endsWith('/a') && req.at === T0 ? { network: 'ECONNRESET' } : { status: 200, body: {}, delayMs: 10 }), {
      maxInFlight: 1
    })
    await Promise.all([t.http.request({ ...get, url: `${URL_}/a` }), t.http.request({ ...get, url: `${URL_}/b` })])
    const [a1, a2] = t.fetch.requests.filter((r) => r.url.endsWith('/a'))
    const b = t.fetch.requests.find((r) => r.url.endsWith('/b'))!
    expect(a2.at - a1.at).toBeGreaterThanOrEqual(75)
    // /b went out during the 75 ms backoff of /a, not after it.
    expect(b.at - T0).toBeLessThan(75)
  })

  it('waitToRetry charges the budget, pauses the limiter when throttled, and refuses past the budget or after a stop', async () => {
    const t = testClient(() => ({ status: 200, body: {} }), { maxWaitMs: 5000 })
    expect(await t.http.waitToRetry(3000, { throttled: true, label: 'item' })).toBe(true)
    expect(t.clock.now() - T0).toBe(3000)
    expect(t.http.stats).toMatchObject({ retries: 1, throttled: 1 })
    expect(await t.http.waitToRetry(3000, { throttled: false, label: 'item' })).toBe(false)
    expect(await t.http.with({}).waitToRetry(1000, { throttled: false, bucket: 'b', label: 'item' })).toBe(true)
    t.control.halt('stop')
    expect(await t.http.waitToRetry(10, { throttled: false, label: 'item' })).toBe(false)
  })
})

describe('HttpClient: credentials and stopping', () => {
  it('halts the run on 401: later requests are not sent (RunHaltedError, not attempted)', async () => {
    const t = testClient(() => ({ status: 401, body: { message: 'invalid token' } }))
    const err = (await rejection(t.http.request(get))) as ProviderRequestError
    expect(err.fatal).toBe(true)
    expect(t.control.stopped).toBe('the run stopped after HTTP 401: invalid token')
    const later = (await rejection(t.http.request(get))) as RunHaltedError
    expect(later).toBeInstanceOf(RunHaltedError)
    expect(later.mayHaveTakenEffect).toBe(false)
    expect(later.message).toBe('not attempted: the run stopped after HTTP 401: invalid token')
    expect(t.fetch.requests).toHaveLength(1)
  })

  it('treats fatalStatuses and isFatal as credentials refused', async () => {
    const t = testClient(() => ({ status: 403, body: { message: 'forbidden' } }), { profile: { ...profile, fatalStatuses: [401, 403] } })
    expect(((await rejection(t.http.request(get))) as ProviderRequestError).fatal).toBe(true)
    expect(t.control.stopped).toContain('HTTP 403')
  })

  it('judges a 2xx whose body says failure (failureInBody) like any failure: isThrottle, isFatal, isAuthFailure', async () => {
    const slack: HttpProfile = {
      ...profile,
      failureInBody: (_status, body) => {
        const b = body as { ok?: boolean; error?: string } | undefined
        return b && b.ok === false ? { message: b.error ?? 'not ok', code: b.error } : undefined
      },
      isThrottle: (_s, e) => e.code === 'ratelimited',
      isFatal: (_s, e) => e.code === 'missing_scope',
      isAuthFailure: (_s, e) => e.code === 'token_expired'
    }
    const throttled = testClient(
      (_, n) => (n === 0 ? { status: 200, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '3' } } : { status: 200, body: { ok: true } }),
      { profile: slack }
    )
    const res = await throttled.http.request({ ...get, schema: z.object({ ok: z.literal(true) }) })
    expect(res.attempts).toBe(2)
    expect(throttled.fetch.requests[1].at - T0).toBe(3000)
    expect(throttled.http.stats.throttled).toBe(1)

    const failed = testClient(() => ({ status: 200, body: { ok: false, error: 'user_not_found' } }), { profile: slack })
    const err = (await rejection(failed.http.request(get))) as ProviderRequestError
    expect(err.info).toMatchObject({ status: 200, code: 'user_not_found', message: 'user_not_found' })
    expect(failed.fetch.requests).toHaveLength(1)

    const fatal = testClient(() => ({ status: 200, body: { ok: false, error: 'missing_scope' } }), { profile: slack })
    expect(((await rejection(fatal.http.request(get))) as ProviderRequestError).fatal).toBe(true)
    expect(fatal.control.stopped).toContain('missing_scope')

    // isAuthFailure: a renewable token is minted again once.
    let minted = 0
    const auth = testClient(
      (req) =>
        req.url.endsWith('/token')
          ? { status: 200, body: {} }
          : req.headers.authorization === 'Bearer tok-000001'
            ? { status: 200, body: { ok: false, error: 'token_expired' } }
            : { status: 200, body: { ok: true } },
      { profile: slack }
    )
    const token = new MintedToken({
      mint: async () => ({ token: `tok-${String(++minted).padStart(6, '0')}` }),
      header: (tk) => ({ authorization: `Bearer ${tk}` }),
      addSecret: (v) => auth.secrets.add(v),
      clock: auth.clock,
      log: auth.log,
      label: 'a test token'
    })
    expect((await auth.http.request({ ...get, auth: token })).body).toEqual({ ok: true })
    expect(minted).toBe(2)
  })

  it('an auth failure in a 200 that is also fatal: renewed once, then the run stops', async () => {
    const rules: HttpProfile = {
      ...profile,
      failureInBody: (_s, body) => ((body as { ok?: boolean }).ok === false ? { message: 'token_expired', code: 'token_expired' } : undefined),
      isAuthFailure: (_s, e) => e.code === 'token_expired',
      isFatal: (_s, e) => e.code === 'token_expired'
    }
    const t = testClient(() => ({ status: 200, body: { ok: false } }), { profile: rules })
    let n = 0
    const creds = new MintedToken({
      mint: async () => ({ token: `slack-token-${++n}` }),
      header: (tk) => ({ authorization: tk }),
      addSecret: () => {},
      clock: t.clock,
      log: t.log,
      label: 'x'
    })
    const err = (await rejection(t.http.request({ ...get, auth: creds }))) as ProviderRequestError
    expect(n).toBe(2)
    expect(t.fetch.requests.map((r) => r.headers.authorization)).toEqual(['slack-token-1', 'slack-token-2'])
    expect(err.fatal).toBe(true)
    expect(t.control.stopped).toBe('the run stopped after HTTP 200, code token_expired: token_expired')
  })

  it('renews a minted token once on 401, masking each token before use', async () => {
    const t = testClient((req) =>
      req.headers.authorization === 'Bearer first-token-aaaa' ? { status: 401, body: { message: 'expired' } } : { status: 200, body: {} }
    )
    const tokens = ['first-token-aaaa', 'second-token-bbbb']
    const mints: number[] = []
    const creds = new MintedToken({
      mint: async () => {
        mints.push(t.clock.now())
        return { token: tokens[mints.length - 1], expiresIn: 3600 }
      },
      header: (tk) => ({ authorization: `Bearer ${tk}` }),
      addSecret: (v) => t.secrets.add(v),
      clock: t.clock,
      log: t.log,
      label: 'a test token'
    })
    const res = await t.http.request({ ...get, auth: creds })
    expect(res.attempts).toBe(1)
    expect(mints).toHaveLength(2)
    expect(t.fetch.requests.map((r) => r.headers.authorization)).toEqual(['Bearer first-token-aaaa', 'Bearer second-token-bbbb'])
    expect(t.sink.secrets).toEqual(expect.arrayContaining(tokens))
    expect(t.sink.text('info').join('\n')).toContain('the token was refused (401): minting a test token again and retrying once')
    expect(t.control.stopped).toBeUndefined()
  })

  it('stops when the renewed token is refused too (renews once per request)', async () => {
    let n = 0
    const t = testClient(() => ({ status: 401, body: { message: 'no' } }))
    const creds = new MintedToken({
      mint: async () => ({ token: `token-number-${++n}` }),
      header: (tk) => ({ authorization: tk }),
      addSecret: () => {},
      clock: t.clock,
      log: t.log,
      label: 'x'
    })
    const err = (await rejection(t.http.request({ ...get, auth: creds }))) as ProviderRequestError
    expect(err.fatal).toBe(true)
    expect(n).toBe(2)
    expect(t.fetch.requests).toHaveLength(2)
  })

  it('shares one renewal between concurrent workers; the refused token stays current until the new one arrives', async () => {
    const clock = new VirtualClock()
    let mintCount = 0
    const t = testClient(
      (req) => {
        if (req.headers.authorization === 'Bearer token-one-xxxx') return { status: 401, body: { message: 'expired' }, delayMs: 10 }
        return { status: 200, body: {}, delayMs: 10 }
      },
      { clock, maxInFlight: 8 }
    )
    const seenDuringMint: string[] = []
    const creds: MintedToken = new MintedToken({
      mint: async () => {
        mintCount++
        if (mintCount === 2) {
          // While the new token is minted, a request authorized now still carries the refused one.
          seenDuringMint.push(creds.authorize().used)
          await clock.sleep(500)
        }
        return { token: mintCount === 1 ? 'token-one-xxxx' : 'token-two-yyyy' }
      },
      header: (tk) => ({ authorization: `Bearer ${tk}` }),
      addSecret: (v) => t.secrets.add(v),
      clock,
      log: t.log,
      label: 'a shared token',
      // Five workers refused at once make one renewal, not five.
      maxRenewals: 1
    })
    await creds.ready()
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => t.http.request({ ...get, url: `${URL_}/${i}`, auth: creds })))
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(mintCount).toBe(2)
    expect(seenDuringMint).toEqual(['token-one-xxxx'])
    // A worker refused after the new token arrived retries without another mint.
    expect(await creds.renew('token-one-xxxx')).toBe(true)
    expect(mintCount).toBe(2)
  })

  it('stops renewing after maxRenewals', async () => {
    const t = testClient(() => ({ status: 401, body: { message: 'expired' } }))
    let n = 0
    const creds = new MintedToken({
      mint: async () => ({ token: `renewable-${++n}` }),
      header: (tk) => ({ authorization: tk }),
      addSecret: () => {},
      clock: t.clock,
      log: t.log,
      label: 'x',
      maxRenewals: 2
    })
    await creds.ready()
    expect(await creds.renew('renewable-1')).toBe(true)
    expect(await creds.renew('renewable-2')).toBe(true)
    expect(await creds.renew('renewable-3')).toBe(false)
    expect(n).toBe(3)
  })

  it('mints again shortly before expiry, and a refused mint is fatal with the hint', async () => {
    const clock = new VirtualClock()
    const t = testClient(() => ({ status: 200, body: {} }), { clock })
    let n = 0
    const creds = new MintedToken({
      mint: async () => ({ token: `expiring-${++n}`, expiresIn: 120 }),
      header: (tk) => ({ authorization: tk }),
      addSecret: () => {},
      clock,
      log: t.log,
      label: 'x',
      marginMs: 30_000
    })
    await t.http.request({ ...get, auth: creds })
    clock.advance(60_000)
    await t.http.request({ ...get, auth: creds })
    expect(n).toBe(1)
    clock.advance(31_000)
    await t.http.request({ ...get, auth: creds })
    expect(n).toBe(2)
    expect(t.fetch.requests.map((r) => r.headers.authorization)).toEqual(['expiring-1', 'expiring-1', 'expiring-2'])

    const refused = testClient(() => ({ status: 400, body: { message: 'invalid_client' } }))
    const bad = new MintedToken({
      mint: async () => {
        const res = await refused.http.request({ method: 'POST', url: 'https://auth.example.test/token', auth: null })
        return { token: String(res.body) }
      },
      header: (tk) => ({ authorization: tk }),
      addSecret: () => {},
      clock: refused.clock,
      log: refused.log,
      label: 'an OAuth token',
      hint: () => 'check client-id'
    })
    const err = (await rejection(refused.http.request({ ...get, auth: bad }))) as ProviderRequestError
    expect(err.fatal).toBe(true)
    expect(err.info.message).toBe('minting an OAuth token failed: invalid_client — check client-id')
    const other = new MintedToken({
      mint: async () => Promise.reject(new TypeError('boom')),
      header: (tk) => ({ a: tk }),
      addSecret: () => {},
      clock,
      log: t.log,
      label: 'x'
    })
    expect((await rejection(other.ready())).message).toBe('boom')
  })
})

describe('HttpClient: pacing by rate-limit headers', () => {
  const paced: HttpProfile = { ...profile, paceByHeaders: true }

  it('spaces the requests of a bucket when the allowance runs low', async () => {
    const reset = String(T0 / 1000 + 10)
    // limit 100, 10 left: below the 20 % low-water mark, the rest is spread over the 10 s to the reset.
    const t = testClient(
      () => ({ status: 200, body: {}, headers: { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '10', 'x-rate-limit-reset': reset } }),
      { profile: paced, maxInFlight: 1 }
    )
    for (let i = 0; i < 4; i++) await t.http.request({ ...get, bucket: 'users' })
    const at = t.fetch.requests.map((r) => r.at - T0)
    // The first answer says 10 left, one of them kept spare for a request granted but not yet sent: the
    // next one goes at once, then one every (10 s + 500 ms) / 9.
    expect(at[1]).toBeLessThan(10)
    expect(at[2] - at[1]).toBeCloseTo(10_500 / 9, 0)
    expect(at[3] - at[2]).toBeCloseTo(10_500 / 9, 0)
  })

  it('pauses a bucket until the reset when no more is left than requests in flight, leaving other buckets alone', async () => {
    const reset = String(T0 / 1000 + 30)
    const t = testClient(
      (req) =>
        req.url.endsWith('/users')
          ? { status: 200, body: {}, headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset } }
          : { status: 200, body: {} },
      { profile: paced }
    )
    await t.http.request({ ...get, url: `${URL_}/users`, bucket: 'users' })
    const other = t.http.request({ ...get, url: `${URL_}/groups`, bucket: 'groups' })
    const same = t.http.request({ ...get, url: `${URL_}/users`, bucket: 'users' })
    await Promise.all([other, same])
    const groups = t.fetch.requests.find((r) => r.url.endsWith('/groups'))!
    const users2 = t.fetch.requests.filter((r) => r.url.endsWith('/users'))[1]
    expect(groups.at - T0).toBeLessThan(1000)
    expect(users2.at - T0).toBeGreaterThanOrEqual(30_500)
  })

  it('paces requests that name no bucket too (they share the default window)', async () => {
    const reset = String(T0 / 1000 + 30)
    const t = testClient(() => ({ status: 200, body: {}, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } }), { profile: paced })
    await t.http.request(get)
    await t.http.request(get)
    expect(t.fetch.requests[1].at - T0).toBeGreaterThanOrEqual(30_000)
  })

  it('counts the requests still in flight as spoken for: remaining <= in flight pauses the bucket', async () => {
    const reset = String(T0 / 1000 + 20)
    // Four requests on the wire; the first answer says 2 left while 3 others are still out.
    const t = testClient(
      (_, n) =>
        n < 4
          ? { status: 200, body: {}, delayMs: 100 + n, headers: { 'x-rate-limit-remaining': '2', 'x-rate-limit-reset': reset } }
          : { status: 200, body: {} },
      { profile: paced, maxInFlight: 4 }
    )
    await Promise.all(Array.from({ length: 4 }, () => t.http.request({ ...get, bucket: 'users' })))
    await t.http.request({ ...get, bucket: 'users' })
    expect(t.fetch.requests[4].at - T0).toBeCloseTo(20_500, 0)
  })

  it('a 429 with paceByHeaders pauses only its own bucket', async () => {
    const t = testClient((req, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '20' } } : { status: 200, body: {} }), { profile: paced })
    const first = t.http.request({ ...get, url: `${URL_}/users`, bucket: 'users' })
    await t.clock.sleep(1)
    const other = t.http.request({ ...get, url: `${URL_}/groups`, bucket: 'groups' })
    await Promise.all([first, other])
    expect(t.fetch.requests.find((r) => r.url.endsWith('/groups'))!.at - T0).toBeLessThan(1000)
    expect(t.fetch.requests.filter((r) => r.url.endsWith('/users'))[1].at - T0).toBe(20_000)
  })

  it('ignores headers without a usable remaining count or reset', async () => {
    const t = testClient(() => ({ status: 200, body: {}, headers: { 'x-rate-limit-remaining': 'lots', 'x-rate-limit-reset': '5' } }), { profile: paced })
    await t.http.request(get)
    await t.http.request(get)
    expect(t.fetch.requests[1].at - T0).toBeLessThan(100)
  })
})

describe('HttpClient: transport failures', () => {
  it('retries a network error (idempotent) and reports it with its code when it persists', async () => {
    const t = testClient(() => ({ network: 'ECONNREFUSED' }), { maxRetries: 2 })
    const err = (await rejection(t.http.request(get))) as ProviderRequestError
    expect(err.info.status).toBeUndefined()
    expect(err.info.message).toBe('network error: fetch failed (ECONNREFUSED) (gave up after 3 attempts)')
    expect(err.message).toMatch(/^no response: network error/)
    expect(t.fetch.requests).toHaveLength(3)
  })

  it('times out a request that does not answer, and retries it', async () => {
    const t = testClient((_, n) => (n === 0 ? { hang: true } : { status: 200, body: {} }), { timeoutMs: 20 })
    const res = await t.http.request(get)
    expect(res.attempts).toBe(2)
    const never = testClient(() => ({ hang: true }), { timeoutMs: 10, maxRetries: 0 })
    const err = (await rejection(never.http.request(get))) as ProviderRequestError
    expect(err.info.message).toBe('no response within 0.01s')
  })

  it('fails a body over the cap once (too-large), declared or streamed, without retrying', async () => {
    const streamed = testClient(() => ({ status: 200, body: 'x'.repeat(5000), headers: { 'x-request-id': 'big-1' } }), { maxBodyBytes: 1024 })
    const err = (await rejection(streamed.http.request(get))) as ProviderRequestError
    expect(err.info).toMatchObject({ status: 200, requestId: 'big-1' })
    expect(err.info.message).toBe('the response body exceeded the 1024-byte limit')
    expect(err.attempts).toBe(1)
    expect(streamed.fetch.requests).toHaveLength(1)
    const declared = testClient(() => ({ status: 200, body: 'x'.repeat(10), headers: { 'content-length': '999999' } }), { maxBodyBytes: 1024 })
    expect((await rejection(declared.http.request(get))).message).toContain('the response body is 999999 bytes, more than the 1024-byte limit')
    expect(declared.fetch.requests).toHaveLength(1)
  })

  it('treats anything a fetch throws as a network failure', async () => {
    const t = testClient(() => {
      throw new RangeError('script bug')
    })
    const err = await rejection(t.http.request(get))
    expect(err).toBeInstanceOf(ProviderRequestError)
    expect(err.message).toContain('script bug')
  })
})

describe('HttpClient: cancellation', () => {
  it('aborts requests on the wire (unknown: may have taken effect) and never sends queued ones (not attempted)', async () => {
    const t = testClient(() => ({ hang: true }), { maxInFlight: 2 })
    const settled = Array.from({ length: 5 }, (_, i) =>
      t.http.request({ ...get, url: `${URL_}/${i}` }).then(
        () => undefined,
        (e: unknown) => e as RunHaltedError
      )
    )
    await until(() => t.fetch.requests.length === 2)
    await quiet()
    expect(t.fetch.requests).toHaveLength(2)
    t.control.cancel('the job was cancelled (SIGTERM)')
    const errors = await Promise.all(settled)
    expect(errors.every((e) => e instanceof RunHaltedError)).toBe(true)
    expect(errors.map((e) => e!.mayHaveTakenEffect)).toEqual([true, true, false, false, false])
    expect(errors[0]!.message).toBe('unknown: the job was cancelled (SIGTERM) while its request was in flight; it may have taken effect')
    expect(errors[4]!.message).toBe('not attempted: the job was cancelled (SIGTERM)')
    expect(t.fetch.requests).toHaveLength(2)
    expect(t.fetch.requests.every((r) => r.signal?.aborted)).toBe(true)
  })

  it('stops a request that waits to retry, and one that waits for the limiter', async () => {
    const t = testClient((_, n) => (n === 0 ? { status: 503, headers: { 'retry-after': '60' } } : { status: 200, body: {} }), { rateLimit: 1 })
    const retrying = t.http.request(get)
    const queued = t.http.request(get)
    await t.clock.sleep(1000)
    expect(t.http.stats.retries).toBe(1)
    t.control.cancel('cancelled')
    const [a, b] = (await Promise.all([rejection(retrying), rejection(queued)])) as RunHaltedError[]
    expect(a).toBeInstanceOf(RunHaltedError)
    expect(a.mayHaveTakenEffect).toBe(true)
    expect(b).toBeInstanceOf(RunHaltedError)
    expect(b.mayHaveTakenEffect).toBe(false)
    expect(t.fetch.requests).toHaveLength(1)
    // After the cancel, nothing at all is sent.
    expect(await rejection(t.http.request(get))).toBeInstanceOf(RunHaltedError)
    expect(t.control.cancelledBy).toBe('cancelled')
    t.control.cancel('again')
    expect(t.control.cancelledBy).toBe('cancelled')
  })
})

describe('HttpClient: secrets in what it reports', () => {
  const token = 'sk_live_0123456789abcdefSECRET'

  it('scrubs a secret echoed in an HTML body before cutting it to a snippet, even at the 200-character boundary', async () => {
    for (const at of [190, 195, 199, 200]) {
      const html = `<html>${'p'.repeat(at - 6)}${token}${'q'.repeat(50)}</html>`
      const t = testClient(() => ({ status: 200, body: html }))
      t.secrets.add(token)
      const err = (await rejection(t.http.request({ ...get, body: 'json' }))) as ProviderRequestError
      for (let len = 4; len <= token.length; len++) expect(err.message).not.toContain(token.slice(0, len))
    }
  })

  it('scrubs secrets from error bodies before the provider cuts them, and from passed errors and request ids', async () => {
    const html = `<h1>Denied</h1>${'x'.repeat(180)}${token}`
    const t = testClient((_, n) =>
      n === 0 ? { status: 403, body: html } : { status: 404, body: { message: `unknown ${token}` }, headers: { 'x-request-id': token } }
    )
    t.secrets.add(token)
    const err = (await rejection(t.http.request(get))) as ProviderRequestError
    expect(err.message).not.toContain(token.slice(0, 4))
    const res = await t.http.request({ ...get, pass: [404] })
    expect(res.error?.message).toBe('unknown ***')
    expect(res.error?.requestId).toBe('***')
    expect(res.safeText).not.toContain(token)
    expect(res.text).toContain(token)
  })

  it('scrubs secrets from retry log lines and redacts the query of the URL', async () => {
    const t = testClient((_, n) => (n === 0 ? { status: 500, body: { message: `bad ${token}` } } : { status: 200, body: {} }))
    t.secrets.add(token)
    await t.http.request({ ...get, url: `${URL_}?key=${token}` })
    const log = t.sink.all()
    expect(log).toContain(`GET ${URL_}?…: 500 bad ***; retry 1/3`)
    expect(log).not.toContain(token.slice(0, 8))
  })
})

describe('RateLimiter through the client', () => {
  it('at 1 request a minute, the second request goes out at 60 s (a long wait keeps its slot)', async () => {
    const t = testClient(() => ({ status: 200, body: {} }), { rateLimit: 1, maxInFlight: 1 })
    await Promise.all([
      t.http.request({ ...get, url: `${URL_}/1` }),
      t.http.request({ ...get, url: `${URL_}/2` }),
      t.http.request({ ...get, url: `${URL_}/3` })
    ])
    expect(t.fetch.requests.map((r) => r.at - T0)).toEqual([0, 60_000, 120_000])
  })

  it('at 1 a minute, a 429 that arrives while the next request waits for its slot delays it only to the end of the pause', async () => {
    // /a is answered after 30 s with a 429 asking 40 s (until 70 s); /b holds the slot at 60 s.
    const t = testClient((req, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '40' }, delayMs: 30_000 } : { status: 200, body: {} }), {
      rateLimit: 1,
      maxInFlight: 2
    })
    await Promise.all([t.http.request({ ...get, url: `${URL_}/a` }), t.http.request({ ...get, url: `${URL_}/b` })])
    expect(t.fetch.requests.map((r) => [r.url.slice(-2), r.at - T0])).toEqual([
      ['/a', 0],
      ['/b', 70_000],
      ['/a', 130_000]
    ])
  })

  it('shares the limiter of another client', async () => {
    const clock = new VirtualClock()
    const limiter = new RateLimiter(60, clock)
    const a = testClient(() => ({ status: 200, body: {} }), { clock, limiter })
    const b = testClient(() => ({ status: 200, body: {} }), { clock, limiter })
    await Promise.all([a.http.request(get), b.http.request(get)])
    expect(b.fetch.requests[0].at - a.fetch.requests[0].at).toBe(1000)
  })
})
