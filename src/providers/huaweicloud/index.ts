// Huawei Cloud IAM Identity Center: ends the login sessions of Identity Center users.
// Contract: shared/seeds/001 and shared/providers.md. Every call is AK/SK signed (./signer.ts).
//   GET  https://identitycenter.myhuaweicloud.com/v1/instances                      -> identity store id
//   GET  {regional}/v1/identity-stores/{store}/users?user_name=&limit=&marker=      -> user ids
//   GET  {regional}/v1/identity-stores/{store}/users/{user}/sessions                -> session_list
//   POST {regional}/v1/identity-stores/{store}/users/{user}/sessions/batch-delete   {"session_ids":[...]}
import { isIP } from 'node:net'
import { z } from 'zod'
import { InputError, ProviderRequestError, RunHaltedError } from '../../engine/errors.js'
import { bodySnippet, type HttpRequest } from '../../engine/http.js'
import { chunk } from '../../engine/plan.js'
import { mapConcurrent } from '../../engine/pool.js'
import type { BatchOutcome, PlanEntry, Provider, ProviderContext, ProviderErrorInfo, TargetRequest } from '../../engine/types.js'
import { buildQuery, signRequest, type SigningCredentials } from './signer.js'

/** Regions of IAM Identity Center in the vendor SDK (identitycenterstore region list). */
export const HUAWEI_REGIONS = [
  'cn-east-3', 'cn-north-4', 'cn-south-1', 'cn-south-4', 'cn-southwest-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5',
  'af-south-1', 'af-north-1', 'la-south-2', 'la-north-2', 'sa-brazil-1', 'me-east-1', 'tr-west-1'
] as const

export const GLOBAL_IDENTITY_CENTER_URL = 'https://identitycenter.myhuaweicloud.com'
const REGION_FORMAT = /^[a-z]{2,3}(-[a-z]+)+-\d{1,2}$/
/** Access key ids are 20 upper-case letters and digits (permanent and temporary alike). */
const ACCESS_KEY_FORMAT = /^[A-Z0-9]{20}$/
/** "d-" and ten lower-case letters or digits: 12 characters, as the API documents. */
const STORE_ID_FORMAT = /^d-[0-9a-z]{10}$/
/** User ids are 1-64 characters (UUIDs, or an id prefix and a UUID): letters, digits, "-" and "_". */
const USER_ID_FORMAT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/
const MAX_USER_NAME = 128
const USERS_PAGE = 100
const MAX_PAGES = 10_000

/** Records a paging marker; a marker seen before means the server is looping, and the plan cannot be trusted. */
function nextMarker(seen: Set<string>, marker: string): string {
  if (seen.has(marker)) throw new Error(`IAM Identity Center returned paging marker ${JSON.stringify(marker)} twice; stopping rather than looping`)
  seen.add(marker)
  return marker
}
const SESSION_LINES_PER_USER = 50

const LIST_PERMISSION = 'IdentityCenter:user:listSessions'
const DELETE_PERMISSION = 'IdentityCenter:user:batchDeleteSession'

const huaweiError = z.looseObject({
  error_code: z.string().optional(),
  error_msg: z.string().optional(),
  request_id: z.string().optional(),
  encoded_authorization_message: z.string().optional()
})
const nestedError = z.looseObject({ error: z.looseObject({ code: z.string().optional(), message: z.string() }) })

const instancesPage = z.looseObject({
  instances: z.array(z.looseObject({ identity_store_id: z.string(), instance_id: z.string().optional(), alias: z.string().nullable().optional() })),
  page_info: z.looseObject({ next_marker: z.string().nullable().optional() }).nullable().optional()
})

const userRecord = z.looseObject({ user_id: z.string(), user_name: z.string().nullable().optional(), display_name: z.string().nullable().optional() })
const usersPage = z.looseObject({
  users: z.array(userRecord),
  page_info: z.looseObject({ next_marker: z.string().nullable().optional(), current_count: z.number().optional() }).nullable().optional()
})

const timestamp = z.union([z.number(), z.string()]).nullable().optional()
const sessionRecord = z.looseObject({
  session_id: z.string(),
  user_id: z.string().nullable().optional(),
  ip_address: z.string().nullable().optional(),
  user_agent: z.string().nullable().optional(),
  creation_time: timestamp,
  session_not_valid_after: timestamp
})
type Session = z.infer<typeof sessionRecord>
const sessionList = z.looseObject({ session_list: z.array(sessionRecord).nullable().optional() })

/** What a plan entry carries to execute: the exact sessions to delete. */
interface UserPayload {
  sessionIds: string[]
}

function parseError(status: number, body: unknown, text: string): ProviderErrorInfo {
  const flat = huaweiError.safeParse(body)
  if (flat.success && (flat.data.error_code !== undefined || flat.data.error_msg !== undefined)) {
    const code = flat.data.error_code
    let message = flat.data.error_msg ?? bodySnippet(text)
    if (status === 401 && code !== undefined && /^APIGW?\.030[13]$/.test(code)) {
      message += ' — check access-key-id, token (the secret access key), security-token, and that the runner clock is right (the gateway refuses requests more than 15 minutes off)'
    }
    return { status, code, message, requestId: flat.data.request_id }
  }
  const nested = nestedError.safeParse(body)
  if (nested.success) return { status, code: nested.data.error.code, message: nested.data.error.message }
  return { status, message: bodySnippet(text) }
}

const RETRYABLE_CODES = new Set(['IIC.1006', 'APIGW.0308', 'APIG.0308'])

function isRetryable(status: number, error: ProviderErrorInfo): boolean | undefined {
  if (error.code !== undefined && RETRYABLE_CODES.has(error.code)) return true
  if (status === 429) return true
  if (status >= 400 && status < 500) return false
  return undefined
}

/** Names the permission a 403 says the caller lacks. */
function withPermissionHint(err: unknown, permission: string): unknown {
  if (!(err instanceof ProviderRequestError) || err.info.status !== 403) return err
  const code = err.info.code
  const lacks = code === 'IIC.1000' || code === 'IIC.1001' || code === undefined || code.startsWith('APIG')
  if (!lacks) return err
  const info = { ...err.info, message: `${err.info.message} — the credentials lack ${permission} (grant it to the IAM user or agency, and call from the organization's management account or a delegated administrator)` }
  return new ProviderRequestError(info, err.attempts, err.fatal)
}

function validateFilterUserAgent(v: string): string | undefined {
  if (v.length === 0) return 'is empty'
  if (v.length > 1024) return 'is longer than 1024 characters'
  return undefined
}

function toIso(value: number | string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isFinite(n)) return String(value)
  // The API documents Long epoch values; its examples are seconds. Milliseconds are read too.
  const ms = n > 1e12 ? n : n * 1000
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString()
}

function sessionMatches(s: Session, filter: Record<string, string> | undefined): boolean {
  if (filter === undefined) return true
  if (filter.ip_address !== undefined && normaliseIp(s.ip_address ?? '') !== normaliseIp(filter.ip_address)) return false
  if (filter.user_agent !== undefined && !(s.user_agent ?? '').toLowerCase().includes(filter.user_agent.toLowerCase())) return false
  return true
}

function normaliseIp(ip: string): string {
  return ip.trim().toLowerCase()
}

function firstFew(values: string[], n = 3): string {
  if (values.length === 0) return ''
  const head = values.slice(0, n).join(', ')
  return values.length > n ? `${head} (+${values.length - n} more)` : head
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

export const huaweicloud: Provider = {
  name: 'huaweicloud',
  title: 'Huawei Cloud IAM Identity Center',
  // Regional: built from `region` (see start); base-url overrides it.
  defaultBaseUrl: 'https://identitystore.{region}.myhuaweicloud.com',
  defaults: { batchSize: 50, concurrency: 4, rateLimit: 120, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['user-id', 'user-name'],
  defaultTargetType: 'user-id',
  filter: {
    mode: 'narrow',
    keys: {
      ip_address: (v) => (isIP(v) === 0 ? 'is not an IPv4 or IPv6 address' : undefined),
      user_agent: validateFilterUserAgent
    }
  },
  requestIdHeaders: ['x-request-id'],
  parseError,
  isRetryable,

  validate({ targets, targetType, options, token }) {
    const { region, baseUrl, accessKeyId, identityStoreId, securityToken } = options
    if (region === undefined) {
      if (baseUrl === undefined) {
        throw new InputError('region', 'is required for huaweicloud', `set region to the home region of your IAM Identity Center instance, one of: ${HUAWEI_REGIONS.join(', ')}`)
      }
    } else if (!REGION_FORMAT.test(region)) {
      throw new InputError('region', `${JSON.stringify(region)} is not a Huawei Cloud region id`, `set region to a region id such as ap-southeast-1 (one of: ${HUAWEI_REGIONS.join(', ')})`)
    } else if (baseUrl === undefined && !(HUAWEI_REGIONS as readonly string[]).includes(region)) {
      throw new InputError('region', `IAM Identity Center is not offered in ${JSON.stringify(region)}`, `set region to one of: ${HUAWEI_REGIONS.join(', ')}, or set base-url to the regional identitystore endpoint`)
    }
    if (accessKeyId === undefined) {
      throw new InputError('access-key-id', 'is required for huaweicloud', 'set access-key-id to the access key id (AK) and pass the secret access key (SK) as token from a secret')
    }
    if (!ACCESS_KEY_FORMAT.test(accessKeyId)) {
      throw new InputError('access-key-id', 'is not a Huawei Cloud access key id (20 upper-case letters and digits)', 'copy the AK column of the access key CSV; the SK goes in token')
    }
    if (/\s/.test(token.trim()) || /[\u0000-\u001f\u007f]/.test(token)) {
      throw new InputError('token', 'holds whitespace or control characters, which a secret access key (SK) never does', 'store the SK from the access key CSV as the secret, without quotes or line breaks')
    }
    if (securityToken !== undefined && (/[^\x21-\x7e]/.test(securityToken) || securityToken.length > 16384)) {
      throw new InputError('security-token', 'is not a security token (printable characters without spaces, at most 16384)', 'pass the securitytoken of the temporary credentials unchanged, from a secret')
    }
    if (identityStoreId !== undefined && !STORE_ID_FORMAT.test(identityStoreId)) {
      throw new InputError('identity-store-id', `${JSON.stringify(identityStoreId)} is not an identity store id ("d-" and 10 lower-case letters or digits)`, 'copy the identity store id from IAM Identity Center > Settings, or leave identity-store-id empty to look it up')
    }
    for (const t of targets) {
      if (targetType === 'user-id' && !USER_ID_FORMAT.test(t)) {
        throw new InputError('targets', `${JSON.stringify(t)} is not an IAM Identity Center user id (1-64 letters, digits, "-" or "_")`, 'list user ids, or set target-type: user-name to give user names')
      }
      if (targetType === 'user-name' && t.length > MAX_USER_NAME) {
        throw new InputError('targets', `user name ${JSON.stringify(t.slice(0, 40))}… is longer than ${MAX_USER_NAME} characters`, 'list IAM Identity Center user names as they appear in the console')
      }
    }
    return targets
  },

  start(ctx: ProviderContext) {
    const { options } = ctx
    const regional = trimSlash(options.baseUrl ?? `https://identitystore.${options.region ?? ''}.myhuaweicloud.com`)
    const global = trimSlash(options.authBaseUrl ?? GLOBAL_IDENTITY_CENTER_URL)
    const credentials: SigningCredentials = {
      accessKeyId: options.accessKeyId ?? '',
      secretKey: ctx.token,
      securityToken: options.securityToken
    }
    const sign: HttpRequest['authorize'] = (req) => signRequest(req, credentials)
    let storeId = options.identityStoreId
    let deleteChunk = huaweicloud.defaults.batchSize

    const storePath = (): string => `${regional}/v1/identity-stores/${encodeURIComponent(storeId ?? '')}`

    async function get(url: string, permission?: string): Promise<unknown> {
      try {
        const res = await ctx.http.request({ method: 'GET', url, authorize: sign, expectJson: true })
        return res.body
      } catch (err) {
        throw permission ? withPermissionHint(err, permission) : err
      }
    }

    async function discoverStore(): Promise<string> {
      const found: string[] = []
      const seen = new Set<string>()
      let marker: string | undefined
      for (let page = 0; ; page++) {
        if (page >= MAX_PAGES) throw new Error(`IAM Identity Center kept paging past ${MAX_PAGES} pages; stopping`)
        const params: [string, string][] = [['limit', '100']]
        if (marker) params.push(['marker', marker])
        const body = await get(`${global}/v1/instances?${buildQuery(params)}`, 'the action that lists IAM Identity Center instances (or set identity-store-id)')
        const parsed = instancesPage.safeParse(body)
        if (!parsed.success) throw new Error(`unexpected instance list from IAM Identity Center: ${parsed.error.issues[0]?.message ?? 'bad shape'}`)
        found.push(...parsed.data.instances.map((i) => i.identity_store_id))
        const next = parsed.data.page_info?.next_marker ?? undefined
        if (!next) break
        marker = nextMarker(seen, next)
      }
      const unique = [...new Set(found)]
      if (unique.length === 0) {
        throw new InputError('identity-store-id', 'is empty and the account has no IAM Identity Center instance', 'enable IAM Identity Center in the management account, or set identity-store-id')
      }
      if (unique.length > 1) {
        throw new InputError('identity-store-id', `is empty and the account has ${unique.length} identity stores (${unique.join(', ')})`, 'set identity-store-id to the one to act on')
      }
      if (!STORE_ID_FORMAT.test(unique[0])) {
        throw new Error(`IAM Identity Center returned an identity store id that is not one: ${JSON.stringify(unique[0])}`)
      }
      ctx.log.info(`identity store ${unique[0]} (from GET /v1/instances)`)
      return unique[0]
    }

    /** Every user whose name is exactly `name` (the list filters; paging is followed to the end). */
    async function usersNamed(name: string): Promise<{ id: string; name: string }[]> {
      const out: { id: string; name: string }[] = []
      const seen = new Set<string>()
      let marker: string | undefined
      for (let page = 0; ; page++) {
        if (page >= MAX_PAGES) throw new Error(`IAM Identity Center kept paging past ${MAX_PAGES} pages; stopping`)
        const params: [string, string][] = [['limit', String(USERS_PAGE)], ['user_name', name]]
        if (marker) params.push(['marker', marker])
        const body = await get(`${storePath()}/users?${buildQuery(params)}`, 'the action that lists IAM Identity Center users (needed for target-type: user-name)')
        const parsed = usersPage.safeParse(body)
        if (!parsed.success) throw new Error(`unexpected user list from IAM Identity Center: ${parsed.error.issues[0]?.message ?? 'bad shape'}`)
        // The name filter's matching rules are not documented: keep exact matches only.
        for (const u of parsed.data.users) if (u.user_name === name) out.push({ id: u.user_id, name })
        const next = parsed.data.page_info?.next_marker ?? undefined
        if (!next) break
        marker = nextMarker(seen, next)
      }
      return out
    }

    /** The user's sessions, or why the store answered 404 (no such user, or no such store). */
    async function sessionsOf(userId: string): Promise<Session[] | { notFound: string }> {
      let res
      try {
        res = await ctx.http.request({
          method: 'GET',
          url: `${storePath()}/users/${encodeURIComponent(userId)}/sessions`,
          authorize: sign,
          expectJson: true,
          passStatuses: [404]
        })
      } catch (err) {
        throw withPermissionHint(err, LIST_PERMISSION)
      }
      if (res.status === 404) {
        const info = parseError(404, res.body, res.text)
        return { notFound: `404${info.code ? ` ${info.code}` : ''}: ${info.message}${res.requestId ? `, request id ${res.requestId}` : ''}` }
      }
      const parsed = sessionList.safeParse(res.body)
      if (!parsed.success) throw new Error(`unexpected session list from IAM Identity Center: ${parsed.error.issues[0]?.message ?? 'bad shape'}`)
      return parsed.data.session_list ?? []
    }

    async function planUser(userId: string, userName: string | undefined, filter: Record<string, string> | undefined): Promise<PlanEntry> {
      const kind = 'user-id'
      const all = await sessionsOf(userId)
      if (!Array.isArray(all)) {
        return { id: userId, kind, label: userName, skip: `no user with this id in identity store ${storeId ?? ''} (${all.notFound})` }
      }
      const chosen = all.filter((s) => sessionMatches(s, filter))
      const ids = [...new Set(chosen.map((s) => s.session_id))]
      const details = {
        sessions: ids.length,
        ...(filter !== undefined ? { sessions_total: all.length } : {}),
        session_ids: firstFew(ids),
        ip_addresses: firstFew([...new Set(chosen.map((s) => s.ip_address ?? '').filter((ip) => ip !== ''))])
      }
      const who = userName ? `${userId} (${userName})` : userId
      if (chosen.length > 0) {
        const lines = chosen.slice(0, SESSION_LINES_PER_USER).map((s) =>
          `session ${s.session_id} ip=${s.ip_address ?? '?'} created=${toIso(s.creation_time) ?? '?'} valid_until=${toIso(s.session_not_valid_after) ?? '?'} agent=${JSON.stringify(s.user_agent ?? '')}`
        )
        if (chosen.length > SESSION_LINES_PER_USER) lines.push(`… and ${chosen.length - SESSION_LINES_PER_USER} more`)
        ctx.log.group(`sessions of ${who}: ${chosen.length}${filter !== undefined ? ` of ${all.length} match the filter` : ''}`, lines)
      }
      const entry: PlanEntry = { id: userId, kind, label: userName, details, payload: { sessionIds: ids } satisfies UserPayload }
      if (all.length === 0) entry.skip = 'no active sessions'
      else if (ids.length === 0) entry.skip = `no active sessions match the filter (${all.length} other sessions left alone)`
      return entry
    }

    return {
      async plan(request: TargetRequest): Promise<PlanEntry[]> {
        storeId ??= await discoverStore()
        if (request.targetType === 'user-id') {
          return mapConcurrent(request.targets, ctx.concurrency, (id) => planUser(id, undefined, request.filter))
        }
        // user-name: resolve every name first (read only), then list the sessions.
        const resolved = await mapConcurrent(request.targets, ctx.concurrency, async (name) => ({ name, users: await usersNamed(name) }))
        const entries: PlanEntry[] = []
        const toPlan: { id: string; name: string }[] = []
        for (const r of resolved) {
          if (r.users.length === 0) {
            entries.push({ id: r.name, kind: 'user-name', label: r.name, skip: `no user named ${JSON.stringify(r.name)} in identity store ${storeId}` })
          } else {
            for (const u of r.users) {
              if (!USER_ID_FORMAT.test(u.id)) throw new Error(`IAM Identity Center returned a user id that is not one: ${JSON.stringify(u.id)}`)
              toPlan.push(u)
            }
          }
        }
        entries.push(...(await mapConcurrent(toPlan, ctx.concurrency, (u) => planUser(u.id, u.name, request.filter))))
        return entries
      },

      // The API takes one user per call: each batch is one user; its sessions go in chunks.
      batches(entries: PlanEntry[], batchSize: number): PlanEntry[][] {
        deleteChunk = batchSize
        return entries.map((e) => [e])
      },

      async execute(batch: PlanEntry[]): Promise<BatchOutcome[]> {
        const out: BatchOutcome[] = []
        for (const entry of batch) {
          const sessionIds = (entry.payload as UserPayload | undefined)?.sessionIds ?? []
          const url = `${storePath()}/users/${encodeURIComponent(entry.id)}/sessions/batch-delete`
          let deleted = 0
          let attempts = 0
          let requestId: string | undefined
          let failure: ProviderErrorInfo | undefined
          for (const ids of chunk(sessionIds, deleteChunk)) {
            try {
              const res = await ctx.http.request({ method: 'POST', url, json: { session_ids: ids }, authorize: sign })
              attempts += res.attempts
              requestId = res.requestId ?? requestId
              deleted += ids.length
            } catch (err) {
              const partial = deleted > 0 ? ` (${deleted} of ${sessionIds.length} sessions were deleted before this)` : ''
              // The run stopped mid-user: what was already deleted must not read as "not attempted".
              if (err instanceof RunHaltedError && deleted > 0) {
                failure = { message: `${err.message}${partial}` }
                break
              }
              const hinted = withPermissionHint(err, DELETE_PERMISSION)
              if (!(hinted instanceof ProviderRequestError)) throw hinted
              if (hinted.fatal && deleted === 0) throw hinted
              attempts += hinted.attempts
              failure = { ...hinted.info, message: `${hinted.info.message}${partial}` }
              break
            }
          }
          if (failure) out.push({ id: entry.id, outcome: 'failed', error: failure, attempts })
          else out.push({ id: entry.id, outcome: 'terminated', reason: `${deleted} session${deleted === 1 ? '' : 's'} deleted`, requestId, attempts })
        }
        return out
      }
    }
  }
}
