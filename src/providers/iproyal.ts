import { z } from 'zod'
import { InputError } from '../engine/errors.js'
import { bodySnippet } from '../engine/http.js'
import type { BatchOutcome, PlanEntry, Provider, ProviderContext, ProviderErrorInfo, TargetRequest } from '../engine/types.js'

const SUBUSERS_PER_PAGE = 100
/** 1,000,000 sub-users: past that the server is assumed to be looping. */
const MAX_PAGES = 10_000
const HASH_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

const subUser = z.looseObject({
  hash: z.string(),
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

export const iproyal: Provider = {
  name: 'iproyal',
  title: 'IPRoyal',
  defaultBaseUrl: 'https://resi-api.iproyal.com/v1',
  defaults: { batchSize: 100, concurrency: 4, rateLimit: 120, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['user-hash', 'username'],
  defaultTargetType: 'user-hash',
  filter: {
    mode: 'select',
    requireNonEmpty: true,
    keys: {
      search: (v) => (v.length === 0 ? 'is empty' : v.length > 200 ? 'is longer than 200 characters' : undefined)
    }
  },
  requestIdHeaders: ['x-request-id', 'cf-ray'],
  parseError,

  validate({ targets, targetType }) {
    if (targetType === 'user-hash') {
      for (const t of targets) {
        if (!HASH_PATTERN.test(t)) {
          throw new InputError('targets', `${JSON.stringify(t)} is not a user hash (letters, digits, - and _ only)`, 'list residential user hashes, or set target-type: username to give usernames')
        }
      }
    }
    return targets
  },

  start(ctx: ProviderContext) {
    const base = ctx.options.baseUrl ?? 'https://resi-api.iproyal.com/v1'
    const auth = { authorization: `Bearer ${ctx.token}` }

    async function listSubUsers(search?: string, limit = Number.POSITIVE_INFINITY): Promise<SubUser[]> {
      const out: SubUser[] = []
      const seen = new Set<string>()
      for (let page = 1; ; page++) {
        if (page > MAX_PAGES) throw new Error(`IPRoyal kept paging past ${MAX_PAGES} pages of sub-users; stopping`)
        const query = new URLSearchParams({ page: String(page), per_page: String(SUBUSERS_PER_PAGE) })
        if (search !== undefined) query.set('search', search)
        const res = await ctx.http.request({ method: 'GET', url: `${base}/residential-subusers?${query}`, headers: auth, expectJson: true })
        const parsed = subUserPage.safeParse(res.body)
        if (!parsed.success) throw new Error(`unexpected sub-user list from IPRoyal: ${parsed.error.issues[0]?.message ?? 'bad shape'}`)
        const fresh = parsed.data.data.filter((u) => !seen.has(u.hash))
        if (parsed.data.data.length > 0 && fresh.length === 0) throw new Error(`IPRoyal returned sub-user page ${page} with nothing new; stopping rather than looping`)
        for (const u of fresh) seen.add(u.hash)
        out.push(...fresh)
        if (out.length > limit || page >= parsed.data.meta.last_page || parsed.data.data.length === 0) return out
      }
    }

    const describe = (u: SubUser): PlanEntry => ({
      id: u.hash,
      kind: 'user-hash',
      label: u.username ?? undefined,
      details: { username: u.username ?? null, traffic_available: u.traffic_available ?? null }
    })

    return {
      async plan(request: TargetRequest): Promise<PlanEntry[]> {
        if (request.filter !== undefined) {
          // The resolver may stop one page past max-targets: the guard then refuses the plan.
          return (await listSubUsers(request.filter.search, ctx.maxTargets)).map(describe)
        }
        if (request.targetType === 'user-hash') {
          return request.targets.map((hash) => ({ id: hash, kind: 'user-hash' }))
        }
        const byName = new Map<string, SubUser>()
        for (const u of await listSubUsers()) if (u.username) byName.set(u.username, u)
        return request.targets.map((name) => {
          const u = byName.get(name)
          return u ? describe(u) : { id: name, kind: 'username', label: name, skip: `no sub-user named ${JSON.stringify(name)}` }
        })
      },

      async execute(batch: PlanEntry[]): Promise<BatchOutcome[]> {
        const res = await ctx.http.request({
          method: 'DELETE',
          url: `${base}/sessions`,
          headers: auth,
          json: { residential_user_hashes: batch.map((e) => e.id) }
        })
        return batch.map((e) => ({ id: e.id, outcome: 'terminated', reason: 'sessions reset', requestId: res.requestId, attempts: res.attempts }))
      }
    }
  }
}
