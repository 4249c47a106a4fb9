// Box: POST /2.0/users/terminate_sessions {user_ids, user_logins} and
// POST /2.0/groups/terminate_sessions {group_ids}. Box answers 202 and queues a job per target,
// so a success is reported `accepted`, never `terminated`.
//
// Planning at the least number of calls. Box allows about 1,000 calls a minute per user, so a plan
// that spends one GET /users/{id} per target costs 10 minutes for 10,000 targets. With many user
// targets the plan reads the enterprise's user list instead (GET /users, 1,000 a page):
//  - fewer than LIST_FROM_TARGETS user targets (ids + logins): one lookup each;
//  - otherwise the first page is read with offset paging (offset=0, limit=1000), because only offset
//    paging answers total_count (marker paging omits it, per Box's description). That page resolves
//    every target among its users, and tells the enterprise's size N. If targets are still unresolved,
//    the rest of the list costs ceil(N/limit) - 1 more offset pages when the last one starts at an
//    offset Box accepts (<= 10,000), else ceil(N/limit) marker pages from the start. The plan reads
//    them only when that is fewer calls than one lookup per unresolved target, and stops as soon as
//    every target is resolved;
//  - whatever the list did not resolve (external users, which the list only returns for a whole-login
//    search, and targets that are not in the enterprise) is looked up one by one, so the plan shows
//    the same names, statuses and not-found skips either way.
import { z } from 'zod'
import { InputError } from '../../engine/errors.js'
import { MintedToken, staticCredentials, type Credentials } from '../../engine/http/auth.js'
import { bodySnippet, type Http } from '../../engine/http/client.js'
import { text } from '../../engine/inputs.js'
import { chunk } from '../../engine/plan.js'
import { mapConcurrent } from '../../engine/pool.js'
import { defineProvider } from '../../engine/provider.js'
import { lookup, notFound, paginate } from '../../engine/resolve.js'
import type { BatchOutcome, PlanEntry, ProviderErrorInfo } from '../../engine/types.js'

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
/** Group memberships per page (GET /groups/{id}/memberships allows up to 1000). */
const MEMBERSHIP_PAGE = 1000

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
const membershipPage = z.looseObject({
  entries: z.array(z.looseObject({ user: z.looseObject({ id: z.coerce.string() }).optional().nullable() })),
  total_count: z.coerce.number().optional().nullable(),
  offset: z.coerce.number().optional().nullable(),
  limit: z.coerce.number().optional().nullable()
})
const tokenResponse = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().optional(),
  token_type: z.string().optional()
})
/** The documented 202 answer: {"message": "Request is successful, ..."} (the text itself is not compared). */
const terminateAnswer = z.looseObject({ message: z.string() })

function contextText(info: unknown): string {
  if (info === undefined || info === null) return ''
  if (typeof info === 'object' && Object.keys(info).length === 0) return ''
  const t = JSON.stringify(info)
  return ` ${t.length > 300 ? `${t.slice(0, 300)}…` : t}`
}

function parseError(status: number, body: unknown, raw: string): ProviderErrorInfo {
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
  if (status === 401 && raw.trim() === '') return { status, code: 'unauthorized', message: 'the access token is invalid or has expired' }
  return { status, message: bodySnippet(raw) }
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

interface GroupPayload {
  groupId: string
}

export const box = defineProvider({
  name: 'box',
  title: 'Box',
  inputs: {
    clientId: text({
      name: 'client-id',
      description: 'client id of a Client Credentials Grant app; with it, token is the client secret',
      fix: 'copy the Client ID from the Configuration tab of your app in the Box Developer Console',
      pattern: /^[A-Za-z0-9]{1,128}$/,
      problem: 'is not a Box client id (letters and digits only)'
    }),
    enterpriseId: text({
      name: 'enterprise-id',
      description: 'enterprise id the Client Credentials Grant token is minted for',
      fix: 'copy the enterprise id from the Box Admin Console (Account & Billing)',
      pattern: DIGITS,
      problem: 'is not a Box enterprise id (digits only)'
    })
  },
  token: {
    description: 'access token, or the client secret when client-id is set',
    fix: 'pass a Box access token, or set client-id and enterprise-id and pass the client secret'
  },
  baseUrl: { default: DEFAULT_BASE_URL },
  authBaseUrl: { default: DEFAULT_AUTH_BASE_URL, description: 'the OAuth host (POST /oauth2/token)' },
  defaults: { batchSize: 50, concurrency: 4, rateLimit: 600, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['auto', 'user-id', 'user-login', 'group-id'],
  defaultTargetType: 'auto',
  targetTypesDescription: 'auto (default), user-id, user-login or group-id',
  emailTargetType: 'auto',
  filter: {
    mode: 'select',
    requireNonEmpty: true,
    example: 'filter_term=contractor',
    keys: {
      filter_term: (v) => (v.length === 0 ? 'is empty' : v.length > 256 ? 'is longer than 256 characters' : undefined),
      user_type: (v) => ((USER_TYPES as readonly string[]).includes(v) ? undefined : `must be one of ${USER_TYPES.join(', ')}`)
    }
  },
  acceptedNote:
    'Box queued one session-termination job per target (HTTP 202) and ends the sessions shortly after. Follow the jobs in the Box Admin Console (Reports > User Activity, or the enterprise event stream of admin events: GET /2.0/events?stream_type=admin_logs).',
  http: {
    requestIdHeaders: ['box-request-id'],
    parseError,
    isRetryable(status) {
      // Box's 400s (empty lists, ids not strings, body not JSON) will not change on a retry.
      if (status === 400) return false
      return undefined
    }
  },
  bindsPlan: (o) => ({ enterpriseId: o.enterpriseId }),

  validate({ targets, targetType, options }) {
    if (options.clientId !== undefined && options.enterpriseId === undefined) {
      throw new InputError(
        'enterprise-id',
        'is empty while client-id is set',
        'set enterprise-id to your Box enterprise id (Admin Console > Account & Billing) for Client Credentials Grant, or remove client-id to use token as an access token'
      )
    }
    if (options.enterpriseId !== undefined && options.clientId === undefined) {
      throw new InputError(
        'client-id',
        'is empty while enterprise-id is set',
        'set client-id to the Client ID of your Box Client Credentials Grant app, or remove enterprise-id to use token as an access token'
      )
    }
    const out: string[] = []
    for (const t of targets) {
      const c = classify(t, targetType)
      if (c === undefined) {
        const problem =
          targetType === 'auto'
            ? `${JSON.stringify(t.slice(0, 60))} is neither a Box user id (digits only) nor a login (contains @)`
            : `${JSON.stringify(t.slice(0, 60))} is not a valid ${targetType}`
        throw new InputError('targets', problem, TYPE_FIX[targetType] ?? TYPE_FIX.auto)
      }
      out.push(c.kind === 'group-id' && targetType === 'auto' ? `${GROUP_PREFIX}${c.value}` : c.value)
    }
    return out
  },

  start(ctx) {
    const base = ctx.baseUrl
    const { clientId, enterpriseId } = ctx.options
    const auth: Credentials =
      clientId === undefined
        ? staticCredentials({ authorization: `Bearer ${ctx.token}` })
        : new MintedToken({
            label: 'a Box Client Credentials token',
            clock: ctx.clock,
            log: ctx.log,
            addSecret: ctx.addSecret,
            header: (token) => ({ authorization: `Bearer ${token}` }),
            mint: async () => {
              const res = await ctx.http.request({
                method: 'POST',
                url: `${ctx.authBaseUrl ?? DEFAULT_AUTH_BASE_URL}/oauth2/token`,
                auth: null,
                form: {
                  grant_type: 'client_credentials',
                  client_id: clientId,
                  client_secret: ctx.token,
                  box_subject_type: 'enterprise',
                  box_subject_id: enterpriseId ?? ''
                },
                schema: tokenResponse,
                what: 'the Box token endpoint'
              })
              ctx.log.debug(`minted a Box Client Credentials token for enterprise ${enterpriseId ?? ''}`)
              return { token: res.data.access_token, expiresIn: res.data.expires_in }
            },
            hint: (err) =>
              err.info.code === 'invalid_client'
                ? 'check client-id and the client secret passed as token'
                : err.info.code === 'invalid_grant'
                  ? 'check enterprise-id, and that the app is authorized in the Box Admin Console with App + Enterprise Access'
                  : ''
          })
    const http: Http = ctx.http.with({ auth })

    async function userListPage(params: Record<string, string>): Promise<UserPage> {
      const query = new URLSearchParams({ fields: USER_FIELDS, ...params })
      return (await http.request({ method: 'GET', url: `${base}/users?${query}`, schema: userPage, what: 'the Box user list' })).data
    }

    /** Marker paging through the user list, through the shared paginator (loop guard, max-targets stop). */
    async function listUsers(
      params: Record<string, string>,
      limit: number,
      o: { maxItems?: number; maxPages?: number; stop?: (page: BoxUser[]) => boolean } = {}
    ): Promise<BoxUser[]> {
      let stopped = false
      const { items } = await paginate<BoxUser>({
        what: 'the Box user list',
        key: (u) => u.id,
        maxItems: o.maxItems,
        maxPages: o.maxPages,
        fetchPage: async (marker) => {
          if (stopped) return { items: [] }
          const data = await userListPage({ ...params, limit: String(limit), usemarker: 'true', ...(marker !== undefined ? { marker } : {}) })
          stopped = o.stop?.(data.entries) ?? false
          return { items: data.entries, next: stopped ? undefined : (data.next_marker ?? undefined) }
        }
      })
      return items
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
        ctx.log.debug(
          `the enterprise user list ${total === undefined ? 'did not say how many users there are' : 'fit in one page'}: ${unresolved} of ${targets} targets left for one lookup each`
        )
        return { byId, byLogin }
      }
      const pages = Math.ceil(total / limit)
      const byOffset = (pages - 1) * limit <= MAX_OFFSET
      const cost = byOffset ? pages - 1 : pages
      if (cost >= unresolved) {
        ctx.log.info(
          `the enterprise has about ${total} users: ${unresolved} lookups (one per remaining target) cost fewer calls than ${cost} more pages of its user list`
        )
        return { byId, byLogin }
      }
      ctx.log.info(
        `resolving ${unresolved} remaining Box user targets from the enterprise's user list (about ${total} users, at most ${cost} more pages) instead of one lookup each`
      )
      let pagesRead = 1
      if (byOffset) {
        for (let offset = limit; offset < total; offset += limit) {
          const page = await userListPage({ limit: String(limit), offset: String(offset) })
          pagesRead++
          if (take(page.entries) || page.entries.length === 0) break
        }
      } else {
        await listUsers({}, limit, {
          stop: (entries) => {
            pagesRead++
            return take(entries)
          }
        })
      }
      ctx.log.info(`read ${pagesRead} pages of the enterprise's user list; ${unresolved} of ${targets} targets left for one lookup each`)
      return { byId, byLogin }
    }

    const userEntry = (u: BoxUser, given?: string): PlanEntry => ({
      id: u.id,
      kind: 'user-id',
      label: u.name ?? u.login ?? undefined,
      given: given !== undefined && given !== u.id ? given : undefined,
      details: { login: u.login ?? null, status: u.status ?? null, ...(given !== undefined && given !== u.id ? { given } : {}) }
    })

    async function resolveUserId(id: string): Promise<PlanEntry> {
      const found = await lookup(http, { method: 'GET', url: `${base}/users/${id}?fields=${USER_FIELDS}`, schema: boxUser, what: 'the Box user' })
      if (!found.found) return notFound(id, 'user-id', 'no Box user with this id', found.error)
      return userEntry(found.res.data, id)
    }

    async function resolveLogin(login: string): Promise<PlanEntry> {
      const wanted = login.toLowerCase()
      const match = (us: BoxUser[]): boolean => us.some((u) => u.login?.toLowerCase() === wanted)
      // filter_term matches the start of a name or login; externals only on the full login (user_type=all includes them).
      const found = await listUsers({ filter_term: login, user_type: 'all' }, LOGIN_LOOKUP_PAGE, { maxPages: LOGIN_LOOKUP_MAX_PAGES, stop: match })
      const u = found.find((x) => x.login?.toLowerCase() === wanted)
      if (u) return userEntry(u, login)
      return notFound(login, 'user-login', 'no Box user with this login', undefined, login)
    }

    /** Every member of a group, read now: a group is approved with exactly these members (part of the plan hash). */
    async function groupMembers(id: string): Promise<string[]> {
      const { items } = await paginate<string>({
        what: `the memberships of Box group ${id}`,
        key: (m) => m,
        fetchPage: async (cursor) => {
          const offset = Number(cursor ?? '0')
          const page = (
            await http.request({
              method: 'GET',
              url: `${base}/groups/${id}/memberships?limit=${MEMBERSHIP_PAGE}&offset=${offset}`,
              schema: membershipPage,
              what: 'the group memberships'
            })
          ).data
          const members = page.entries.map((e) => e.user?.id).filter((m): m is string => m !== undefined)
          const next = offset + page.entries.length
          return {
            items: members,
            next: page.entries.length > 0 && page.total_count !== undefined && page.total_count !== null && next < page.total_count ? String(next) : undefined
          }
        }
      })
      return items.sort()
    }

    async function resolveGroup(id: string): Promise<PlanEntry> {
      const entryId = `${GROUP_PREFIX}${id}`
      const found = await lookup(http, { method: 'GET', url: `${base}/groups/${id}?fields=id,name`, schema: boxGroup, what: 'the Box group' })
      if (!found.found) return notFound(entryId, 'group-id', 'no Box group with this id', found.error)
      const members = await groupMembers(id)
      return {
        id: entryId,
        kind: 'group-id',
        label: found.res.data.name ?? undefined,
        details: { members: members.length },
        binds: { members },
        payload: { groupId: id } satisfies GroupPayload
      }
    }

    return {
      async plan(request) {
        if (request.filter !== undefined) {
          const params: Record<string, string> = {}
          if (request.filter.filter_term !== undefined) params.filter_term = request.filter.filter_term
          if (request.filter.user_type !== undefined) params.user_type = request.filter.user_type
          // Stops one past max-targets so the guard can refuse the plan instead of silently truncating it.
          const limit = Math.max(1, Math.min(MAX_PAGE, ctx.maxTargets + 1))
          return (await listUsers(params, limit, { maxItems: ctx.maxTargets })).map((u) => userEntry(u))
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
            ctx.log.info(
              `${String(e.details?.given ?? e.id)} is the same Box ${e.kind === 'group-id' ? 'group' : 'user'} as ${String(first.details?.given ?? first.id)} (${e.id}): planned once`
            )
            continue
          }
          seen.set(e.id, e)
          out.push(e)
        }
        return out
      },

      batches(entries, batchSize) {
        // One endpoint per kind: a batch never mixes users and groups.
        const users = entries.filter((e) => e.kind !== 'group-id')
        const groups = entries.filter((e) => e.kind === 'group-id')
        return [...chunk(users, batchSize), ...chunk(groups, batchSize)]
      },

      async execute(batch): Promise<BatchOutcome[]> {
        const isGroup = batch[0]?.kind === 'group-id'
        // Documented success: 202 with {"message": ...}. Any other answer is not an accepted job.
        const res = isGroup
          ? await http.request({
              method: 'POST',
              url: `${base}/groups/terminate_sessions`,
              json: { group_ids: batch.map((e) => (e.payload as GroupPayload).groupId) },
              ok: [202],
              schema: terminateAnswer,
              what: 'groups/terminate_sessions'
            })
          : // Every planned user was resolved, and is sent by its Box user id: the exact user the plan
            // showed, whether the admin typed the id or the login (a login could be renamed or reused).
            // Box's published description (box/box-openapi, post_users_terminate_sessions) requires both
            // arrays, so user_logins is always sent, and always empty: it would only carry targets the
            // plan could not resolve, and those are never sent.
            await http.request({
              method: 'POST',
              url: `${base}/users/terminate_sessions`,
              json: { user_ids: batch.map((e) => e.id), user_logins: [] },
              ok: [202],
              schema: terminateAnswer,
              what: 'users/terminate_sessions'
            })
        const reason = `queued by Box (HTTP ${res.status}); the job's result shows in the Box admin events`
        return batch.map((e) => ({ id: e.id, outcome: 'accepted', reason, requestId: res.requestId, attempts: res.attempts }))
      }
    }
  }
})
