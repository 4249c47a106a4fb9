// How Google's answers are read: the JSON API error body of the Directory API, the OAuth error body of the
// token endpoint, and which failures are quota (retried as throttling), which can never succeed (the run
// stops) and which belong to one target.
//
//   Directory API: {"error":{"code":403,"message":"...","errors":[{"message","domain","reason"}],"status","details":[ErrorInfo]}}
//   Token endpoint (RFC 6749): {"error":"invalid_grant","error_description":"Invalid JWT Signature."}
import { z } from 'zod'
import { bodySnippet } from '../../engine/http/client.js'
import type { ProviderErrorInfo } from '../../engine/types.js'

const AUTH = 'https://www.googleapis.com/auth/'
export const SCOPES = {
  /** users.signOut, tokens.list, tokens.delete (the discovery document lists no other scope for them). */
  userSecurity: `${AUTH}admin.directory.user.security`,
  /** users.get and users.list (user.security is not accepted by them). */
  userReadonly: `${AUTH}admin.directory.user.readonly`,
  /** members.list (groups.get would need group.readonly; the provider never calls it). */
  groupMemberReadonly: `${AUTH}admin.directory.group.member.readonly`
} as const

/** Quota refusals (developers.google.com/admin-sdk/directory/v1/limits): slow down and retry. */
const QUOTA_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'quotaExceeded'])

/** The scope a Directory method needs, by the backend method name Google puts in ErrorInfo.metadata.method. */
const SCOPE_OF_METHOD: Record<string, string> = {
  'DirectoryUsers.Get': SCOPES.userReadonly,
  'DirectoryUsers.List': SCOPES.userReadonly,
  'DirectoryUsers.SignOut': SCOPES.userSecurity,
  'DirectoryTokens.List': SCOPES.userSecurity,
  'DirectoryTokens.Delete': SCOPES.userSecurity,
  'DirectoryMembers.List': SCOPES.groupMemberReadonly
}

const errorItem = z.looseObject({ reason: z.string().optional(), message: z.string().optional(), domain: z.string().optional() })
const errorInfo = z.looseObject({ reason: z.string().optional(), metadata: z.record(z.string(), z.unknown()).optional() })
const googleError = z.looseObject({
  error: z.looseObject({
    code: z.coerce.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    errors: z.array(errorItem).optional(),
    details: z.array(z.unknown()).optional()
  })
})
const oauthError = z.looseObject({ error: z.string(), error_description: z.string().optional().nullable() })

/** The backend method an ErrorInfo detail names (ccc.hosted.frontend.directory.v1.DirectoryUsers.Get -> DirectoryUsers.Get). */
function methodOf(details: unknown[] | undefined): string | undefined {
  for (const d of details ?? []) {
    const info = errorInfo.safeParse(d)
    const method = info.success ? info.data.metadata?.method : undefined
    if (typeof method === 'string') return method.split('.').slice(-2).join('.')
  }
  return undefined
}

export function parseError(status: number, body: unknown, text: string): ProviderErrorInfo {
  const g = googleError.safeParse(body)
  if (g.success) {
    const e = g.data.error
    const reason = e.errors?.find((x) => x.reason !== undefined)?.reason ?? e.status
    let message = e.message ?? e.errors?.[0]?.message ?? bodySnippet(text)
    if (status === 401) {
      message +=
        ' — the access token is invalid or has expired (a token minted by google-github-actions/auth for domain-wide delegation lasts at most 1 hour: mint it in the same job, just before this step)'
    } else if (reason === 'insufficientPermissions') {
      const scope = SCOPE_OF_METHOD[methodOf(e.details) ?? '']
      message += ` — the access token lacks ${scope ?? 'a scope this run needs'}: authorize it for the service account's client id in the Admin console (Security > Access and data control > API controls > Domain-wide delegation), and with a pre-minted token list it in access_token_scopes`
    } else if (reason === 'accessNotConfigured' || reason === 'SERVICE_DISABLED') {
      message += ' — enable the Admin SDK API in the Google Cloud project of the service account'
    }
    return { status, code: reason, message }
  }
  const o = oauthError.safeParse(body)
  if (o.success) return { status, code: o.data.error, message: o.data.error_description ?? o.data.error }
  if (status === 404 && /<html/i.test(text))
    return {
      status,
      code: 'not-found',
      message: `${bodySnippet(text.replace(/<[^>]*>/g, ' '))} — no such API path: check base-url (default https://admin.googleapis.com)`
    }
  return { status, message: bodySnippet(text) }
}

/** Google's quota answers: 403 userRateLimitExceeded / quotaExceeded, 429 rateLimitExceeded (and a 403 of it). */
export function isThrottle(status: number, error: ProviderErrorInfo): boolean {
  return (status === 403 || status === 429) && error.code !== undefined && QUOTA_REASONS.has(error.code)
}

/** Failures that no other request of the run can escape: a missing scope, the API not enabled. */
export function isFatal(status: number, error: ProviderErrorInfo): boolean {
  return status === 403 && (error.code === 'insufficientPermissions' || error.code === 'accessNotConfigured' || error.code === 'SERVICE_DISABLED')
}

export function isRetryable(status: number, error: ProviderErrorInfo): boolean | undefined {
  if (isThrottle(status, error)) return true
  // Bad input, a refused privilege, a missing user: a retry answers the same.
  if (status === 400 || status === 403 || status === 404 || status === 409 || status === 412) return false
  return undefined
}

/** A 403 "Not Authorized to access this resource/api": the admin behind the token may not do this (to this user). */
export function isForbidden(error: ProviderErrorInfo): boolean {
  return error.status === 403 && error.code === 'forbidden'
}

/** What to grant when the impersonated admin is refused (reason `forbidden`). */
export const ADMIN_ROLE_HINT =
  'the admin the token acts as (subject, or access_token_subject) must be a Google Workspace administrator: a super admin, or an admin role with the Admin API privileges over users (Users: Read, and the privilege to manage their security settings) for the organizational units of the targets'
