// How Slack answers failures: HTTP 200 {"ok":false,"error":"<code>", ...} for nearly everything, HTTP
// 429 + Retry-After {"ok":false,"error":"ratelimited"} when a method's rate limit is hit. The code is
// the only reliable part of the answer, so every rule below is keyed on it, never on the status.
// Sources: the method pages (docs.slack.dev/reference/methods/<method>) and their error tables, and
// docs.slack.dev/apis/web-api (the ok/error envelope); see docs/providers/slack.md.
import { bodySnippet } from '../../engine/http/client.js'
import type { ProviderErrorInfo } from '../../engine/types.js'

/** resetBulk's partial answer: some users failed, the others were queued (see reset.ts). Not a failure of the call. */
export const PARTIAL = 'failed_for_some_users'

/** The run cannot succeed with this token: stop at once and say what to change. */
export const FATAL_CODES = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'not_allowed_token_type',
  'missing_scope',
  'not_an_admin',
  'ekm_access_denied',
  'two_factor_setup_required',
  'enterprise_is_restricted',
  'team_access_not_granted'
])

/** Slack throttling in the body (HTTP 429 is a throttle whatever the body says). */
export const THROTTLE_CODES = new Set(['ratelimited', 'rate_limited'])

/**
 * Transient failures on Slack's side. Repeating a session reset or a lookup is harmless (a user
 * signed out twice is signed out), so these are retried like a 5xx.
 */
export const RETRYABLE_CODES = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'])

/**
 * resetBulk refused as a method (the plan, an org policy, the method not offered to this token),
 * while admin.users.session.reset may still work: the provider falls back to it. Which code Slack
 * uses for "resetBulk is not available here" is unconfirmed; these are the candidates of its error
 * table. A plan that lacks the feature refuses reset too; the fallback then stops the run.
 */
export const FALLBACK_CODES = new Set(['feature_not_enabled', 'unknown_method', 'restricted_action', 'method_deprecated'])

/**
 * Codes that blame one or more of the users of a resetBulk call, not the call: the batch is split
 * until the users are found (see reset.ts).
 */
export const BLAME_CODES = new Set([
  PARTIAL,
  'user_not_found',
  'cannot_reset_bot',
  'cannot_reset_primary_owner',
  'session_reset_not_allowed',
  'user_session_reset_failed',
  'invalid_arguments'
])

const EXPLAIN: Record<string, string> = {
  not_authed: 'Slack received no token: pass the org-level user token (xoxp-) in token',
  invalid_auth: 'Slack did not accept the token: check the secret passed as token (an org-level user token, xoxp-)',
  account_inactive:
    'the user who installed the app is deactivated: reinstall the app on the organization as an active Org Admin or Owner and use the new token',
  token_revoked: 'the token was revoked (the app was uninstalled or its installer removed): reinstall the app on the organization and use the new token',
  token_expired: 'the token has expired (token rotation is on for this app): pass a fresh access token',
  no_permission: 'the token is not allowed to call this method',
  not_allowed_token_type:
    'this method needs the user token (xoxp-) of an app installed on the whole Enterprise Grid organization by an Org Admin or Owner; a bot token or the token of a single-workspace install is refused',
  not_an_admin:
    'the user who installed the app is not an Org Admin or Owner: have an Org Admin or Owner install the app on the organization and use that token',
  ekm_access_denied: 'Enterprise Key Management denied access to the data',
  two_factor_setup_required: 'the installing user must set up two-factor authentication',
  enterprise_is_restricted: 'users.lookupByEmail cannot be called with this org-level token: give Slack user ids (U…/W…) instead of emails',
  team_access_not_granted: 'the token has no access to the workspace this user belongs to',
  ratelimited: 'Slack is rate limiting this method (Retry-After)',
  rate_limited: 'Slack is rate limiting this method',
  feature_not_enabled: 'this method is not available for this Slack plan (session reset needs Enterprise Grid)',
  unknown_method: 'Slack does not offer this method to this token',
  restricted_action: 'an organization policy prevents this action',
  method_deprecated: 'Slack has deprecated this method',
  users_not_found: 'no active user has this email (a deactivated member is not found, and is already signed out)',
  user_not_found: 'no Slack user has this id',
  cannot_reset_bot: 'Slack cannot reset the sessions of a bot user',
  cannot_reset_primary_owner: "only the Primary Owner can reset the Primary Owner's sessions",
  session_reset_not_allowed: "Slack does not allow resetting this user's sessions (its docs: only the Primary Owner can reset the Primary Owner's sessions)",
  user_session_reset_failed: "Slack failed to reset this user's sessions",
  failed_for_some_users: 'Slack reset the sessions of some users of the call and not of others',
  invalid_arguments: 'Slack refused the arguments',
  internal_error: 'Slack failed on its side (transient); part of the operation may have taken effect',
  fatal_error: 'Slack failed on its side; part of the operation may have taken effect',
  service_unavailable: 'Slack is unavailable'
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Slack's error envelope into status, code and a message that says what to do about it. */
export function parseError(status: number, body: unknown, text: string): ProviderErrorInfo {
  if (!isRecord(body) || typeof body.error !== 'string') return { status, message: bodySnippet(text) }
  const code = body.error
  let message = EXPLAIN[code] ?? `Slack answered ok: false with error ${code}`
  if (code === 'missing_scope') {
    const needed = typeof body.needed === 'string' ? body.needed : undefined
    const provided = typeof body.provided === 'string' ? body.provided : undefined
    message = needed
      ? `the token lacks the scope ${needed}${provided !== undefined ? ` (it has: ${provided || 'none'})` : ''}: add ${needed} to the app's User Token Scopes, reinstall the app on the organization, and pass the new token`
      : "the token lacks a scope this method needs: add it to the app's User Token Scopes and reinstall the app on the organization"
  }
  const meta = isRecord(body.response_metadata) ? body.response_metadata : undefined
  const details = Array.isArray(meta?.messages) ? meta.messages.filter((m): m is string => typeof m === 'string') : []
  if (details.length > 0) message += ` (${details.slice(0, 3).join('; ').slice(0, 300)})`
  return { status, code, message }
}

/** A 2xx whose body says ok: false is a failure, except resetBulk's partial answer (read by reset.ts). */
export function failureInBody(status: number, body: unknown): ProviderErrorInfo | undefined {
  if (!isRecord(body) || body.ok !== false || body.error === PARTIAL) return undefined
  return parseError(status, body, '')
}

/** The per-user detail of a failed_for_some_users answer: user id -> error code (unconfirmed shape, read liberally). */
export function failedUsers(answer: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>()
  const raw = answer.failed_user_ids
  if (isRecord(raw)) {
    for (const [id, v] of Object.entries(raw)) {
      const code = typeof v === 'string' ? v : isRecord(v) && typeof v.error === 'string' ? v.error : PARTIAL
      out.set(id, code)
    }
  } else if (Array.isArray(raw)) {
    for (const v of raw) {
      if (typeof v === 'string') out.set(v, PARTIAL)
      else if (isRecord(v)) {
        const id = typeof v.user_id === 'string' ? v.user_id : typeof v.id === 'string' ? v.id : undefined
        if (id !== undefined) out.set(id, typeof v.error === 'string' ? v.error : PARTIAL)
      }
    }
  }
  return out
}

/** The explanation of a per-user code, for outcomes built from a partial answer. */
export function explain(code: string): string {
  return EXPLAIN[code] ?? `Slack answered error ${code} for this user`
}
