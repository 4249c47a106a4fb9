// Okta: clears a user's Okta sessions, and by default their OAuth tokens too.
//   DELETE {org}/api/v1/users/{userId}/sessions?oauthTokens=true|false -> 204 (one user per call)
// Planning (read-only):
//   GET {org}/api/v1/users/{id or login}        a target looked up (404 E0000007: not found, skipped)
//   GET {org}/api/v1/users?limit=200[&after=]   many targets: the org's user list read instead (below)
//   GET {org}/api/v1/users?search=...           the filter (search=...), Link paging
//   GET {org}/api/v1/groups/{id}, GET {org}/api/v1/groups/{id}/users?limit=1000[&after=]  group members
// Paging: the `after` cursor of the Link rel="next" header. Only the cursor is taken from it; the URL is
// built from base-url, so a Link naming another host never receives the credential.
// Auth: `Authorization: SSWS <API token>`, or with client-id an API service app: private_key_jwt at
// {org}/oauth2/v1/token (./assertion.ts), the access token masked and re-minted once on 401.
// Rate limits: every request names its Okta rate-limit bucket, and the client paces each bucket by
// X-Rate-Limit-Remaining/-Reset before Okta answers 429; a 429 (E0000047) waits for X-Rate-Limit-Reset.
//
// Many user targets: Okta allows more calls a minute to GET /users/{id} (2,000 for the org) than to the
// user list (600), but a list page holds 200 users. From LIST_FROM_TARGETS user targets on, the plan reads
// the org's user list page by page while it is cheaper than looking the rest up (at most one page per
// PAGE_COST unresolved targets), stops once every target is found, and looks up whatever the list did not
// hold (DEPROVISIONED users, which the plain list leaves out; login short names; unknown targets).
import { z } from 'zod'
import { InputError, ProviderRequestError } from '../../engine/errors.js'
import { MintedToken, staticCredentials, type Credentials } from '../../engine/http/auth.js'
import { bodySnippet, type Http } from '../../engine/http/client.js'
import { flag, text } from '../../engine/inputs.js'
import { mapConcurrent } from '../../engine/pool.js'
import { defineProvider } from '../../engine/provider.js'
import { lookup, nextLink, notFound, paginate } from '../../engine/resolve.js'
import type { BatchOutcome, DetailValue, PlanEntry, ProviderErrorInfo } from '../../engine/types.js'
import { keyFingerprint, looksLikePrivateKey, parseSigningKey, signClientAssertion, type SigningKey } from './assertion.js'

const API = '/api/v1'
const TOKEN_PATH = '/oauth2/v1/token'
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
/** GET /users answers at most 200 users a page. */
const USERS_PAGE = 200
/** GET /groups/{id}/users: 1,000 a page (Okta's default). */
const MEMBERS_PAGE = 1000
const LIST_FROM_TARGETS = 20
/** A list page costs about this many lookups of the per-minute allowance (2,000 vs 600 for the org). */
const PAGE_COST = 3

const USER_ID = /^00u[0-9A-Za-z]{17}$/
const GROUP_ID = /^00g[0-9A-Za-z]{17}$/
const GROUP_PREFIX = 'group:'
const MAX_LOGIN = 100
const MAX_SEARCH = 2000

type TargetKind = 'user-id' | 'login' | 'group-id'

/** Okta API errors: {errorCode, errorSummary, errorLink, errorId, errorCauses[{errorSummary}]}. */
const oktaErrorBody = z.looseObject({
  errorCode: z.string(),
  errorSummary: z.string().optional().nullable(),
  errorId: z.string().optional().nullable(),
  errorCauses: z
    .array(z.looseObject({ errorSummary: z.string().optional().nullable() }))
    .optional()
    .nullable()
})
/** The token endpoint answers with RFC 6749 errors. */
const oauthErrorBody = z.looseObject({ error: z.string(), error_description: z.string().optional().nullable() })

const oktaUser = z.looseObject({
  id: z.string().min(1),
  status: z.string().optional().nullable(),
  profile: z
    .looseObject({
      login: z.string().optional().nullable(),
      email: z.string().optional().nullable(),
      firstName: z.string().optional().nullable(),
      lastName: z.string().optional().nullable(),
      displayName: z.string().optional().nullable()
    })
    .optional()
    .nullable()
})
type OktaUser = z.infer<typeof oktaUser>
const userList = z.array(oktaUser)
const oktaGroup = z.looseObject({
  id: z.string().min(1),
  type: z.string().optional().nullable(),
  profile: z.looseObject({ name: z.string().optional().nullable() }).optional().nullable()
})
const tokenResponse = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().optional(),
  scope: z.string().optional()
})

const SCOPE_FIX =
  'grant the service app the Okta API scopes okta.users.manage and okta.users.read (and okta.groups.read for group targets) on its "Okta API Scopes" tab, and assign it an admin role that may clear these users\' sessions'

function parseError(status: number, body: unknown, raw: string): ProviderErrorInfo {
  const okta = oktaErrorBody.safeParse(body)
  if (okta.success) {
    const e = okta.data
    const causes = (e.errorCauses ?? []).map((c) => c.errorSummary).filter((c): c is string => typeof c === 'string' && c !== '')
    const summary = e.errorSummary ?? 'Okta returned an error'
    const message = `${summary}${causes.length > 0 ? ` (${causes.join('; ')})` : ''}${e.errorId ? ` [errorId ${e.errorId}]` : ''}`
    return { status, code: e.errorCode, message }
  }
  const oauth = oauthErrorBody.safeParse(body)
  if (oauth.success) return { status, code: oauth.data.error, message: oauth.data.error_description ?? oauth.data.error }
  // Okta answers a token that lacks the operation's scope with 403, no body and WWW-Authenticate error="insufficient_scope".
  if (status === 403 && raw.trim() === '')
    return {
      status,
      code: 'forbidden',
      message: `HTTP 403 with no body: the access token lacks a scope this call needs (Okta's insufficient_scope answer) — ${SCOPE_FIX}`
    }
  return { status, message: bodySnippet(raw) }
}

/** What a raw target is in the given target type; undefined when it is not valid for it. */
function classify(target: string, targetType: string): { kind: TargetKind; value: string } | undefined {
  const group = target.toLowerCase().startsWith(GROUP_PREFIX) ? target.slice(GROUP_PREFIX.length).trim() : undefined
  const isLogin = (v: string): boolean => v.length <= MAX_LOGIN && /^\S+$/.test(v)
  switch (targetType) {
    case 'user-id':
      return USER_ID.test(target) ? { kind: 'user-id', value: target } : undefined
    case 'login':
      return isLogin(target) && group === undefined ? { kind: 'login', value: target } : undefined
    case 'group-id': {
      const id = group ?? target
      return GROUP_ID.test(id) ? { kind: 'group-id', value: id } : undefined
    }
    default: // auto
      if (group !== undefined) return GROUP_ID.test(group) ? { kind: 'group-id', value: group } : undefined
      if (USER_ID.test(target)) return { kind: 'user-id', value: target }
      if (GROUP_ID.test(target)) return undefined // a group id given bare: refused, so it is never read as a login
      return isLogin(target) ? { kind: 'login', value: target } : undefined
  }
}

const TYPE_FIX: Record<string, string> = {
  auto: 'give Okta user ids (00u followed by 17 letters or digits), logins (e.g. alice@example.com) or group:<group id>; or set target-type',
  'user-id': 'give Okta user ids (00u followed by 17 letters or digits, e.g. 00ub0oNGTSWTBKOLGLNR), or set target-type: login / auto',
  login: `give Okta logins (e.g. alice@example.com; no spaces, at most ${MAX_LOGIN} characters)`,
  'group-id': 'give Okta group ids (00g followed by 17 letters or digits, e.g. 00g1emaKYZTWRYYRRTSK)'
}

function searchProblem(v: string): string | undefined {
  if (v.trim() === '') return 'is empty'
  if (v.length > MAX_SEARCH) return `is longer than ${MAX_SEARCH} characters`
  return undefined
}

/** The `after` cursor of a Link rel="next" header, or undefined on the last page. */
function afterCursor(headers: Headers, what: string): string | undefined {
  const next = nextLink(headers)
  if (next === undefined) return undefined
  let after: string | null = null
  try {
    after = new URL(next, 'https://okta.invalid').searchParams.get('after')
  } catch {
    after = null
  }
  if (after === null || after === '')
    throw new ProviderRequestError(
      {
        code: 'paging',
        message: `${what}: the Link rel="next" header has no after cursor (${next.slice(0, 200)}); stopping rather than guessing the next page`
      },
      1
    )
  return after
}

function userLabel(u: OktaUser): string | undefined {
  const p = u.profile
  const name = [p?.firstName, p?.lastName].filter((x): x is string => typeof x === 'string' && x.trim() !== '').join(' ')
  return name || p?.displayName || p?.login || undefined
}

export const okta = defineProvider({
  name: 'okta',
  title: 'Okta',
  inputs: {
    clientId: text({
      name: 'client-id',
      description: 'client id of an API service app (private_key_jwt); with it, token is the private key (PEM or JWK JSON)',
      fix: 'copy the Client ID of the API service app from the Okta Admin Console (Applications > the app > General)',
      pattern: /^[A-Za-z0-9_-]{1,128}$/,
      problem: 'is not an Okta client id (letters, digits, - and _)'
    }),
    revokeTokens: flag({
      name: 'revoke-tokens',
      description: "also revoke the user's OAuth and OpenID Connect tokens (oauthTokens=true); default true",
      fix: 'set revoke-tokens to true or false',
      default: true
    })
  },
  token: {
    description: 'API token (sent as SSWS), or the service app private key (PEM or JWK JSON) when client-id is set',
    fix: 'pass an Okta API token, or set client-id and pass the private key of the API service app'
  },
  baseUrl: { example: 'https://acme.okta.com', description: 'the Okta org URL (required; the API is under /api/v1)' },
  defaults: { batchSize: 1, concurrency: 3, rateLimit: 1200, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['auto', 'user-id', 'login', 'group-id'],
  defaultTargetType: 'auto',
  // An email address is read as a login (Okta logins are usually the email address).
  emailTargetType: 'auto',
  targetTypesDescription: 'auto (default: 00u… user ids, logins, group:<00g… id>), user-id, login or group-id',
  filter: {
    mode: 'select',
    requireNonEmpty: true,
    example: 'search=profile.department eq "Sales"',
    keys: { search: searchProblem }
  },
  http: {
    requestIdHeaders: ['x-okta-request-id'],
    parseError,
    paceByHeaders: true,
    // No header or another scheme (E0000005), or a token without the scope: nothing else can succeed.
    isFatal: (status, err) => status === 403 && (err.code === 'E0000005' || err.code === 'forbidden')
  },
  bindsPlan: (o) => ({ revokeTokens: o.revokeTokens }),

  validate({ targets, targetType, options, token }) {
    if (options.clientId !== undefined) {
      const key = parseSigningKey(token)
      if ('problem' in key)
        throw new InputError(
          'token',
          `${key.problem} (client-id is set, so token must be the private key of the API service app)`,
          'pass the private key registered on the service app (PEM, or the JWK JSON from the Admin Console), or remove client-id to use an API token'
        )
    } else {
      if (looksLikePrivateKey(token))
        throw new InputError(
          'client-id',
          'is empty, but token holds a private key',
          'set client-id to the Client ID of the API service app, or pass an Okta API token as token'
        )
      if (/^\s*(SSWS|Bearer)\s/i.test(token))
        throw new InputError('token', 'starts with an authorization scheme (SSWS or Bearer)', 'pass the API token alone: the action adds "SSWS " itself')
      if (/\s/.test(token.trim()))
        throw new InputError(
          'token',
          'holds whitespace, which an Okta API token never does',
          'pass the API token exactly as Okta showed it, or set client-id and pass a private key'
        )
    }
    const out: string[] = []
    for (const t of targets) {
      const c = classify(t, targetType)
      if (c === undefined) {
        const shown = JSON.stringify(t.slice(0, 60))
        const problem =
          targetType === 'auto' && GROUP_ID.test(t)
            ? `${shown} is an Okta group id; a group is targeted as group:${t} or with target-type: group-id`
            : targetType === 'auto'
              ? `${shown} is neither an Okta user id nor a login`
              : `${shown} is not a valid ${targetType}`
        throw new InputError('targets', problem, TYPE_FIX[targetType] ?? TYPE_FIX.auto)
      }
      out.push(c.kind === 'group-id' && targetType === 'auto' ? `${GROUP_PREFIX}${c.value}` : c.value)
    }
    return out
  },

  start(ctx) {
    const org = ctx.baseUrl
    const path = new URL(org).pathname
    if (/\/(api\/v1|oauth2)(\/|$)/.test(path)) {
      throw new InputError(
        'base-url',
        `${JSON.stringify(org)} holds an API path`,
        'set base-url to the Okta org URL alone, e.g. https://acme.okta.com (the action adds /api/v1 and /oauth2/v1/token)'
      )
    }
    const base = `${org}${API}`
    const { clientId, revokeTokens } = ctx.options
    let signingKey: SigningKey | undefined
    if (clientId !== undefined) {
      const parsed = parseSigningKey(ctx.token)
      if ('problem' in parsed) throw new InputError('token', parsed.problem, 'pass the private key of the API service app')
      signingKey = parsed
      // The whole token is masked already; the parts a server or a tool could echo on their own too.
      for (const part of parsed.secretParts) ctx.addSecret(part)
    }
    let scopes = 'okta.users.manage okta.users.read'

    const auth: Credentials =
      signingKey === undefined || clientId === undefined
        ? staticCredentials({ authorization: `SSWS ${ctx.token.trim()}` })
        : new MintedToken({
            label: `an Okta access token for service app ${clientId}`,
            clock: ctx.clock,
            log: ctx.log,
            addSecret: ctx.addSecret,
            header: (token) => ({ authorization: `Bearer ${token}` }),
            mint: async () => {
              const tokenUrl = `${org}${TOKEN_PATH}`
              const assertion = signClientAssertion(signingKey, clientId, tokenUrl, ctx.clock.now())
              ctx.addSecret(assertion)
              const res = await ctx.http.request({
                method: 'POST',
                url: tokenUrl,
                auth: null,
                headers: { accept: 'application/json' },
                form: { grant_type: 'client_credentials', scope: scopes, client_assertion_type: JWT_BEARER, client_assertion: assertion },
                schema: tokenResponse,
                bucket: 'token',
                what: 'the Okta token endpoint'
              })
              const type = res.data.token_type ?? 'Bearer'
              if (type.toLowerCase() !== 'bearer') {
                ctx.addSecret(res.data.access_token)
                throw new ProviderRequestError(
                  {
                    status: res.status,
                    code: 'unsupported_token_type',
                    message: `the token endpoint issued a ${type} token; this action sends Bearer tokens only (DPoP is not implemented): turn off "Require Demonstrating Proof of Possession (DPoP) header in token requests" on the service app`,
                    requestId: res.requestId
                  },
                  res.attempts,
                  true
                )
              }
              const granted = (res.data.scope ?? '').split(' ').filter((s) => s !== '')
              const missing = scopes.split(' ').filter((s) => s !== 'okta.users.read' && !granted.includes(s))
              ctx.log.info(
                `minted an Okta access token for service app ${clientId} (key ${signingKey.kid ?? keyFingerprint(signingKey)}, ${signingKey.alg}; scopes ${granted.join(' ') || 'not stated'}; masked)`
              )
              if (res.data.scope !== undefined && missing.length > 0)
                ctx.log.warning(`the service app was not granted ${missing.join(', ')}: calls that need it will be refused (403) — ${SCOPE_FIX}`)
              return { token: res.data.access_token, expiresIn: res.data.expires_in }
            },
            hint: (err) => {
              switch (err.info.code) {
                case 'invalid_dpop_proof':
                case 'use_dpop_nonce':
                  return 'the service app requires DPoP, which this action does not implement: in the Okta Admin Console open the app, General > Client Credentials > Edit, and clear "Require Demonstrating Proof of Possession (DPoP) header in token requests"'
                case 'invalid_client':
                  return 'check client-id, that the app\'s client authentication is "Public key / Private key", and that token is the private key whose public key (kid) is registered on the app'
                case 'invalid_scope':
                case 'consent_required':
                  return SCOPE_FIX
                case 'unauthorized_client':
                  return 'the app must be an API Services app with the Client Credentials grant'
                default:
                  return ''
              }
            }
          })
    const http: Http = ctx.http.with({ auth })

    /**
     * A resolved user. `given` (the field) is the target as listed whenever it is not the user id, so a
     * pipeline can map results back; the plan table shows it only when it differs from the login.
     */
    const userEntry = (u: OktaUser, given?: string, extra: Record<string, DetailValue> = {}): PlanEntry => {
      const listed = given !== undefined && given !== u.id ? given : undefined
      const shown: Record<string, DetailValue> = listed !== undefined && listed !== u.profile?.login ? { given: listed } : {}
      return {
        id: u.id,
        kind: 'user-id',
        label: userLabel(u),
        given: listed,
        details: { login: u.profile?.login ?? null, status: u.status ?? null, ...shown, ...extra }
      }
    }

    /** One page of the user list (`search` when given), and the cursor of the next. */
    async function usersPage(params: Record<string, string>, after: string | undefined): Promise<{ users: OktaUser[]; after?: string }> {
      const query = new URLSearchParams({ ...params, ...(after !== undefined ? { after } : {}) })
      const res = await http.request({
        method: 'GET',
        url: `${base}/users?${query}`,
        schema: userList,
        bucket: 'users',
        what: params.search !== undefined ? 'the Okta user search' : 'the Okta user list'
      })
      return { users: res.data, after: res.data.length > 0 ? afterCursor(res.headers, 'the Okta user list') : undefined }
    }

    /** Every user the search expression matches, stopping one past max-targets (the guard then refuses). */
    async function searchUsers(expression: string): Promise<OktaUser[]> {
      const limit = String(Math.max(1, Math.min(USERS_PAGE, ctx.maxTargets + 1)))
      try {
        const { items } = await paginate<OktaUser>({
          what: 'the Okta user search',
          key: (u) => u.id,
          maxItems: ctx.maxTargets,
          fetchPage: async (cursor) => {
            const page = await usersPage({ search: expression, limit }, cursor)
            return { items: page.users, next: page.after }
          }
        })
        return items
      } catch (err) {
        if (err instanceof ProviderRequestError && err.info.status === 400) {
          throw new InputError(
            'filter',
            `Okta refused the search expression (HTTP 400${err.info.code ? `, ${err.info.code}` : ''}: ${err.info.message})`,
            'write an Okta search expression such as profile.department eq "Sales" (operators eq, sw, co, pr, gt, ge, lt, le; and/or; string values in double quotes)'
          )
        }
        throw err
      }
    }

    /**
     * Reads the org's user list while that costs fewer calls than looking the rest up (see the top), and
     * returns the users it found among the targets (by id, and by lower-case login).
     */
    async function resolveFromList(ids: Set<string>, logins: Set<string>): Promise<{ byId: Map<string, OktaUser>; byLogin: Map<string, OktaUser> }> {
      const byId = new Map<string, OktaUser>()
      const byLogin = new Map<string, OktaUser>()
      const targets = ids.size + logins.size
      let unresolved = targets
      let pages = 0
      let stopped = false
      await paginate<OktaUser>({
        what: 'the Okta user list',
        key: (u) => u.id,
        fetchPage: async (cursor) => {
          if (stopped) return { items: [] }
          const page = await usersPage({ limit: String(USERS_PAGE) }, cursor)
          pages++
          for (const u of page.users) {
            if (ids.has(u.id) && !byId.has(u.id)) {
              byId.set(u.id, u)
              unresolved--
            }
            const login = u.profile?.login?.toLowerCase()
            if (login !== undefined && logins.has(login) && !byLogin.has(login)) {
              byLogin.set(login, u)
              unresolved--
            }
          }
          stopped = unresolved === 0 || pages * PAGE_COST >= unresolved
          return { items: page.users, next: stopped ? undefined : page.after }
        }
      })
      ctx.log.info(
        `read ${pages} page(s) of the Okta user list for ${targets} user targets: ${targets - unresolved} found there, ${unresolved} left for one lookup each`
      )
      return { byId, byLogin }
    }

    async function resolveUser(kind: 'user-id' | 'login', key: string): Promise<PlanEntry> {
      const found = await lookup(http, {
        method: 'GET',
        url: `${base}/users/${encodeURIComponent(key)}`,
        schema: oktaUser,
        bucket: 'user',
        what: 'the Okta user'
      })
      if (!found.found) return notFound(key, kind, kind === 'user-id' ? 'no Okta user with this id' : 'no Okta user with this login', found.error)
      const u = found.res.data
      if (kind === 'user-id' && u.id !== key)
        throw new ProviderRequestError(
          { status: found.res.status, code: 'unexpected-response', message: `GET /users/${key} returned user ${u.id}`, requestId: found.res.requestId },
          1
        )
      return userEntry(u, key)
    }

    /** The group's members, read now: the plan holds exactly these users. */
    async function resolveGroup(groupId: string): Promise<PlanEntry[]> {
      const entryId = `${GROUP_PREFIX}${groupId}`
      const found = await lookup(http, {
        method: 'GET',
        url: `${base}/groups/${encodeURIComponent(groupId)}`,
        schema: oktaGroup,
        bucket: 'group',
        what: 'the Okta group'
      })
      if (!found.found) return [notFound(entryId, 'group-id', 'no Okta group with this id', found.error)]
      const name = found.res.data.profile?.name ?? groupId
      const { items } = await paginate<OktaUser>({
        what: `the members of Okta group ${groupId}`,
        key: (u) => u.id,
        maxItems: ctx.maxTargets,
        fetchPage: async (cursor) => {
          const query = new URLSearchParams({ limit: String(MEMBERS_PAGE), ...(cursor !== undefined ? { after: cursor } : {}) })
          const res = await http.request({
            method: 'GET',
            url: `${base}/groups/${encodeURIComponent(groupId)}/users?${query}`,
            schema: userList,
            bucket: 'groups',
            what: 'the Okta group members'
          })
          return { items: res.data, next: res.data.length > 0 ? afterCursor(res.headers, `the members of Okta group ${groupId}`) : undefined }
        }
      })
      ctx.log.info(`Okta group ${name} (${groupId}): ${items.length} member(s)`)
      if (items.length === 0) return [{ id: entryId, kind: 'group-id', label: name, details: { members: 0 }, skip: 'the group has no members; nothing sent' }]
      return items.map((u) => userEntry(u, undefined, { group: name }))
    }

    return {
      async plan(request) {
        if (request.filter?.search !== undefined) {
          const users = await searchUsers(request.filter.search)
          ctx.log.info(
            `the search matched ${users.length} Okta user(s)${users.length > ctx.maxTargets ? ` (stopped reading past max-targets ${ctx.maxTargets})` : ''}`
          )
          return users.map((u) => userEntry(u))
        }
        const classified = request.targets.map((t) => {
          const c = classify(t, request.targetType)
          if (c === undefined) throw new Error(`target ${JSON.stringify(t)} passed validation but cannot be classified`)
          return c
        })
        if (classified.some((c) => c.kind === 'group-id')) scopes += ' okta.groups.read'
        const ids = new Set(classified.filter((c) => c.kind === 'user-id').map((c) => c.value))
        const logins = new Set(classified.filter((c) => c.kind === 'login').map((c) => c.value.toLowerCase()))
        const listed = ids.size + logins.size >= LIST_FROM_TARGETS ? await resolveFromList(ids, logins) : undefined
        const resolved = await mapConcurrent(classified, ctx.concurrency, async (c): Promise<PlanEntry[]> => {
          if (c.kind === 'group-id') return resolveGroup(c.value)
          const u = c.kind === 'user-id' ? listed?.byId.get(c.value) : listed?.byLogin.get(c.value.toLowerCase())
          if (u) return [userEntry(u, c.value)]
          return [await resolveUser(c.kind, c.value)]
        })
        const seen = new Map<string, PlanEntry>()
        const out: PlanEntry[] = []
        for (const e of resolved.flat()) {
          const first = seen.get(e.id)
          if (first) {
            if (e.details?.group === undefined)
              ctx.log.info(
                `${String(e.details?.given ?? e.id)} is the same Okta user as ${String(first.details?.given ?? first.details?.login ?? first.id)} (${e.id}): planned once`
              )
            continue
          }
          seen.set(e.id, e)
          out.push(e)
        }
        return out
      },

      /** One user per call: DELETE /users/{id}/sessions names one user. */
      batches(entries, batchSize) {
        if (batchSize !== 1) ctx.log.info(`batch-size ${batchSize} is ignored for okta: each call clears one user's sessions`)
        return entries.map((e) => [e])
      },

      async execute(batch): Promise<BatchOutcome[]> {
        const out: BatchOutcome[] = []
        for (const e of batch) {
          // Documented success: 204 with no body. Anything else is not a cleared session.
          const res = await http.request({
            method: 'DELETE',
            url: `${base}/users/${encodeURIComponent(e.id)}/sessions?oauthTokens=${revokeTokens ? 'true' : 'false'}`,
            ok: [204],
            body: 'empty',
            bucket: 'sessions',
            what: 'DELETE /api/v1/users/{id}/sessions'
          })
          const reason = revokeTokens
            ? 'sessions cleared and OAuth tokens revoked (HTTP 204)'
            : 'sessions cleared (HTTP 204); OAuth tokens kept (revoke-tokens: false)'
          out.push({ id: e.id, outcome: 'terminated', reason, requestId: res.requestId, attempts: res.attempts })
        }
        return out
      }
    }
  }
})
