// What the `token` input holds for Google, and the service-account JWT assertion.
//
// Two routes, both for domain-wide delegation (developers.google.com/identity/protocols/oauth2/service-account):
//  - a service-account key JSON (as the Cloud console downloads it): the action signs an RS256 JWT
//    {iss: client_email, sub: subject, scope, aud: token_uri, iat, exp = iat + 1 h} with the key (kid =
//    private_key_id) and exchanges it at token_uri, grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer;
//  - an access token minted before the step (google-github-actions/auth with token_format: access_token and
//    access_token_subject): used as it is.
// Node's crypto signs: no JWT library.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto'
import { InputError } from '../../engine/errors.js'
import { isLoopbackHost } from '../../engine/inputs.js'

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token'
/** Google refuses assertions that live longer than an hour. */
const ASSERTION_LIFETIME_S = 3600

export interface ServiceAccountKey {
  clientEmail: string
  clientId?: string
  privateKeyId?: string
  /** The PEM text, for masking. */
  privateKeyPem: string
  privateKey: KeyObject
  tokenUri: string
}

export type GoogleToken = { kind: 'key'; key: ServiceAccountKey } | { kind: 'access-token' }

const KEY_FIX =
  "pass the whole service-account key file (JSON, as the Cloud console's Keys > Add key > JSON downloads it) as the secret, or an access token minted by google-github-actions/auth"

const stringField = (o: Record<string, unknown>, name: string): string | undefined =>
  typeof o[name] === 'string' && (o[name] as string).trim() !== '' ? (o[name] as string).trim() : undefined

/**
 * Reads `token`: a service-account key JSON, or an access token. Throws InputError (never quoting the
 * secret) when it is neither.
 */
export function readToken(token: string): GoogleToken {
  const text = token.trim()
  if (!text.startsWith('{')) {
    if (/\s/.test(text)) throw new InputError('token', 'holds whitespace, which neither an access token nor a key JSON (which starts with "{") does', KEY_FIX)
    return { kind: 'access-token' }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // The parser's message quotes the text around the error: it is never shown.
    throw new InputError('token', 'starts with "{" but is not valid JSON', `${KEY_FIX}; store the file unchanged (minifying it to one line is fine)`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InputError('token', 'is JSON but not an object', KEY_FIX)
  const o = parsed as Record<string, unknown>
  const type = stringField(o, 'type')
  if (type !== 'service_account') {
    const what =
      type === 'external_account'
        ? 'a workload identity federation configuration (type "external_account"), which holds no key'
        : type === 'authorized_user'
          ? 'user credentials (type "authorized_user"), not a service account'
          : type === undefined
            ? 'JSON without "type": "service_account"'
            : `a credential of type ${JSON.stringify(type.slice(0, 40))}, not "service_account"`
    throw new InputError(
      'token',
      `is ${what}`,
      `${KEY_FIX} — for the keyless route run google-github-actions/auth with token_format: access_token and access_token_subject, and pass its access_token output`
    )
  }
  const clientEmail = stringField(o, 'client_email')
  const pem = typeof o.private_key === 'string' ? o.private_key : undefined
  if (clientEmail === undefined || !/^[^\s@]+@[^\s@]+$/.test(clientEmail))
    throw new InputError('token', 'is a service-account key without a client_email', KEY_FIX)
  if (pem === undefined || !pem.includes('PRIVATE KEY')) throw new InputError('token', 'is a service-account key without a private_key', KEY_FIX)
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' })
  } catch {
    throw new InputError(
      'token',
      'is a service-account key whose private_key cannot be read as a PEM private key',
      `${KEY_FIX}; the key's line breaks must stay as \\n inside the JSON string`
    )
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new InputError(
      'token',
      `is a service-account key whose private_key is ${privateKey.asymmetricKeyType ?? 'not'} an RSA key (Google signs service-account assertions with RS256)`,
      KEY_FIX
    )
  }
  const tokenUri = stringField(o, 'token_uri') ?? GOOGLE_TOKEN_URI
  let url: URL
  try {
    url = new URL(tokenUri)
  } catch {
    throw new InputError('token', `is a service-account key whose token_uri ${JSON.stringify(tokenUri.slice(0, 100))} is not a URL`, KEY_FIX)
  }
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) || url.username || url.password) {
    throw new InputError(
      'token',
      `is a service-account key whose token_uri ${JSON.stringify(tokenUri.slice(0, 100))} is not an https URL`,
      `${KEY_FIX} (Google's is ${GOOGLE_TOKEN_URI})`
    )
  }
  return {
    kind: 'key',
    key: { clientEmail, clientId: stringField(o, 'client_id'), privateKeyId: stringField(o, 'private_key_id'), privateKeyPem: pem, privateKey, tokenUri }
  }
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url')

/** The signed JWT assertion the token endpoint exchanges for an access token (valid one hour from `nowMs`). */
export function signAssertion(key: ServiceAccountKey, claims: { subject: string; scopes: readonly string[]; audience: string; nowMs: number }): string {
  const iat = Math.floor(claims.nowMs / 1000)
  const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId !== undefined ? { kid: key.privateKeyId } : {}) }
  const payload = { iss: key.clientEmail, sub: claims.subject, scope: claims.scopes.join(' '), aud: claims.audience, iat, exp: iat + ASSERTION_LIFETIME_S }
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
  // RSASSA-PKCS1-v1_5 with SHA-256: what RS256 names (RFC 7518 section 3.3); Node's default padding for RSA keys.
  const signature = sign('sha256', Buffer.from(signingInput), key.privateKey)
  return `${signingInput}.${b64url(signature)}`
}
