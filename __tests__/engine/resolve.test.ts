import { describe, expect, it } from '@jest/globals'
import { z } from 'zod'
import { systemClock } from '../../src/engine/clock.js'
import { ProviderRequestError } from '../../src/engine/errors.js'
import { canonicalJson } from '../../src/engine/plan.js'
import { Semaphore, mapConcurrent } from '../../src/engine/pool.js'
import { lookup, nextLink, notFound, paginate, type Page } from '../../src/engine/resolve.js'
import { rejection, testClient } from './helpers.js'

/** Pages of `size` numbered items up to `total`, cursor = the next offset. */
function pages(total: number, size: number) {
  const fetched: Array<string | undefined> = []
  const fetchPage = async (cursor: string | undefined): Promise<Page<number>> => {
    fetched.push(cursor)
    const from = Number(cursor ?? 0)
    const items = Array.from({ length: Math.max(0, Math.min(size, total - from)) }, (_, i) => from + i)
    return { items, next: from + size < total ? String(from + size) : undefined }
  }
  return { fetched, fetchPage }
}

describe('paginate', () => {
  it('follows the cursor to the last page and collects every item once', async () => {
    const p = pages(25, 10)
    const out = await paginate({ ...p, key: String, what: 'the list' })
    expect(out).toEqual({ items: Array.from({ length: 25 }, (_, i) => i), truncated: false })
    expect(p.fetched).toEqual([undefined, '10', '20'])
  })

  it('stops one item past maxItems, saying whether the list went on', async () => {
    const p = pages(1000, 10)
    const out = await paginate({ ...p, key: String, what: 'the list', maxItems: 15 })
    expect(out.items).toHaveLength(20)
    expect(out.truncated).toBe(true)
    expect(p.fetched).toHaveLength(2)
    const exact = await paginate({ ...pages(20, 10), key: String, what: 'the list', maxItems: 15 })
    expect(exact.truncated).toBe(false)
  })

  it('drops repeats across pages, and stops on an empty page or an empty cursor', async () => {
    const script: Array<Page<string>> = [
      { items: ['a', 'b'], next: 'c1' },
      { items: ['b', 'c'], next: 'c2' },
      { items: [], next: 'c3' }
    ]
    const out = await paginate({ fetchPage: async (_c, n) => script[n - 1], key: (s) => s, what: 'the list' })
    expect(out.items).toEqual(['a', 'b', 'c'])
    const blank = await paginate({ fetchPage: async () => ({ items: ['x'], next: '' }), key: (s) => s, what: 'the list' })
    expect(blank.items).toEqual(['x'])
  })

  it('refuses to loop: a page of only repeats, a cursor seen before, too many pages', async () => {
    const repeats = await rejection(paginate({ fetchPage: async (c) => ({ items: ['a'], next: `${c ?? ''}x` }), key: (s) => s, what: 'the user list' }))
    expect(repeats).toBeInstanceOf(ProviderRequestError)
    expect(repeats.message).toBe('no response, code paging: the user list: page 2 held nothing new; stopping rather than looping')
    let n = 0
    const cursor = await rejection(paginate({ fetchPage: async () => ({ items: [String(n++)], next: 'same' }), key: (s) => s, what: 'the user list' }))
    expect(cursor.message).toContain('the same next-page cursor came back twice')
    const endless = await rejection(
      paginate({ fetchPage: async (_c, p) => ({ items: [String(p)], next: String(p) }), key: (s) => s, what: 'the user list', maxPages: 3 })
    )
    expect(endless.message).toContain('more than 3 pages')
  })
})

describe('nextLink', () => {
  it('finds the rel="next" URL of a Link header', () => {
    const h = (link: string): Headers => new Headers({ link })
    expect(nextLink(h('<https://a/x?after=1>; rel="self", <https://a/x?after=2>; rel="next"'))).toBe('https://a/x?after=2')
    expect(nextLink(h('<https://a/x?after=3>; rel=next'))).toBe('https://a/x?after=3')
    expect(nextLink(h('<https://a/x?a=1,b=2>; rel="prev next"'))).toBe('https://a/x?a=1,b=2')
    expect(nextLink(h('<https://a/x>; rel="self"'))).toBeUndefined()
    // Another relation that merely starts with "next" (RFC 5005's next-archive) is not the next page.
    expect(nextLink(h('<https://a/archive/2>; rel="next-archive", <https://a/x?p=2>; rel="next"'))).toBe('https://a/x?p=2')
    expect(nextLink(h('<https://a/x>; rel="nextpage"'))).toBeUndefined()
    expect(nextLink(h('<https://a/x>; rel=next-archive'))).toBeUndefined()
    expect(nextLink(h('<https://a/y>; rel=next; title="more"'))).toBe('https://a/y')
    expect(nextLink(h('<https://a/z>; rel="next last"'))).toBe('https://a/z')
    expect(nextLink(new Headers())).toBeUndefined()
  })
})

describe('lookup and notFound', () => {
  const schema = z.object({ id: z.string() })

  it("returns found with the checked body, or not found with the provider's words", async () => {
    const t = testClient((req) =>
      req.url.endsWith('/u1')
        ? { status: 200, body: { id: 'u1' } }
        : req.url.endsWith('/gone')
          ? { status: 410, body: '' }
          : { status: 404, body: { message: 'no such user', request_id: 'rq-1' } }
    )
    const found = await lookup(t.http, { method: 'GET', url: 'https://a/users/u1', schema })
    expect(found.found && found.res.data).toEqual({ id: 'u1' })
    const missing = await lookup(t.http, { method: 'GET', url: 'https://a/users/u2', schema })
    expect(missing).toEqual({ found: false, error: { status: 404, message: 'no such user', requestId: 'rq-1' } })
    const gone = await lookup(t.http, { method: 'GET', url: 'https://a/users/gone', schema }, [404, 410])
    expect(gone).toEqual({ found: false, error: { status: 410, message: '(empty body)', code: undefined, requestId: undefined } })
  })

  it('makes a skipped, unresolved entry that says nothing was sent', () => {
    expect(notFound('bob', 'username', 'no user named "bob"')).toEqual({
      id: 'bob',
      kind: 'username',
      label: undefined,
      skip: 'no user named "bob"; nothing sent',
      unresolved: true
    })
    expect(notFound('7', 'user-id', 'no user 7', { status: 404, message: 'Not Found', requestId: 'r' }, 'Seven').skip).toBe(
      'no user 7 (HTTP 404: Not Found (request id r)); nothing sent'
    )
  })
})

describe('mapConcurrent and Semaphore', () => {
  it('keeps the input order and runs at most `limit` at once', async () => {
    let active = 0
    let most = 0
    const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n, i) => {
      active++
      most = Math.max(most, active)
      await new Promise((r) => setTimeout(r, n))
      active--
      return `${i}:${n}`
    })
    expect(out).toEqual(['0:5', '1:1', '2:4', '3:2', '4:3'])
    expect(most).toBe(2)
    expect(await mapConcurrent([], 4, async () => 1)).toEqual([])
  })

  it('starts nothing new after a call fails, and throws the first error', async () => {
    const started: number[] = []
    const err = await rejection(
      mapConcurrent([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n)
        await Promise.resolve()
        if (n === 2) throw new Error('lookup 2 failed')
        return n
      })
    )
    expect(err.message).toBe('lookup 2 failed')
    expect(started).toEqual([1, 2, 3])
  })

  it('grants permits in arrival order and lets an aborted waiter go without one', async () => {
    const s = new Semaphore(1)
    await s.acquire()
    const order: string[] = []
    const ac = new AbortController()
    const a = s.acquire().then(() => order.push('a'))
    const b = s.acquire(ac.signal).then(
      () => order.push('b'),
      (e: unknown) => order.push(`b aborted: ${(e as Error).message}`)
    )
    const c = s.acquire().then(() => order.push('c'))
    ac.abort(new Error('stop'))
    await b
    s.release()
    await a
    s.release()
    await c
    expect(order).toEqual(['b aborted: stop', 'a', 'c'])
    const done = new AbortController()
    done.abort(new Error('already'))
    expect((await rejection(s.acquire(done.signal))).message).toBe('already')
  })
})

describe('small pieces', () => {
  it('canonicalJson: sorted keys, undefined members dropped, undefined in arrays as null', () => {
    expect(canonicalJson({ b: 1, a: [undefined, { d: undefined, c: 'x' }], e: null })).toBe('{"a":[null,{"c":"x"}],"b":1,"e":null}')
    expect(canonicalJson(undefined)).toBe('null')
  })

  it('systemClock sleeps for real (briefly) and tells the time', async () => {
    const before = systemClock.now()
    await systemClock.sleep(0)
    await systemClock.sleep(5)
    expect(systemClock.now() - before).toBeGreaterThanOrEqual(4)
  })
})
