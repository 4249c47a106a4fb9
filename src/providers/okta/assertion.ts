// private_key_jwt for an Okta API service app: the private key passed as `token` (PEM or JWK JSON) and
// the client assertion signed with it (RFC 7523), with Node's crypto only.
//  - RSA keys sign RS256 (or RS384/RS512 when a JWK says so); EC keys sign ES256/ES384/ES512 by curve.
//  - The assertion: header {alg, typ: "JWT", kid (from the JWK, when it has one)}; claims iss = sub =
//    client id, aud = the token URL, iat, exp (5 minutes later: Okta refuses more than one hour), and a
//    fresh jti (Okta refuses a jti it has seen).
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto'

export type AssertionAlg = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512'

export interface SigningKey {
  key: KeyObject
  alg: AssertionAlg
  kid?: string
  /** Parts of the key that must be masked on their own (JWK members, the PEM body on one line). */
  secretParts: string[]
}

const EC_ALGS: Record<string, AssertionAlg> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }
const RSA_ALGS: readonly AssertionAlg[] = ['RS256', 'RS384', 'RS512']
const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const
/** Shorter RSA keys are refused before any request (2048 bits is the size Okta's guides generate; NIST has disallowed 1024-bit RSA signatures since 2013). */
const MIN_RSA_BITS = 2048
const ASSERTION_LIFETIME_S = 300

/** Whether `token` looks like a private key rather than an API token (used without client-id). */
export function looksLikePrivateKey(token: string): boolean {
  const t = token.trim()
  return t.startsWith('-----BEGIN') || t.startsWith('{')
}

/** Parses the private key; returns the problem (never quoting the key) when it is not a usable one. */
export function parseSigningKey(token: string): SigningKey | { problem: string } {
  const text = token.trim()
  if (text.startsWith('{')) return fromJwk(text)
  if (text.startsWith('-----BEGIN')) return fromPem(text)
  return { problem: 'is not a private key (expected a PEM block starting with -----BEGIN PRIVATE KEY----- or a JWK JSON object)' }
}

function fromJwk(text: string): SigningKey | { problem: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { problem: 'starts with { but is not valid JSON (expected the private key as a JWK)' }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { problem: 'is not a JWK object' }
  let jwk = parsed as Record<string, unknown>
  // A JWK set holding exactly one key (what some consoles and tools export) is that key.
  if (Array.isArray(jwk.keys)) {
    const keys = jwk.keys as unknown[]
    if (keys.length !== 1 || keys[0] === null || typeof keys[0] !== 'object')
      return { problem: `is a JWK set with ${keys.length} keys; pass the one private key` }
    jwk = keys[0] as Record<string, unknown>
  }
  if (typeof jwk.kty !== 'string') return { problem: 'is a JSON object without "kty": not a JWK' }
  if (typeof jwk.d !== 'string') return { problem: 'is a public JWK (no "d" member): pass the private key' }
  const secretParts = JWK_PRIVATE_MEMBERS.map((m) => jwk[m]).filter((v): v is string => typeof v === 'string' && v.length >= 8)
  let key: KeyObject
  try {
    key = createPrivateKey({ key: jwk as never, format: 'jwk' })
  } catch (err) {
    return { problem: `is not a usable private JWK (${(err as NodeJS.ErrnoException).code ?? 'the key does not import'})` }
  }
  const kid = typeof jwk.kid === 'string' && jwk.kid.trim() !== '' ? jwk.kid.trim() : undefined
  return withAlg(key, typeof jwk.alg === 'string' ? jwk.alg : undefined, kid, secretParts)
}

function fromPem(raw: string): SigningKey | { problem: string } {
  // A PEM stored with escaped line breaks ("\n" as two characters) is the same key.
  const text = !raw.includes('\n') && raw.includes('\\n') ? raw.replace(/(?:\\r)?\\n/g, '\n') : raw
  const label = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? ''
  if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY' || label === 'CERTIFICATE') return { problem: `is a ${label.toLowerCase()}, not the private key` }
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(text))
    return { problem: 'is an encrypted private key: pass it unencrypted (from a secret)' }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: text, format: 'pem' })
  } catch (err) {
    return { problem: `is not a readable PEM private key (${(err as NodeJS.ErrnoException).code ?? 'it does not parse'})` }
  }
  const body = text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !l.startsWith('-----') && !/^[A-Za-z-]+:/.test(l))
    .map((l) => l.trim())
    .join('')
  return withAlg(key, undefined, undefined, body.length >= 16 ? [body] : [])
}

function withAlg(key: KeyObject, jwkAlg: string | undefined, kid: string | undefined, secretParts: string[]): SigningKey | { problem: string } {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < MIN_RSA_BITS)
      return {
        problem: `is a ${bits}-bit RSA key; the action takes RSA keys of at least ${MIN_RSA_BITS} bits (generate a 2048-bit or longer key for the service app)`
      }
    const alg = RSA_ALGS.find((a) => a === jwkAlg) ?? 'RS256'
    return { key, alg, kid, secretParts }
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? ''
    const alg = EC_ALGS[curve]
    if (alg === undefined) return { problem: `is an EC key on curve ${curve || 'unknown'}; Okta takes P-256, P-384 or P-521` }
    return { key, alg, kid, secretParts }
  }
  return { problem: `is a ${key.asymmetricKeyType ?? 'unknown'} key; Okta takes RSA or EC (P-256, P-384, P-521) keys` }
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url')
}

/** A client assertion for `clientId` at `audience` (the token URL), valid five minutes from `nowMs`. */
export function signClientAssertion(k: SigningKey, clientId: string, audience: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000)
  const header = { alg: k.alg, typ: 'JWT', ...(k.kid !== undefined ? { kid: k.kid } : {}) }
  const claims = { iss: clientId, sub: clientId, aud: audience, iat, exp: iat + ASSERTION_LIFETIME_S, jti: randomUUID() }
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
  const hash = `sha${k.alg.slice(2)}`
  const signature = k.alg.startsWith('ES') ? sign(hash, Buffer.from(input), { key: k.key, dsaEncoding: 'ieee-p1363' }) : sign(hash, Buffer.from(input), k.key)
  return `${input}.${b64url(signature)}`
}

/** A short fingerprint of the key's public half, for log lines (which key was used, never the key). */
export function keyFingerprint(k: SigningKey): string {
  const spki = createPublicKey(k.key).export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(spki).digest('base64url').slice(0, 12)
}
