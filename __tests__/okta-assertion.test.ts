// The service app's private key as the action reads it (PEM or JWK, in the forms consoles and tools hand
// out) and the client assertion it signs, verified here with jose against the public half.
import { describe, expect, it } from '@jest/globals'
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import { keyFingerprint, looksLikePrivateKey, parseSigningKey, signClientAssertion, type SigningKey } from '../src/providers/okta/assertion.js'

const AUD = 'https://acme.okta.com/oauth2/v1/token'
const NOW = Date.UTC(2026, 0, 1)
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey
const pem = (k: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1' = 'pkcs8'): string => k.export({ type, format: 'pem' } as never).toString()

function parsed(text: string): SigningKey {
  const k = parseSigningKey(text)
  if ('problem' in k) throw new Error(k.problem)
  return k
}

async function verify(k: SigningKey, pub: KeyObject): Promise<{ header: Record<string, unknown>; payload: Record<string, unknown> }> {
  const jwt = signClientAssertion(k, '0oaClient', AUD, NOW)
  const { payload } = await jwtVerify(jwt, pub, { audience: AUD, issuer: '0oaClient', subject: '0oaClient', currentDate: new Date(NOW + 1000) })
  return { header: decodeProtectedHeader(jwt), payload }
}

describe('okta private key', () => {
  it('reads PKCS#8 and PKCS#1 RSA PEM, and a PEM stored with escaped line breaks: RS256, no kid', async () => {
    for (const text of [pem(rsa), pem(rsa, 'pkcs1'), pem(rsa).replace(/\n/g, '\\n')]) {
      const k = parsed(text)
      expect([k.alg, k.kid]).toEqual(['RS256', undefined])
      expect(k.secretParts).toHaveLength(1)
      expect(text.replace(/\\n/g, '\n')).toContain(k.secretParts[0].slice(0, 64))
      const { header, payload } = await verify(k, createPublicKey(rsa))
      expect(header).toEqual({ alg: 'RS256', typ: 'JWT' })
      expect((payload.exp as number) - (payload.iat as number)).toBe(300)
    }
  })

  it('reads an EC JWK (and a JWK set of one key) with its kid and alg, by curve', async () => {
    const jwk = { ...ec384.export({ format: 'jwk' }), kid: 'k-384' }
    for (const text of [JSON.stringify(jwk), JSON.stringify({ keys: [jwk] })]) {
      const k = parsed(text)
      expect([k.alg, k.kid]).toEqual(['ES384', 'k-384'])
      expect(k.secretParts).toEqual([jwk.d])
      const { header } = await verify(k, createPublicKey(ec384))
      expect(header).toEqual({ alg: 'ES384', typ: 'JWT', kid: 'k-384' })
    }
    expect(parsed(pem(ec384, 'sec1')).alg).toBe('ES384')
  })

  it('honours an RSA JWK that says RS512', async () => {
    const k = parsed(JSON.stringify({ ...rsa.export({ format: 'jwk' }), alg: 'RS512', kid: 'r' }))
    expect(k.alg).toBe('RS512')
    expect((await verify(k, createPublicKey(rsa))).header).toMatchObject({ alg: 'RS512' })
    // every JWK private member is masked on its own
    expect(k.secretParts.sort()).toEqual(['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => (rsa.export({ format: 'jwk' }) as Record<string, string>)[m]).sort())
  })

  it('a fresh jti every time', () => {
    const k = parsed(pem(rsa))
    const jti = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).jti
    expect(jti(signClientAssertion(k, 'c', AUD, NOW))).not.toBe(jti(signClientAssertion(k, 'c', AUD, NOW)))
    expect(keyFingerprint(k)).toMatch(/^[A-Za-z0-9_-]{12}$/)
  })

  it('refuses what is not a usable private key, without quoting it', () => {
    const pub = createPublicKey(rsa)
    const ed = generateKeyPairSync('ed25519').privateKey
    const cases: [string, RegExp][] = [
      ['00abcdefghijklmnop', /is not a private key/],
      [pub.export({ type: 'spki', format: 'pem' }).toString(), /is a public key, not the private key/],
      [JSON.stringify(pub.export({ format: 'jwk' })), /is a public JWK/],
      [rsa.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString(), /encrypted private key/],
      [pem(ed), /is a ed25519 key; Okta takes RSA or EC/],
      [pem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey), /curve secp256k1/],
      ['{"kty":"RSA"', /not valid JSON/],
      [JSON.stringify({ keys: [1, 2] }), /JWK set with 2 keys/],
      ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', /not a readable PEM private key/]
    ]
    for (const [text, problem] of cases) {
      const k = parseSigningKey(text)
      expect('problem' in k && k.problem).toMatch(problem)
      if ('problem' in k) expect(k.problem).not.toContain(text.slice(30, 60) || '\u0000')
    }
    expect(looksLikePrivateKey(' -----BEGIN RSA PRIVATE KEY-----')).toBe(true)
    expect(looksLikePrivateKey('{"kty":"EC"}')).toBe(true)
    expect(looksLikePrivateKey('00abcdefghijklmnop')).toBe(false)
  })
})
