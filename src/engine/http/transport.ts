// Transport: one HTTP exchange, nothing more. Sends the prepared request with a timeout and the run's
// cancel signal, never follows a redirect, and reads the body as a stream up to a cap.

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export interface PreparedRequest {
  method: string
  url: string
  headers: Record<string, string>
  body: string
}

export interface RawResponse {
  status: number
  headers: Headers
  text: string
}

export type TransportFailure = 'timeout' | 'network' | 'cancelled' | 'too-large'

/** The exchange did not produce a whole response. `sent`: the request may have reached the server. */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailure,
    message: string,
    readonly sent: boolean,
    readonly status?: number,
    readonly headers?: Headers
  ) {
    super(message)
    this.name = 'TransportError'
  }
}

export interface SendOptions {
  timeoutMs: number
  maxBodyBytes: number
  /** Aborts the exchange when the run is cancelled. */
  signal?: AbortSignal
}

/** Default cap on a response body: provider answers are small; a runaway body must not exhaust memory. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024

export async function send(fetchImpl: FetchLike, req: PreparedRequest, opts: SendOptions): Promise<RawResponse> {
  // One controller per exchange, aborted by its own timer or by the run's cancel signal. Not
  // AbortSignal.timeout/any: a composite signal stays referenced by the run's long-lived signal, and
  // tens of thousands of requests kept that many alive (about 70 MB at 20,000 requests).
  const abort = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    abort.abort(new DOMException('timed out', 'TimeoutError'))
  }, opts.timeoutMs)
  const onCancel = (): void => abort.abort(opts.signal?.reason)
  opts.signal?.addEventListener('abort', onCancel, { once: true })
  if (opts.signal?.aborted) onCancel()
  const failure = (err: unknown): TransportError => {
    if (opts.signal?.aborted && !timedOut) return new TransportError('cancelled', 'the run was cancelled', true)
    if (timedOut || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))) {
      return new TransportError('timeout', `no response within ${opts.timeoutMs / 1000}s`, true)
    }
    return new TransportError('network', `network error: ${describeNetworkError(err)}`, true)
  }
  try {
    let res: Response
    try {
      res = await fetchImpl(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body === '' ? undefined : req.body,
        signal: abort.signal,
        redirect: 'manual'
      })
    } catch (err) {
      throw failure(err)
    }
    try {
      const text = await readCapped(res, opts.maxBodyBytes)
      return { status: res.status, headers: res.headers, text }
    } catch (err) {
      if (err instanceof TransportError) throw new TransportError(err.kind, err.message, true, res.status, res.headers)
      const f = failure(err)
      throw new TransportError(f.kind, f.message, true, res.status, res.headers)
    }
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onCancel)
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined)
    throw new TransportError('too-large', `the response body is ${declared} bytes, more than the ${maxBytes}-byte limit`, true)
  }
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined)
      throw new TransportError('too-large', `the response body exceeded the ${maxBytes}-byte limit`, true)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function describeNetworkError(err: unknown): string {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : ''
  const base = err instanceof Error ? err.message : String(err)
  return code ? `${base} (${code})` : base
}

export function prepare(req: {
  method: string
  url: string
  headers?: Record<string, string>
  json?: unknown
  form?: Record<string, string>
}): PreparedRequest {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
  let body = ''
  if (req.json !== undefined) {
    body = JSON.stringify(req.json)
    headers['content-type'] = 'application/json'
  } else if (req.form !== undefined) {
    body = new URLSearchParams(req.form).toString()
    headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  return { method: req.method, url: req.url, headers, body }
}
