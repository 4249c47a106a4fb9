// Converts a Google API Discovery document (https://developers.google.com/discovery/v1/reference/apis)
// into an OpenAPI 3.0 document, enough for Prism to validate the methods an action sends: paths, path and
// query parameters (type, format, enum, minimum/maximum, pattern, required, repeated), request bodies,
// response schemas, servers and the OAuth 2 scopes.
//
//   import { discoveryToOpenApi } from './discovery.mjs'
//   const openapi = discoveryToOpenApi(discoveryDoc, config)   // config: the provider's slice.json
//
// Mapping, with what the discovery format leaves unsaid:
//  - server: rootUrl + servicePath, without the trailing slash (https://admin.googleapis.com).
//  - path: "/" + flatPath when it exists (it names every placeholder), else "/" + path; placeholders that
//    flatPath adds and the method does not declare (the {+name} style) become plain string path parameters.
//  - operationId: the method id (directory.users.signOut); security: one alternative per listed scope.
//  - parameters: the method's, then the document-wide ones (fields, quotaUser, prettyPrint, ...), which
//    every Google method accepts. Discovery strings for minimum/maximum/default become typed values.
//  - responses: a method with `response` answers 200 with that schema; a method without one answers
//    204 with an empty body (Google's JSON APIs send 204 No Content for an empty response). The discovery
//    format does not describe error bodies, so none are declared: Prism reports error answers as
//    "unmatched status" response violations, which is why tests check response violations on successes.
//  - schemas: discovery `$ref: "Name"` becomes `#/components/schemas/Name`; `type: any` becomes an
//    unconstrained schema; formats OpenAPI validators know are kept (int32, int64 on integers, float,
//    double, date, date-time, byte), Google-only string formats (int64 as a string, uint64,
//    google-datetime, google-duration, google-fieldmask) move to `x-google-format` so that validators do
//    not misread them; `annotations`, `enumDescriptions` and `id` are dropped, `enumDeprecated` too.
const KNOWN_FORMATS = {
  integer: new Set(['int32', 'int64']),
  number: new Set(['float', 'double']),
  string: new Set(['date', 'date-time', 'byte'])
}

/** A discovery schema (or parameter) node as an OpenAPI 3.0 schema. */
function convertSchema(node) {
  if (node === undefined || node === null) return {}
  if (node.$ref !== undefined) {
    const ref = { $ref: `#/components/schemas/${node.$ref}` }
    // OpenAPI 3.0 ignores siblings of $ref: keep a description only through allOf when there is one.
    return node.description ? { allOf: [ref], description: node.description } : ref
  }
  const out = {}
  if (node.description !== undefined) out.description = node.description
  const type = node.type
  if (type !== undefined && type !== 'any') out.type = type
  if (node.format !== undefined) {
    if (type !== undefined && KNOWN_FORMATS[type]?.has(node.format)) out.format = node.format
    else out['x-google-format'] = node.format
  }
  if (node.enum !== undefined) out.enum = [...node.enum]
  if (node.pattern !== undefined) out.pattern = node.pattern
  if (node.minimum !== undefined) out.minimum = Number(node.minimum)
  if (node.maximum !== undefined) out.maximum = Number(node.maximum)
  if (node.default !== undefined) out.default = typedValue(node.default, type)
  if (node.readOnly) out.readOnly = true
  if (node.deprecated) out.deprecated = true
  if (type === 'array') out.items = convertSchema(node.items)
  if (node.properties !== undefined) {
    out.properties = {}
    for (const [name, prop] of Object.entries(node.properties)) out.properties[name] = convertSchema(prop)
  }
  if (node.additionalProperties !== undefined) out.additionalProperties = convertSchema(node.additionalProperties)
  return out
}

/** Discovery writes defaults, minimums and maximums as strings: give them the parameter's own type. */
function typedValue(value, type) {
  if (typeof value !== 'string') return value
  if (type === 'integer' || type === 'number') return Number(value)
  if (type === 'boolean') return value === 'true'
  return value
}

/** A discovery parameter as an OpenAPI parameter object. */
function convertParameter(name, param) {
  const schema = convertSchema({ ...param, description: undefined })
  const out = { name, in: param.location === 'path' ? 'path' : 'query' }
  if (param.description !== undefined) out.description = param.description
  if (param.location === 'path' || param.required) out.required = true
  if (param.repeated) {
    out.schema = { type: 'array', items: schema }
    out.style = 'form'
    out.explode = true
  } else {
    out.schema = schema
  }
  if (param.deprecated) out.deprecated = true
  return out
}

/** Every method of a discovery document, through nested resources, with its resource path. */
export function discoveryMethods(doc) {
  const found = []
  const visit = (resources, trail) => {
    for (const [resourceName, resource] of Object.entries(resources ?? {})) {
      for (const [methodName, method] of Object.entries(resource.methods ?? {})) found.push({ name: [...trail, resourceName, methodName].join('.'), method })
      visit(resource.resources, [...trail, resourceName])
    }
  }
  for (const [methodName, method] of Object.entries(doc.methods ?? {})) found.push({ name: methodName, method })
  visit(doc.resources, [])
  return found
}

/** The OpenAPI path a discovery method is served at (leading slash, flatPath placeholders). */
export function openApiPath(method) {
  return `/${(method.flatPath ?? method.path).replace(/\{\+/g, '{')}`
}

/**
 * @param {any} doc a Discovery document (discovery#restDescription)
 * @param {{ source?: { repo?: string, commit?: string, path?: string, url?: string } }} [config] the slice.json
 * @returns {any} an OpenAPI 3.0.3 document holding every method of the discovery document
 */
export function discoveryToOpenApi(doc, config = {}) {
  if (doc?.kind !== 'discovery#restDescription') throw new Error('not a Google discovery document (kind discovery#restDescription)')
  const server = `${doc.rootUrl ?? ''}${doc.servicePath ?? ''}`.replace(/\/+$/, '')
  const globalParameters = Object.entries(doc.parameters ?? {}).map(([name, p]) => convertParameter(name, p))
  const scopes = Object.fromEntries(Object.entries(doc.auth?.oauth2?.scopes ?? {}).map(([scope, v]) => [scope, v.description ?? scope]))
  const paths = {}
  for (const { method } of discoveryMethods(doc)) {
    const path = openApiPath(method)
    const verb = method.httpMethod.toLowerCase()
    const declared = method.parameters ?? {}
    const parameters = Object.entries(declared).map(([name, p]) => convertParameter(name, p))
    for (const [, placeholder] of path.matchAll(/\{([^}]+)\}/g)) {
      if (!parameters.some((p) => p.in === 'path' && p.name === placeholder))
        parameters.push({ name: placeholder, in: 'path', required: true, schema: { type: 'string' } })
    }
    // Path parameters that only the {+name} form used (not in flatPath) would make the operation invalid.
    const inPath = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]))
    const own = parameters.filter((p) => p.in !== 'path' || inPath.has(p.name))
    const names = new Set(own.map((p) => `${p.in}:${p.name}`))
    const operation = {
      operationId: method.id,
      ...(method.description !== undefined ? { description: method.description } : {}),
      parameters: [...own, ...globalParameters.filter((p) => !names.has(`${p.in}:${p.name}`))]
    }
    if (method.request?.$ref !== undefined) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${method.request.$ref}` } } } }
    }
    operation.responses =
      method.response?.$ref !== undefined
        ? { 200: { description: 'Successful response', content: { 'application/json': { schema: { $ref: `#/components/schemas/${method.response.$ref}` } } } } }
        : { 204: { description: 'Successful response with an empty body' } }
    if (method.scopes?.length) operation.security = method.scopes.map((s) => ({ Oauth2: [s] }))
    if (method.deprecated) operation.deprecated = true
    paths[path] ??= {}
    if (paths[path][verb] !== undefined) throw new Error(`${verb.toUpperCase()} ${path} is served by both ${paths[path][verb].operationId} and ${method.id}`)
    paths[path][verb] = operation
  }
  const schemas = Object.fromEntries(Object.entries(doc.schemas ?? {}).map(([name, s]) => [name, convertSchema(s)]))
  return {
    openapi: '3.0.3',
    info: {
      title: doc.title ?? doc.name,
      version: doc.version,
      description: doc.description,
      'x-discovery': { id: doc.id, revision: doc.revision, documentationLink: doc.documentationLink, ...(config.source ? { source: config.source } : {}) }
    },
    servers: [{ url: server }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        Oauth2: {
          type: 'oauth2',
          description: 'Google OAuth 2.0 access token (Authorization: Bearer ...)',
          flows: {
            authorizationCode: { authorizationUrl: 'https://accounts.google.com/o/oauth2/auth', tokenUrl: 'https://oauth2.googleapis.com/token', scopes }
          }
        }
      }
    }
  }
}
