// One OpenAPI document for Prism from Okta's two vendored slices: the management API
// (__tests__/contracts/okta/openapi.json) and the org authorization server's token endpoint
// (__tests__/contracts/okta-oauth/openapi.json). The action talks to one org URL for both, so one
// Prism proxy must know both. Both files stay exactly as the slicer wrote them; this merge happens at
// test time, in a temporary file:
//  - paths are united (they do not overlap);
//  - a component of the OAuth slice whose name the management slice already uses for something
//    different (Error, ErrorTooManyRequests429, the oauth2 security scheme, ...) is renamed with an
//    `OAuth_` prefix, and the OAuth slice's references are rewritten to match;
//  - the token operation's `security` is dropped: it declares its client authentication as
//    `type: http, scheme: postBody`, which is not an HTTP authentication scheme and which Prism cannot
//    evaluate (every request, valid or not, is reported "Invalid security scheme used"). The emulator
//    checks the client assertion itself; Prism still checks the path, method and content type.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contractPath } from '../../helpers/contract-proxy.js'

function rewriteRefs(node, renames) {
  if (Array.isArray(node)) return node.map((v) => rewriteRefs(v, renames))
  if (node === null || typeof node !== 'object') return node
  const out = {}
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === '$ref' && typeof v === 'string' && renames.has(v) ? renames.get(v) : rewriteRefs(v, renames)
  }
  return out
}

/** The merged document (management + token endpoint). */
export function mergedOktaContract() {
  const mgmt = JSON.parse(readFileSync(contractPath('okta'), 'utf8'))
  const oauth = JSON.parse(readFileSync(contractPath('okta-oauth'), 'utf8'))
  const renames = new Map()
  for (const [section, entries] of Object.entries(oauth.components ?? {})) {
    for (const [name, value] of Object.entries(entries)) {
      const existing = mgmt.components?.[section]?.[name]
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(value))
        renames.set(`#/components/${section}/${name}`, `#/components/${section}/OAuth_${name}`)
    }
  }
  const oauthRewritten = rewriteRefs(oauth, renames)
  const components = structuredClone(mgmt.components ?? {})
  for (const [section, entries] of Object.entries(oauthRewritten.components ?? {})) {
    components[section] ??= {}
    for (const [name, value] of Object.entries(entries)) {
      const target = renames.has(`#/components/${section}/${name}`) ? `OAuth_${name}` : name
      components[section][target] = value
    }
  }
  const paths = { ...mgmt.paths }
  for (const [path, item] of Object.entries(oauthRewritten.paths)) {
    if (paths[path]) throw new Error(`${path} is in both slices`)
    const copy = structuredClone(item)
    for (const op of Object.values(copy)) if (op && typeof op === 'object' && 'security' in op) op.security = []
    paths[path] = copy
  }
  return {
    ...mgmt,
    paths,
    components,
    'x-merged-from': [mgmt['x-sliced-from'], oauth['x-sliced-from']],
    'x-merge-notes': 'token operation security dropped (scheme postBody is not evaluable by Prism); OAuth components renamed on collision'
  }
}

/** Writes the merged document to a temporary file and returns its path (for startContractProxy). */
export function oktaContractSpec() {
  const text = JSON.stringify(mergedOktaContract())
  const file = join(tmpdir(), `okta-contract-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.json`)
  writeFileSync(file, text)
  return file
}
