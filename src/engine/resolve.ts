// Shared plumbing for planning: paging through a list, looking one thing up, and saying a target was
// not found. Providers describe their API's shape; the loop guards and the max-targets stop live here.
import { ProviderRequestError, describeProviderError } from './errors.js'
import type { Http, HttpRequest, HttpResponse } from './http/client.js'
import type { PlanEntry, ProviderErrorInfo } from './types.js'

export interface Page<T> {
  items: T[]
  /** What fetches the next page (a marker, a cursor, a URL, an offset); absent on the last page. */
  next?: string
}

export interface PaginateOptions<T> {
  /** Fetches one page; `cursor` is undefined for the first. */
  fetchPage: (cursor: string | undefined, pageNo: number) => Promise<Page<T>>
  /** The identity of an item: duplicates across pages are dropped, and a page of only repeats stops the loop. */
  key: (item: T) => string
  /** What is listed, for messages ("the Box user list"). */
  what: string
  /** Stop once more than this many items are collected: the max-targets guard will refuse the plan. */
  maxItems?: number
  /** A bound on pages against a server that never ends. */
  maxPages?: number
}

/** A list the provider keeps handing out (a cursor seen before, pages of repeats): the plan cannot be trusted. */
function pagingError(what: string, problem: string): ProviderRequestError {
  return new ProviderRequestError({ code: 'paging', message: `${what}: ${problem}; stopping rather than looping` }, 1)
}

/**
 * Every item of a paged list (marker, cursor, Link or offset paging alike), collected before anything
 * acts on them. Stops early, one item past `maxItems`, so a plan over max-targets is refused without
 * reading the whole list.
 */
export async function paginate<T>(o: PaginateOptions<T>): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = []
  const seenKeys = new Set<string>()
  const seenCursors = new Set<string>()
  const maxPages = o.maxPages ?? 100_000
  let cursor: string | undefined
  for (let pageNo = 1; ; pageNo++) {
    if (pageNo > maxPages) throw pagingError(o.what, `more than ${maxPages} pages`)
    const page = await o.fetchPage(cursor, pageNo)
    let fresh = 0
    for (const item of page.items) {
      const k = o.key(item)
      if (seenKeys.has(k)) continue
      seenKeys.add(k)
      items.push(item)
      fresh++
    }
    if (page.items.length > 0 && fresh === 0) throw pagingError(o.what, `page ${pageNo} held nothing new`)
    if (o.maxItems !== undefined && items.length > o.maxItems) return { items, truncated: page.next !== undefined && page.next !== '' }
    if (page.next === undefined || page.next === '' || page.items.length === 0) return { items, truncated: false }
    if (seenCursors.has(page.next)) throw pagingError(o.what, `the same next-page cursor came back twice`)
    seenCursors.add(page.next)
    cursor = page.next
  }
}

/** The `rel="next"` URL of an RFC 8288 Link header (Okta, GitHub-style paging), or undefined. */
export function nextLink(headers: Headers): string | undefined {
  const link = headers.get('link')
  if (!link) return undefined
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part)
    // rel is a space-separated list of tokens: "next" must be one of them, not the start of one ("next-archive").
    if (m && /\brel="?([^";]*\s)?next(\s[^";]*)?("|\s*;|\s*$)/i.test(m[2])) return m[1]
  }
  return undefined
}

export type Lookup<T> = { found: true; res: HttpResponse<T> } | { found: false; error: ProviderErrorInfo }

/** One read that may answer 404 "no such thing": found with the checked body, or not found with the provider's words. */
export async function lookup<T>(http: Http, req: HttpRequest<T>, notFound: readonly number[] = [404]): Promise<Lookup<T>> {
  const res = await http.request({ ...req, pass: [...notFound, ...(req.pass ?? [])] })
  if (notFound.includes(res.status)) return { found: false, error: res.error ?? { status: res.status, message: 'not found', requestId: res.requestId } }
  return { found: true, res }
}

/** The plan entry of a target that does not exist at the provider: skipped, unresolved, never sent. */
export function notFound(id: string, kind: string, what: string, error?: ProviderErrorInfo, label?: string): PlanEntry {
  const why = error ? ` (${describeProviderError(error)})` : ''
  return { id, kind, label, skip: `${what}${why}; nothing sent`, unresolved: true }
}
