// Slack Enterprise Grid: resets user sessions through the admin API with an org-level user token.
//   plan:    emails -> users.lookupByEmail (GET ?email=, Tier 3; users_not_found -> unresolved);
//            user ids (U…/W…) are planned as given: checking each one with users.info would cost one
//            Tier 4 call per id (about 100 a minute) where the reset costs one call per 1,000 ids, and
//            an id Slack does not know comes back from the reset as user_not_found (failed).
//   execute: admin.users.session.resetBulk, up to 1,000 ids a call -> accepted (Slack queues a job);
//            per-user failures, the re-sends that pin them down and the fallback to
//            admin.users.session.reset are in reset.ts.
// Every Slack failure is HTTP 200 {"ok":false,"error":...} (429 for rate limits): errors.ts judges the
// body, never the status. The token travels only in the Authorization header.
import { z } from 'zod'
import { InputError, ProviderRequestError } from '../../engine/errors.js'
import { staticCredentials } from '../../engine/http/auth.js'
import { choice } from '../../engine/inputs.js'
import { chunk } from '../../engine/plan.js'
import { mapConcurrent } from '../../engine/pool.js'
import { defineProvider } from '../../engine/provider.js'
import { notFound } from '../../engine/resolve.js'
import type { PlanEntry } from '../../engine/types.js'
import { FATAL_CODES, RETRYABLE_CODES, THROTTLE_CODES, failureInBody, parseError } from './errors.js'
import { RESET_BULK_MAX, SlackReset } from './reset.js'

const DEFAULT_BASE_URL = 'https://slack.com/api'
const METHOD_LOOKUP = 'users.lookupByEmail'
const ADMIN_SCOPE = 'admin.users:write'

/** Slack user ids: U… (workspace-born) or W… (Enterprise Grid), upper-case letters and digits. */
const USER_ID = /^[UW][A-Z0-9]{2,20}$/
const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/
/** User tokens: xoxp-, or xoxe.xoxp- when the app has token rotation turned on. */
const USER_TOKEN = /^(xoxp-|xoxe\.xoxp-)/

type Kind = 'user-id' | 'email'

const slackUser = z.looseObject({
  id: z.string().regex(USER_ID),
  name: z.string().nullish(),
  real_name: z.string().nullish(),
  deleted: z.boolean().nullish(),
  is_bot: z.boolean().nullish(),
  profile: z.looseObject({ email: z.string().nullish(), real_name: z.string().nullish() }).nullish()
})
type SlackUser = z.infer<typeof slackUser>
const lookupAnswer = z.looseObject({ ok: z.literal(true), user: slackUser })

function classify(target: string, targetType: string): Kind | undefined {
  const id = USER_ID.test(target)
  const email = EMAIL.test(target)
  if (targetType === 'user-id') return id ? 'user-id' : undefined
  if (targetType === 'email') return email ? 'email' : undefined
  return id ? 'user-id' : email ? 'email' : undefined
}

const TYPE_FIX: Record<string, string> = {
  auto: 'give Slack user ids (U or W followed by upper-case letters and digits, e.g. W012A3CDE) or email addresses; or set target-type',
  'user-id': 'give Slack user ids (U or W followed by upper-case letters and digits, e.g. W012A3CDE), or set target-type: email / auto',
  email: 'give email addresses (e.g. alice@example.com), or set target-type: user-id / auto'
}

function tokenProblem(token: string): string | undefined {
  const t = token.trim()
  if (USER_TOKEN.test(t)) return undefined
  if (t.startsWith('xoxb-')) return 'is a Slack bot token (xoxb-); the admin API takes only user tokens'
  if (t.startsWith('xapp-')) return 'is a Slack app-level token (xapp-); the admin API takes only user tokens'
  if (t.startsWith('xoxe-')) return 'is a Slack refresh token (xoxe-), not an access token'
  return 'is not a Slack user token (it does not start with xoxp-)'
}

export const slack = defineProvider({
  name: 'slack',
  title: 'Slack',
  inputs: {
    sessionScope: choice({
      name: 'session-scope',
      description: 'which sessions to reset: all (default), web (web_only: web sessions) or mobile (mobile_only: mobile sessions)',
      fix: 'set session-scope to all, web or mobile',
      values: ['all', 'web', 'mobile'] as const,
      default: 'all'
    })
  },
  token: {
    description:
      'org-level user token (xoxp-) of an app installed on the Enterprise Grid organization by an Org Admin or Owner, with admin.users:write (and users:read, users:read.email to resolve emails)',
    fix: "copy the User OAuth Token (xoxp-) from the app's OAuth & Permissions page after installing it on the organization"
  },
  baseUrl: { default: DEFAULT_BASE_URL },
  // Batches are resetBulk calls (at most 1,000 ids each). The rate limit is the documented floor of Tier 3
  // (users.lookupByEmail, 50+ a minute); resetBulk is Tier 2 (20+ a minute) and rarely needs more than a
  // few calls, and a 429 / ratelimited answer's Retry-After pauses every worker.
  defaults: { batchSize: RESET_BULK_MAX, concurrency: 4, rateLimit: 50, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['auto', 'user-id', 'email'],
  defaultTargetType: 'auto',
  targetTypesDescription: 'auto (default: U…/W… user ids and emails), user-id or email',
  emailTargetType: 'auto',
  acceptedNote:
    'Slack queued the session resets: admin.users.session.resetBulk answers ok when its job is queued, not when every session has ended, and gives no job id to follow. The users are signed out when the job runs. To check a user afterwards, look at their sessions in the organization admin dashboard (or admin.users.session.list).',
  http: {
    requestIdHeaders: ['x-slack-req-id'],
    parseError,
    failureInBody,
    isThrottle: (_status, e) => e.code !== undefined && THROTTLE_CODES.has(e.code),
    isFatal: (_status, e) => e.code !== undefined && FATAL_CODES.has(e.code),
    isRetryable: (_status, e) => (e.code !== undefined && RETRYABLE_CODES.has(e.code) ? true : undefined)
  },
  bindsPlan: (o) => ({ sessionScope: o.sessionScope }),

  validate({ targets, targetType, token }) {
    const problem = tokenProblem(token)
    if (problem !== undefined) {
      throw new InputError(
        'token',
        problem,
        'pass the User OAuth Token (xoxp-) of an app installed on the whole Enterprise Grid organization by an Org Admin or Owner, with the user scope admin.users:write (see docs/providers/slack.md)'
      )
    }
    for (const t of targets) {
      if (classify(t, targetType) === undefined) {
        const shown = JSON.stringify(t.slice(0, 60))
        const problemText =
          targetType === 'auto'
            ? `${shown} is neither a Slack user id (U… or W…, upper case) nor an email address`
            : `${shown} is not a valid ${targetType === 'email' ? 'email address' : 'Slack user id'}`
        throw new InputError('targets', problemText, TYPE_FIX[targetType] ?? TYPE_FIX.auto)
      }
    }
    return targets
  },

  start(ctx) {
    const base = ctx.baseUrl
    const http = ctx.http.with({ auth: staticCredentials({ authorization: `Bearer ${ctx.token}` }) })
    const reset = new SlackReset({ http, base, log: ctx.log, concurrency: ctx.concurrency, scope: ctx.options.sessionScope })
    let scopesChecked = false

    /** The scopes Slack says the token has (X-OAuth-Scopes): a dry run warns when the reset would be refused. */
    function checkScopes(headers: Headers): void {
      if (scopesChecked) return
      const granted = headers.get('x-oauth-scopes')
      if (granted === null) return
      scopesChecked = true
      const scopes = granted.split(',').map((s) => s.trim())
      if (!scopes.includes(ADMIN_SCOPE)) {
        ctx.log.warning(
          `the token's scopes (${granted || 'none'}, from Slack's X-OAuth-Scopes header) lack ${ADMIN_SCOPE}: the session reset will be refused with missing_scope. Add ${ADMIN_SCOPE} to the app's User Token Scopes and reinstall it on the organization.`
        )
      }
    }

    async function resolveEmail(email: string): Promise<PlanEntry> {
      let user: SlackUser
      try {
        const res = await http.request({
          method: 'GET',
          url: `${base}/${METHOD_LOOKUP}?${new URLSearchParams({ email })}`,
          schema: lookupAnswer,
          what: METHOD_LOOKUP
        })
        checkScopes(res.headers)
        user = res.data.user
      } catch (err) {
        if (err instanceof ProviderRequestError && err.info.code === 'users_not_found') {
          return notFound(email, 'email', 'not found in Slack', err.info, email)
        }
        throw err
      }
      const label = user.real_name || user.profile?.real_name || user.name || undefined
      const entry: PlanEntry = { id: user.id, kind: 'user-id', label, given: email, details: { email, name: user.name ?? null } }
      if (user.is_bot) return { ...entry, skip: 'a bot user: Slack does not reset bot sessions (cannot_reset_bot); nothing sent' }
      if (user.deleted) return { ...entry, skip: 'deactivated: Slack signs a member out of every device when the account is deactivated; nothing sent' }
      return entry
    }

    return {
      async plan(request) {
        const kinds = request.targets.map((t) => ({ value: t, kind: classify(t, request.targetType) }))
        const ids = kinds.filter((k) => k.kind === 'user-id').length
        if (ids > 0)
          ctx.log.info(
            `${ids} Slack user id(s) planned as given, not looked up (users.info would cost one call each); an id Slack does not know fails at execution with user_not_found`
          )
        const entries = await mapConcurrent(kinds, ctx.concurrency, async ({ value, kind }): Promise<PlanEntry> => {
          if (kind === 'user-id') return { id: value, kind: 'user-id' }
          if (kind === 'email') return resolveEmail(value)
          throw new Error(`target ${JSON.stringify(value)} passed validation but cannot be classified`)
        })
        const seen = new Map<string, PlanEntry>()
        const out: PlanEntry[] = []
        for (const e of entries) {
          const first = seen.get(e.id)
          if (first) {
            const given = (x: PlanEntry): string => String(x.details?.email ?? x.id)
            ctx.log.info(`${given(e)} is the same Slack user as ${given(first)} (${e.id}): planned once`)
            continue
          }
          seen.set(e.id, e)
          out.push(e)
        }
        return out
      },

      // resetBulk takes at most 1,000 user ids, whatever batch-size says.
      batches: (entries, batchSize) => chunk(entries, Math.min(batchSize, RESET_BULK_MAX)),

      execute: (batch) => reset.execute(batch.map((e) => e.id))
    }
  }
})
