// Google Workspace (Admin SDK Directory API): signs users out of every web and device session and,
// with revoke-tokens, revokes the OAuth tokens they granted to third-party apps.
// Contract: the discovery document admin:directory_v1 (vendored in __tests__/contracts/google/) and
// ../shared/providers.md. Under https://admin.googleapis.com/admin/directory/v1:
//   POST   users/{userKey}/signOut              -> 204, empty          (scope admin.directory.user.security)
//   GET    users/{userKey}/tokens               -> {items?: Token[]}   (user.security)
//   DELETE users/{userKey}/tokens/{clientId}    -> 204, empty          (user.security)
//   GET    users/{userKey}                      -> User                (user.readonly: users.get refuses user.security)
//   GET    users?customer=my_customer&query=    -> {users?, nextPageToken?}   (user.readonly)
//   GET    groups/{groupKey}/members            -> {members?, nextPageToken?} (group.member.readonly; 404: no such group)
// One request per user: there is no bulk sign-out. Planning resolves every target to its user id (what is
// sent), read-only; a run asks the token endpoint only for the scopes it needs (./credentials.ts).
//
// Planning at the least number of calls: with LIST_FROM_KEYS or more user keys to resolve (targets or
// group members), the plan reads the account's user list (500 users a page) and resolves every key it
// finds there; it stops as soon as every key is resolved, or once it has read as many pages as keys are
// left (from then on, one lookup per remaining key costs less than the rest of the list could). Whatever
// is left is looked up one by one (users.get), so the plan shows the same users and not-found skips
// either way.
import { z } from 'zod'
import { InputError, ProviderRequestError, RunHaltedError, describeProviderError } from '../../engine/errors.js'
import { MintedToken, staticCredentials, type Credentials } from '../../engine/http/auth.js'
import type { Http } from '../../engine/http/client.js'
import { flag, text } from '../../engine/inputs.js'
import { mapConcurrent } from '../../engine/pool.js'
import { defineProvider } from '../../engine/provider.js'
import { lookup, notFound, paginate } from '../../engine/resolve.js'
import type { BatchOutcome, PlanEntry, ProviderErrorInfo } from '../../engine/types.js'
import { JWT_BEARER_GRANT, readToken, signAssertion } from './credentials.js'
import { ADMIN_ROLE_HINT, SCOPES, isFatal, isForbidden, isRetryable, isThrottle, parseError } from './errors.js'

const DEFAULT_BASE_URL = 'https://admin.googleapis.com'
const API = '/admin/directory/v1'
const USER_FIELDS = 'id,primaryEmail,name/fullName,suspended,orgUnitPath,isAdmin'
const LIST_USER_FIELDS = `nextPageToken,users(${USER_FIELDS},aliases,nonEditableAliases)`
/** users.list allows 1 to 500 a page. */
const MAX_USERS_PAGE = 500
/** members.list allows at most 200 a page. */
const MAX_MEMBERS_PAGE = 200
/** From this many user keys on, the plan reads the user list first (see the top). */
const LIST_FROM_KEYS = 50
const MAX_QUERY_LENGTH = 2048

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const USER_ID = /^\d{1,30}$/
const GROUP_ID = /^[0-9a-z]{6,40}$/i
const TARGET_TYPES = ['auto', 'user-key', 'group'] as const

const gUser = z.looseObject({
  id: z.string().min(1),
  primaryEmail: z.string().min(1),
  name: z.looseObject({ fullName: z.string().optional().nullable() }).optional().nullable(),
  suspended: z.boolean().optional().nullable(),
  orgUnitPath: z.string().optional().nullable(),
  isAdmin: z.boolean().optional().nullable(),
  aliases: z.array(z.string()).optional().nullable(),
  nonEditableAliases: z.array(z.string()).optional().nullable()
})
type GUser = z.infer<typeof gUser>
const usersPage = z.looseObject({ users: z.array(gUser).optional().nullable(), nextPageToken: z.string().optional().nullable() })
const member = z.looseObject({
  id: z.string().optional().nullable(),
  email: z.string().optional().nullable(),
  type: z.string().optional().nullable(),
  status: z.string().optional().nullable()
})
type Member = z.infer<typeof member>
const membersPage = z.looseObject({ members: z.array(member).optional().nullable(), nextPageToken: z.string().optional().nullable() })
const gToken = z.looseObject({ clientId: z.string().min(1), displayText: z.string().optional().nullable(), userKey: z.string().optional().nullable() })
const tokensPage = z.looseObject({ items: z.array(gToken).optional().nullable() })
const tokenResponse = z.looseObject({ access_token: z.string().min(1), expires_in: z.coerce.number().optional(), token_type: z.string().optional() })

interface AppToken {
  clientId: string
  name: string
}
/** What a plan entry carries to execute: the userKey sent (the user id once resolved) and the tokens to revoke. */
interface UserPayload {
  key: string
  tokens?: AppToken[]
}

type Resolution = { user: GUser } | { missing: string; error?: ProviderErrorInfo }

const enc = encodeURIComponent

/** A target as the given target type reads it, normalised (emails lower case); undefined when it is not one. */
function classify(target: string, targetType: string): string | undefined {
  const t = target.trim()
  if (t.length > 254 || /\s/.test(t)) return undefined
  if (targetType === 'group') return EMAIL.test(t) ? t.toLowerCase() : GROUP_ID.test(t) ? t.toLowerCase() : undefined
  // auto and user-key: a primary email, an alias or a numeric user id.
  return EMAIL.test(t) ? t.toLowerCase() : USER_ID.test(t) ? t : undefined
}

const TYPE_FIX: Record<string, string> = {
  auto: 'give user email addresses (primary or alias, e.g. alice@example.com) or numeric Google user ids; for groups set target-type: group',
  'user-key': 'give user email addresses (primary or alias) or numeric Google user ids',
  group: 'give group email addresses (e.g. leavers@example.com) or group ids'
}

function firstFew(values: string[], n = 3): string {
  const head = values.slice(0, n).join(', ')
  return values.length > n ? `${head} (+${values.length - n} more)` : head
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

export const google = defineProvider({
  name: 'google',
  title: 'Google Workspace',
  inputs: {
    subject: text({
      name: 'subject',
      description: 'the admin to impersonate (primary email) when token is a service-account key JSON; required then',
      fix: 'set subject to the primary email of a Google Workspace admin, e.g. admin@example.com (domain-wide delegation acts as that admin)',
      pattern: EMAIL,
      maxLength: 254,
      problem: 'is not an email address'
    }),
    revokeTokens: flag({
      name: 'revoke-tokens',
      description: 'true: also revoke every OAuth token the user granted to third-party apps (listed in the plan, each revocation reported). Default false',
      fix: 'set revoke-tokens to true or false',
      default: false
    })
  },
  token: {
    description:
      'a service-account key JSON (with subject), or an access token minted by google-github-actions/auth (token_format: access_token, access_token_subject)',
    fix: 'pass the access_token output of google-github-actions/auth (token_format: access_token, access_token_subject: an admin), or a service-account key JSON with subject set'
  },
  baseUrl: { default: DEFAULT_BASE_URL },
  authBaseUrl: { description: "the OAuth token host: the service-account key's token_uri is used when empty, else <auth-base-url>/token" },
  // Google's default quota is 2,400 queries a minute per user per project: the default stays below it.
  defaults: { batchSize: 1, concurrency: 8, rateLimit: 1800, maxRetries: 8, timeoutSeconds: 30 },
  targetTypes: TARGET_TYPES,
  defaultTargetType: 'auto',
  targetTypesDescription:
    'auto (default: user emails, aliases or ids, resolved to users), user-key (sent as given, needs only the user.security scope) or group (the user members of groups, nested ones included)',
  emailTargetType: 'auto',
  filter: {
    mode: 'select',
    requireNonEmpty: true,
    example: "query=orgUnitPath='/Leavers'",
    keys: {
      query: (v) => (v.length === 0 ? 'is empty' : v.length > MAX_QUERY_LENGTH ? `is longer than ${MAX_QUERY_LENGTH} characters` : undefined)
    }
  },
  http: { requestIdHeaders: [], parseError, isThrottle, isFatal, isRetryable },
  bindsPlan: (o) => ({ revokeTokens: o.revokeTokens }),

  validate({ targets, targetType, options, token }) {
    const t = readToken(token)
    if (t.kind === 'key' && options.subject === undefined) {
      throw new InputError(
        'subject',
        'is empty while token is a service-account key JSON',
        'set subject to the primary email of a Google Workspace admin to impersonate (domain-wide delegation acts as that admin), e.g. subject: admin@example.com'
      )
    }
    return targets.map((target) => {
      const c = classify(target, targetType)
      if (c === undefined) {
        const shown = JSON.stringify(target.slice(0, 60))
        const problem =
          targetType === 'group' ? `${shown} is neither a group email nor a group id` : `${shown} is neither an email address nor a numeric Google user id`
        throw new InputError('targets', problem, TYPE_FIX[targetType] ?? TYPE_FIX.auto)
      }
      return c
    })
  },

  start(ctx) {
    const api = `${ctx.baseUrl}${API}`
    const { subject, revokeTokens } = ctx.options
    const token = readToken(ctx.token)
    /** The scopes the run asks for; set by plan() before the first request mints a token. */
    let scopes: string[] = [SCOPES.userSecurity]
    let auth: Credentials
    if (token.kind === 'key') {
      const key = token.key
      // The token input is masked as a whole; the key is masked in the form a server could echo it too.
      ctx.addSecret(key.privateKeyPem)
      const tokenUrl = ctx.authBaseUrl !== undefined ? `${ctx.authBaseUrl}/token` : key.tokenUri
      const hint = (err: ProviderRequestError): string => {
        const m = err.info.message
        switch (err.info.code) {
          case 'invalid_grant':
            if (/signature/i.test(m))
              return `the key (private_key_id ${key.privateKeyId ?? '?'}) is not, or no longer, a key of ${key.clientEmail}: create a new key and update the secret`
            if (/email or user id/i.test(m))
              return `subject ${subject ?? ''} is not a user of this Google Workspace account: set subject to an admin's primary email`
            if (/short-lived|timeframe|iat|exp/i.test(m)) return "the runner's clock is off, so Google refused the assertion's iat/exp"
            return `check that the service account ${key.clientEmail} and its key still exist and are enabled`
          case 'unauthorized_client':
          case 'access_denied':
            return `domain-wide delegation is not set up for client id ${key.clientId ?? '(client_id of the key)'} with every scope this run asks for: in the Admin console (Security > Access and data control > API controls > Manage domain-wide delegation) authorize it for ${scopes.join(',')}`
          case 'invalid_scope':
            return `Google refused the scopes ${scopes.join(' ')}`
          default:
            return ''
        }
      }
      auth = new MintedToken({
        label: 'a Google access token (service account, domain-wide delegation)',
        clock: ctx.clock,
        log: ctx.log,
        addSecret: ctx.addSecret,
        header: (t) => ({ authorization: `Bearer ${t}` }),
        // Google's tokens last 3599 s; a new one is minted before that, with a fresh assertion.
        marginMs: 120_000,
        mint: async () => {
          const assertion = signAssertion(key, { subject: subject ?? '', scopes, audience: key.tokenUri, nowMs: ctx.clock.now() })
          // The signed assertion is itself a credential for its hour.
          ctx.addSecret(assertion)
          const res = await ctx.http.request({
            method: 'POST',
            url: tokenUrl,
            auth: null,
            form: { grant_type: JWT_BEARER_GRANT, assertion },
            schema: tokenResponse,
            what: 'the Google token endpoint'
          })
          return { token: res.data.access_token, expiresIn: res.data.expires_in }
        },
        hint
      })
      ctx.log.info(`authenticating as service account ${key.clientEmail} acting for ${subject ?? ''} (domain-wide delegation)`)
    } else {
      auth = staticCredentials({ authorization: `Bearer ${ctx.token.trim()}` })
      // The token acts for the subject it was minted for (access_token_subject); subject cannot change that.
      ctx.log.info(
        `authenticating with the access token given (minted before this step${subject !== undefined ? ` for ${subject}, as subject says; the token itself decides whom it acts for` : ''})`
      )
    }
    const http: Http = ctx.http.with({ auth })

    // ---- reads -------------------------------------------------------------------------------------------

    async function usersListPage(params: Record<string, string>, what: string): Promise<z.infer<typeof usersPage>> {
      return (
        await http.request({ method: 'GET', url: `${api}/users?${new URLSearchParams({ customer: 'my_customer', ...params })}`, schema: usersPage, what })
      ).data
    }

    /** Whether the admin may read users at all: resolves a 403 on one target into "this target" or "every target". */
    let probe: Promise<ProviderRequestError | undefined> | undefined
    async function failIfAdminRefused(): Promise<void> {
      probe ??= usersListPage({ maxResults: '1', fields: 'users(id,primaryEmail)' }, 'users.list (checking that the admin may read users)').then(
        () => undefined,
        (err: unknown) => {
          if (err instanceof ProviderRequestError && isForbidden(err.info)) return err
          throw err
        }
      )
      const refused = await probe
      if (refused) throw new ProviderRequestError({ ...refused.info, message: `${refused.info.message} — ${ADMIN_ROLE_HINT}` }, refused.attempts, true)
    }

    async function getUser(key: string): Promise<Resolution> {
      try {
        const found = await lookup(http, {
          method: 'GET',
          url: `${api}/users/${enc(key)}?${new URLSearchParams({ fields: USER_FIELDS })}`,
          schema: gUser,
          what: 'users.get'
        })
        if (!found.found) return { missing: 'no Google Workspace user with this email or id', error: found.error }
        return { user: found.res.data }
      } catch (err) {
        if (!(err instanceof ProviderRequestError) || !isForbidden(err.info)) throw err
        await failIfAdminRefused()
        return {
          missing: "Google refused to read this user (403): its domain is not one of this account's, or the admin's role does not cover it",
          error: err.info
        }
      }
    }

    /** Resolves user keys (lower-case emails, ids) to users: from the user list when that is cheaper, else one by one. */
    async function resolveUsers(keys: string[]): Promise<Map<string, Resolution>> {
      const out = new Map<string, Resolution>()
      const wanted = [...new Set(keys)]
      if (wanted.length >= LIST_FROM_KEYS) {
        const remaining = new Set(wanted)
        let pages = 0
        await paginate<GUser>({
          what: 'the user list',
          key: (u) => u.id,
          fetchPage: async (cursor) => {
            const page = await usersListPage(
              { maxResults: String(MAX_USERS_PAGE), fields: LIST_USER_FIELDS, ...(cursor !== undefined ? { pageToken: cursor } : {}) },
              'users.list'
            )
            pages++
            const users = page.users ?? []
            for (const u of users) {
              for (const k of [u.id, u.primaryEmail, ...(u.aliases ?? []), ...(u.nonEditableAliases ?? [])]) {
                const lower = k.toLowerCase()
                if (remaining.delete(lower)) out.set(lower, { user: u })
              }
            }
            const enough = remaining.size === 0 || pages >= remaining.size
            return { items: users, next: enough ? undefined : (page.nextPageToken ?? undefined) }
          }
        })
        ctx.log.info(
          `resolved ${wanted.length - remaining.size} of ${plural(wanted.length, 'user key')} from ${plural(pages, 'page')} of the user list; ${remaining.size} left for one lookup each`
        )
      }
      const rest = wanted.filter((k) => !out.has(k))
      const found = await mapConcurrent(rest, ctx.concurrency, getUser)
      rest.forEach((k, i) => out.set(k, found[i]))
      return out
    }

    const userEntry = (u: GUser, extra: Record<string, string> = {}): PlanEntry => ({
      id: u.id,
      kind: 'user',
      label: u.primaryEmail,
      details: { name: u.name?.fullName ?? null, orgUnitPath: u.orgUnitPath ?? null, suspended: u.suspended ?? null, admin: u.isAdmin ?? null, ...extra },
      payload: { key: u.id } satisfies UserPayload
    })

    async function planAuto(targets: string[]): Promise<PlanEntry[]> {
      const resolved = await resolveUsers(targets)
      return targets.map((t) => {
        const r = resolved.get(t)
        if (r === undefined || !('user' in r)) {
          const why = r && 'missing' in r ? r.missing : 'not resolved'
          return notFound(t, 'user', `${why}${EMAIL.test(t) ? ' (a group address? set target-type: group)' : ''}`, r && 'error' in r ? r.error : undefined, t)
        }
        const given: Record<string, string> = t !== r.user.id && t !== r.user.primaryEmail.toLowerCase() ? { given: t } : {}
        // `given` (the field) says what was listed whenever it is not the id, so a pipeline can map results back.
        return { ...userEntry(r.user, given), given: t !== r.user.id ? t : undefined }
      })
    }

    /** user-key: the key is sent as given; tokens.list (user.security) proves the user exists. */
    async function planUserKey(key: string): Promise<PlanEntry> {
      let found
      try {
        found = await lookup(http, {
          method: 'GET',
          url: `${api}/users/${enc(key)}/tokens?${new URLSearchParams({ fields: 'items(clientId,displayText,userKey)' })}`,
          schema: tokensPage,
          what: 'tokens.list'
        })
      } catch (err) {
        if (err instanceof ProviderRequestError && isForbidden(err.info)) {
          throw new ProviderRequestError(
            { ...err.info, message: `${err.info.message} (user ${key}) — either ${ADMIN_ROLE_HINT}, or the user is in a domain this account does not own` },
            err.attempts
          )
        }
        throw err
      }
      if (!found.found) return notFound(key, 'user-key', 'no Google Workspace user with this email or id', found.error, key)
      const entry: PlanEntry = { id: key, kind: 'user-key', label: key, details: {}, payload: { key } satisfies UserPayload }
      if (revokeTokens) setTokens(entry, found.res.data.items ?? [])
      return entry
    }

    /** The members of a group, nested groups' members included; undefined when the group does not exist. */
    async function groupMembers(groupKey: string): Promise<{ members: Member[] } | { missing: string; error?: ProviderErrorInfo }> {
      let missing: ProviderErrorInfo | undefined
      let result
      try {
        result = await paginate<Member>({
          what: `the members of group ${groupKey}`,
          key: (m) => `${m.type ?? ''}:${m.id ?? m.email ?? ''}`,
          maxItems: ctx.maxTargets,
          fetchPage: async (cursor, pageNo) => {
            // One past max-targets, so a bigger group is refused after one page rather than read to its end.
            const params = new URLSearchParams({
              maxResults: String(Math.max(1, Math.min(MAX_MEMBERS_PAGE, ctx.maxTargets + 1))),
              includeDerivedMembership: 'true',
              fields: 'nextPageToken,members(id,email,type,status)'
            })
            if (cursor !== undefined) params.set('pageToken', cursor)
            const res = await http.request({
              method: 'GET',
              url: `${api}/groups/${enc(groupKey)}/members?${params}`,
              schema: membersPage,
              pass: pageNo === 1 ? [404] : [],
              what: 'members.list'
            })
            if (res.status === 404) {
              missing = res.error ?? { status: 404, message: 'not found' }
              return { items: [] }
            }
            return { items: res.data.members ?? [], next: res.data.nextPageToken ?? undefined }
          }
        })
      } catch (err) {
        if (!(err instanceof ProviderRequestError) || !isForbidden(err.info)) throw err
        await failIfAdminRefused()
        return {
          missing:
            "Google refused to list this group's members (403): it is not a group of this account's domains, or the admin's role does not include reading groups",
          error: err.info
        }
      }
      if (missing) return { missing: 'no Google Workspace group with this email or id', error: missing }
      if (result.truncated) {
        throw new InputError(
          'max-targets',
          `group ${groupKey} has more than ${ctx.maxTargets} members (max-targets); nothing was sent`,
          "raise max-targets to at least the group's size if this is intended, or target a smaller group"
        )
      }
      return { members: result.items }
    }

    async function planGroups(groups: string[]): Promise<PlanEntry[]> {
      const listed = await mapConcurrent(groups, ctx.concurrency, async (g) => ({ g, r: await groupMembers(g) }))
      const memberIds: string[] = []
      for (const { g, r } of listed) {
        if (!('members' in r)) continue
        const kinds = new Map<string, number>()
        for (const m of r.members) {
          const type = (m.type ?? 'USER').toUpperCase()
          if (type === 'USER' && m.id) memberIds.push(m.id.toLowerCase())
          else kinds.set(type, (kinds.get(type) ?? 0) + 1)
        }
        if ((kinds.get('CUSTOMER') ?? 0) > 0)
          ctx.log.warning(
            `group ${g} has every user of the account as a member (a CUSTOMER member): that member is not expanded; to sign everyone out use filter instead`
          )
        const other = [...kinds].filter(([k]) => k !== 'CUSTOMER').map(([k, n]) => `${n} ${k}`)
        if (other.length > 0) ctx.log.info(`group ${g}: ${other.join(', ')} members are not users (nested groups' user members are listed with them)`)
      }
      const resolved = await resolveUsers(memberIds)
      const entries: PlanEntry[] = []
      for (const { g, r } of listed) {
        if (!('members' in r)) {
          entries.push(notFound(g, 'group', r.missing, r.error, g))
          continue
        }
        const users = r.members.filter((m) => (m.type ?? 'USER').toUpperCase() === 'USER' && m.id)
        if (users.length === 0) {
          entries.push({ id: g, kind: 'group', label: g, skip: 'the group has no user members; nothing sent' })
          continue
        }
        for (const m of users) {
          const id = (m.id ?? '').toLowerCase()
          const res = resolved.get(id)
          if (res && 'user' in res) entries.push(userEntry(res.user, { group: g }))
          else
            entries.push({
              id,
              kind: 'user',
              label: m.email ?? undefined,
              details: { group: g },
              skip: `member of ${g}, but not a user of this Google Workspace account (an address outside its domains?); nothing sent`
            })
        }
      }
      return entries
    }

    async function planFilter(query: string): Promise<PlanEntry[]> {
      // One past max-targets, so the guard refuses a bigger plan instead of silently cutting it.
      const limit = Math.max(1, Math.min(MAX_USERS_PAGE, ctx.maxTargets + 1))
      try {
        const { items } = await paginate<GUser>({
          what: 'the users matching the filter',
          key: (u) => u.id,
          maxItems: ctx.maxTargets,
          fetchPage: async (cursor) => {
            const page = await usersListPage(
              { query, maxResults: String(limit), fields: LIST_USER_FIELDS, ...(cursor !== undefined ? { pageToken: cursor } : {}) },
              'users.list'
            )
            return { items: page.users ?? [], next: page.nextPageToken ?? undefined }
          }
        })
        return items.map((u) => userEntry(u))
      } catch (err) {
        if (err instanceof ProviderRequestError && err.info.status === 400) {
          throw new ProviderRequestError(
            {
              ...err.info,
              message: `${err.info.message} — Google refused the filter's query ${JSON.stringify(query)}: see https://developers.google.com/admin-sdk/directory/v1/guides/search-users (e.g. orgUnitPath='/Leavers', isSuspended=true, email:alice*)`
            },
            err.attempts
          )
        }
        if (err instanceof ProviderRequestError && isForbidden(err.info))
          throw new ProviderRequestError({ ...err.info, message: `${err.info.message} — ${ADMIN_ROLE_HINT}` }, err.attempts, true)
        throw err
      }
    }

    function setTokens(entry: PlanEntry, items: z.infer<typeof gToken>[]): void {
      const byClient = new Map<string, AppToken>()
      for (const t of items) byClient.set(t.clientId, { clientId: t.clientId, name: t.displayText?.trim() || t.clientId })
      const tokens = [...byClient.values()].sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))
      // The exact apps approved in the plan are the ones revoked: part of the plan hash.
      entry.binds = { tokens: tokens.map((t) => t.clientId) }
      entry.details = { ...entry.details, tokens: tokens.length, apps: tokens.length > 0 ? firstFew(tokens.map((t) => t.name)) : null }
      entry.payload = { ...(entry.payload as UserPayload), tokens } satisfies UserPayload
    }

    /** revoke-tokens: lists each planned user's tokens (read only). */
    async function planTokens(entries: PlanEntry[]): Promise<void> {
      const todo = entries.filter((e) => e.skip === undefined && (e.payload as UserPayload).tokens === undefined)
      await mapConcurrent(todo, ctx.concurrency, async (e) => {
        const key = (e.payload as UserPayload).key
        const found = await lookup(http, {
          method: 'GET',
          url: `${api}/users/${enc(key)}/tokens?${new URLSearchParams({ fields: 'items(clientId,displayText)' })}`,
          schema: tokensPage,
          what: 'tokens.list'
        })
        if (!found.found) {
          // Deleted between users.get and tokens.list.
          e.skip = 'the user no longer exists (tokens.list answered 404); nothing sent'
          e.unresolved = true
          return
        }
        setTokens(e, found.res.data.items ?? [])
      })
    }

    // ---- execute -----------------------------------------------------------------------------------------

    /** Set once a sign-out succeeded: from then on a 403 is about one user, not about the admin. */
    let confirmed = false
    /** Until then, one sign-out at a time: a 403 on it stops the run before the others are sent. */
    let firstInFlight: Promise<void> | undefined
    let refused: string | undefined

    async function signOut(entry: PlanEntry): Promise<BatchOutcome> {
      while (!confirmed && firstInFlight !== undefined) await firstInFlight
      if (refused !== undefined) throw new RunHaltedError(refused)
      let release: (() => void) | undefined
      if (!confirmed) firstInFlight = new Promise<void>((resolve) => (release = resolve))
      const p = entry.payload as UserPayload
      const userUrl = `${api}/users/${enc(p.key)}`
      let res
      try {
        // Documented success: 204 with an empty body.
        res = await http.request({ method: 'POST', url: `${userUrl}/signOut`, ok: [204], body: 'empty', what: 'users.signOut' })
        confirmed = true
      } catch (err) {
        if (err instanceof ProviderRequestError && isForbidden(err.info)) {
          // Before any success, a 403 means the admin may not sign anyone out: stop rather than fail every target.
          if (!confirmed) {
            const info = { ...err.info, message: `${err.info.message} — ${ADMIN_ROLE_HINT}` }
            refused = `the run stopped after ${describeProviderError(info)}`
            throw new ProviderRequestError(info, err.attempts, true)
          }
          throw new ProviderRequestError(
            { ...err.info, message: `${err.info.message} — the admin may not manage this user (an admin role limited to other organizational units?)` },
            err.attempts
          )
        }
        throw err
      } finally {
        if (release !== undefined) {
          firstInFlight = undefined
          release()
        }
      }
      let attempts = res.attempts
      const signedOut = `signed out of every web and device session (HTTP ${res.status})`
      if (!revokeTokens) return { id: entry.id, outcome: 'terminated', reason: signedOut, attempts }
      const tokens = p.tokens ?? []
      const revoked: string[] = []
      const gone: string[] = []
      const doneSoFar = (): string => {
        const parts = [`revoked ${revoked.length} of ${plural(tokens.length, 'OAuth token')}${revoked.length > 0 ? ` (${firstFew(revoked)})` : ''}`]
        if (gone.length > 0) parts.push(`${gone.length} already gone (${firstFew(gone)})`)
        return parts.join(', ')
      }
      for (const [i, t] of tokens.entries()) {
        try {
          // Documented success: 204, empty. 404: the user or the app already revoked it.
          const r = await http.request({
            method: 'DELETE',
            url: `${userUrl}/tokens/${enc(t.clientId)}`,
            ok: [204],
            body: 'empty',
            pass: [404],
            what: 'tokens.delete'
          })
          attempts += r.attempts
          ;(r.status === 404 ? gone : revoked).push(t.name)
        } catch (err) {
          const left = tokens.length - i - 1
          const rest = left > 0 ? `; ${left} more not attempted` : ''
          if (err instanceof RunHaltedError) {
            return {
              id: entry.id,
              outcome: 'failed',
              error: { message: `signed out, ${doneSoFar()}; then ${err.message} while revoking the token of ${t.name}${rest}` },
              reason: `signed out, ${doneSoFar()}; then ${err.message}`,
              attempts
            }
          }
          if (!(err instanceof ProviderRequestError)) throw err
          return {
            id: entry.id,
            outcome: 'failed',
            error: { ...err.info, message: `signed out, ${doneSoFar()}; revoking the token of ${t.name} (${t.clientId}) failed: ${err.info.message}${rest}` },
            attempts: attempts + err.attempts
          }
        }
      }
      const tokensText = tokens.length === 0 ? 'no OAuth tokens to revoke' : doneSoFar()
      return { id: entry.id, outcome: 'terminated', reason: `${signedOut}; ${tokensText}`, attempts }
    }

    return {
      async plan(request) {
        // Only the scopes this run needs: user.security always; user reads to resolve users; group member reads for groups.
        scopes = [SCOPES.userSecurity]
        if (request.filter !== undefined || request.targetType !== 'user-key') scopes.push(SCOPES.userReadonly)
        if (request.filter === undefined && request.targetType === 'group') scopes.push(SCOPES.groupMemberReadonly)
        if (token.kind === 'key') ctx.log.info(`asking for the scopes ${scopes.join(' ')}`)
        let entries: PlanEntry[]
        if (request.filter !== undefined) entries = await planFilter(request.filter.query ?? '')
        else if (request.targetType === 'user-key') entries = await mapConcurrent(request.targets, ctx.concurrency, planUserKey)
        else if (request.targetType === 'group') entries = await planGroups(request.targets)
        else entries = await planAuto(request.targets)
        const seen = new Map<string, PlanEntry>()
        const out: PlanEntry[] = []
        for (const e of entries) {
          const first = seen.get(e.id)
          if (first) {
            if (e.details?.group === undefined)
              ctx.log.info(
                `${String(e.details?.given ?? e.label ?? e.id)} is the same Google user as ${String(first.details?.given ?? first.label ?? first.id)} (${e.id}): planned once`
              )
            continue
          }
          seen.set(e.id, e)
          out.push(e)
        }
        if (revokeTokens) await planTokens(out)
        return out
      },

      // One request (or a few, with tokens) per user: each user is its own batch.
      batches: (entries) => entries.map((e) => [e]),

      async execute(batch): Promise<BatchOutcome[]> {
        const out: BatchOutcome[] = []
        for (const entry of batch) out.push(await signOut(entry))
        return out
      }
    }
  }
})
