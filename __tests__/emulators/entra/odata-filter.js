// A small OData $filter parser and evaluator for the directory's user properties, with the directory's
// rules on what needs advanced query parameters (ConsistencyLevel: eventual and $count=true).
//
// Sources: learn.microsoft.com/graph/filter-query-parameter and /graph/aad-advanced-queries (what `ne`,
// `not`, `endsWith` and `eq null` need); user resource (which properties support $filter);
// microsoftgraph/microsoft-graph-docs issues #14074 and #22101 (the 400 Request_UnsupportedQuery answer
// "Unsupported property filter clause operator 'NotEqualsMatch'." for `ne` without them) and #13583.
// Unconfirmed wording: the syntax-error and type-mismatch messages (written after OData's own messages).

/** User properties that support $filter, with their EDM type. */
export const FILTERABLE = {
  id: 'string',
  userPrincipalName: 'string',
  displayName: 'string',
  mail: 'string',
  mailNickname: 'string',
  department: 'string',
  jobTitle: 'string',
  userType: 'string',
  givenName: 'string',
  surname: 'string',
  companyName: 'string',
  officeLocation: 'string',
  employeeId: 'string',
  city: 'string',
  country: 'string',
  accountEnabled: 'boolean'
}

export class FilterError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

const badRequest = (message) => new FilterError(400, 'BadRequest', message)
const unsupported = (message = 'Unsupported Query.') => new FilterError(400, 'Request_UnsupportedQuery', message)

function tokenize(text) {
  const tokens = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === ' ' || c === '\t') {
      i++
    } else if (c === '(' || c === ')' || c === ',' || c === '/' || c === ':') {
      tokens.push({ kind: c, at: i })
      i++
    } else if (c === "'") {
      let value = ''
      let j = i + 1
      for (;;) {
        if (j >= text.length) throw badRequest(`Invalid filter clause: unterminated string literal at position ${i} in '${text}'.`)
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'"
            j += 2
            continue
          }
          break
        }
        value += text[j++]
      }
      tokens.push({ kind: 'string', value, at: i })
      i = j + 1
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i
      while (j < text.length && /[A-Za-z0-9_.]/.test(text[j])) j++
      tokens.push({ kind: 'word', value: text.slice(i, j), at: i })
      i = j
    } else if (/[0-9-]/.test(c)) {
      let j = i
      while (j < text.length && /[0-9a-fA-F-]/.test(text[j])) j++
      tokens.push({ kind: 'number', value: text.slice(i, j), at: i })
      i = j
    } else {
      throw badRequest(`Invalid filter clause: syntax error at position ${i} in '${text}'.`)
    }
  }
  return tokens
}

/**
 * Parses a $filter on users. Returns { test(user) => boolean, advanced: string[] } where `advanced` names
 * the constructs that need advanced query parameters. Throws FilterError with Graph's status/code.
 * @param {string} text
 */
export function parseUserFilter(text) {
  const tokens = tokenize(text)
  let pos = 0
  /** @type {string[]} */
  const advanced = []
  const peek = () => tokens[pos]
  const isWord = (t, w) => t && t.kind === 'word' && t.value.toLowerCase() === w
  const expect = (kind) => {
    const t = tokens[pos]
    if (!t || t.kind !== kind) throw badRequest(`Invalid filter clause: syntax error at position ${t ? t.at : text.length} in '${text}'.`)
    pos++
    return t
  }

  const property = () => {
    const t = expect('word')
    if (tokens[pos] && tokens[pos].kind === '/') throw unsupported(`Complex query on property ${t.value} is not supported.`)
    const type = FILTERABLE[t.value]
    if (type === undefined) {
      if (['assignedLicenses', 'assignedPlans', 'proxyAddresses', 'otherMails', 'businessPhones', 'identities'].includes(t.value)) throw unsupported()
      throw badRequest(`Could not find a property named '${t.value}' on type 'microsoft.graph.user'.`)
    }
    return { name: t.value, type }
  }

  const literal = () => {
    const t = tokens[pos++]
    if (!t) throw badRequest(`Invalid filter clause: syntax error at position ${text.length} in '${text}'.`)
    if (t.kind === 'string') return { type: 'string', value: t.value }
    if (isWord(t, 'true') || isWord(t, 'false')) return { type: 'boolean', value: t.value.toLowerCase() === 'true' }
    if (isWord(t, 'null')) return { type: 'null', value: null }
    if (t.kind === 'number') return { type: 'guid-or-number', value: t.value }
    throw badRequest(`Invalid filter clause: syntax error at position ${t.at} in '${text}'.`)
  }

  const typeCheck = (prop, lit, opKind) => {
    if (lit.type === 'null') return
    const litType = lit.type === 'guid-or-number' ? (prop.name === 'id' ? 'string' : 'Edm.Int32') : lit.type
    if (litType !== prop.type) {
      const edm = (t) => (t === 'string' ? 'Edm.String' : t === 'boolean' ? 'Edm.Boolean' : t)
      throw badRequest(
        `A binary operator with incompatible types was detected. Found operand types '${edm(prop.type)}' and '${edm(litType)}' for operator kind '${opKind}'.`
      )
    }
  }

  const equals = (a, b) => (typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b)

  /** @returns {(u: Record<string, unknown>) => boolean} */
  const primary = () => {
    const t = peek()
    if (!t) throw badRequest(`Invalid filter clause: syntax error at position ${text.length} in '${text}'.`)
    if (t.kind === '(') {
      pos++
      const inner = orExpr()
      expect(')')
      return inner
    }
    if (t.kind === 'word' && tokens[pos + 1]?.kind === '(') {
      const fn = t.value.toLowerCase()
      pos += 2
      if (fn !== 'startswith' && fn !== 'endswith') throw unsupported()
      const prop = property()
      expect(',')
      const lit = literal()
      expect(')')
      if (prop.type !== 'string' || lit.type !== 'string') throw badRequest(`The '${t.value}' function needs string arguments.`)
      if (fn === 'endswith') advanced.push('endsWith')
      const needle = lit.value.toLowerCase()
      return fn === 'startswith'
        ? (u) => typeof u[prop.name] === 'string' && u[prop.name].toLowerCase().startsWith(needle)
        : (u) => typeof u[prop.name] === 'string' && u[prop.name].toLowerCase().endsWith(needle)
    }
    const prop = property()
    const op = tokens[pos++]
    if (!op || op.kind !== 'word') throw badRequest(`Invalid filter clause: syntax error at position ${op ? op.at : text.length} in '${text}'.`)
    const o = op.value.toLowerCase()
    if (o === 'in') {
      expect('(')
      const values = [literal()]
      while (peek()?.kind === ',') {
        pos++
        values.push(literal())
      }
      expect(')')
      for (const v of values) typeCheck(prop, v, 'In')
      return (u) => values.some((v) => equals(u[prop.name] ?? null, v.value))
    }
    if (o === 'eq' || o === 'ne') {
      const lit = literal()
      typeCheck(prop, lit, o === 'eq' ? 'Equal' : 'NotEqual')
      if (o === 'ne') advanced.push('NotEqualsMatch')
      if (lit.type === 'null') advanced.push('null')
      return o === 'eq' ? (u) => equals(u[prop.name] ?? null, lit.value) : (u) => !equals(u[prop.name] ?? null, lit.value)
    }
    if (['gt', 'ge', 'lt', 'le', 'has'].includes(o)) throw unsupported()
    throw badRequest(`Invalid filter clause: syntax error at position ${op.at} in '${text}'.`)
  }

  const unary = () => {
    if (isWord(peek(), 'not')) {
      pos++
      advanced.push('not')
      const inner = unary()
      return (u) => !inner(u)
    }
    return primary()
  }

  const andExpr = () => {
    let left = unary()
    while (isWord(peek(), 'and')) {
      pos++
      const l = left
      const r = unary()
      left = (u) => l(u) && r(u)
    }
    return left
  }

  const orExpr = () => {
    let left = andExpr()
    while (isWord(peek(), 'or')) {
      pos++
      const l = left
      const r = andExpr()
      left = (u) => l(u) || r(u)
    }
    return left
  }

  if (tokens.length === 0) throw badRequest(`Invalid filter clause: the filter is empty.`)
  const test = orExpr()
  if (pos !== tokens.length) throw badRequest(`Invalid filter clause: syntax error at position ${tokens[pos].at} in '${text}'.`)
  return { test, advanced }
}

/** The 400 Graph answers when a filter needs advanced query parameters that were not sent. */
export function advancedQueryError(advanced) {
  if (advanced.includes('NotEqualsMatch')) return unsupported("Unsupported property filter clause operator 'NotEqualsMatch'.")
  return unsupported()
}
