// Slack Enterprise Grid Web API emulator (the slice the action uses), from the published contract:
//
// Sources
//  [M] Slack method pages (docs.slack.dev/reference/methods/<method>, formerly api.slack.com/methods/<method>),
//      as crawled into slack-ruby/slack-api-ref @ f4837c0cb6dba1b1122ce66a5b69195ce47213f8
//      (docs.slack.dev/methods/*.json and methods/<group>/*.json: arguments, scopes, tiers, error tables).
//  [S] slackapi/slack-api-specs @ bc08db49625630e3585bf2f1322128ea04f2a7f3, web-api/slack_web_openapi_v2.json
//      (Swagger 2, Oct 2020; vendored slice in __tests__/contracts/slack/): operationIds
//      admin_users_session_reset, users_lookupByEmail, users_info. It has no resetBulk.
//  [W] docs.slack.dev/apis/web-api (arguments as query, form or JSON; JSON needs the Authorization header;
//      ok/error/warning envelope), docs.slack.dev/apis/web-api/rate-limits (tiers, HTTP 429 + Retry-After),
//      docs.slack.dev/changelog/2020-11-no-more-tokens-in-querystrings-for-newly-created-apps.
//  [K] Slack SDKs: slackapi/java-slack-sdk @ 86ff7ca (RequestFormBuilder: resetBulk user_ids comma-joined
//      in form bodies; MethodsRateLimits: session methods Tier 2), slackapi/node-slack-sdk @ 4322e14
//      (WebClient: arrays JSON-encoded inside form bodies; reads X-OAuth-Scopes, X-Accepted-OAuth-Scopes,
//      Retry-After on 429; "Slack's Web API doesn't use meaningful status codes besides 429 and 200").
//
// Contract implemented (methods at /api/<method>, base URL = origin + /api as https://slack.com/api)
//  - admin.users.session.resetBulk [M]: POST, form or JSON; user_ids (array, 1..1000; form: comma-separated
//    or a JSON array string), mobile_only, web_only; user token with admin.users:write (Tier 2).
//    {"ok":true} = job queued (recorded in `jobs`). Errors from its table: failed_for_some_users,
//    feature_not_enabled, not_an_admin, cannot_reset_bot, cannot_reset_primary_owner, user_not_found,
//    user_session_reset_failed, unknown_method, restricted_action...
//  - admin.users.session.reset [M][S]: POST, form or JSON; user_id, mobile_only, web_only; same token rules.
//  - users.lookupByEmail [M][S]: GET (query) or POST form; email; users:read.email; bot or user token (Tier 3).
//    Not found -> users_not_found; a deactivated user -> users_not_found too (api.slack.com/methods/
//    users.lookupByEmail: "If the user has been deactivated, users_not_found will be returned", quoted in
//    pablovarela/terraform-provider-slack#251).
//  - users.info [M][S]: user; users:read (Tier 4); unknown -> user_not_found; deleted users come back
//    with deleted:true.
//  - Auth [W]: Authorization: Bearer <token>, or `token` as a form POST parameter (accepted, but recorded
//    as a leak); a token in the query string is ignored (apps created after 2021-02-24) and recorded; a
//    `token` attribute in a JSON body is ignored and recorded. No token -> not_authed; unknown ->
//    invalid_auth; expired/revoked -> token_expired/token_revoked; bot token on admin.* ->
//    not_allowed_token_type; scope missing -> missing_scope with `needed` and `provided`.
//  - Every answer is HTTP 200 {"ok":false,"error":...} on failure, except rate limiting: HTTP 429 with
//    Retry-After (seconds) and {"ok":false,"error":"ratelimited"} [W][K]. Responses carry X-OAuth-Scopes
//    (the token's scopes) and X-Accepted-OAuth-Scopes (the method's) [K], and warnings as Slack sends them:
//    missing_charset (JSON without charset), superfluous_charset (form with a charset).
//
// UNCONFIRMED (chosen by analogy; see __tests__/contracts/slack/SOURCE.md):
//  - failed_for_some_users details: the method page says only "Details in extended comments". Emulated as
//    `failed_user_ids: { "<id>": "<error>" }` (the shape third-party code reads for admin.conversations.invite),
//    or no details at all (`partialFailureDetails: 'none'`). The users that did not fail are queued anyway.
//  - more than 1,000 user_ids, empty/missing user_ids, malformed ids, non-boolean flags, both flags true:
//    invalid_arguments with response_metadata.messages "[ERROR] ..." (the pattern of Slack's JSON-schema
//    validated admin methods, e.g. admin.conversations.bulkArchive "no more than 100 items allowed").
//  - a deactivated user in resetBulk/reset is accepted (nothing to reset); bots -> cannot_reset_bot;
//    the primary owner -> cannot_reset_primary_owner unless the token's installer is the primary owner.
//  - which error refuses resetBulk while reset still works (configurable: `refuseResetBulk`); a workspace
//    (not org-level) user token on admin.* -> not_allowed_token_type; a non-admin installer -> not_an_admin.
//  - a JSON body sent to users.lookupByEmail/users.info (no JSON support) is not read.
//  - unknown methods: HTTP 404 {"ok":false,"error":"unknown_method","req_method":...}; HTTP verbs other
//    than GET/POST: {"ok":false,"error":"invalid_post_type"}.
//  - lookupByEmail matches emails case-insensitively.
import { randomBytes } from 'node:crypto'
import { EmulatorServer, ProviderEmulator, bearerOf, retryAfterHeaders } from '../server.js'

export const SLACK_ENTERPRISE_ID = 'E0GRID0001'
export const SLACK_ENTERPRISE_NAME = 'Example Grid'
export const SLACK_TEAM_ID = 'T0WORKSP01'
/** Org-level user token of an Org Admin install: admin.users:write, users:read, users:read.email. */
export const SLACK_ADMIN_TOKEN = 'xoxp-1000000001-2000000001-3000000001-0a1b2c3d4e5f60718293a4b5c6d7e8f9'
/** Same install without admin.users:write (session methods answer missing_scope). */
export const SLACK_NO_ADMIN_SCOPE_TOKEN = 'xoxp-1000000001-2000000001-3000000002-1a1b2c3d4e5f60718293a4b5c6d7e8f9'
/** Same install without users:read.email (lookupByEmail answers missing_scope). */
export const SLACK_NO_EMAIL_SCOPE_TOKEN = 'xoxp-1000000001-2000000001-3000000003-2a1b2c3d4e5f60718293a4b5c6d7e8f9'
/** Org-level user token installed by a member who is not an org admin/owner (admin.* -> not_an_admin). */
export const SLACK_NON_ADMIN_TOKEN = 'xoxp-1000000001-2000000002-3000000004-3a1b2c3d4e5f60718293a4b5c6d7e8f9'
/** User token of a single-workspace install (admin.* -> not_allowed_token_type; unconfirmed). */
export const SLACK_WORKSPACE_TOKEN = 'xoxp-1000000001-2000000001-3000000005-4a1b2c3d4e5f60718293a4b5c6d7e8f9'
/** Bot token with users:read and users:read.email (admin.* -> not_allowed_token_type). */
export const SLACK_BOT_TOKEN = 'xoxb-1000000001-4000000001-5a1b2c3d4e5f60718293a4b5'

export const METHOD_RESET_BULK = 'admin.users.session.resetBulk'
export const METHOD_RESET = 'admin.users.session.reset'
export const METHOD_LOOKUP = 'users.lookupByEmail'
export const METHOD_INFO = 'users.info'
/** Most user ids resetBulk takes in one call [M]. */
export const RESET_BULK_MAX = 1000

/** The special users every default emulator holds (ids match Slack's ^[UW][A-Z0-9]{2,}$). */
export const DELETED_USER = { id: 'W0DELETED1', email: 'former.employee@example.com' }
export const BOT_USER = { id: 'U0BOTUSER1' }
export const PRIMARY_OWNER = { id: 'W0PRIMARY1', email: 'owner@example.com' }

/**
 * Method table [M][K]: scope needed, tier, admin (needs a user token of an org-level admin install),
 * JSON bodies read. Every method takes GET (query) and POST (query + body) [W].
 */
export const METHODS = {
  [METHOD_RESET_BULK]: { scope: 'admin.users:write', tier: 2, admin: true, json: true },
  [METHOD_RESET]: { scope: 'admin.users:write', tier: 2, admin: true, json: true },
  [METHOD_LOOKUP]: { scope: 'users:read.email', tier: 3, admin: false, json: false },
  [METHOD_INFO]: { scope: 'users:read', tier: 4, admin: false, json: false }
}
/** Requests per minute of each tier [W]: "Tier 2 20+ per minute", "Tier 3 50+", "Tier 4 100+". */
export const TIER_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 }

/**
 * @typedef {{ id: string, email?: string, name: string, real_name: string, deleted: boolean, is_bot: boolean,
 *   is_admin: boolean, is_owner: boolean, is_primary_owner: boolean, is_restricted?: boolean,
 *   is_ultra_restricted?: boolean, team_id?: string }} SlackUser
 * @typedef {{ type: 'user' | 'bot', scopes: string[], orgLevel?: boolean, admin?: boolean, primaryOwner?: boolean,
 *   state?: 'active' | 'expired' | 'revoked', expireAfterRequests?: number, uses?: number }} SlackToken
 * @typedef {'all' | 'web' | 'mobile'} SessionScope
 * @typedef {{ method: string, args: Record<string, unknown>, format: 'none' | 'form' | 'json', tokenVia?: string, at: number,
 *   ok?: boolean, error?: string }} SlackCall
 */

function pad(n) {
  return String(n).padStart(8, '0')
}

/**
 * `n` active members: ids W00000001.. (every 4th one a U… id, as workspace-born users keep theirs on a
 * Grid), emails user<i>@<domain>. Fast enough for 10,000+ users.
 * @param {number} n
 * @param {{ domain?: string, start?: number, deletedEvery?: number }} [opts] deletedEvery: every k-th user deactivated
 * @returns {SlackUser[]}
 */
export function makeUsers(n, { domain = 'example.com', start = 1, deletedEvery = 0 } = {}) {
  const out = new Array(n)
  for (let k = 0; k < n; k++) {
    const i = start + k
    out[k] = {
      id: `${i % 4 === 0 ? 'U' : 'W'}${pad(i)}`,
      email: `user${i}@${domain}`,
      name: `user${i}`,
      real_name: `User ${i}`,
      deleted: deletedEvery > 0 && i % deletedEvery === 0,
      is_bot: false,
      is_admin: false,
      is_owner: false,
      is_primary_owner: false
    }
  }
  return out
}

/** The deactivated member, the bot user and the primary owner (see DELETED_USER, BOT_USER, PRIMARY_OWNER). */
export function specialUsers() {
  const base = { is_admin: false, is_owner: false, is_primary_owner: false, is_bot: false, deleted: false }
  return [
    { ...base, id: DELETED_USER.id, email: DELETED_USER.email, name: 'former.employee', real_name: 'Former Employee', deleted: true },
    { ...base, id: BOT_USER.id, name: 'deploybot', real_name: 'Deploy Bot', is_bot: true },
    {
      ...base,
      id: PRIMARY_OWNER.id,
      email: PRIMARY_OWNER.email,
      name: 'owner',
      real_name: 'Primary Owner',
      is_admin: true,
      is_owner: true,
      is_primary_owner: true
    }
  ]
}

/** @returns {Record<string, SlackToken>} */
export function defaultTokens() {
  const all = ['admin.users:write', 'users:read', 'users:read.email']
  return {
    [SLACK_ADMIN_TOKEN]: { type: 'user', scopes: all, orgLevel: true, admin: true },
    [SLACK_NO_ADMIN_SCOPE_TOKEN]: { type: 'user', scopes: ['users:read', 'users:read.email'], orgLevel: true, admin: true },
    [SLACK_NO_EMAIL_SCOPE_TOKEN]: { type: 'user', scopes: ['admin.users:write', 'users:read'], orgLevel: true, admin: true },
    [SLACK_NON_ADMIN_TOKEN]: { type: 'user', scopes: all, orgLevel: true, admin: false },
    [SLACK_WORKSPACE_TOKEN]: { type: 'user', scopes: all, orgLevel: false, admin: true },
    [SLACK_BOT_TOKEN]: { type: 'bot', scopes: ['users:read', 'users:read.email'] }
  }
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/
const CHARSETS = ['utf-8', 'utf8', 'iso-8859-1']

export class SlackEmulator extends ProviderEmulator {
  /**
   * @param {{ users?: SlackUser[], tokens?: Record<string, SlackToken>, plan?: 'enterprise' | 'business+' | 'pro' | 'free',
   *   refuseResetBulk?: string, partialFailureDetails?: 'failed_user_ids' | 'none', restrictLookupForOrgTokens?: boolean }} [opts]
   *   users: default makeUsers(12) + specialUsers(); tokens: default defaultTokens();
   *   plan: anything but 'enterprise' makes both session methods answer feature_not_enabled;
   *   refuseResetBulk: an error code resetBulk answers to every authorised call (reset still works);
   *   restrictLookupForOrgTokens: lookupByEmail answers enterprise_is_restricted to org-level tokens.
   */
  constructor(opts = {}) {
    super()
    /** @type {string} set by start() */
    this.origin = ''
    /** @type {string} set by start(): origin + /api */
    this.baseUrl = ''
    this.initial = {
      users: opts.users ?? [...makeUsers(12), ...specialUsers()],
      tokens: opts.tokens ?? defaultTokens(),
      plan: opts.plan ?? 'enterprise',
      refuseResetBulk: opts.refuseResetBulk,
      partialFailureDetails: opts.partialFailureDetails ?? 'failed_user_ids',
      restrictLookupForOrgTokens: opts.restrictLookupForOrgTokens ?? false
    }
    this.server = new EmulatorServer({
      name: 'slack',
      handle: (req) => this.handle(req),
      errorResponse: (status) =>
        slackAnswer({ ok: false, error: status === 503 ? 'service_unavailable' : status >= 500 ? 'internal_error' : 'fatal_error' }, status),
      throttleResponse: ({ retryAfterSeconds, mode }) => ratelimited(retryAfterSeconds, mode)
    })
    /** @type {Map<string, SlackUser & { sessions: { web: number, mobile: number } }>} */
    this.users = new Map()
    /** @type {Map<string, SlackUser>} lower-cased email -> user */
    this.byEmail = new Map()
    /** @type {Map<string, SlackToken & { expireAs?: string }>} */
    this.tokens = new Map()
    this.plan = this.initial.plan
    /** @type {string | undefined} error code resetBulk answers to every authorised call (e.g. feature_not_enabled) */
    this.refuseResetBulk = this.initial.refuseResetBulk
    /** @type {'failed_user_ids' | 'none'} */
    this.partialFailureDetails = this.initial.partialFailureDetails
    this.restrictLookupForOrgTokens = this.initial.restrictLookupForOrgTokens
    /** @type {Map<string, string>} user id -> the error resetBulk/reset answer for that user */
    this.failUsers = new Map()
    /** @type {{ id: string, userIds: string[], scope: SessionScope, at: number }[]} accepted resetBulk jobs */
    this.jobs = []
    /** @type {{ userId: string, scope: SessionScope, via: 'resetBulk' | 'reset', at: number }[]} sessions wiped, per user */
    this.resets = []
    /** @type {{ where: 'query' | 'form' | 'json', method: string, at: number }[]} tokens sent outside the Authorization header */
    this.tokenLeaks = []
    /** @type {SlackCall[]} every call that reached a known method, with its parsed arguments and answer */
    this.calls = []
    /** @type {Map<string, { limit: number, windowMs: number, retryAfterSeconds: number, status: number, times: number[] }>} */
    this.methodLimits = new Map()
    /** @type {Map<string, import('../server.js').EmulatorResponse[]>} answers queued per method, ahead of everything */
    this.queued = new Map()
    /** @type {Map<string, ((call: SlackCall, n: number) => void)[]>} */
    this.hooks = new Map()
    /** @type {Map<string, number>} authorised calls per method */
    this.callCounts = new Map()
    this.throttled = 0
    this.restore()
  }

  async start() {
    this.origin = await this.server.start()
    this.baseUrl = `${this.origin}/api`
    return this.baseUrl
  }

  /** Back to the constructor's state: users, tokens, options; clears records, limits, faults and hooks. */
  reset() {
    this.server.reset()
    this.restore()
  }

  restore() {
    this.users = new Map()
    this.byEmail = new Map()
    for (const u of this.initial.users) this.addUser(u)
    this.tokens = new Map()
    for (const [t, info] of Object.entries(this.initial.tokens)) this.addToken(t, info)
    this.plan = this.initial.plan
    this.refuseResetBulk = this.initial.refuseResetBulk
    this.partialFailureDetails = this.initial.partialFailureDetails
    this.restrictLookupForOrgTokens = this.initial.restrictLookupForOrgTokens
    this.failUsers = new Map()
    this.jobs = []
    this.resets = []
    this.tokenLeaks = []
    this.calls = []
    this.methodLimits = new Map()
    this.queued = new Map()
    this.hooks = new Map()
    this.callCounts = new Map()
    this.throttled = 0
  }

  // ---- state hooks for tests -------------------------------------------------------------------------

  /** @param {Partial<SlackUser> & { id: string }} u */
  addUser(u) {
    /** @type {SlackUser & { sessions: { web: number, mobile: number } }} */
    const user = {
      name: u.id.toLowerCase(),
      real_name: u.id,
      deleted: false,
      is_bot: false,
      is_admin: false,
      is_owner: false,
      is_primary_owner: false,
      ...u,
      sessions: { web: 1, mobile: 1 }
    }
    this.users.set(user.id, user)
    if (user.email) this.byEmail.set(user.email.toLowerCase(), user)
    return user
  }

  /** Deactivates a member (lookupByEmail then answers users_not_found). */
  deactivate(id) {
    const u = this.users.get(id)
    if (!u) throw new Error(`no user ${id}`)
    u.deleted = true
  }

  /** Removes a user altogether (user_not_found / users_not_found). */
  removeUser(id) {
    const u = this.users.get(id)
    if (u?.email) this.byEmail.delete(u.email.toLowerCase())
    this.users.delete(id)
  }

  /** The sessions a user still has: { web, mobile } (1 each at the start). */
  sessionsOf(id) {
    const u = this.users.get(id)
    return u ? { ...u.sessions } : undefined
  }

  /** Makes resetBulk (in failed_user_ids) and reset answer `error` for this user. */
  failUser(id, error = 'user_session_reset_failed') {
    this.failUsers.set(id, error)
  }

  /** @param {string} token @param {SlackToken} info */
  addToken(token, info) {
    this.tokens.set(token, { state: 'active', ...info, uses: 0, scopes: [...info.scopes] })
  }

  setScopes(token, scopes) {
    const t = this.tokens.get(token)
    if (!t) throw new Error('unknown token')
    t.scopes = [...scopes]
  }

  /**
   * The token answers token_expired (or token_revoked) from now on; with `afterRequests`, after that many more calls.
   * @param {string} token
   * @param {{ state?: 'expired' | 'revoked', afterRequests?: number }} [opts]
   */
  expireToken(token, { state = 'expired', afterRequests } = {}) {
    const t = this.tokens.get(token)
    if (!t) throw new Error('unknown token')
    if (afterRequests === undefined) t.state = state
    else {
      t.expireAfterRequests = t.uses + afterRequests
      t.expireAs = state
    }
  }

  /**
   * Runs `fn(call, n)` before each authorised call to `method` is answered (n: authorised calls to it so
   * far, this one included; rate-limited and refused calls do not count): change state between calls.
   * @param {string} method
   * @param {(call: SlackCall, n: number) => void} fn
   */
  onCall(method, fn) {
    const list = this.hooks.get(method) ?? []
    list.push(fn)
    this.hooks.set(method, list)
  }

  /** A per-method sliding-window limit (Slack limits per method, per workspace, per app) answered with 429 + Retry-After. */
  setMethodRateLimit(method, limit, windowMs = 60_000, { retryAfterSeconds = 1, status = 429 } = {}) {
    this.methodLimits.set(method, { limit, windowMs, retryAfterSeconds, status, times: [] })
  }

  /** Every method limited to its tier's documented rate per `windowMs` (60 s is Slack's; shorter for tests). */
  useTierLimits({ windowMs = 60_000, retryAfterSeconds = 1 } = {}) {
    for (const [m, spec] of Object.entries(METHODS)) this.setMethodRateLimit(m, TIER_PER_MINUTE[spec.tier], windowMs, { retryAfterSeconds })
  }

  /**
   * The next `count` calls to `method` answer ratelimited before anything else is checked: HTTP 429 +
   * Retry-After, or (`status: 200`) the same body and header with HTTP 200.
   */
  queueRatelimited(method, count = 1, { seconds = 1, status = 429 } = {}) {
    for (let i = 0; i < count; i++) this.queueAnswer(method, ratelimited(seconds, 'seconds', status))
  }

  /** The next call to `method` gets `answer` (e.g. slackAnswer({ ok: false, error: 'internal_error' })) whatever it sends. */
  queueAnswer(method, answer) {
    const list = this.queued.get(method) ?? []
    list.push(answer)
    this.queued.set(method, list)
  }

  // ---- what happened -------------------------------------------------------------------------------

  /** Requests (as the server recorded them) to one method. */
  requestsTo(method) {
    return this.requests.filter((r) => r.path === `/api/${method}`)
  }

  /** Requests to the two session-reset methods. */
  resetRequests() {
    return this.requests.filter((r) => r.path === `/api/${METHOD_RESET_BULK}` || r.path === `/api/${METHOD_RESET}`)
  }

  /** Parsed calls to one method (or all). */
  callsTo(method) {
    return method ? this.calls.filter((c) => c.method === method) : this.calls
  }

  /** Every user id sent to resetBulk/reset, in order (what the action asked to reset, accepted or not). */
  sentUserIds() {
    const out = []
    for (const c of this.calls) {
      if (c.method === METHOD_RESET_BULK && Array.isArray(c.args.user_ids)) out.push(...c.args.user_ids)
      else if (c.method === METHOD_RESET && typeof c.args.user_id === 'string') out.push(c.args.user_id)
    }
    return out
  }

  /** Ids whose sessions were wiped (queued by resetBulk or reset by reset), optionally of one scope. */
  resetUserIds(scope) {
    return this.resets.filter((r) => scope === undefined || r.scope === scope).map((r) => r.userId)
  }

  // ---- the API -------------------------------------------------------------------------------------

  /** @param {import('../server.js').EmulatorRequest} req */
  handle(req) {
    const m = /^\/api\/([A-Za-z0-9_.]+)$/.exec(req.path)
    const method = m?.[1]
    const spec = method === undefined ? undefined : METHODS[method]
    if (!spec) return slackAnswer({ ok: false, error: 'unknown_method', req_method: method ?? req.path.replace(/^\/api\/?/, '') }, 404)
    const accepted = { 'x-accepted-oauth-scopes': spec.scope }
    const queued = this.queued.get(method)?.shift()
    if (queued) {
      if (queued.body?.error === 'ratelimited') {
        this.throttled++
        this.server.counters.throttled++
      }
      return queued
    }

    // Slack takes arguments by GET or POST [W]; other verbs are not part of the Web API (answer unconfirmed).
    if (req.method !== 'GET' && req.method !== 'POST') return slackAnswer({ ok: false, error: 'invalid_post_type' }, 200, accepted)
    const parsed = this.parseArgs(req, method, spec)
    if (parsed.error) return slackAnswer({ ok: false, error: parsed.error }, 200, accepted)
    /** @type {SlackCall} */
    const call = { method, args: parsed.args, format: parsed.format, tokenVia: parsed.tokenVia, at: Date.now() }
    this.calls.push(call)
    const answer = this.answer(call, method, spec, parsed)
    call.ok = answer.body?.ok
    call.error = answer.body?.error
    if (answer.body?.ok === true && parsed.warnings.length > 0) {
      answer.body = { ...answer.body, warning: parsed.warnings.join(','), response_metadata: { warnings: parsed.warnings } }
    }
    return answer
  }

  answer(call, method, spec, parsed) {
    const accepted = { 'x-accepted-oauth-scopes': spec.scope }
    // Authentication
    if (parsed.token === undefined) return slackAnswer({ ok: false, error: 'not_authed' }, 200, accepted)
    const token = this.tokens.get(parsed.token)
    if (!token) return slackAnswer({ ok: false, error: 'invalid_auth' }, 200, accepted)
    token.uses++
    if (token.expireAfterRequests !== undefined && token.uses > token.expireAfterRequests) token.state = token.expireAs ?? 'expired'
    if (token.state === 'expired') return slackAnswer({ ok: false, error: 'token_expired' }, 200, accepted)
    if (token.state === 'revoked') return slackAnswer({ ok: false, error: 'token_revoked' }, 200, accepted)
    const headers = { ...accepted, 'x-oauth-scopes': token.scopes.join(',') }

    // Rate limit, per method (per app and org: one app here)
    const limit = this.methodLimits.get(method)
    if (limit) {
      const now = Date.now()
      while (limit.times.length > 0 && now - limit.times[0] >= limit.windowMs) limit.times.shift()
      if (limit.times.length >= limit.limit) {
        this.throttled++
        this.server.counters.throttled++
        const wait = Math.max(limit.retryAfterSeconds, Math.ceil((limit.times[0] + limit.windowMs - now) / 1000))
        const r = ratelimited(wait, 'seconds', limit.status)
        return { ...r, headers: { ...r.headers, ...headers } }
      }
      limit.times.push(now)
    }

    // Token type, admin rights, scope, plan
    if (spec.admin) {
      if (token.type !== 'user' || !token.orgLevel) return slackAnswer({ ok: false, error: 'not_allowed_token_type' }, 200, headers)
      if (!token.admin) return slackAnswer({ ok: false, error: 'not_an_admin' }, 200, headers)
    }
    if (!token.scopes.includes(spec.scope)) {
      return slackAnswer({ ok: false, error: 'missing_scope', needed: spec.scope, provided: token.scopes.join(',') }, 200, headers)
    }
    if (spec.admin && this.plan !== 'enterprise') return slackAnswer({ ok: false, error: 'feature_not_enabled' }, 200, headers)

    const n = (this.callCounts.get(method) ?? 0) + 1
    this.callCounts.set(method, n)
    for (const fn of this.hooks.get(method) ?? []) fn(call, n)

    switch (method) {
      case METHOD_RESET_BULK:
        return this.resetBulk(call, token, headers)
      case METHOD_RESET:
        return this.resetOne(call, token, headers)
      case METHOD_LOOKUP:
        return this.lookupByEmail(call, token, headers)
      default:
        return this.info(call, headers)
    }
  }

  /**
   * Arguments from the query string and the body, the token, and the body's warnings. Slack reads query
   * and POST arguments together [W]; the token only from the header or a form field.
   */
  parseArgs(req, method, spec) {
    /** @type {Record<string, unknown>} */
    const args = {}
    /** @type {string[]} */
    const warnings = []
    let format = /** @type {'none' | 'form' | 'json'} */ ('none')
    let bodyToken
    for (const [k, v] of req.query) {
      if (k === 'token') this.tokenLeaks.push({ where: 'query', method, at: Date.now() })
      else args[k] = v
    }
    if (req.bodyText !== '') {
      const ct = req.headers['content-type']
      if (typeof ct !== 'string' || ct.trim() === '') return { error: 'missing_post_type' }
      const [mimeRaw, ...params] = ct.split(';')
      const mime = mimeRaw.trim().toLowerCase()
      const charsetParam = params.map((p) => p.trim().split('=')).find(([k]) => k.toLowerCase() === 'charset')
      const charset = charsetParam?.[1]?.trim().replace(/^"|"$/g, '').toLowerCase()
      if (charset !== undefined && !CHARSETS.includes(charset)) return { error: 'invalid_charset' }
      if (mime === 'application/x-www-form-urlencoded') {
        format = 'form'
        if (charset !== undefined) warnings.push('superfluous_charset')
        for (const [k, v] of new URLSearchParams(req.bodyText)) {
          if (k === 'token') {
            bodyToken = v
            this.tokenLeaks.push({ where: 'form', method, at: Date.now() })
          } else args[k] = v
        }
      } else if (mime === 'application/json') {
        if (spec.json) {
          format = 'json'
          if (charset === undefined) warnings.push('missing_charset')
          if (req.jsonError) return { error: 'invalid_json' }
          if (req.json === null || typeof req.json !== 'object' || Array.isArray(req.json)) return { error: 'json_not_object' }
          for (const [k, v] of Object.entries(req.json)) {
            if (k === 'token') this.tokenLeaks.push({ where: 'json', method, at: Date.now() })
            else args[k] = v
          }
        }
        // Methods without JSON support do not read a JSON body (unconfirmed).
      } else if (mime !== 'text/plain') {
        return { error: 'invalid_post_type' }
      }
    }
    const bearer = bearerOf(req)
    const token = bearer ?? bodyToken
    const tokenVia = bearer !== undefined ? 'header' : bodyToken !== undefined ? 'form' : undefined
    return { args, warnings, format, token, tokenVia }
  }

  /** mobile_only/web_only -> the sessions to wipe, or an invalid_arguments answer. */
  sessionScope(args, headers) {
    const flags = {}
    for (const name of ['mobile_only', 'web_only']) {
      const v = args[name]
      if (v === undefined) continue
      const b = toBool(v)
      if (b === undefined) return { error: invalidArguments([`[ERROR] ${name} must be a boolean [json-pointer:/${name}]`], headers) }
      flags[name] = b
    }
    if (flags.mobile_only && flags.web_only) return { error: invalidArguments(['[ERROR] mobile_only and web_only cannot both be true'], headers) }
    return { scope: /** @type {SessionScope} */ (flags.mobile_only ? 'mobile' : flags.web_only ? 'web' : 'all') }
  }

  /** Why this user's sessions cannot be reset, or undefined. */
  refusal(id, token) {
    const forced = this.failUsers.get(id)
    if (forced) return forced
    const u = this.users.get(id)
    if (!u) return 'user_not_found'
    if (u.is_bot) return 'cannot_reset_bot'
    if (u.is_primary_owner && !token.primaryOwner) return 'cannot_reset_primary_owner'
    return undefined
  }

  wipe(id, scope, via, at) {
    const u = this.users.get(id)
    if (u) {
      if (scope !== 'mobile') u.sessions.web = 0
      if (scope !== 'web') u.sessions.mobile = 0
    }
    this.resets.push({ userId: id, scope, via, at })
  }

  resetBulk(call, token, headers) {
    if (this.refuseResetBulk) return slackAnswer({ ok: false, error: this.refuseResetBulk }, 200, headers)
    let ids = call.args.user_ids
    if (ids === undefined || ids === '') return invalidArguments(['[ERROR] missing required field: user_ids'], headers)
    if (typeof ids === 'string' && call.format !== 'json') {
      // Form bodies: a comma-separated list (Java/Python SDKs) or a JSON array (Node SDK, the docs' example URL).
      const text = ids.trim()
      if (text.startsWith('[')) {
        try {
          ids = JSON.parse(text)
        } catch {
          return invalidArguments(['[ERROR] user_ids must be an array of strings [json-pointer:/user_ids]'], headers)
        }
      } else ids = text.split(',').map((s) => s.trim())
      call.args.user_ids = ids
    }
    if (!Array.isArray(ids) || ids.some((v) => typeof v !== 'string'))
      return invalidArguments(['[ERROR] user_ids must be an array of strings [json-pointer:/user_ids]'], headers)
    if (ids.length === 0) return invalidArguments(['[ERROR] must provide at least 1 items [json-pointer:/user_ids]'], headers)
    if (ids.length > RESET_BULK_MAX) return invalidArguments([`[ERROR] no more than ${RESET_BULK_MAX} items allowed [json-pointer:/user_ids]`], headers)
    const bad = ids.findIndex((v) => !USER_ID.test(v))
    if (bad >= 0) return invalidArguments([`[ERROR] invalid user id '${ids[bad]}' [json-pointer:/user_ids/${bad}]`], headers)
    const { scope, error } = this.sessionScope(call.args, headers)
    if (error) return error

    /** @type {Record<string, string>} */
    const failed = {}
    const queued = []
    for (const id of ids) {
      const why = this.refusal(id, token)
      if (why) failed[id] = why
      else queued.push(id)
    }
    const at = Date.now()
    if (queued.length > 0) {
      this.jobs.push({ id: `J${randomBytes(5).toString('hex').toUpperCase()}`, userIds: queued, scope, at })
      for (const id of queued) this.wipe(id, scope, 'resetBulk', at)
    }
    if (Object.keys(failed).length > 0) {
      const body = { ok: false, error: 'failed_for_some_users' }
      if (this.partialFailureDetails === 'failed_user_ids') body.failed_user_ids = failed
      return slackAnswer(body, 200, headers)
    }
    return slackAnswer({ ok: true }, 200, headers)
  }

  resetOne(call, token, headers) {
    const id = call.args.user_id
    if (id === undefined || id === '') return invalidArguments(['[ERROR] missing required field: user_id'], headers)
    if (typeof id !== 'string') return invalidArguments(['[ERROR] user_id must be a string [json-pointer:/user_id]'], headers)
    const { scope, error } = this.sessionScope(call.args, headers)
    if (error) return error
    const why = USER_ID.test(id) ? this.refusal(id, token) : 'user_not_found'
    if (why) return slackAnswer({ ok: false, error: why }, 200, headers)
    this.wipe(id, scope, 'reset', Date.now())
    return slackAnswer({ ok: true }, 200, headers)
  }

  lookupByEmail(call, token, headers) {
    if (this.restrictLookupForOrgTokens && token.orgLevel) return slackAnswer({ ok: false, error: 'enterprise_is_restricted' }, 200, headers)
    const email = call.args.email
    if (typeof email !== 'string' || email === '') return invalidArguments(['[ERROR] missing required field: email'], headers)
    const u = this.byEmail.get(email.toLowerCase())
    if (!u || u.deleted || !this.users.has(u.id)) return slackAnswer({ ok: false, error: 'users_not_found' }, 200, headers)
    return slackAnswer({ ok: true, user: userObject(u) }, 200, headers)
  }

  info(call, headers) {
    const id = call.args.user
    if (typeof id !== 'string' || id === '') return slackAnswer({ ok: false, error: 'user_not_found' }, 200, headers)
    const u = this.users.get(id)
    if (!u) return slackAnswer({ ok: false, error: 'user_not_found' }, 200, headers)
    return slackAnswer({ ok: true, user: userObject(u) }, 200, headers)
  }
}

/** Slack's true/false spellings in form bodies; booleans in JSON. */
function toBool(v) {
  if (typeof v === 'boolean') return v
  if (v === 'true' || v === '1') return true
  if (v === 'false' || v === '0') return false
  return undefined
}

/** A Slack answer: JSON with an x-slack-req-id, HTTP 200 unless told. */
export function slackAnswer(body, status = 200, headers = {}) {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', 'x-slack-req-id': randomBytes(16).toString('hex'), ...headers }, body }
}

function invalidArguments(messages, headers) {
  return slackAnswer({ ok: false, error: 'invalid_arguments', response_metadata: { messages } }, 200, headers)
}

/** HTTP 429 (or `status`) + Retry-After + {"ok":false,"error":"ratelimited"}. */
export function ratelimited(seconds, mode = 'seconds', status = 429) {
  return slackAnswer({ ok: false, error: 'ratelimited' }, status, retryAfterHeaders(seconds, mode))
}

/** The user object as users.info / users.lookupByEmail return it (Enterprise Grid member). */
function userObject(u) {
  const team = u.team_id ?? SLACK_TEAM_ID
  const profile = {
    avatar_hash: 'g0000000000a',
    status_text: '',
    status_emoji: '',
    real_name: u.real_name,
    display_name: u.name,
    real_name_normalized: u.real_name,
    display_name_normalized: u.name,
    title: '',
    phone: '',
    skype: '',
    fields: {},
    team
  }
  if (u.email && !u.is_bot) profile.email = u.email
  const out = {
    id: u.id,
    team_id: team,
    name: u.name,
    deleted: u.deleted,
    color: '9f69e7',
    real_name: u.real_name,
    tz: 'Europe/Amsterdam',
    tz_label: 'Central European Summer Time',
    tz_offset: 7200,
    profile,
    is_admin: u.is_admin,
    is_owner: u.is_owner,
    is_primary_owner: u.is_primary_owner,
    is_restricted: u.is_restricted ?? false,
    is_ultra_restricted: u.is_ultra_restricted ?? false,
    is_bot: u.is_bot,
    is_app_user: false,
    updated: 1700000000,
    has_2fa: false,
    enterprise_user: {
      id: u.id,
      enterprise_id: SLACK_ENTERPRISE_ID,
      enterprise_name: SLACK_ENTERPRISE_NAME,
      is_admin: u.is_admin,
      is_owner: u.is_owner,
      teams: [team]
    }
  }
  return out
}
