// Contract checks for requests a proxy never sees on their own: the items inside a JSON batch (Microsoft
// Graph's $batch is not in Graph's OpenAPI description, so Prism in proxy mode only sees the envelope).
// Each item is validated in-process by Prism's own HTTP validator (@stoplight/prism-http, the library the
// Prism CLI runs) against the same vendored description, as if it had been sent on its own: path and
// method must be a described operation, query parameters, headers and body must fit it. Security is not
// checked per item (the envelope carries the bearer token).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

// Loaded through require so that type-checking a test that imports this helper does not pull in the
// validator's whole type graph (fp-ts and friends): that alone took seconds on every cold run.
const { createInstance, getHttpOperationsFromSpec } = createRequire(import.meta.url)('@stoplight/prism-http')

const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, success() {}, child: () => silent }

/**
 * @typedef {{ method: string, url: string, headers?: Record<string, string>, body?: unknown, id?: string }} ItemRequest
 * @typedef {{ id?: string, method: string, url: string, severity: 'error' | 'warning', message: string }} ItemViolation
 */

/**
 * @param {string} specPath absolute path of the vendored OpenAPI document
 * @returns {Promise<{ validate: (item: ItemRequest) => Promise<ItemViolation[]>, validateAll: (items: ItemRequest[]) => Promise<ItemViolation[]> }>}
 */
export async function createItemValidator(specPath) {
  const operations = await getHttpOperationsFromSpec(JSON.parse(readFileSync(specPath, 'utf8')))
  const prism = createInstance(
    { mock: { dynamic: false }, checkSecurity: false, validateRequest: true, validateResponse: false, errors: false, isProxy: false, upstreamProxy: undefined },
    { logger: silent }
  )

  /** @param {ItemRequest} item */
  async function validate(item) {
    const rel = item.url.startsWith('/') ? item.url : `/${item.url}`
    const q = rel.indexOf('?')
    const path = q >= 0 ? rel.slice(0, q) : rel
    /** @type {Record<string, string | string[]>} */
    const query = {}
    for (const [k, v] of new URLSearchParams(q >= 0 ? rel.slice(q + 1) : '')) {
      const prev = query[k]
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
    }
    /** @type {Record<string, string>} */
    const headers = {}
    for (const [k, v] of Object.entries(item.headers ?? {})) headers[k.toLowerCase()] = String(v)
    const request = { method: /** @type {any} */ (item.method.toLowerCase()), url: { path, query }, headers, body: item.body }
    const result = await prism.request(request, operations)()
    const where = { id: item.id, method: item.method.toUpperCase(), url: item.url }
    if (result._tag === 'Left') return [{ ...where, severity: /** @type {const} */ ('error'), message: result.left.message }]
    return result.right.validations.input.map((/** @type {{ severity: number, message: string }} */ v) => ({
      ...where,
      severity: v.severity === 0 ? 'error' : 'warning',
      message: v.message
    }))
  }

  return {
    validate,
    async validateAll(items) {
      const out = []
      for (const item of items) out.push(...(await validate(item)))
      return out
    }
  }
}
