// Microsoft Graph as this provider speaks it: the error shapes (Graph's and the identity platform's),
// the answers it reads, and JSON batching ($batch) with every item judged on its own.
//
// JSON batching (microsoft-graph-docs-contrib concepts/json-batching.md): POST /$batch
// {"requests":[{id, method, url, headers?, body?}]}, at most 20 items; the batch answers 200 while each
// item carries its own status, headers (a throttled item: 429 with its own Retry-After, which may be
// decimal seconds) and body. A write item needs a body and a Content-Type header, or Graph refuses the
// whole batch (msgraph-sdk-dotnet #1038, #2628). Each item counts against throttling on its own.
import { z } from 'zod'
import { ProviderRequestError, RunHaltedError } from '../../engine/errors.js'
import { bodySnippet, type Http } from '../../engine/http/client.js'
import { backoffMs, isTransientStatus, serverRequestedWaitMs } from '../../engine/http/retry-policy.js'
import type { ProviderErrorInfo } from '../../engine/types.js'

/** Graph refuses a $batch of more than 20 requests (json-batching.md). */
export const BATCH_LIMIT = 20

/** {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}} (concepts/errors.md). */
const graphError = z.looseObject({
  error: z.looseObject({
    code: z.string().optional().nullable(),
    message: z.string().optional().nullable(),
    innerError: z.looseObject({ 'request-id': z.string().optional().nullable() }).optional().nullable(),
    innererror: z.looseObject({ 'request-id': z.string().optional().nullable() }).optional().nullable()
  })
})

/** The identity platform's token endpoint: {error, error_description:"AADSTSn: ...\r\nTrace ID: ...", error_codes, trace_id, correlation_id}. */
const aadError = z.looseObject({
  error: z.string(),
  error_description: z.string().optional().nullable(),
  error_codes: z.array(z.number()).optional().nullable(),
  trace_id: z.string().optional().nullable(),
  correlation_id: z.string().optional().nullable()
})

export function parseError(status: number, body: unknown, raw: string): ProviderErrorInfo {
  const graph = graphError.safeParse(body)
  if (graph.success) {
    const e = graph.data.error
    const inner = e.innerError ?? e.innererror
    return { status, code: e.code ?? undefined, message: e.message || 'Microsoft Graph returned an error', requestId: inner?.['request-id'] ?? undefined }
  }
  const aad = aadError.safeParse(body)
  if (aad.success) {
    const a = aad.data
    // The first line says what is wrong ("AADSTS7000215: Invalid client secret provided. ..."); the rest
    // repeats the trace and correlation ids, which are kept apart.
    const first = (a.error_description ?? a.error).split(/\r?\n/)[0].trim()
    const correlation = a.correlation_id ? ` (correlation id ${a.correlation_id})` : ''
    return { status, code: a.error, message: `${first}${correlation}`, requestId: a.trace_id ?? undefined }
  }
  return { status, message: bodySnippet(raw) }
}

/** The AADSTS code of an identity platform error ("AADSTS700213"), when its message carries one. */
export function aadstsCode(info: ProviderErrorInfo): string | undefined {
  return /\bAADSTS(\d+)\b/.exec(info.message)?.[0]
}

export const tokenAnswer = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().optional(),
  token_type: z.string().optional()
})

export const graphUser = z.looseObject({
  id: z.string().min(1),
  userPrincipalName: z.string().optional().nullable(),
  displayName: z.string().optional().nullable(),
  accountEnabled: z.boolean().optional().nullable(),
  userType: z.string().optional().nullable()
})
export type GraphUser = z.infer<typeof graphUser>

export const userPage = z.looseObject({
  value: z.array(graphUser),
  '@odata.nextLink': z.string().optional().nullable()
})

export const graphGroup = z.looseObject({ id: z.string().min(1), displayName: z.string().optional().nullable() })

const batchAnswer = z.looseObject({
  responses: z.array(
    z.looseObject({
      id: z.coerce.string(),
      status: z.number().int(),
      headers: z.record(z.string(), z.unknown()).optional().nullable(),
      body: z.unknown().optional()
    })
  )
})

/** One request inside a $batch; `url` is relative to the version (/users/{id}, not /v1.0/users/{id}). */
export interface BatchItem {
  method: 'GET' | 'POST'
  url: string
  headers?: Record<string, string>
  body?: unknown
}

/** How one item ended: its last answer, and how many times it was sent. */
export interface ItemAnswer {
  status: number
  headers: Record<string, string>
  body: unknown
  attempts: number
  /** The item's request id (from its error body), else the envelope's. */
  requestId?: string
  /** Set when the item was left failing because the wait budget was spent or the run is stopping. */
  gaveUp?: string
}

export interface BatchResult {
  /** One per item, in the order given; undefined for items the run stopped before settling (see `stopped`). */
  answers: (ItemAnswer | undefined)[]
  /** A retry round's envelope failed (credentials refused, cancelled, ...): what it threw, per unsettled item. */
  stopped?: {
    error: unknown
    /** Indexes of the unsettled items, each with its last answer and whether an earlier attempt may have taken effect. */
    items: { index: number; last?: ItemAnswer; mayHaveTakenEffect: boolean }[]
  }
}

export interface BatchOptions {
  http: Http
  /** base-url: the version root (…/v1.0) that item URLs are relative to. */
  baseUrl: string
  maxRetries: number
  random: () => number
  now: () => number
  /** For log lines and errors ("revokeSignInSessions", "user lookups"). */
  what: string
}

function lowerHeaders(raw: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw ?? {})) if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v)
  return out
}

/** The request id an item's error body carries. */
function itemRequestId(status: number, body: unknown): string | undefined {
  return status >= 400 ? parseError(status, body, '').requestId : undefined
}

/**
 * Sends `items` (at most 20) in one $batch and retries, alone, each item Graph answered with a transient
 * status (429, 5xx): after the longest Retry-After among them (decimal seconds allowed), else backoff,
 * through `http.waitToRetry` so the wait is charged to the run's wait budget and a throttled item
 * pauses every worker. Items that succeeded or failed for good are never sent again.
 *
 * The first envelope's failure is thrown (nothing is settled yet: the engine judges it like any failed
 * request). A later envelope's failure is returned in `stopped`, so the items already settled keep
 * their outcome.
 */
export async function sendBatch(items: BatchItem[], o: BatchOptions): Promise<BatchResult> {
  if (items.length === 0) return { answers: [] }
  if (items.length > BATCH_LIMIT) throw new Error(`a $batch holds at most ${BATCH_LIMIT} requests, not ${items.length}`)
  const answers: (ItemAnswer | undefined)[] = new Array(items.length).fill(undefined)
  const attempts = new Array<number>(items.length).fill(0)
  const mayHave = new Array<boolean>(items.length).fill(false)
  const last = new Map<number, ItemAnswer>()
  let pending = items.map((_, i) => i)
  for (let round = 1; ; round++) {
    let res
    try {
      res = await o.http.request({
        method: 'POST',
        url: `${o.baseUrl}/$batch`,
        json: { requests: pending.map((i) => ({ id: String(i + 1), ...items[i] })) },
        schema: batchAnswer,
        // Every item is a read or a revoke: sending the envelope again is harmless.
        idempotent: true,
        what: `the $batch of ${o.what}`
      })
    } catch (err) {
      if (round === 1) throw err
      return { answers, stopped: { error: err, items: pending.map((index) => ({ index, last: last.get(index), mayHaveTakenEffect: mayHave[index] })) } }
    }
    const byId = new Map(res.data.responses.map((r) => [r.id, r]))
    const retry: number[] = []
    let waitMs = 0
    let throttled = false
    for (const i of pending) {
      attempts[i]++
      const r = byId.get(String(i + 1))
      const answer: ItemAnswer = r
        ? {
            status: r.status,
            headers: lowerHeaders(r.headers),
            body: r.body,
            attempts: attempts[i],
            requestId: itemRequestId(r.status, r.body) ?? res.requestId
          }
        : // Graph answers every item; an answer without one is read as a transient failure of that item.
          {
            status: 0,
            headers: {},
            body: { error: { code: 'noItemResponse', message: `the $batch answer held no response for request ${i + 1}` } },
            attempts: attempts[i],
            requestId: res.requestId
          }
      const transient = answer.status === 0 || isTransientStatus(answer.status)
      // A server error (or no answer) may come after the revoke took effect.
      if (answer.status === 0 || answer.status >= 500) mayHave[i] = true
      if (!transient || attempts[i] > o.maxRetries) {
        answers[i] = answer
        continue
      }
      retry.push(i)
      last.set(i, answer)
      const asked = serverRequestedWaitMs(new Headers(answer.headers), o.now())
      if (answer.status === 429 || asked !== undefined) throttled = true
      waitMs = Math.max(waitMs, asked ?? backoffMs(attempts[i], o.random))
    }
    if (retry.length === 0) return { answers }
    const label = `$batch of ${o.what}: ${retry.length} item(s) answered ${[...new Set(retry.map((i) => last.get(i)?.status))].join('/')}`
    if (!(await o.http.waitToRetry(waitMs, { throttled, label }))) {
      for (const i of retry) {
        const a = last.get(i)
        if (a)
          answers[i] = {
            ...a,
            gaveUp: `not retried: the wait budget of max-wait-seconds is spent, or the run is stopping (Graph asked to wait ${Math.ceil(waitMs / 1000)} s)`
          }
      }
      return { answers }
    }
    pending = retry
  }
}

/** What an item's failure says, in the report's terms. */
export function itemError(a: ItemAnswer, hint?: string): ProviderErrorInfo {
  const info = parseError(a.status, a.body, typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? ''))
  const extra = [a.gaveUp, a.attempts > 1 ? `after ${a.attempts} attempts` : undefined, hint].filter((x) => x !== undefined && x !== '')
  return {
    status: a.status === 0 ? undefined : a.status,
    code: info.code,
    message: extra.length > 0 ? `${info.message} (${extra.join('; ')})` : info.message,
    requestId: info.requestId ?? a.requestId
  }
}

/** The error a stopped retry round leaves on an item it could not settle. */
export function stoppedError(err: unknown): { halted?: RunHaltedError; info: ProviderErrorInfo } {
  if (err instanceof RunHaltedError) return { halted: err, info: { message: err.reason } }
  if (err instanceof ProviderRequestError) return { info: err.info }
  return { info: { message: err instanceof Error ? err.message : String(err) } }
}
