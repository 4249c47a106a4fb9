// IPRoyal residential proxies: resets the sticky proxy sessions of (sub-)users.
// Contract: shared/seeds/000 and shared/providers.md.
//   DELETE /v1/sessions {"residential_user_hashes":[...]}   -> 2xx, no documented body
//   GET    /v1/residential-subusers?page=&per_page=&search=  -> {data:[{hash,username,...}], meta:{current_page,last_page}}
import { z } from 'zod'
import { InputError } from '../../engine/errors.js'
import { bodySnippet, type HttpResponse } from '../../engine/http/client.js'
import { staticCredentials } from '../../engine/http/auth.js'
import { defineProvider } from '../../engine/provider.js'
import { notFound, paginate } from '../../engine/resolve.js'
import type { BatchOutcome, PlanEntry, ProviderErrorInfo } from '../../engine/types.js'

const SUBUSERS_PER_PAGE = 100
const HASH_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

const subUser = z.looseObject({
  hash: z.string().regex(HASH_PATTERN),
  username: z.string().optional().nullable(),
  traffic_available: z.union([z.number(), z.string()]).optional().nullable(),
  traffic_used: z.union([z.number(), z.string()]).optional().nullable()
})
type SubUser = z.infer<typeof subUser>

const subUserPage = z.looseObject({
  data: z.array(subUser),
  meta: z.looseObject({ current_page: z.coerce.number(), last_page: z.coerce.number() })
})

/** Both documented error shapes: {"error":{"code","message"}} (422 adds detailed_messages) and {"message"}. */
const nestedError = z.looseObject({
  error: z.looseObject({ code: z.union([z.string(), z.number()]).optional(), message: z.string(), detailed_messages: z.unknown().optional() })
})
const flatError = z.looseObject({ message: z.string(), errors: z.unknown().optional() })

function withDetail(message: string, detail: unknown): string {
  return detail === undefined ? message : `${message} ${JSON.stringify(detail)}`
}

function parseError(status: number, body: unknown, text: string): ProviderErrorInfo {
  const nested = nestedError.safeParse(body)
  if (nested.success) {
    const e = nested.data.error
    return { status, code: e.code === undefined ? undefined : String(e.code), message: withDetail(e.message, e.detailed_messages) }
  }
  const flat = flatError.safeParse(body)
  if (flat.success) return { status, message: withDetail(flat.data.message, flat.data.errors) }
  return { status, message: bodySnippet(text) }
}

export const iproyal = defineProvider({
  name: 'iproyal',
  title: 'IPRoyal',
  inputs: {},
  token: { description: 'API token', fix: 'copy the API token from the IPRoyal dashboard (Settings > API)' },
  baseUrl: { default: 'https://resi-api.iproyal.com/v1' },
  defaults: { batchSize: 100, concurrency: 4, rateLimit: 120, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['user-hash', 'username'],
  defaultTargetType: 'user-hash',
  targetTypesDescription: 'user-hash (default) or username',
  filter: {
    mode: 'select',
    requireNonEmpty: true,
    example: 'search=team-a',
    keys: {
      search: (v) => (v.length === 0 ? 'is empty' : v.length > 200 ? 'is longer than 200 characters' : undefined)
    }
  },
  http: { requestIdHeaders: ['x-request-id', 'cf-ray'], parseError },

  validate({ targets, targetType }) {
    if (targetType === 'user-hash') {
      for (const t of targets) {
        if (!HASH_PATTERN.test(t)) {
          throw new InputError(
            'targets',
            `${JSON.stringify(t.slice(0, 60))} is not a user hash (letters, digits, - and _ only)`,
            'list residential user hashes, or set target-type: username to give usernames'
          )
        }
      }
    }
    return targets
  },

  start(ctx) {
    const base = ctx.baseUrl
    const http = ctx.http.with({ auth: staticCredentials({ authorization: `Bearer ${ctx.token}` }) })

    async function listSubUsers(search: string | undefined, limit?: number): Promise<SubUser[]> {
      const { items } = await paginate<SubUser>({
        what: 'the IPRoyal sub-user list',
        key: (u) => u.hash,
        maxItems: limit,
        fetchPage: async (cursor) => {
          const page = cursor ?? '1'
          const query = new URLSearchParams({ page, per_page: String(SUBUSERS_PER_PAGE) })
          if (search !== undefined) query.set('search', search)
          const res: HttpResponse<z.infer<typeof subUserPage>> = await http.request({
            method: 'GET',
            url: `${base}/residential-subusers?${query}`,
            schema: subUserPage,
            what: 'the sub-user list'
          })
          const { data, meta } = res.data
          return { items: data, next: Number(page) < meta.last_page ? String(Number(page) + 1) : undefined }
        }
      })
      return items
    }

    const describe = (u: SubUser): PlanEntry => ({
      id: u.hash,
      kind: 'user-hash',
      label: u.username ?? undefined,
      details: { username: u.username ?? null, traffic_available: u.traffic_available ?? null }
    })

    return {
      async plan(request) {
        if (request.filter !== undefined) {
          // The resolver stops one past max-targets: the guard then refuses the plan.
          return (await listSubUsers(request.filter.search, ctx.maxTargets)).map(describe)
        }
        if (request.targetType === 'user-hash') {
          return request.targets.map((hash) => ({ id: hash, kind: 'user-hash' }))
        }
        const byName = new Map<string, SubUser>()
        for (const u of await listSubUsers(undefined)) if (u.username) byName.set(u.username, u)
        return request.targets.map((name) => {
          const u = byName.get(name)
          return u ? { ...describe(u), given: name } : notFound(name, 'username', `no sub-user named ${JSON.stringify(name)}`, undefined, name)
        })
      },

      async execute(batch): Promise<BatchOutcome[]> {
        // No response body is documented: an empty body or a JSON one is success, anything else (an HTML page) is not.
        const res = await http.request({
          method: 'DELETE',
          url: `${base}/sessions`,
          json: { residential_user_hashes: batch.map((e) => e.id) },
          body: 'json-or-empty',
          what: 'DELETE /sessions'
        })
        const reported = parseError(res.status, res.body, res.safeText)
        if (
          res.body !== undefined &&
          res.body !== null &&
          typeof res.body === 'object' &&
          ('error' in res.body || (res.body as { success?: unknown }).success === false)
        ) {
          // A 2xx whose body says failure is a failure.
          return batch.map((e) => ({
            id: e.id,
            outcome: 'failed',
            error: {
              ...reported,
              message: `the reset answered HTTP ${res.status} but its body reports an error: ${reported.message}`,
              requestId: res.requestId
            },
            attempts: res.attempts
          }))
        }
        return batch.map((e) => ({ id: e.id, outcome: 'terminated', reason: 'sessions reset', requestId: res.requestId, attempts: res.attempts }))
      }
    }
  }
})
