import { z } from 'zod'
import { InputError } from './errors.js'

/**
 * One action input, declared where it is used: the engine declares the shared ones, each provider its
 * own. The reader (settings.ts) validates every declared input the same way, masks secret ones at once,
 * and reports the others; action.yml and the reusable workflows are checked against these declarations.
 */
export interface InputDecl<T> {
  /** The input's name in action.yml (kebab-case). */
  name: string
  /** What it is for this provider (action.yml describes the union; a test checks they agree). */
  description: string
  /** Masked as soon as it is read, never reported, refused when too short to mask safely. */
  secret?: boolean
  /** Left out of the report's settings even though it is not secret (e.g. an access key id). */
  unreported?: boolean
  /** Validates the value; `raw` is trimmed unless the input is secret. An empty value is `''`. */
  schema: z.ZodType<T, string>
  /** How to correct a bad value, appended to the error. */
  fix: string
}

/** Declarations keyed by the name the provider reads them under (camelCase). */
export type InputDecls = Record<string, InputDecl<unknown>>

export type InputValues<D extends InputDecls> = { [K in keyof D]: D[K] extends InputDecl<infer T> ? T : never }

/** Secrets shorter than this would mask innocent text everywhere (a 3-character token masks "the"). */
export const MIN_SECRET_LENGTH = 8

/** Reads and validates declared inputs. Throws InputError naming the input and the fix. */
export function readDeclared<D extends InputDecls>(decls: D, get: (name: string) => string, mask: (value: string) => void): InputValues<D> {
  const out: Record<string, unknown> = {}
  for (const [key, decl] of Object.entries(decls)) {
    const raw = get(decl.name)
    if (decl.secret) mask(raw)
    const value = decl.secret ? raw : raw.trim()
    if (decl.secret && value.trim() !== '' && value.trim().length < MIN_SECRET_LENGTH) {
      throw new InputError(
        decl.name,
        `is ${value.trim().length} characters long, too short to be masked in logs safely (at least ${MIN_SECRET_LENGTH})`,
        decl.fix
      )
    }
    const parsed = decl.schema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const problem = decl.secret ? (issue?.message ?? 'is not valid').replace(/"[^"]*"/g, '(value hidden)') : (issue?.message ?? 'is not valid')
      throw new InputError(decl.name, problem, decl.fix)
    }
    out[key] = parsed.data
  }
  return out as InputValues<D>
}

// ---------------------------------------------------------------------------------------------
// Builders for the usual kinds of input. Each returns a declaration whose schema maps '' to the
// default (or undefined) and anything else to a checked value.

interface Common {
  name: string
  description: string
  fix: string
  secret?: boolean
  unreported?: boolean
}

const CONTROL = /[\u0000-\u001f\u007f]/

/** Free text, optionally matched against a pattern. Control characters are always refused. */
export function text(o: Common & { pattern?: RegExp; problem?: string; maxLength?: number; required: true }): InputDecl<string>
export function text(o: Common & { pattern?: RegExp; problem?: string; maxLength?: number; required?: false }): InputDecl<string | undefined>
export function text(o: Common & { pattern?: RegExp; problem?: string; maxLength?: number; required?: boolean }): InputDecl<string | undefined> {
  const max = o.maxLength ?? 4096
  const schema = z.string().transform((v, ctx) => {
    if (v.trim() === '') {
      if (o.required) ctx.addIssue({ code: 'custom', message: 'is empty' })
      return undefined
    }
    const value = o.secret ? v.trim() : v
    if (!o.secret && CONTROL.test(value)) ctx.addIssue({ code: 'custom', message: 'holds a control character (a line break or tab)' })
    else if (value.length > max) ctx.addIssue({ code: 'custom', message: `is ${value.length} characters long, more than ${max}` })
    else if (o.pattern && !o.pattern.test(value))
      ctx.addIssue({ code: 'custom', message: o.problem ?? `${o.secret ? 'has the wrong format' : `${JSON.stringify(value)} has the wrong format`}` })
    return value
  })
  return { name: o.name, description: o.description, fix: o.fix, secret: o.secret, unreported: o.unreported, schema }
}

/** true/false (yes/no, on/off, 1/0); empty is the default. */
export function flag(o: Common & { default: boolean }): InputDecl<boolean> {
  const schema = z.string().transform((v, ctx) => {
    const value = v.trim().toLowerCase()
    if (value === '') return o.default
    if (['true', 'yes', '1', 'on'].includes(value)) return true
    if (['false', 'no', '0', 'off'].includes(value)) return false
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a boolean` })
    return o.default
  })
  return { name: o.name, description: o.description, fix: o.fix, schema }
}

/** One of a fixed set of words; empty is the default. */
export function choice<const V extends string>(o: Common & { values: readonly V[]; default: V }): InputDecl<V> {
  const schema = z.string().transform((v, ctx) => {
    const value = v.trim().toLowerCase()
    if (value === '') return o.default
    if ((o.values as readonly string[]).includes(value)) return value as V
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not one of ${o.values.join(', ')}` })
    return o.default
  })
  return { name: o.name, description: o.description, fix: o.fix, schema }
}

/** A whole number in a range; empty is the default (undefined: no default). */
export function wholeNumber(o: Common & { min: number; max: number; default: number }): InputDecl<number>
export function wholeNumber(o: Common & { min: number; max: number; default?: undefined }): InputDecl<number | undefined>
export function wholeNumber(o: Common & { min: number; max: number; default?: number }): InputDecl<number | undefined> {
  const schema = z.string().transform((v, ctx) => {
    const value = v.trim()
    if (value === '') return o.default
    if (!/^\d+$/.test(value)) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a whole number` })
      return undefined
    }
    const n = Number(value)
    if (n < o.min || n > o.max) ctx.addIssue({ code: 'custom', message: `${n} is out of range (${o.min} to ${o.max})` })
    return n
  })
  return { name: o.name, description: o.description, fix: o.fix, schema }
}

/** Loopback hosts, where plain http is expected (tests, local proxies). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h)
}

/**
 * An http(s) URL without credentials, query or fragment, returned normalised (the parsed URL, no
 * trailing slash): the raw text is never used, so nothing the URL parser would drop reaches a request.
 */
export function httpUrl(o: Common): InputDecl<string | undefined> {
  const schema = z.string().transform((v, ctx) => {
    if (v.trim() === '') return undefined
    if (CONTROL.test(v) || /\s/.test(v.trim())) {
      ctx.addIssue({ code: 'custom', message: 'holds whitespace or a control character' })
      return undefined
    }
    let url: URL
    try {
      url = new URL(v.trim())
    } catch {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v.trim())} is not a URL` })
      return undefined
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: `${JSON.stringify(url.protocol)} is not http or https` })
    else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'holds credentials in the URL' })
    else if (url.search || url.hash || v.includes('?') || v.includes('#')) ctx.addIssue({ code: 'custom', message: 'has a query string or fragment' })
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
  })
  return { name: o.name, description: o.description, fix: o.fix, schema }
}
