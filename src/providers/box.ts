import { z } from 'zod'
import { InputError, ProviderRequestError } from '../engine/errors.js'
import { bodySnippet, type HttpRequest, type HttpResponse } from '../engine/http.js'
import { chunk } from '../engine/plan.js'
import { mapConcurrent } from '../engine/pool.js'
import type { BatchOutcome, PlanEntry, Provider, ProviderContext, ProviderErrorInfo, TargetRequest } from '../engine/types.js'

// Box: POST /2.0/users/terminate_sessions {user_ids, user_logins} and
// POST /2.0/groups/terminate_sessions {group_ids}. Box answers 202 and queues a job per target,
// so a success is reported `accepted`, never `terminated`.
//
// Planning at the least number of calls. Box allows about 1,000 calls a minute per user, so a plan
// that spends one GET /users/{id} per target costs 10 minutes for 10,000 targets. With many user
// targets the plan reads the enterprise's user list instead (GET /users, 1,000 a page):
//  - fewer than LIST_FROM_TARGETS user targets (ids + logins): one lookup each, as always;
//  - otherwise the first page is read with offset paging (offset=0, limit=1000), because only offset
//    paging answers total_count (marker paging omits it, per Box's description). That page resolves
//    every target among its users, and tells the enterprise's size N. If targets are still unresolved,
//    the rest of the list costs ceil(N/limit) - 1 more offset pages when the last one starts at an
//    offset Box accepts (<= 10,000), else ceil(N/limit) marker pages from the start. The plan reads
//    them only when that is fewer calls than one lookup per unresolved target, and stops as soon as
//    every target is resolved;
//  - whatever the list did not resolve (external users, which the list only returns for a whole-login
//    search, and targets that are not in the enterprise) is looked up one by one as before, so the
//    plan shows the same names, statuses and 404 skips either way.

const DEFAULT_BASE_URL = 'https://api.box.com/2.0'
const DEFAULT_AUTH_BASE_URL = 'https://api.box.com'
const USER_FIELDS = 'id,login,name,status'
/** GET /users accepts at most 1000 entries a page. */
const MAX_PAGE = 1000
/** From this many user targets on, the plan tries the enterprise's user list first (see the top). */
const LIST_FROM_TARGETS = 10
/** GET /users refuses offsets past this (400): the documented limit of offset paging. */
const MAX_OFFSET = 10_000
/** A login lookup pages through prefix matches; this bounds it. */
const LOGIN_LOOKUP_PAGE = 100
const LOGIN_LOOKUP_MAX_PAGES = 20
/** Re-mint a Client Credentials token this long before Box says it expires. */
const EXPIRY_MARGIN_MS = 60_000
/** How many times a run may re-mint a token after a 401 (expiry mid-run), in all. */
const MAX_REMINTS = 5

const DIGITS = /^\d{1,20}$/
const GROUP_PREFIX = 'group:'
const USER_TYPES = ['all', 'managed', 'external'] as const

type TargetKind = 'user-id' | 'user-login' | 'group-id'

const boxError = z.looseObject({
  type: z.literal('error'),
  status: z.coerce.number().optional(),
  code: z.string().optional().nullable(),
  message: z.string().optional().nullable(),
  context_info: z.unknown().optional(),
  request_id: z.string().optional().nullable()
})
/** The OAuth endpoint answers with RFC 6749 errors, not Box API errors. */
const oauthError = z.looseObject({ error: z.string(), error_description: z.string().optional().nullable() })

const boxUser = z.looseObject({
  id: z.coerce.string(),
  login: z.string().optional().nullable(),
  name: z.string().optional().nullable(),
  status: z.string().optional().nullable()
})
type BoxUser = z.infer<typeof boxUser>

const userPage = z.looseObject({
  entries: z.array(boxUser),
  next_marker: z.string().optional().nullable(),
  /** Offset paging only. */
  total_count: z.coerce.number().optional().nullable(),
  limit: z.coerce.number().optional().nullable()
})
type UserPage = z.infer<typeof userPage>
const boxGroup = z.looseObject({ id: z.coerce.string(), name: z.string().optional().nullable() })
const membershipPage = z.looseObject({ total_count: z.coerce.number().optional() })
const tokenResponse = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().optional(),
  token_type: z.string().optional()
})

function contextText(info: unknown): string {
  if (info === undefined || info === null) return ''
  if (typeof info === 'object' && Object.keys(info).length === 0) return ''
  const text = JSON.stringify(info)
  return ` ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`
}

function parseError(status: number, body: unknown, text: string): ProviderErrorInfo {
  const box = boxError.safeParse(body)
  if (box.success) {
    const e = box.data
    return {
      status,
      code: e.code ?? undefined,
      message: `${e.message ?? 'Box returned an error'}${contextText(e.context_info)}`,
      requestId: e.request_id ?? undefined
    }
  }
  const oauth = oauthError.safeParse(body)
  if (oauth.success) return { status, code: oauth.data.error, message: oauth.data.error_description ?? oauth.data.error }
  // Box answers 401 with an empty body and a WWW-Authenticate header.
  if (status === 401 && text.trim() === '') return { status, code: 'unauthorized', message: 'the access token is invalid or has expired' }
  return { status, message: bodySnippet(text) }
}

/** What a raw target is, in the given target type. Returns undefined when it is not valid for it. */
function classify(target: string, targetType: string): { kind: TargetKind; value: string } | undefined {
  const lower = target.toLowerCase()
  const group = lower.startsWith(GROUP_PREFIX) ? target.slice(GROUP_PREFIX.length).trim() : undefined
  switch (targetType) {
    case 'user-id':
      return DIGITS.test(target) ? { kind: 'user-id', value: target } : undefined
    case 'user-login':
      return /^\S+$/.test(target) && !DIGITS.test(target) ? { kind: 'user-login', value: target } : undefined
    case 'group-id': {
      const id = group ?? target
      return DIGITS.test(id) ? { kind: 'group-id', value: id } : undefined
    }
    default: // auto
      if (group !== undefined) return DIGITS.test(group) ? { kind: 'group-id', value: group } : undefined
      if (DIGITS.test(target)) return { kind: 'user-id', value: target }
      if (target.includes('@') && /^\S+$/.test(target)) return { kind: 'user-login', value: target }
      return undefined
  }
}

const TYPE_FIX: Record<string, string> = {
  auto: 'give Box user ids (digits only), user logins (e.g. alice@example.com) or group:<group id>; or set target-type',
  'user-id': 'give Box user ids (digits only, e.g. 6178859178), or set target-type: user-login / auto',
  'user-login': 'give user logins (e.g. alice@example.com), or set target-type: user-id / auto for numeric ids',
  'group-id': 'give Box group ids (digits only, e.g. 11446498)'
}

/** Credentials for the run: a fixed bearer token, or a Client Credentials Grant token minted and re-minted here. */
class BoxAuth {
  private current: string | undefined
  private expiresAt = Number.POSITIVE_INFINITY
  private minting: Promise<string> | undefined
  private remints = 0
  readonly ccg: boolean

  constructor(private readonly ctx: ProviderContext) {
    this.ccg = ctx.options.clientId !== undefined
    if (!this.ccg) this.current = ctx.token
  }

  /** The token to send now; mints one first when there is none or it is about to expire. */
  async token(): Promise<string> {
    if (this.current !== undefined && Date.now() < this.expiresAt - EXPIRY_MARGIN_MS) return this.current
    if (!this.ccg) return this.current ?? this.ctx.token
    return this.mint()
  }

  /**
   * Called when a request sent with `used` got 401. True when a fresh token is now current and the
   * request is worth one more try; false when the credentials themselves are bad.
   */
  async renewAfter401(used: string): Promise<boolean> {
    if (!this.ccg) return false
    if (this.current !== used) return true // another worker already re-minted
    if (this.remints >= MAX_REMINTS) return false
    this.remints++
    this.ctx.log.info('Box answered 401: minting a new Client Credentials token and retrying once')
    this.current = undefined
    await this.mint()
    return true
  }

  private mint(): Promise<string> {
    this.minting ??= this.requestToken().finally(() => {
      this.minting = undefined
    })
    return this.minting
  }

  private async requestToken(): Promise<string> {
    const { options, http, token: clientSecret } = this.ctx
    const url = `${options.authBaseUrl ?? DEFAULT_AUTH_BASE_URL}/oauth2/token`
    let res: HttpResponse
    try {
      res = await http.request({
        method: 'POST',
        url,
        form: {
          grant_type: 'client_credentials',
          client_id: options.clientId ?? '',
          client_secret: clientSecret,
          box_subject_type: 'enterprise',
          box_subject_id: options.enterpriseId ?? ''
        },
        expectJson: true
      })
    } catch (err) {
      if (err instanceof ProviderRequestError) {
        const hint = err.info.code === 'invalid_client'
          ? ' — check client-id and the client secret passed as token'
          : err.info.code === 'invalid_grant'
            ? ' — check enterprise-id, and that the app is authorized in the Box Admin Console with App + Enterprise Access'
            : ''
        // Without a token nothing else can succeed: stop the run.
        throw new ProviderRequestError({ ...err.info, message: `minting a Client Credentials token failed: ${err.info.message}${hint}` }, err.attempts, true)
      }
      throw err
    }
    const parsed = tokenResponse.safeParse(res.body)
    if (!parsed.success) {
      throw new ProviderRequestError({ status: res.status, message: 'the Box token endpoint answered without an access_token' }, res.attempts, true)
    }
    const token = parsed.data.access_token
    // Masked before it is used or could be logged anywhere.
    this.ctx.addSecret(token)
    this.current = token
    const ttl = parsed.data.expires_in
    this.expiresAt = ttl !== undefined && ttl > 0 ? Date.now() + ttl * 1000 : Number.POSITIVE_INFINITY
    this.ctx.log.debug(`minted a Box Client Credentials token for enterprise ${options.enterpriseId ?? ''}${ttl ? `, valid ${ttl} s` : ''}`)
    return token
  }
}

interface UserPayload {
  login?: string | null
}

export const box: Provider = {
  name: 'box',
  title: 'Box',
  defaultBaseUrl: DEFAULT_BASE_URL,
  defaults: { batchSize: 50, concurrency: 4, rateLimit: 600, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['auto', 'user-id', 'user-login', 'group-id'],
  defaultTargetType: 'auto',
  filter: {
    mode: 'select',
    requireNonEmpty: true,
    keys: {
      filter_term: (v) => (v.length === 0 ? 'is empty' : v.length > 256 ? 'is longer than 256 characters' : undefined),
      user_type: (v) => ((USER_TYPES as readonly string[]).includes(v) ? undefined : `must be one of ${USER_TYPES.join(', ')}`)
    }
  },
  acceptedNote:
    'Box queued one session-termination job per target (HTTP 202) and ends the sessions shortly after. Follow the jobs in the Box Admin Console (Reports > User Activity, or the enterprise event stream of admin events: GET /2.0/events?stream_type=admin_logs).',
  requestIdHeaders: ['box-request-id'],
  parseError,

  isRetryable(status) {
    // Box's 400s (empty lists, ids not strings, body not JSON) will not change on a retry.
    if (status === 400) return false
    return undefined
  },

  validate({ targets, targetType, options }) {
    if (options.clientId !== undefined && options.enterpriseId === undefined) {
      throw new InputError('enterprise-id', 'is empty while client-id is set', 'set enterprise-id to your Box enterprise id (Admin Console > Account & Billing) for Client Credentials Grant, or remove client-id to use token as an access token')
    }
    if (options.enterpriseId !== undefined && options.clientId === undefined) {
      throw new InputError('client-id', 'is empty while enterprise-id is set', 'set client-id to the Client ID of your Box Client Credentials Grant app, or remove enterprise-id to use token as an access token')
    }
    if (options.enterpriseId !== undefined && !DIGITS.test(options.enterpriseId)) {
      throw new InputError('enterprise-id', `${JSON.stringify(options.enterpriseId)} is not a Box enterprise id (digits only)`, 'copy the enterprise id from the Box Admin Console (Account & Billing)')
    }
    if (options.clientId !== undefined && !/^[A-Za-z0-9]{1,128}$/.test(options.clientId)) {
      throw new InputError('client-id', 'is not a Box client id (letters and digits only)', 'copy the Client ID from the Configuration tab of your app in the Box Developer Console')
    }
    const out: string[] = []
    for (const t of targets) {
      const c = classify(t, targetType)
      if (c === undefined) {
        const problem = targetType === 'auto'
          ? `${JSON.stringify(t)} is neither a Box user id (digits only) nor a login (contains @)`
          : `${JSON.stringify(t)} is not a valid ${targetType}`
        throw new InputError('targets', problem, TYPE_FIX[targetType] ?? TYPE_FIX.auto)
      }
      out.push(c.kind === 'group-id' && targetType === 'auto' ? `${GROUP_PREFIX}${c.value}` : c.value)
    }
    return out
  },

  start(ctx: ProviderContext) {
    const base = ctx.options.baseUrl ?? DEFAULT_BASE_URL
    const auth = new BoxAuth(ctx)

    /** Every Box API call: bearer from BoxAuth; one re-mint and retry on 401 with Client Credentials. */
    async function call(req: Omit<HttpRequest, 'authorize'>): Promise<HttpResponse> {
      for (let attempt = 1; ; attempt++) {
        let used = ''
        try {
          return await ctx.http.request({
            ...req,
            // With Client Credentials a first 401 is answered by re-minting, not by halting the run.
            authRecoverable: auth.ccg && attempt === 1,
            authorize: async () => {
              used = await auth.token()
              return { authorization: `Bearer ${used}` }
            }
          })
        } catch (err) {
          if (attempt === 1 && err instanceof ProviderRequestError && err.info.status === 401 && used !== '' && (await auth.renewAfter401(used))) continue
          throw err
        }
      }
    }

    async function userListPage(params: Record<string, string>): Promise<UserPage> {
      const query = new URLSearchParams({ fields: USER_FIELDS, ...params })
      const res = await call({ method: 'GET', url: `${base}/users?${query}`, expectJson: true })
      const parsed = userPage.safeParse(res.body)
      if (!parsed.success) throw new Error(`unexpected user list from Box: ${parsed.error.issues[0]?.message ?? 'bad shape'}`)
      return parsed.data
    }

    /** Marker paging; `onPage` returns true to stop. */
    async function eachMarkerPage(params: Record<string, string>, limit: number, maxPages: number, onPage: (entries: BoxUser[]) => boolean | undefined): Promise<void> {
      let marker: string | undefined
      for (let page = 1; page <= maxPages; page++) {
        const data = await userListPage({ ...params, limit: String(limit), usemarker: 'true', ...(marker !== undefined ? { marker } : {}) })
        marker = data.next_marker ?? undefined
        if (onPage(data.entries) === true || !marker || data.entries.length === 0) break
      }
    }

    async function listUsers(params: Record<string, string>, limit: number, maxPages = Number.POSITIVE_INFINITY, stop?: (u: BoxUser[]) => boolean): Promise<BoxUser[]> {
      const out: BoxUser[] = []
      await eachMarkerPage(params, limit, maxPages, (entries) => {
        out.push(...entries)
        return stop?.(out)
      })
      return out
    }

    /**
     * Resolves user ids and logins (lower case) from the enterprise's user list when that takes fewer
     * calls than one lookup each (the rule is at the top of this file). Returns what it found; the
     * caller looks up the rest one by one.
     */
    async function resolveFromList(ids: Set<string>, logins: Set<string>): Promise<{ byId: Map<string, BoxUser>; byLogin: Map<string, BoxUser> }> {
      const byId = new Map<string, BoxUser>()
      const byLogin = new Map<string, BoxUser>()
      let unresolved = ids.size + logins.size
      const take = (entries: BoxUser[]): boolean => {
        for (const u of entries) {
          if (ids.has(u.id) && !byId.has(u.id)) {
            byId.set(u.id, u)
            unresolved--
          }
          const login = u.login?.toLowerCase()
          if (login !== undefined && logins.has(login) && !byLogin.has(login)) {
            byLogin.set(login, u)
            unresolved--
          }
        }
        return unresolved === 0
      }
      const first = await userListPage({ limit: String(MAX_PAGE), offset: '0' })
      const targets = ids.size + logins.size
      if (take(first.entries)) {
        ctx.log.info(`resolved ${targets} Box user targets from 1 page of the enterprise's user list`)
        return { byId, byLogin }
      }
      const total = first.total_count ?? undefined
      const limit = Math.max(1, first.limit ?? MAX_PAGE)
      if (total === undefined || total <= limit || first.entries.length === 0) {
        // The whole enterprise was on that page (or Box did not say how big it is): look up the rest.
        ctx.log.debug(`the enterprise user list ${total === undefined ? 'did not say how many users there are' : 'fit in one page'}: ${unresolved} of ${targets} targets left for one lookup each`)
        return { byId, byLogin }
      }
      const pages = Math.ceil(total / limit)
      const byOffset = (pages - 1) * limit <= MAX_OFFSET
      const cost = byOffset ? pages - 1 : pages
      if (cost >= unresolved) {
        ctx.log.info(`the enterprise has about ${total} users: ${unresolved} lookups (one per remaining target) cost fewer calls than ${cost} more pages of its user list`)
        return { byId, byLogin }
      }
      ctx.log.info(`resolving ${unresolved} remaining Box user targets from the enterprise's user list (about ${total} users, at most ${cost} more pages) instead of one lookup each`)
      let pagesRead = 1
      if (byOffset) {
        for (let offset = limit; offset < total; offset += limit) {
          const page = await userListPage({ limit: String(limit), offset: String(offset) })
          pagesRead++
          if (take(page.entries) || page.entries.length === 0) break
        }
      } else {
        await eachMarkerPage({}, limit, Number.POSITIVE_INFINITY, (entries) => {
          pagesRead++
          return take(entries)
        })
      }
      ctx.log.info(`read ${pagesRead} pages of the enterprise's user list; ${unresolved} of ${targets} targets left for one lookup each`)
      return { byId, byLogin }
    }

    const userEntry = (u: BoxUser, given?: string): PlanEntry => ({
      id: u.id,
      kind: 'user-id',
      label: u.name ?? u.login ?? undefined,
      details: { login: u.login ?? null, status: u.status ?? null, ...(given !== undefined && given !== u.id ? { given } : {}) },
      payload: { login: u.login } satisfies UserPayload
    })

    async function resolveUserId(id: string): Promise<PlanEntry> {
      const res = await call({ method: 'GET', url: `${base}/users/${id}?fields=${USER_FIELDS}`, expectJson: true, passStatuses: [404] })
      if (res.status === 404) return { id, kind: 'user-id', skip: 'no Box user with this id (404 not_found); nothing sent' }
      const parsed = boxUser.safeParse(res.body)
      if (!parsed.success) throw new Error(`unexpected user from Box for id ${id}`)
      return userEntry(parsed.data, id)
    }

    async function resolveLogin(login: string): Promise<PlanEntry> {
      const wanted = login.toLowerCase()
      // filter_term matches the start of a name or login; externals only on the full login (user_type=all includes them).
      const found = await listUsers({ filter_term: login, user_type: 'all' }, LOGIN_LOOKUP_PAGE, LOGIN_LOOKUP_MAX_PAGES, (us) => us.some((u) => u.login?.toLowerCase() === wanted))
      const u = found.find((x) => x.login?.toLowerCase() === wanted)
      if (u) return userEntry(u, login)
      return { id: login, kind: 'user-login', label: login, skip: 'no Box user with this login; nothing sent' }
    }

    async function resolveGroup(id: string): Promise<PlanEntry> {
      const entryId = `${GROUP_PREFIX}${id}`
      const res = await call({ method: 'GET', url: `${base}/groups/${id}?fields=id,name`, expectJson: true, passStatuses: [404] })
      if (res.status === 404) return { id: entryId, kind: 'group-id', skip: 'no Box group with this id (404 not_found); nothing sent' }
      const g = boxGroup.safeParse(res.body)
      if (!g.success) throw new Error(`unexpected group from Box for id ${id}`)
      const m = await call({ method: 'GET', url: `${base}/groups/${id}/memberships?limit=1`, expectJson: true })
      const members = membershipPage.safeParse(m.body)
      return {
        id: entryId,
        kind: 'group-id',
        label: g.data.name ?? undefined,
        details: { members: members.success ? (members.data.total_count ?? null) : null },
        payload: { groupId: id }
      }
    }

    return {
      async plan(request: TargetRequest): Promise<PlanEntry[]> {
        if (request.filter !== undefined) {
          const params: Record<string, string> = {}
          if (request.filter.filter_term !== undefined) params.filter_term = request.filter.filter_term
          if (request.filter.user_type !== undefined) params.user_type = request.filter.user_type
          // Stops one past max-targets so the guard can refuse the plan instead of silently truncating it.
          const limit = Math.max(1, Math.min(MAX_PAGE, ctx.maxTargets + 1))
          const users = await listUsers(params, limit, Number.POSITIVE_INFINITY, (us) => us.length > ctx.maxTargets)
          return users.map((u) => userEntry(u))
        }
        const classified = request.targets.map((t) => {
          const c = classify(t, request.targetType)
          if (c === undefined) throw new Error(`target ${JSON.stringify(t)} passed validation but cannot be classified`)
          return c
        })
        const ids = new Set(classified.filter((c) => c.kind === 'user-id').map((c) => c.value))
        const logins = new Set(classified.filter((c) => c.kind === 'user-login').map((c) => c.value.toLowerCase()))
        const listed = ids.size + logins.size >= LIST_FROM_TARGETS ? await resolveFromList(ids, logins) : undefined
        const entries = await mapConcurrent(classified, ctx.concurrency, async (c) => {
          if (c.kind === 'user-id') {
            const u = listed?.byId.get(c.value)
            return u ? userEntry(u, c.value) : resolveUserId(c.value)
          }
          if (c.kind === 'user-login') {
            const u = listed?.byLogin.get(c.value.toLowerCase())
            return u ? userEntry(u, c.value) : resolveLogin(c.value)
          }
          return resolveGroup(c.value)
        })
        const seen = new Map<string, PlanEntry>()
        const out: PlanEntry[] = []
        for (const e of entries) {
          const first = seen.get(e.id)
          if (first) {
            ctx.log.info(`${String(e.details?.given ?? e.id)} is the same Box ${e.kind === 'group-id' ? 'group' : 'user'} as ${String(first.details?.given ?? first.id)} (${e.id}): planned once`)
            continue
          }
          seen.set(e.id, e)
          out.push(e)
        }
        return out
      },

      batches(entries: PlanEntry[], batchSize: number): PlanEntry[][] {
        // One endpoint per kind: a batch never mixes users and groups.
        const users = entries.filter((e) => e.kind !== 'group-id')
        const groups = entries.filter((e) => e.kind === 'group-id')
        return [...chunk(users, batchSize), ...chunk(groups, batchSize)]
      },

      async execute(batch: PlanEntry[]): Promise<BatchOutcome[]> {
        const isGroup = batch[0]?.kind === 'group-id'
        let res: HttpResponse
        if (isGroup) {
          const groupIds = batch.map((e) => (e.payload as { groupId: string }).groupId)
          res = await call({ method: 'POST', url: `${base}/groups/terminate_sessions`, json: { group_ids: groupIds } })
        } else {
          // Every planned user was resolved, and is sent by its Box user id: the exact user the plan
          // showed, whether the admin typed the id or the login (a login could be renamed or reused).
          // Box's published description (box/box-openapi, post_users_terminate_sessions) requires both
          // arrays, so user_logins is always sent, and always empty: it would only carry targets the
          // plan could not resolve, and those are never sent.
          res = await call({ method: 'POST', url: `${base}/users/terminate_sessions`, json: { user_ids: batch.map((e) => e.id), user_logins: [] } })
        }
        const reason = `queued by Box (HTTP ${res.status}); the job's result shows in the Box admin events`
        return batch.map((e) => ({ id: e.id, outcome: 'accepted', reason, requestId: res.requestId, attempts: res.attempts }))
      }
    }
  }
}
