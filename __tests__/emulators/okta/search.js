// The expression language of Okta's `search` and `filter` parameters on GET /api/v1/users, as the
// Users API documents it (okta-management-openapi-spec listUsers parameter descriptions; the
// developer.okta.com "Core Okta API" page, sections Filter and Operators):
//  - expressions `attr op "value"` (string literals are JSON strings; numbers and true/false also),
//    `attr pr`, combined with `and` / `or` and grouped with parentheses; `and` binds tighter than `or`;
//  - property names are case sensitive, operators are case insensitive;
//  - search: operators eq, sw, co (co only on profile.firstName, lastName, email, login), gt, ge, lt,
//    le, pr; `ne` is not supported; string values compare case-insensitively; array properties match
//    when any element matches;
//  - filter: only status, lastUpdated, id, profile.login, profile.email, profile.firstName,
//    profile.lastName; only eq (lastUpdated also gt/ge/lt/le); `not` is not supported; values compare
//    case-sensitively.
// Unconfirmed: the exact error for an expression Okta cannot evaluate. The emulator answers 400 E0000031
// "Invalid search criteria." (the catalogue's "Invalid search criteria exception") for every one of them,
// including `not`, `ne`, unknown properties and operators a property does not allow.

/** Top-level user properties the search parameter reaches (besides profile.* and type.id). */
const SEARCH_TOP = new Set(['id', 'status', 'created', 'activated', 'statusChanged', 'lastUpdated', 'type.id'])
const CO_ALLOWED = new Set(['profile.firstName', 'profile.lastName', 'profile.email', 'profile.login'])
const FILTER_ALLOWED = new Set(['status', 'lastUpdated', 'id', 'profile.login', 'profile.email', 'profile.firstName', 'profile.lastName'])
const COMPARE_OPS = new Set(['eq', 'sw', 'co', 'gt', 'ge', 'lt', 'le'])

export class SearchSyntaxError extends Error {}

/**
 * @typedef {{ kind: 'cmp', attr: string, op: string, value?: string | number | boolean | null }
 *   | { kind: 'and' | 'or', left: Expr, right: Expr }} Expr
 */

/** @param {string} text */
function tokenize(text) {
  /** @type {{ t: 'word' | 'str' | 'num' | '(' | ')', v: string }[]} */
  const out = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
    } else if (c === '(' || c === ')') {
      out.push({ t: c, v: c })
      i++
    } else if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      if (j >= text.length) throw new SearchSyntaxError('unterminated string')
      const raw = text.slice(i, j + 1)
      try {
        out.push({ t: 'str', v: JSON.parse(raw) })
      } catch {
        throw new SearchSyntaxError('bad string literal')
      }
      i = j + 1
    } else {
      const m = /^[A-Za-z0-9_.:+-]+/.exec(text.slice(i))
      if (!m) throw new SearchSyntaxError(`unexpected ${c}`)
      out.push({ t: /^-?\d+(\.\d+)?$/.test(m[0]) ? 'num' : 'word', v: m[0] })
      i += m[0].length
    }
  }
  return out
}

/**
 * Parses an expression; throws SearchSyntaxError when it is not one Okta evaluates for `mode`.
 * @param {string} text
 * @param {'search' | 'filter'} mode
 * @param {(attr: string) => boolean} knownProfileAttr whether profile.<name> exists in the org's schema
 * @returns {Expr}
 */
export function parseExpression(text, mode, knownProfileAttr) {
  const tokens = tokenize(text)
  let pos = 0
  const peek = () => tokens[pos]
  const word = (w) => peek()?.t === 'word' && peek().v.toLowerCase() === w

  const parseOr = () => {
    let left = parseAnd()
    while (word('or')) {
      pos++
      left = { kind: 'or', left, right: parseAnd() }
    }
    return left
  }
  const parseAnd = () => {
    let left = parsePrimary()
    while (word('and')) {
      pos++
      left = { kind: 'and', left, right: parsePrimary() }
    }
    return left
  }
  /** @returns {Expr} */
  const parsePrimary = () => {
    const tok = peek()
    if (tok === undefined) throw new SearchSyntaxError('expression expected')
    if (tok.t === '(') {
      pos++
      const inner = parseOr()
      if (peek()?.t !== ')') throw new SearchSyntaxError('missing )')
      pos++
      return inner
    }
    if (tok.t !== 'word' || /^(and|or|not)$/i.test(tok.v)) throw new SearchSyntaxError(`unexpected ${tok.v}`)
    const attr = tok.v
    pos++
    const opTok = peek()
    if (opTok?.t !== 'word') throw new SearchSyntaxError('operator expected')
    const op = opTok.v.toLowerCase()
    pos++
    checkAttr(attr, op, mode, knownProfileAttr)
    if (op === 'pr') return { kind: 'cmp', attr, op }
    const valueTok = peek()
    if (valueTok === undefined) throw new SearchSyntaxError('value expected')
    pos++
    /** @type {string | number | boolean | null} */
    let value
    if (valueTok.t === 'str') value = valueTok.v
    else if (valueTok.t === 'num') value = Number(valueTok.v)
    else if (valueTok.t === 'word' && /^(true|false)$/i.test(valueTok.v)) value = valueTok.v.toLowerCase() === 'true'
    else if (valueTok.t === 'word' && valueTok.v.toLowerCase() === 'null') value = null
    else throw new SearchSyntaxError('value expected')
    return { kind: 'cmp', attr, op, value }
  }

  const expr = parseOr()
  if (pos !== tokens.length) throw new SearchSyntaxError(`unexpected ${tokens[pos].v}`)
  return expr
}

function checkAttr(attr, op, mode, knownProfileAttr) {
  if (mode === 'filter') {
    if (!FILTER_ALLOWED.has(attr)) throw new SearchSyntaxError(`${attr} cannot be filtered`)
    const allowed = attr === 'lastUpdated' ? ['eq', 'gt', 'ge', 'lt', 'le'] : ['eq']
    if (!allowed.includes(op)) throw new SearchSyntaxError(`${op} not allowed on ${attr}`)
    return
  }
  if (op !== 'pr' && !COMPARE_OPS.has(op)) throw new SearchSyntaxError(`operator ${op} not supported`)
  if (op === 'co' && !CO_ALLOWED.has(attr)) throw new SearchSyntaxError(`co not allowed on ${attr}`)
  if (SEARCH_TOP.has(attr)) return
  if (attr.startsWith('profile.') && knownProfileAttr(attr.slice('profile.'.length))) return
  throw new SearchSyntaxError(`unknown property ${attr}`)
}

/** The value(s) of a dotted property on a user object. */
function valueOf(user, attr) {
  let node = user
  for (const key of attr.split('.')) {
    if (node === null || node === undefined) return undefined
    node = node[key]
  }
  return node
}

/**
 * @param {Expr} expr
 * @param {object} user the user as the API shows it
 * @param {'search' | 'filter'} mode
 * @returns {boolean}
 */
export function matches(expr, user, mode) {
  if (expr.kind === 'and') return matches(expr.left, user, mode) && matches(expr.right, user, mode)
  if (expr.kind === 'or') return matches(expr.left, user, mode) || matches(expr.right, user, mode)
  const raw = valueOf(user, expr.attr)
  const values = Array.isArray(raw) ? raw : [raw]
  return values.some((v) => compare(v, expr.op, expr.value, mode === 'search'))
}

function compare(actual, op, expected, caseInsensitive) {
  if (op === 'pr') return actual !== undefined && actual !== null && actual !== ''
  if (actual === undefined || actual === null) return expected === null && op === 'eq'
  if (typeof expected === 'string') {
    let a = String(actual)
    let e = expected
    if (caseInsensitive) {
      a = a.toLowerCase()
      e = e.toLowerCase()
    }
    switch (op) {
      case 'eq':
        return a === e
      case 'sw':
        return a.startsWith(e)
      case 'co':
        return a.includes(e)
      case 'gt':
        return a > e
      case 'ge':
        return a >= e
      case 'lt':
        return a < e
      case 'le':
        return a <= e
    }
    return false
  }
  switch (op) {
    case 'eq':
      return actual === expected
    case 'gt':
      return actual > expected
    case 'ge':
      return actual >= expected
    case 'lt':
      return actual < expected
    case 'le':
      return actual <= expected
  }
  return false
}
