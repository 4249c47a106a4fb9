#!/usr/bin/env node
// Re-slices a vendor's published API description down to the operations this action sends.
//
//   node scripts/contracts/slice.mjs <provider> --from <path to the vendor's document> [--from <another> ...]
//
// Several --from documents (a vendor that publishes its description split in modules, e.g. Microsoft
// Graph's per-module files) are merged first: paths and components united, the first one given wins.
//
// Reads __tests__/contracts/<provider>/slice.json:
//   { "source": { "repo": "owner/name", "commit": "<sha>", "path": "<path in the repo>", "url": "<where to read it>" },
//     "format": "openapi" | "discovery",
//     "operations": [["post", "/users/terminate_sessions"], ...],
//     "dropParameters": { "names": ["token"], "why": "..." }   (optional: a recorded correction of a stale description)
//     "keepSchemas": ["optional: the only schemas kept whole; others they reach are left open"] }
// and writes __tests__/contracts/<provider>/openapi.json: the listed operations with every component they
// reference (transitively), the servers, security schemes, and an `x-sliced-from` block naming the source
// and commit. `format: discovery` documents (Google) are first converted to OpenAPI by ./discovery.mjs.
// A Swagger 2 source (`format: openapi`, e.g. Slack's) stays Swagger 2: its host/basePath/schemes,
// securityDefinitions and the definitions/parameters/responses its operations reference are kept (Prism reads it).
// Offline: the source document is a local file (a checkout of the vendor's repository at that commit).
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
/** Reusable parts a slice keeps: OpenAPI 3 components, and Swagger 2 definitions/parameters/responses. */
const LOCAL_REF = /^#\/(components|definitions|parameters|responses)\//

/** Every `#/components/...` reference reachable from `node`, followed through the components themselves. */
export function referencedComponents(doc, node, keep) {
  const found = new Set()
  const pending = [node]
  while (pending.length > 0) {
    const value = pending.pop()
    if (Array.isArray(value)) {
      pending.push(...value)
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === '$ref' && typeof v === 'string' && LOCAL_REF.test(v) && !found.has(v)) {
          found.add(v)
          const target = resolvePointer(doc, v)
          if (keep === undefined || !v.startsWith('#/components/schemas/') || keep.has(v)) pending.push(target)
        } else {
          pending.push(v)
        }
      }
    }
  }
  return found
}

function resolvePointer(doc, ref) {
  let node = doc
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    node = node?.[key]
    if (node === undefined) throw new Error(`dangling reference ${ref}`)
  }
  return node
}

/**
 * The slice of an OpenAPI 3 (or Swagger 2) document holding only `operations` ([method, path] pairs, path
 * as written in the document) and what they reference. Throws when an operation is not in the document.
 * `dropParameters`: names of operation parameters to leave out (a documented correction of a stale
 * description, e.g. Slack's 2020 spec still requires a `token` parameter where the token now goes in the
 * Authorization header); throws when a named parameter is in none of the operations.
 */
export function sliceOpenApi(doc, operations, { dropParameters = [], keepSchemas } = {}) {
  const paths = {}
  const dropped = new Set()
  for (const [methodRaw, path] of operations) {
    const method = methodRaw.toLowerCase()
    if (!METHODS.includes(method)) throw new Error(`${methodRaw} is not an HTTP method`)
    const item = doc.paths?.[path]
    if (item?.[method] === undefined) throw new Error(`${method.toUpperCase()} ${path} is not in the source document`)
    paths[path] ??= Object.fromEntries(Object.entries(item).filter(([k]) => !METHODS.includes(k)))
    let op = item[method]
    if (dropParameters.length > 0 && Array.isArray(op.parameters)) {
      const kept = op.parameters.filter((p) => !dropParameters.includes(p?.name))
      for (const p of op.parameters) if (dropParameters.includes(p?.name)) dropped.add(p.name)
      op = { ...op, parameters: kept }
    }
    paths[path][method] = op
  }
  const missing = dropParameters.filter((n) => !dropped.has(n))
  if (missing.length > 0) throw new Error(`dropParameters: ${missing.join(', ')} in none of the operations`)
  const swagger2 = typeof doc.swagger === 'string'
  const out = swagger2
    ? Object.fromEntries(['swagger', 'info', 'host', 'basePath', 'schemes', 'consumes', 'produces'].filter((k) => doc[k] !== undefined).map((k) => [k, doc[k]]))
    : { openapi: doc.openapi, info: doc.info, servers: doc.servers }
  out.paths = paths
  const security = doc.security
  if (security !== undefined) out.security = security
  // keepSchemas (optional): only these schemas keep their definition; every other schema they reach is
  // emitted open (accepts any value) and its own references are not followed. For descriptions whose
  // schema graph is too large and cyclic for the proxy to load whole (Microsoft Graph: a user reaches
  // most of the service through its navigation properties).
  const keep = keepSchemas === undefined ? undefined : new Set(keepSchemas.map((n) => `#/components/schemas/${n.replace(/~/g, '~0').replace(/\//g, '~1')}`))
  const refs = referencedComponents(doc, { paths, security }, keep)
  const components = {}
  if (swagger2) {
    if (doc.securityDefinitions !== undefined) out.securityDefinitions = doc.securityDefinitions
  } else {
    const schemes = doc.components?.securitySchemes
    if (schemes !== undefined) components.securitySchemes = schemes
  }
  for (const ref of [...refs].sort()) {
    const parts = ref.split('/').slice(1)
    // '#/components/<section>/<name>' in OpenAPI 3; '#/<definitions|parameters|responses>/<name>' in Swagger 2
    const [holder, section] = parts[0] === 'components' ? [components, parts[1]] : [out, parts[0]]
    const name = parts
      .slice(parts[0] === 'components' ? 2 : 1)
      .join('/')
      .replace(/~1/g, '/')
      .replace(/~0/g, '~')
    holder[section] ??= {}
    holder[section][name] =
      keep !== undefined && section === 'schemas' && !keep.has(ref)
        ? { description: `${name}: left open in this slice (see x-sliced-from)`, 'x-sliced-open': true }
        : resolvePointer(doc, ref)
  }
  if (Object.keys(components).length > 0) out.components = components
  return out
}

/** One document from several parts of the same description: paths and components united, first wins. */
export function mergeDocuments(docs) {
  const [first, ...rest] = docs
  const out = { ...first, paths: { ...first.paths }, components: { ...(first.components ?? {}) } }
  for (const [section, entries] of Object.entries(out.components)) out.components[section] = { ...entries }
  for (const doc of rest) {
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      out.paths[path] = { ...item, ...(out.paths[path] ?? {}) }
    }
    for (const [section, entries] of Object.entries(doc.components ?? {})) {
      out.components[section] = { ...entries, ...(out.components[section] ?? {}) }
    }
  }
  return out
}

function readDocument(file) {
  const text = readFileSync(file, 'utf8')
  return file.endsWith('.json') ? JSON.parse(text) : parse(text, { maxAliasCount: -1 })
}

async function main() {
  const [provider, ...rest] = process.argv.slice(2)
  const froms = []
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] !== '--from' || !rest[i + 1]) froms.length = 0
    else froms.push(rest[i + 1])
    if (froms.length === 0) break
  }
  if (!provider || froms.length === 0 || froms.length * 2 !== rest.length) {
    console.error('usage: node scripts/contracts/slice.mjs <provider> --from <vendor document> [--from <another part> ...]')
    process.exit(2)
  }
  const dir = join(root, '__tests__', 'contracts', provider)
  const config = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8'))
  const documents = froms.map((f) => readDocument(resolve(f)))
  let doc = documents.length === 1 ? documents[0] : mergeDocuments(documents)
  if (config.format === 'discovery') {
    const { discoveryToOpenApi } = await import('./discovery.mjs')
    doc = discoveryToOpenApi(doc, config)
  }
  const sliced = sliceOpenApi(doc, config.operations, { dropParameters: config.dropParameters?.names ?? [], keepSchemas: config.keepSchemas })
  sliced['x-sliced-from'] = {
    ...config.source,
    operations: config.operations.map(([m, p]) => `${m.toUpperCase()} ${p}`),
    ...(config.dropParameters ? { droppedParameters: config.dropParameters } : {}),
    ...(config.keepSchemas ? { keepSchemas: config.keepSchemas } : {}),
    by: 'scripts/contracts/slice.mjs'
  }
  writeFileSync(join(dir, 'openapi.json'), `${JSON.stringify(sliced, null, 1)}\n`)
  const sections = [...Object.values(sliced.components ?? {}), sliced.definitions, sliced.parameters, sliced.responses]
  const count = sections.reduce((n, s) => n + Object.keys(s ?? {}).length, 0)
  console.log(`wrote ${join('__tests__', 'contracts', provider, 'openapi.json')}: ${config.operations.length} operations, ${count} components`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
