import { isIP } from 'node:net'
import { z } from 'zod'
import { InputError, unexpectedResponse } from '../../engine/errors.js'
import { MintedToken, staticCredentials } from '../../engine/http/auth.js'
import { bodySnippet, type HttpResponse } from '../../engine/http/client.js'
import { text as textInput } from '../../engine/inputs.js'
import { mapConcurrent } from '../../engine/pool.js'
import { defineProvider } from '../../engine/provider.js'
import { lookup, notFound, paginate } from '../../engine/resolve.js'
import type { BatchOutcome, DetailValue, PlanEntry, ProviderErrorInfo } from '../../engine/types.js'

// DeNovoLab DNL Class 4 softswitch admin API (shared/seeds/003, shared/providers.md).
// This provider DELETES USER ACCOUNTS. Its whole design is "snapshot, show, delete exactly the
// snapshot": the filter is only ever sent to the read-only list call; every DELETE names one id.

/** Users fetched per list page. The DNL web client pages with page (0-based) and per_page up to 100. */
export const USERS_PER_PAGE = 100
/** Lifetime asked for a token minted from portal credentials (GET /auth). */
export const MINTED_TOKEN_MINUTES = 60
/** user_type values seen in the vendor's own web client; others are refused (see docs/providers/denovolab.md). */
export const USER_TYPES = ['admin', 'client', 'agent'] as const
const MAX_ID_LIST = 1000
const MAX_TEXT = 200
/** Server-side time zone is unknown: time-filter cross-checks allow this much slack. */
const TIME_SLACK_MS = 14 * 3600_000

// ---------------------------------------------------------------------------------------------
// Filter values

const ID_PATTERN = /^[1-9][0-9]{0,15}$/
const EPOCH_PATTERN = /^[0-9]{1,11}$/
const ISO_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/

export function isPositiveId(value: string): boolean {
  return ID_PATTERN.test(value) && Number(value) <= Number.MAX_SAFE_INTEGER
}

/**
 * Reads a filter timestamp: epoch seconds, or an ISO 8601 date / date-time (`T` or a space
 * between date and time, optional seconds, fraction and zone; no zone means UTC). Returns
 * epoch milliseconds, or undefined when the text is not a real time.
 */
export function parseDnlTime(value: string): number | undefined {
  const text = value.trim()
  if (EPOCH_PATTERN.test(text)) return Number(text) * 1000
  const m = ISO_PATTERN.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined
  // Reject 2024-02-30 and friends: the date must survive a round trip.
  const probe = new Date(Date.UTC(year, month - 1, day))
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return undefined
  if (year < 1970 || year > 2200) return undefined
  let offsetMin = 0
  if (zone !== 'Z') {
    const z2 = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)
    if (!z2 || Number(z2[2]) > 14 || Number(z2[3]) > 59) return undefined
    offsetMin = (z2[1] === '-' ? -1 : 1) * (Number(z2[2]) * 60 + Number(z2[3]))
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3))
  return Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), ms) - offsetMin * 60_000
}

const booleanValue = (v: string): string | undefined => (/^(true|false)$/i.test(v) ? undefined : 'must be true or false')

const timeValue = (v: string): string | undefined =>
  parseDnlTime(v) === undefined ? 'must be a time: epoch seconds (e.g. 1735689600) or ISO 8601 (e.g. 2025-01-01 or 2025-01-01T08:00:00Z)' : undefined

const idValue = (v: string): string | undefined => (isPositiveId(v) ? undefined : 'must be a positive whole number (an id)')

function idListValue(v: string): string | undefined {
  const parts = v.split(',').map((p) => p.trim())
  if (parts.length > MAX_ID_LIST) return `holds ${parts.length} ids, at most ${MAX_ID_LIST} are allowed`
  const bad = parts.find((p) => !isPositiveId(p))
  if (bad !== undefined)
    return bad === ''
      ? 'has an empty entry (check the commas)'
      : `${JSON.stringify(bad)} is not a positive whole number; give ids separated by commas, e.g. 12,15,40`
  return undefined
}

function emailValue(v: string): string | undefined {
  if (v.length > 254) return 'is longer than 254 characters'
  return EMAIL_PATTERN.test(v) ? undefined : 'must be a whole email address such as jane@example.com (partial addresses are refused)'
}

function nameValue(v: string): string | undefined {
  if (v === '') return 'is empty'
  if (v.length > MAX_TEXT) return `is longer than ${MAX_TEXT} characters`
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'holds a control character'
  if (/^[%_*\s]+$/.test(v)) return 'holds only wildcard characters, which could match every user'
  return undefined
}

const ipValue = (v: string): string | undefined => (isIP(v) === 0 ? 'must be an IPv4 or IPv6 address' : undefined)

const userTypeValue = (v: string): string | undefined => ((USER_TYPES as readonly string[]).includes(v) ? undefined : `must be one of ${USER_TYPES.join(', ')}`)

/** The 13 documented filter keys, each with the check of its value. */
export const FILTER_KEYS: Record<string, (value: string) => string | undefined> = {
  active: booleanValue,
  create_time_gt: timeValue,
  create_time_lt: timeValue,
  email: emailValue,
  is_online: booleanValue,
  last_login_time_gt: timeValue,
  last_login_time_lt: timeValue,
  login_ip: ipValue,
  name: nameValue,
  role_id: idValue,
  user_id: idValue,
  user_id_in: idListValue,
  user_type: userTypeValue
}

/** The query parameters sent for a validated filter (booleans lower case, id lists without spaces). */
export function filterQuery(filter: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(filter)) {
    if (k === 'active' || k === 'is_online') out[k] = v.toLowerCase()
    else if (k === 'user_id_in')
      out[k] = v
        .split(',')
        .map((p) => p.trim())
        .join(',')
    else out[k] = v
  }
  return out
}

/** Cross-key checks the per-key validators cannot make. Returns a problem text or undefined. */
export function filterRangeProblem(filter: Record<string, string>): string | undefined {
  for (const field of ['create_time', 'last_login_time']) {
    const gt = filter[`${field}_gt`]
    const lt = filter[`${field}_lt`]
    if (gt === undefined || lt === undefined) continue
    const a = parseDnlTime(gt)
    const b = parseDnlTime(lt)
    if (a !== undefined && b !== undefined && a >= b) return `${field}_gt (${gt}) is not before ${field}_lt (${lt}), so no user can match`
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Responses

const idField = z.union([z.number().int().positive(), z.string().regex(ID_PATTERN)]).transform((v) => String(v))
const scalar = z.union([z.string(), z.number(), z.boolean()]).nullable().optional()

export const dnlUser = z.looseObject({
  user_id: idField,
  name: scalar,
  fullname: scalar,
  email: scalar,
  role_id: scalar,
  role_name: scalar,
  user_type: scalar,
  active: scalar,
  is_online: scalar,
  create_time: scalar,
  last_login_time: scalar,
  login_ip: scalar
})
export type DnlUser = z.infer<typeof dnlUser>

const envelope = z.looseObject({ success: z.boolean().optional(), payload: z.unknown() })
/** DELETE /user/{id}: {"success": true}; a 2xx without it is not a deletion. */
const deleteAnswer = z.looseObject({ success: z.boolean() })
const pageObject = z.looseObject({
  items: z.array(z.unknown()).optional(),
  data: z.array(z.unknown()).optional(),
  total: z.coerce.number().optional(),
  page: z.coerce.number().optional(),
  per_page: z.coerce.number().optional()
})

/** {"error_type","success":false,"error":{"message","code","reason"}} and {"error_type","success":false}. */
const dnlError = z.looseObject({
  error_type: z.string().optional(),
  success: z.boolean().optional(),
  error: z
    .union([z.looseObject({ message: z.string().optional(), code: z.union([z.string(), z.number()]).optional(), reason: z.string().optional() }), z.string()])
    .optional(),
  message: z.string().optional()
})

export function parseError(status: number, body: unknown, text: string): ProviderErrorInfo {
  const parsed = dnlError.safeParse(body)
  if (parsed.success && (parsed.data.error_type !== undefined || parsed.data.error !== undefined || parsed.data.message !== undefined)) {
    const e = parsed.data.error
    if (typeof e === 'string') return { status, message: e }
    if (e !== undefined) {
      const parts = [e.message, e.reason && `(${e.reason})`].filter(Boolean)
      return { status, code: e.code === undefined ? undefined : String(e.code), message: parts.join(' ') || parsed.data.error_type || bodySnippet(text) }
    }
    return { status, message: parsed.data.error_type ?? parsed.data.message ?? bodySnippet(text) }
  }
  return { status, message: bodySnippet(text) }
}

function text(v: DetailValue | undefined): string | null {
  return v === undefined || v === null || v === '' ? null : String(v)
}

function asBool(v: unknown): boolean | undefined {
  if (v === true || v === false) return v
  if (v === 1 || v === '1' || v === 't' || v === 'true' || v === 'True') return true
  if (v === 0 || v === '0' || v === 'f' || v === 'false' || v === 'False') return false
  return undefined
}

/** A time field of a user record (epoch seconds/ms or a date string), in ms; undefined when unreadable. */
function recordTime(v: unknown): number | undefined {
  if (typeof v === 'number') return v > 1e12 ? v : v * 1000
  if (typeof v !== 'string' || v === '') return undefined
  const own = parseDnlTime(v.replace(/(\.\d{1,6})\d*/, '$1'))
  if (own !== undefined) return own
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}

/**
 * The filter keys a returned user visibly contradicts. A DNL server that ignores a filter it
 * does not know would otherwise hand back users the admin never meant to select; where the
 * record shows a field, the plan is checked against it. Fields absent from the record are not
 * judged; name and email are compared as case-insensitive substrings (exact matches pass too);
 * times allow 14 hours of slack for the server's unknown time zone.
 */
export function contradictions(user: DnlUser, filter: Record<string, string>): string[] {
  const bad: string[] = []
  const q = filterQuery(filter)
  const lower = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v).toLowerCase())
  for (const [key, value] of Object.entries(q)) {
    switch (key) {
      case 'active':
      case 'is_online': {
        const b = asBool(user[key])
        if (b !== undefined && b !== (value === 'true')) bad.push(key)
        break
      }
      case 'user_id':
        if (user.user_id !== value) bad.push(key)
        break
      case 'user_id_in':
        if (!value.split(',').includes(user.user_id)) bad.push(key)
        break
      case 'role_id':
        if (user.role_id !== undefined && user.role_id !== null && String(user.role_id) !== value) bad.push(key)
        break
      case 'user_type':
      case 'login_ip': {
        const got = lower(user[key])
        if (got !== undefined && got !== value.toLowerCase()) bad.push(key)
        break
      }
      case 'email': {
        const got = lower(user.email)
        if (got !== undefined && !got.includes(value.toLowerCase())) bad.push(key)
        break
      }
      case 'name': {
        const names = [lower(user.name), lower(user.fullname)].filter((n): n is string => n !== undefined)
        if (names.length > 0 && !names.some((n) => n.includes(value.toLowerCase()))) bad.push(key)
        break
      }
      default: {
        const m = /^(create_time|last_login_time)_(gt|lt)$/.exec(key)
        if (!m) break
        const got = recordTime(user[m[1]])
        const bound = parseDnlTime(value)
        if (got === undefined || bound === undefined) break
        if (m[2] === 'gt' ? got < bound - TIME_SLACK_MS : got > bound + TIME_SLACK_MS) bad.push(key)
      }
    }
  }
  return bad
}

// ---------------------------------------------------------------------------------------------
// Provider

const TOKEN_HEADER = 'X-Auth-Token'

function mintedToken(body: unknown): string | undefined {
  const pick = (o: unknown, key: string): unknown => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined)
  const payload = pick(body, 'payload')
  for (const candidate of [pick(payload, 'token'), pick(payload, 'auth_token'), pick(body, 'token'), pick(body, 'auth_token'), payload]) {
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate.trim()
  }
  return undefined
}

function describeShape(payload: unknown): string {
  if (Array.isArray(payload)) return `an array of ${payload.length}`
  if (payload !== null && typeof payload === 'object') return `an object with ${Object.keys(payload).join(', ') || 'no keys'}`
  return typeof payload
}

export const denovolab = defineProvider({
  name: 'denovolab',
  title: 'DeNovoLab DNL',
  destructive: true,
  inputs: {
    username: textInput({
      name: 'username',
      description: 'portal user name or email; with it, token is the portal password and an admin token is minted (and minted again when it expires mid-run)',
      fix: 'give the portal user name or email of an admin',
      maxLength: MAX_TEXT
    })
  },
  token: {
    description: 'admin X-Auth-Token, or the portal password when username is set',
    fix: 'pass an admin token, or set username and pass the portal password'
  },
  baseUrl: { example: 'https://dnl.example.com/api_dnl/v1', description: 'each installation has its own host: required' },
  defaults: { batchSize: 1, concurrency: 2, rateLimit: 120, maxRetries: 3, timeoutSeconds: 30 },
  targetTypes: ['user-id'],
  defaultTargetType: 'user-id',
  targetTypesDescription: 'user-id',
  filter: { mode: 'select', requireNonEmpty: true, keys: FILTER_KEYS, example: 'last_login_time_lt=2025-01-01' },
  http: {
    requestIdHeaders: ['x-request-id', 'x-correlation-id'],
    parseError,
    isRetryable(status) {
      // A 404 is an answer about the user, never a transient failure.
      if (status === 404) return false
      return undefined
    }
  },

  validate({ targets, filter }) {
    for (const t of targets) {
      if (!isPositiveId(t)) {
        throw new InputError(
          'targets',
          `${JSON.stringify(t.slice(0, 60))} is not a DNL user id (a positive whole number)`,
          'list numeric user ids, one per line or comma-separated, or select users with filter'
        )
      }
    }
    if (filter !== undefined) {
      const problem = filterRangeProblem(filter)
      if (problem) throw new InputError('filter', problem, 'swap or correct the two times')
    }
    return targets
  },

  start(ctx) {
    const base = ctx.baseUrl
    const username = ctx.options.username
    // The password travels in the query string (that is how the API takes it): its encoded forms are masked too.
    const auth =
      username === undefined
        ? staticCredentials({ [TOKEN_HEADER]: ctx.token })
        : new MintedToken({
            label: `an admin token for ${username}`,
            clock: ctx.clock,
            log: ctx.log,
            addSecret: ctx.addSecret,
            header: (token) => ({ [TOKEN_HEADER]: token }),
            // Asked for MINTED_TOKEN_MINUTES; the server's real lifetime is not documented: a 401 re-mints.
            mint: async () => {
              const query = new URLSearchParams({ email_or_name: username, password: ctx.token, expire_after_minutes: String(MINTED_TOKEN_MINUTES) })
              const res = await ctx.http.request({ method: 'GET', url: `${base}/auth?${query}`, auth: null, body: 'json', what: 'GET /auth' })
              const minted = mintedToken(res.body)
              if (minted === undefined)
                throw unexpectedResponse(
                  res.status,
                  `GET /auth answered without a token (payload was ${describeShape((res.body as { payload?: unknown } | undefined)?.payload)})`,
                  res.requestId
                )
              ctx.log.info(`minted an admin token for ${username} (asked for ${MINTED_TOKEN_MINUTES} minutes, masked)`)
              return { token: minted }
            },
            hint: () => 'check username and the portal password passed as token'
          })
    const http = ctx.http.with({ auth })
    let listPath: string | undefined

    function readPage(res: HttpResponse): { users: DnlUser[]; total?: number; perPage?: number } {
      const env = envelope.safeParse(res.body)
      if (!env.success) throw unexpectedResponse(res.status, `unexpected user list (not a JSON object): ${bodySnippet(res.safeText)}`, res.requestId)
      if (env.data.success === false)
        throw unexpectedResponse(res.status, `the user list answered success=false: ${parseError(res.status, res.body, res.safeText).message}`, res.requestId)
      const payload = env.data.payload
      let rows: unknown[]
      let total: number | undefined
      let perPage: number | undefined
      if (Array.isArray(payload)) {
        rows = payload
      } else {
        const page = pageObject.safeParse(payload)
        const list = page.success ? (page.data.items ?? page.data.data) : undefined
        if (!page.success || list === undefined)
          throw unexpectedResponse(res.status, `unexpected user list: payload is ${describeShape(payload)}, expected items`, res.requestId)
        rows = list
        total = page.data.total
        perPage = page.data.per_page
      }
      const users = rows.map((row, i) => {
        const u = dnlUser.safeParse(row)
        if (!u.success)
          throw unexpectedResponse(
            res.status,
            `unexpected user record ${i + 1} in the list: ${u.error.issues[0]?.path.join('.') ?? ''} ${u.error.issues[0]?.message ?? 'bad shape'}`,
            res.requestId
          )
        return u.data
      })
      return { users, total, perPage }
    }

    /**
     * GET /user/list (seen in the DNL web client), falling back to GET /user (providers.md) only when
     * the route does not exist (404/405). A 400 is the server rejecting the filter: it is reported,
     * never answered by asking another route that might ignore the filter.
     */
    async function listPage(query: URLSearchParams): Promise<HttpResponse> {
      const candidates = listPath !== undefined ? [listPath] : ['/user/list', '/user']
      for (const [i, path] of candidates.entries()) {
        const last = i === candidates.length - 1
        const res = await http.request({
          method: 'GET',
          url: `${base}${path}?${query}`,
          body: 'json',
          pass: last ? undefined : [404, 405],
          what: `GET ${path}`
        })
        if (res.status >= 200 && res.status < 300) {
          if (listPath === undefined) ctx.log.info(`listing users with GET ${path}`)
          listPath = path
          return res
        }
        ctx.log.info(`GET ${path} answered ${res.status}; trying the next list path`)
      }
      throw new Error('unreachable')
    }

    /** Every user the filter matches, all pages collected before anything else happens. */
    async function snapshot(filter: Record<string, string>): Promise<DnlUser[]> {
      let lastTotal: number | undefined
      const { items, truncated } = await paginate<DnlUser>({
        what: 'the DNL user list',
        key: (u) => u.user_id,
        maxItems: ctx.maxTargets,
        fetchPage: async (cursor) => {
          const page = Number(cursor ?? '0')
          const query = new URLSearchParams({
            ...filterQuery(filter),
            page: String(page),
            per_page: String(USERS_PER_PAGE),
            order_by: 'user_id',
            order_dir: 'asc'
          })
          const { users, total, perPage } = readPage(await listPage(query))
          if (page === 0) ctx.log.debug(`user list page 0: ${users.length} users, total ${total ?? 'not given'}, per_page ${perPage ?? 'not given'}`)
          lastTotal = total ?? lastTotal
          const seenSoFar = page * (perPage ?? USERS_PER_PAGE) + users.length
          const last = users.length < (perPage ?? USERS_PER_PAGE) || (total !== undefined && seenSoFar >= total)
          return { items: users, next: last ? undefined : String(page + 1) }
        }
      })
      // The guard refuses a plan past max-targets: no need to read further, nor to check the total.
      if (!truncated && items.length <= ctx.maxTargets && lastTotal !== undefined && items.length < lastTotal) {
        throw unexpectedResponse(200, `the user list reported ${lastTotal} matching users but paging returned ${items.length}; refusing an incomplete plan`)
      }
      return items
    }

    const describe = (u: DnlUser): PlanEntry => {
      const label = text(u.name ?? u.fullname ?? null)
      return {
        id: u.user_id,
        kind: 'user-id',
        label: label ?? undefined,
        details: {
          email: text(u.email ?? null),
          role: text(u.role_name ?? u.role_id ?? null),
          user_type: text(u.user_type ?? null),
          last_login: text(u.last_login_time ?? null),
          active: u.active === undefined || u.active === null ? null : (asBool(u.active) ?? String(u.active))
        }
      }
    }

    async function resolveId(id: string): Promise<PlanEntry> {
      const found = await lookup(http, { method: 'GET', url: `${base}/user/${encodeURIComponent(id)}`, body: 'json', what: `GET /user/${id}` })
      if (!found.found) return notFound(id, 'user-id', 'no such user (already deleted, or never existed)', found.error)
      const res = found.res
      const env = envelope.safeParse(res.body)
      const u = dnlUser.safeParse(env.success ? env.data.payload : undefined)
      if (!u.success)
        throw unexpectedResponse(
          res.status,
          `unexpected answer to GET /user/${id}: payload is ${describeShape(env.success ? env.data.payload : res.body)}`,
          res.requestId
        )
      if (u.data.user_id !== id) throw unexpectedResponse(res.status, `GET /user/${id} returned user ${u.data.user_id}`, res.requestId)
      return describe(u.data)
    }

    return {
      async plan(request) {
        if (request.filter !== undefined) {
          const users = await snapshot(request.filter)
          for (const u of users) {
            const bad = contradictions(u, request.filter)
            if (bad.length > 0) {
              const shown = bad.map((k) => `${k}=${request.filter?.[k]}`).join(', ')
              throw new InputError(
                'filter',
                `the server returned user ${u.user_id}${u.name ? ` (${String(u.name)})` : ''}, which does not match ${shown}: this DNL server may ignore or read that filter differently, so the plan cannot be trusted`,
                'select the users with another filter key, or list their ids in targets after checking them in the portal'
              )
            }
          }
          ctx.log.info(`snapshot: ${users.length} users match the filter; only these ids will be deleted`)
          return users.map(describe)
        }
        // Targets: one GET /user/{id} each, `concurrency` at a time, stopping at the first failure.
        return mapConcurrent(request.targets, ctx.concurrency, resolveId)
      },

      /** Every batch holds one user: each DELETE names exactly one planned id. */
      batches(entries, batchSize) {
        if (batchSize !== 1) ctx.log.info(`batch-size ${batchSize} is ignored for denovolab: every delete names one user id (DELETE /user/{id})`)
        return entries.map((e) => [e])
      },

      async execute(batch): Promise<BatchOutcome[]> {
        const out: BatchOutcome[] = []
        for (const e of batch) {
          if (!isPositiveId(e.id)) {
            out.push({ id: e.id, outcome: 'failed', reason: 'internal check: not a numeric user id, nothing sent' })
            continue
          }
          // Documented success: 200 {"success":true}. Anything else that is 2xx is not a deletion.
          const res = await http.request({ method: 'DELETE', url: `${base}/user/${e.id}`, ok: [200], pass: [404], body: 'json', what: `DELETE /user/${e.id}` })
          if (res.status === 404) {
            const reason =
              res.attempts > 1
                ? 'already deleted (not found on a retry: an earlier attempt of this run may have deleted it before its answer was lost)'
                : 'already deleted (not found when the delete was sent)'
            out.push({ id: e.id, outcome: 'skipped', reason, requestId: res.requestId, attempts: res.attempts })
            continue
          }
          const answer = deleteAnswer.safeParse(res.body)
          if (!answer.success || answer.data.success !== true) {
            const info = parseError(res.status, res.body, res.safeText)
            const said =
              answer.success && answer.data.success === false ? `success=false: ${info.message}` : `no "success": true (${bodySnippet(res.safeText)})`
            out.push({
              id: e.id,
              outcome: 'failed',
              error: {
                ...info,
                status: res.status,
                code: info.code ?? 'unexpected-response',
                message: `the delete answered HTTP ${res.status} with ${said}`,
                requestId: res.requestId
              },
              attempts: res.attempts
            })
            continue
          }
          out.push({ id: e.id, outcome: 'terminated', reason: 'account deleted', requestId: res.requestId, attempts: res.attempts })
        }
        return out
      }
    }
  }
})
