// Huawei Cloud IAM Identity Center: ends the login sessions of Identity Center users.
// Contract: shared/seeds/001 and shared/providers.md. Every call is AK/SK signed (./signer.ts).
//   GET  https://identitycenter.myhuaweicloud.com/v1/instances                      -> identity store id
//   GET  {regional}/v1/identity-stores/{store}/users?user_name=&limit=&marker=      -> user ids
//   GET  {regional}/v1/identity-stores/{store}/users/{user}/sessions                -> session_list
//   POST {regional}/v1/identity-stores/{store}/users/{user}/sessions/batch-delete   {"session_ids":[...]}
import { isIP } from 'node:net'
import { z } from 'zod'
import { InputError, ProviderRequestError, RunHaltedError, describeProviderError } from '../../engine/errors.js'
import type { Credentials } from '../../engine/http/auth.js'
import { bodySnippet, type Http } from '../../engine/http/client.js'
import { text } from '../../engine/inputs.js'
import { chunk } from '../../engine/plan.js'
import { mapConcurrent } from '../../engine/pool.js'
import { defineProvider } from '../../engine/provider.js'
import { notFound, paginate } from '../../engine/resolve.js'
import type { BatchOutcome, PlanEntry, ProviderErrorInfo } from '../../engine/types.js'
import { buildQuery, signRequest, type SigningCredentials } from './signer.js'

/** Regions of IAM Identity Center in the vendor SDK (identitycenterstore region list). */
export const HUAWEI_REGIONS = [
  'cn-east-3',
  'cn-north-4',
  'cn-south-1',
  'cn-south-4',
  'cn-southwest-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'af-south-1',
  'af-north-1',
  'la-south-2',
  'la-north-2',
  'sa-brazil-1',
  'me-east-1',
  'tr-west-1'
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
      message +=
        ' — check access-key-id, token (the secret access key), security-token, and that the runner clock is right (the gateway refuses requests more than 15 minutes off)'
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
  const info = {
    ...err.info,
    message: `${err.info.message} — the credentials lack ${permission} (grant it to the IAM user or agency, and call from the organization's management account or a delegated administrator)`
  }
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

/** Signs every attempt with AK/SK at the moment it is sent (the signature carries the time). */
function signer(credentials: SigningCredentials): Credentials {
  return { authorize: (req, now) => ({ headers: signRequest(req, credentials, now), used: 'aksk' }) }
}

export const huaweicloud = defineProvider({
  name: 'huaweicloud',
  title: 'Huawei Cloud IAM Identity Center',
  inputs: {
    region: text({
      name: 'region',
      description: 'the Identity Center home region, e.g. ap-southeast-1',
      fix: `set region to the home region of your IAM Identity Center instance, one of: ${HUAWEI_REGIONS.join(', ')}`,
      pattern: REGION_FORMAT,
      problem: 'is not a Huawei Cloud region id'
    }),
    identityStoreId: text({
      name: 'identity-store-id',
      description: 'the identity store id (e.g. d-a00aaaa33f); discovered from GET /v1/instances when empty',
      fix: 'copy the identity store id from IAM Identity Center > Settings, or leave identity-store-id empty to look it up',
      pattern: STORE_ID_FORMAT,
      problem: 'is not an identity store id ("d-" and 10 lower-case letters or digits)'
    }),
    accessKeyId: text({
      name: 'access-key-id',
      description: 'the access key id (AK); token holds the secret access key (SK)',
      fix: 'copy the AK column of the access key CSV; the SK goes in token',
      pattern: ACCESS_KEY_FORMAT,
      problem: 'is not a Huawei Cloud access key id (20 upper-case letters and digits)',
      // Not a secret, but it names the account's key: left out of reports, which travel further than logs.
      unreported: true
    }),
    securityToken: text({
      name: 'security-token',
      description: 'security token of temporary credentials (sent as X-Security-Token)',
      fix: 'pass the securitytoken of the temporary credentials unchanged, from a secret',
      secret: true,
      pattern: /^[\x21-\x7e]{1,16384}$/,
      problem: 'is not a security token (printable characters without spaces, at most 16384)'
    })
  },
  token: { description: 'the secret access key (SK)', fix: 'store the SK from the access key CSV as the secret' },
  // Regional: built from `region`; base-url overrides it.
  baseUrl: { default: 'https://identitystore.{region}.myhuaweicloud.com' },
  authBaseUrl: { default: GLOBAL_IDENTITY_CENTER_URL, description: 'the Identity Center global host (GET /v1/instances)' },
  defaults: { batchSize: 50, concurrency: 4, rateLimit: 120, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['user-id', 'user-name'],
  defaultTargetType: 'user-id',
  targetTypesDescription: 'user-id (default) or user-name',
  filter: {
    mode: 'narrow',
    example: 'ip_address=203.0.113.7',
    keys: {
      ip_address: (v) => (isIP(v) === 0 ? 'is not an IPv4 or IPv6 address' : undefined),
      user_agent: validateFilterUserAgent
    }
  },
  http: { requestIdHeaders: ['x-request-id'], parseError, isRetryable },
  bindsPlan: (o) => ({ region: o.region, identityStoreId: o.identityStoreId }),

  validate({ targets, targetType, options, token }) {
    const { region, accessKeyId } = options
    if (region === undefined) {
      throw new InputError(
        'region',
        'is required for huaweicloud',
        `set region to the home region of your IAM Identity Center instance, one of: ${HUAWEI_REGIONS.join(', ')}`
      )
    }
    if (!(HUAWEI_REGIONS as readonly string[]).includes(region)) {
      throw new InputError(
        'region',
        `IAM Identity Center is not offered in ${JSON.stringify(region)}`,
        `set region to one of: ${HUAWEI_REGIONS.join(', ')} (base-url may point at a proxy or a different host, but region must still be the instance's home region)`
      )
    }
    if (accessKeyId === undefined) {
      throw new InputError(
        'access-key-id',
        'is required for huaweicloud',
        'set access-key-id to the access key id (AK) and pass the secret access key (SK) as token from a secret'
      )
    }
    if (/\s/.test(token.trim()) || /[\u0000-\u001f\u007f]/.test(token)) {
      throw new InputError(
        'token',
        'holds whitespace or control characters, which a secret access key (SK) never does',
        'store the SK from the access key CSV as the secret, without quotes or line breaks'
      )
    }
    for (const t of targets) {
      if (targetType === 'user-id' && !USER_ID_FORMAT.test(t)) {
        throw new InputError(
          'targets',
          `${JSON.stringify(t.slice(0, 60))} is not an IAM Identity Center user id (1-64 letters, digits, "-" or "_")`,
          'list user ids, or set target-type: user-name to give user names'
        )
      }
      if (targetType === 'user-name' && t.length > MAX_USER_NAME) {
        throw new InputError(
          'targets',
          `user name ${JSON.stringify(t.slice(0, 40))}… is longer than ${MAX_USER_NAME} characters`,
          'list IAM Identity Center user names as they appear in the console'
        )
      }
    }
    return targets
  },

  start(ctx) {
    const { options } = ctx
    const regional = ctx.baseUrl
    const global = ctx.authBaseUrl ?? GLOBAL_IDENTITY_CENTER_URL
    const http: Http = ctx.http.with({ auth: signer({ accessKeyId: options.accessKeyId ?? '', secretKey: ctx.token, securityToken: options.securityToken }) })
    let storeId = options.identityStoreId
    let deleteChunk = 50

    const storePath = (): string => `${regional}/v1/identity-stores/${encodeURIComponent(storeId ?? '')}`

    async function get<T>(url: string, schema: z.ZodType<T>, what: string, permission?: string): Promise<T> {
      try {
        return (await http.request({ method: 'GET', url, schema, what })).data
      } catch (err) {
        throw permission ? withPermissionHint(err, permission) : err
      }
    }

    async function discoverStore(): Promise<string> {
      const { items } = await paginate<string>({
        what: 'the IAM Identity Center instance list',
        key: (id) => id,
        fetchPage: async (marker) => {
          const params: [string, string][] = [['limit', '100']]
          if (marker) params.push(['marker', marker])
          const page = await get(
            `${global}/v1/instances?${buildQuery(params)}`,
            instancesPage,
            'the instance list',
            'the action that lists IAM Identity Center instances (or set identity-store-id)'
          )
          return { items: page.instances.map((i) => i.identity_store_id), next: page.page_info?.next_marker ?? undefined }
        }
      })
      if (items.length === 0) {
        throw new InputError(
          'identity-store-id',
          'is empty and the account has no IAM Identity Center instance',
          'enable IAM Identity Center in the management account, or set identity-store-id'
        )
      }
      if (items.length > 1) {
        throw new InputError(
          'identity-store-id',
          `is empty and the account has ${items.length} identity stores (${items.join(', ')})`,
          'set identity-store-id to the one to act on'
        )
      }
      if (!STORE_ID_FORMAT.test(items[0])) {
        throw new ProviderRequestError(
          { code: 'unexpected-response', message: `IAM Identity Center returned an identity store id that is not one: ${JSON.stringify(items[0])}` },
          1
        )
      }
      ctx.log.info(`identity store ${items[0]} (from GET /v1/instances)`)
      return items[0]
    }

    /** Every user whose name is exactly `name` (the list filters; paging is followed to the end). */
    async function usersNamed(name: string): Promise<{ id: string; name: string }[]> {
      const { items } = await paginate<z.infer<typeof userRecord>>({
        what: 'the IAM Identity Center user list',
        key: (u) => u.user_id,
        fetchPage: async (marker) => {
          const params: [string, string][] = [
            ['limit', String(USERS_PAGE)],
            ['user_name', name]
          ]
          if (marker) params.push(['marker', marker])
          const page = await get(
            `${storePath()}/users?${buildQuery(params)}`,
            usersPage,
            'the user list',
            'the action that lists IAM Identity Center users (needed for target-type: user-name)'
          )
          return { items: page.users, next: page.page_info?.next_marker ?? undefined }
        }
      })
      // The name filter's matching rules are not documented: keep exact matches only.
      return items.filter((u) => u.user_name === name).map((u) => ({ id: u.user_id, name }))
    }

    /** The user's sessions, or why the store answered 404 (no such user, or no such store). */
    async function sessionsOf(userId: string): Promise<Session[] | { notFound: ProviderErrorInfo }> {
      let res
      try {
        res = await http.request({
          method: 'GET',
          url: `${storePath()}/users/${encodeURIComponent(userId)}/sessions`,
          schema: sessionList,
          pass: [404],
          what: 'the session list'
        })
      } catch (err) {
        throw withPermissionHint(err, LIST_PERMISSION)
      }
      if (res.status === 404) return { notFound: res.error ?? { status: 404, message: 'not found' } }
      return res.data.session_list ?? []
    }

    async function planUser(userId: string, userName: string | undefined, filter: Record<string, string> | undefined): Promise<PlanEntry> {
      const kind = 'user-id'
      const all = await sessionsOf(userId)
      if (!Array.isArray(all)) return notFound(userId, kind, `no user with this id in identity store ${storeId ?? ''}`, all.notFound, userName)
      const chosen = all.filter((s) => sessionMatches(s, filter))
      const ids = [...new Set(chosen.map((s) => s.session_id))].sort()
      const details = {
        sessions: ids.length,
        ...(filter !== undefined ? { sessions_total: all.length } : {}),
        session_ids: firstFew(ids),
        ip_addresses: firstFew([...new Set(chosen.map((s) => s.ip_address ?? '').filter((ip) => ip !== ''))])
      }
      const who = userName ? `${userId} (${userName})` : userId
      if (chosen.length > 0) {
        const lines = chosen
          .slice(0, SESSION_LINES_PER_USER)
          .map(
            (s) =>
              `session ${s.session_id} ip=${s.ip_address ?? '?'} created=${toIso(s.creation_time) ?? '?'} valid_until=${toIso(s.session_not_valid_after) ?? '?'} agent=${JSON.stringify(s.user_agent ?? '')}`
          )
        if (chosen.length > SESSION_LINES_PER_USER) lines.push(`… and ${chosen.length - SESSION_LINES_PER_USER} more`)
        ctx.log.group(`sessions of ${who}: ${chosen.length}${filter !== undefined ? ` of ${all.length} match the filter` : ''}`, lines)
      }
      // The exact sessions are what the run deletes: they are part of the plan hash.
      const entry: PlanEntry = {
        id: userId,
        kind,
        label: userName,
        given: userName,
        details,
        binds: { sessionIds: ids },
        payload: { sessionIds: ids } satisfies UserPayload
      }
      if (all.length === 0) entry.skip = 'no active sessions'
      else if (ids.length === 0) entry.skip = `no active sessions match the filter (${all.length} other sessions left alone)`
      return entry
    }

    return {
      async plan(request) {
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
            entries.push(notFound(r.name, 'user-name', `no user named ${JSON.stringify(r.name)} in identity store ${storeId}`, undefined, r.name))
          } else {
            for (const u of r.users) {
              if (!USER_ID_FORMAT.test(u.id))
                throw new ProviderRequestError(
                  { code: 'unexpected-response', message: `IAM Identity Center returned a user id that is not one: ${JSON.stringify(u.id)}` },
                  1
                )
              toPlan.push(u)
            }
          }
        }
        for (const e of await mapConcurrent(toPlan, ctx.concurrency, (u) => planUser(u.id, u.name, request.filter))) entries.push(e)
        return entries
      },

      scope: () => ({ identityStoreId: storeId }),

      // The API takes one user per call: each batch is one user; its sessions go in chunks.
      batches(entries, batchSize) {
        deleteChunk = batchSize
        return entries.map((e) => [e])
      },

      async execute(batch): Promise<BatchOutcome[]> {
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
              // Documented success: 200 with an empty body.
              const res = await http.request({
                method: 'POST',
                url,
                json: { session_ids: ids },
                ok: [200],
                body: 'json-or-empty',
                what: 'sessions/batch-delete'
              })
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
          if (failure)
            out.push({
              id: entry.id,
              outcome: 'failed',
              error: failure,
              attempts,
              reason: failure.status === undefined ? describeProviderError(failure) : undefined
            })
          else out.push({ id: entry.id, outcome: 'terminated', reason: `${deleted} session${deleted === 1 ? '' : 's'} deleted`, requestId, attempts })
        }
        return out
      }
    }
  }
})
