// SDK-HMAC-SHA256 request signing, the AK/SK scheme of Huawei Cloud's API gateway.
//
// canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED_HEADERS \n hex(sha256(body))
//   URI      each path segment decoded, then percent-encoded (RFC 3986 unreserved characters stay),
//            always ending with "/";
//   QUERY    decoded key/value pairs, sorted by key (values of a repeated key sorted too), both
//            percent-encoded, k=v joined by "&";
//   HEADERS  "name:value\n" for every signed header, names in lower case, sorted;
// string to sign = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(canonical request))
// signature      = hex(HMAC-SHA256(SK, string to sign))
//
// Every header the request carries is signed, plus host, X-Sdk-Date and X-Security-Token (for
// temporary credentials). A fresh X-Sdk-Date is used for every attempt: the gateway refuses
// dates more than 15 minutes away from its clock.
import { createHash, createHmac } from 'node:crypto'

export const ALGORITHM = 'SDK-HMAC-SHA256'
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export interface SigningCredentials {
  /** Access key id (AK). */
  accessKeyId: string
  /** Secret access key (SK). */
  secretKey: string
  /** Session token of temporary credentials; sent as X-Security-Token and signed. */
  securityToken?: string
}

export interface RequestToSign {
  method: string
  /** Absolute URL exactly as it will be requested. */
  url: string
  /** Headers that will be sent (names in any case). */
  headers: Record<string, string>
  /** The body as sent ('' for none). */
  body: string
}

export interface SignedParts {
  date: string
  canonicalRequest: string
  stringToSign: string
  signedHeaders: string
  signature: string
  authorization: string
}

/** RFC 3986 percent-encoding of UTF-8: only A-Z a-z 0-9 - . _ ~ are left as they are. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** Builds a query string whose wire form is already canonical (no "+", no ambiguous characters). */
export function buildQuery(params: ReadonlyArray<readonly [string, string]>): string {
  return params.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')
}

/** X-Sdk-Date for a moment: YYYYMMDDTHHMMSSZ in UTC. */
export function sdkDate(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '')
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    // A stray "%" that starts no escape is taken literally.
    return segment
  }
}

/** The canonical URI of an already-encoded URL path. */
export function canonicalUri(pathname: string): string {
  const encoded = pathname
    .split('/')
    .map((segment) => percentEncode(decodeSegment(segment)))
    .join('/')
  return encoded.endsWith('/') ? encoded : `${encoded}/`
}

/** The canonical query of a URL's search part ("?a=b&c" or ""). "+" reads as a space, as in forms. */
export function canonicalQuery(search: string): string {
  const raw = search.startsWith('?') ? search.slice(1) : search
  if (raw === '') return ''
  const byKey = new Map<string, string[]>()
  for (const [key, value] of new URLSearchParams(raw)) {
    const values = byKey.get(key)
    if (values) values.push(value)
    else byKey.set(key, [value])
  }
  const keys = [...byKey.keys()].sort(compareCodeUnits)
  const pairs: string[] = []
  for (const key of keys) {
    const values = (byKey.get(key) ?? []).slice().sort(compareCodeUnits)
    for (const value of values) pairs.push(`${percentEncode(key)}=${percentEncode(value)}`)
  }
  return pairs.join('&')
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/**
 * Computes the signature of a request for the given date. `headers` must already hold every
 * header that is signed, X-Sdk-Date and (for temporary credentials) X-Security-Token included;
 * host is taken from the URL (host[:port], the value fetch sends) unless a Host header is given.
 */
export function signatureFor(req: RequestToSign, credentials: SigningCredentials, date: string): SignedParts {
  const url = new URL(req.url)
  const headers = new Map<string, string>()
  for (const [name, value] of Object.entries(req.headers)) {
    const lower = name.toLowerCase()
    if (lower === 'authorization') continue
    headers.set(lower, value.trim())
  }
  if (!headers.has('host')) headers.set('host', url.host)
  const names = [...headers.keys()].sort(compareCodeUnits)
  const signedHeaders = names.join(';')
  const canonicalHeaders = names.map((n) => `${n}:${headers.get(n) ?? ''}\n`).join('')
  const bodyHash = req.body === '' ? EMPTY_SHA256 : sha256Hex(req.body)
  const canonicalRequest = [req.method.toUpperCase(), canonicalUri(url.pathname), canonicalQuery(url.search), canonicalHeaders, signedHeaders, bodyHash].join(
    '\n'
  )
  const stringToSign = `${ALGORITHM}\n${date}\n${sha256Hex(canonicalRequest)}`
  const signature = createHmac('sha256', credentials.secretKey).update(stringToSign, 'utf8').digest('hex')
  return {
    date,
    canonicalRequest,
    stringToSign,
    signedHeaders,
    signature,
    authorization: `${ALGORITHM} Access=${credentials.accessKeyId}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  }
}

/**
 * Signs a request now: returns the headers to add to it (X-Sdk-Date, X-Security-Token when the
 * credentials are temporary, Authorization). Call it for every attempt.
 */
export function signRequest(req: RequestToSign, credentials: SigningCredentials, nowMs: number = Date.now()): Record<string, string> {
  const date = sdkDate(nowMs)
  const added: Record<string, string> = { 'X-Sdk-Date': date }
  if (credentials.securityToken) added['X-Security-Token'] = credentials.securityToken
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    const lower = name.toLowerCase()
    if (lower === 'x-sdk-date' || lower === 'x-security-token' || lower === 'authorization') continue
    headers[name] = value
  }
  const parts = signatureFor({ ...req, headers: { ...headers, ...added } }, credentials, date)
  return { ...added, Authorization: parts.authorization }
}
