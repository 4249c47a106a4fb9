// Microsoft Entra ID: revokes users' sign-in sessions through Microsoft Graph
// (POST /users/{id}/revokeSignInSessions: every refresh token and browser session cookie the tenant
// issued to the user stops working, so Microsoft 365 and every app that signs in through Entra asks the
// user to sign in again; user-revokesigninsessions.md). Facts and sources: docs/providers/entra.md.
//
// Plan (read-only): user ids and user principal names are looked up 20 to a $batch
// (GET /users/{ref}?$select=id,userPrincipalName,displayName,accountEnabled,userType); groups are read
// in the same batches, then every user among their transitive members is listed
// (GET /groups/{id}/transitiveMembers/microsoft.graph.user, 999 a page, @odata.nextLink); a filter lists
// GET /users?$filter=… the same way. Unknown users and groups are skipped with Graph's error, never sent.
// External (guest) users are skipped: the revoke does not reach users who sign in through their home tenant.
//
// Execute: one $batch of up to 20 revokes per batch, each item judged by its own status: 200 {"value":
// true} or 204 (the documented known issue) -> terminated; 429/5xx -> that item alone is sent again
// after its Retry-After; anything else -> failed with Graph's code, message and request id.
//
// Paths are sent namespace-qualified (microsoft.graph.revokeSignInSessions), as Microsoft's published
// OpenAPI description writes them; Graph accepts both forms.
import { InputError, ProviderRequestError, unexpectedResponse } from '../../engine/errors.js'
import type { Http } from '../../engine/http/client.js'
import { text } from '../../engine/inputs.js'
import { chunk } from '../../engine/plan.js'
import { mapConcurrent } from '../../engine/pool.js'
import { defineProvider } from '../../engine/provider.js'
import { notFound, paginate } from '../../engine/resolve.js'
import type { BatchOutcome, DetailValue, PlanEntry } from '../../engine/types.js'
import { graphToken } from './auth.js'
import {
  BATCH_LIMIT,
  graphGroup,
  graphUser,
  itemError,
  parseError,
  sendBatch,
  stoppedError,
  userPage,
  type BatchItem,
  type GraphUser,
  type ItemAnswer
} from './graph.js'

const DEFAULT_BASE_URL = 'https://graph.microsoft.com/v1.0'
const DEFAULT_AUTH_BASE_URL = 'https://login.microsoftonline.com'
const USER_SELECT = 'id,userPrincipalName,displayName,accountEnabled,userType'
/** $top allows 1 to 999 on users and member lists. */
const MAX_PAGE = 999
const GROUP_PREFIX = 'group:'
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** A verified domain: labels of letters, digits and hyphens, at least one dot. */
const DOMAIN = /^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i
/** A UPN as a target: something@something, no whitespace, nothing that would change the request path. */
const UPN = /^[^\s/\\?@]+@[^\s/\\?@]+$/
const MAX_FILTER = 2048

const PERMISSION_FIX: Record<string, string> = {
  revoke: 'grant the app the Microsoft Graph application permission User.RevokeSessions.All, with admin consent',
  users: 'grant the app the Microsoft Graph application permission User.Read.All, with admin consent',
  groups: 'grant the app the Microsoft Graph application permission GroupMember.Read.All, with admin consent'
}

type Kind = 'user-id' | 'user-principal-name' | 'group-id'

/** A path segment: percent-encoded, `@` kept as Graph's documentation writes a UPN (a guest's `#EXT#` becomes `%23EXT%23`). */
function segment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, '@')
}

function classify(target: string, targetType: string): { kind: Kind; value: string } | undefined {
  const group = target.toLowerCase().startsWith(GROUP_PREFIX) ? target.slice(GROUP_PREFIX.length).trim() : undefined
  switch (targetType) {
    case 'user-id':
      return GUID.test(target) ? { kind: 'user-id', value: target.toLowerCase() } : undefined
    case 'user-principal-name':
      return UPN.test(target) ? { kind: 'user-principal-name', value: target } : undefined
    case 'group-id': {
      const id = group ?? target
      return GUID.test(id) ? { kind: 'group-id', value: id.toLowerCase() } : undefined
    }
    default: // auto
      if (group !== undefined) return GUID.test(group) ? { kind: 'group-id', value: group.toLowerCase() } : undefined
      if (GUID.test(target)) return { kind: 'user-id', value: target.toLowerCase() }
      if (UPN.test(target)) return { kind: 'user-principal-name', value: target }
      return undefined
  }
}

const TYPE_FIX: Record<string, string> = {
  auto: 'give user object ids (GUIDs), user principal names (alice@contoso.com) or group:<group object id>; or set target-type',
  'user-id': 'give user object ids (GUIDs such as 3f2c7e1a-9b4d-4c8e-a1f0-6d5b2e9c7a10), or set target-type: user-principal-name / auto',
  'user-principal-name': 'give user principal names (alice@contoso.com), or set target-type: user-id / auto for object ids',
  'group-id': 'give group object ids (GUIDs), as shown in the Entra admin center under Groups > Overview'
}

/** Checks an OData $filter before it is sent: closed quotes (a quote inside a string is doubled) and balanced parentheses. */
function filterProblem(v: string): string | undefined {
  if (v === '') return 'is empty'
  if (v.length > MAX_FILTER) return `is longer than ${MAX_FILTER} characters`
  let depth = 0
  let quoted = false
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]
    if (quoted) {
      if (ch === "'" && v[i + 1] === "'") i++
      else if (ch === "'") quoted = false
    } else if (ch === "'") quoted = true
    else if (ch === '(') depth++
    else if (ch === ')' && --depth < 0) return 'has a ) without its ('
  }
  if (quoted) return "has a string without its closing ' (write a quote inside a string as '')"
  if (depth !== 0) return 'has a ( without its )'
  return undefined
}

function isGuest(u: GraphUser): boolean {
  return (u.userType ?? '').toLowerCase() === 'guest'
}

const GUEST_SKIP =
  "external (guest) user: revokeSignInSessions does not revoke the sessions of users who sign in through their home tenant (Graph documentation); nothing sent. End them in the user's home tenant, or remove the guest"

export const entra = defineProvider({
  name: 'entra',
  title: 'Microsoft Entra ID',
  inputs: {
    tenantId: text({
      name: 'tenant-id',
      description: 'the directory (tenant) id, or a verified domain of the tenant (contoso.onmicrosoft.com)',
      fix: "copy the Directory (tenant) ID from the app registration's Overview in the Entra admin center",
      required: true,
      pattern: new RegExp(`${GUID.source}|${DOMAIN.source}`, 'i'),
      problem: 'is neither a tenant id (a GUID) nor a domain name such as contoso.onmicrosoft.com'
    }),
    clientId: text({
      name: 'client-id',
      description: 'the Application (client) id of the app registration the action signs in as',
      fix: "copy the Application (client) ID from the app registration's Overview in the Entra admin center",
      required: true,
      pattern: GUID,
      problem: 'is not an application (client) id (a GUID)'
    })
  },
  token: {
    description: 'a client secret of the app registration; empty: keyless, through a GitHub OIDC federated credential',
    fix: "pass a client secret's Value from the app registration (Certificates & secrets), or leave token empty for keyless sign-in",
    optional: true
  },
  baseUrl: { default: DEFAULT_BASE_URL },
  authBaseUrl: { default: DEFAULT_AUTH_BASE_URL, description: 'the Microsoft identity platform host (POST /{tenant}/oauth2/v2.0/token)' },
  // 60 $batch requests a minute carry at most 1,200 Graph requests: the documented write quota per app
  // and tenant is 3,000 per 150 s (throttling-limits.md, identity and access). Raise it for reads-heavy
  // runs on large tenants; Graph's per-item 429s are honoured either way.
  defaults: { batchSize: BATCH_LIMIT, concurrency: 4, rateLimit: 60, maxRetries: 5, timeoutSeconds: 30 },
  targetTypes: ['auto', 'user-id', 'user-principal-name', 'group-id'],
  defaultTargetType: 'auto',
  emailTargetType: 'auto',
  targetTypesDescription:
    'auto (default: a GUID is a user object id, anything with @ a user principal name, group:<id> a group), user-id, user-principal-name or group-id (every user among its transitive members)',
  filter: {
    mode: 'select',
    requireNonEmpty: true,
    example: "$filter=department eq 'Sales'",
    keys: { $filter: filterProblem }
  },
  http: { requestIdHeaders: ['request-id', 'x-ms-request-id', 'client-request-id'], parseError },
  bindsPlan: (o) => ({ tenant: o.tenantId.toLowerCase() }),

  validate({ targets, targetType, token }) {
    if (GUID.test(token.trim())) {
      throw new InputError(
        'token',
        'looks like the Secret ID of a client secret (a GUID), not its Value',
        "pass the client secret's Value, shown once when the secret is created under Certificates & secrets, or leave token empty for keyless sign-in"
      )
    }
    return targets.map((t) => {
      const c = classify(t, targetType)
      if (c === undefined) {
        const problem =
          targetType === 'auto'
            ? `${JSON.stringify(t.slice(0, 60))} is neither a user object id (a GUID) nor a user principal name (contains @)`
            : `${JSON.stringify(t.slice(0, 60))} is not a valid ${targetType}`
        throw new InputError('targets', problem, TYPE_FIX[targetType] ?? TYPE_FIX.auto)
      }
      return c.kind === 'group-id' ? `${GROUP_PREFIX}${c.value}` : c.value
    })
  },

  start(ctx) {
    const base = ctx.baseUrl
    const baseOrigin = new URL(base).origin
    const http: Http = ctx.http.with({ auth: graphToken(ctx) })
    const batchOptions = (what: string) => ({ http, baseUrl: base, maxRetries: ctx.maxRetries, random: ctx.random, now: () => ctx.clock.now(), what })

    const userEntry = (u: GraphUser, extra: Record<string, DetailValue> = {}): PlanEntry => {
      const id = u.id.toLowerCase()
      const details: Record<string, DetailValue> = { userPrincipalName: u.userPrincipalName ?? null, accountEnabled: u.accountEnabled ?? null, ...extra }
      if (isGuest(u)) details.userType = u.userType ?? 'Guest'
      return { id, kind: 'user-id', label: u.displayName ?? u.userPrincipalName ?? undefined, details, ...(isGuest(u) ? { skip: GUEST_SKIP } : {}) }
    }

    /** A lookup item that failed for good: a reason to stop planning (permissions, throttling past the budget). */
    function lookupFailure(a: ItemAnswer, what: 'users' | 'groups'): ProviderRequestError {
      const fix = a.status === 403 ? PERMISSION_FIX[what] : undefined
      return new ProviderRequestError(itemError(a, fix), a.attempts)
    }

    /** Every listed user and group, 20 to a $batch. Unknown ones come back as Graph's error. */
    async function lookUp(refs: { kind: Kind; value: string }[]): Promise<Map<string, { found: unknown } | { missing: ItemAnswer }>> {
      const out = new Map<string, { found: unknown } | { missing: ItemAnswer }>()
      const keyOf = (r: { kind: Kind; value: string }): string => `${r.kind === 'group-id' ? 'g' : 'u'}:${r.value.toLowerCase()}`
      const unique = [...new Map(refs.map((r) => [keyOf(r), r])).values()]
      await mapConcurrent(chunk(unique, BATCH_LIMIT), ctx.concurrency, async (part) => {
        const items: BatchItem[] = part.map((r) =>
          r.kind === 'group-id'
            ? { method: 'GET', url: `/groups/${segment(r.value)}?$select=id,displayName` }
            : { method: 'GET', url: `/users/${segment(r.value)}?$select=${USER_SELECT}` }
        )
        const result = await sendBatch(items, batchOptions(`${part.length} lookups`))
        if (result.stopped) throw result.stopped.error
        part.forEach((r, i) => {
          const a = result.answers[i]
          if (a === undefined) throw new Error(`lookup ${i + 1} of a $batch has no outcome`)
          const what = r.kind === 'group-id' ? 'groups' : 'users'
          if (a.status === 200) {
            const parsed = (r.kind === 'group-id' ? graphGroup : graphUser).safeParse(a.body)
            if (!parsed.success)
              throw unexpectedResponse(
                200,
                `the lookup of ${r.value} answered outside the documented shape: ${parsed.error.issues[0]?.message ?? 'bad shape'}`,
                a.requestId
              )
            out.set(keyOf(r), { found: parsed.data })
          } else if (a.status === 404 || a.status === 400) {
            // 404 Request_ResourceNotFound; 400 for a key Graph cannot read as an id or a UPN.
            out.set(keyOf(r), { missing: a })
          } else {
            throw lookupFailure(a, what)
          }
        })
      })
      return out
    }

    /** Pages through a user list (a filter or a group's members), following @odata.nextLink on Graph's own host only. */
    async function listUsers(first: string, what: string, headers: Record<string, string> = {}, onMissing?: () => void): Promise<GraphUser[]> {
      const { items } = await paginate<GraphUser>({
        what,
        key: (u) => u.id.toLowerCase(),
        maxItems: ctx.maxTargets,
        fetchPage: async (cursor) => {
          const url = cursor ?? first
          if (new URL(url).origin !== baseOrigin) {
            throw new ProviderRequestError(
              {
                code: 'paging',
                message: `${what}: @odata.nextLink points at ${new URL(url).origin}, not at base-url's host ${baseOrigin}; not following it (the bearer token would go there)`
              },
              1
            )
          }
          const res = await http.request({ method: 'GET', url, headers, schema: userPage, what, pass: onMissing ? [404] : undefined })
          if (res.status === 404) {
            onMissing?.()
            return { items: [] }
          }
          return { items: res.data.value, next: res.data['@odata.nextLink'] ?? undefined }
        }
      })
      return items
    }

    async function groupMembers(id: string, name: string): Promise<GraphUser[] | undefined> {
      let gone = false
      const top = Math.max(1, Math.min(MAX_PAGE, ctx.maxTargets + 1))
      const users = await listUsers(
        `${base}/groups/${segment(id)}/transitiveMembers/microsoft.graph.user?$select=${USER_SELECT}&$top=${top}`,
        `the transitive members of group ${name}`,
        {},
        () => {
          gone = true
        }
      )
      return gone ? undefined : users
    }

    /** A filter's users. Graph needs its advanced query parameters for some operators (ne, not, endsWith): asked for only when Graph says so. */
    async function filterUsers(filter: string): Promise<GraphUser[]> {
      const top = Math.max(1, Math.min(MAX_PAGE, ctx.maxTargets + 1))
      const url = (advanced: boolean) =>
        `${base}/users?$filter=${encodeURIComponent(filter)}&$select=${USER_SELECT}&$top=${top}${advanced ? '&$count=true' : ''}`
      try {
        return await listUsers(url(false), 'the users the filter selects')
      } catch (err) {
        if (!(err instanceof ProviderRequestError) || err.info.status !== 400 || err.info.code !== 'Request_UnsupportedQuery') throw err
        ctx.log.info(
          `Graph needs advanced query parameters for this filter (${err.info.message}): asking again with ConsistencyLevel: eventual and $count=true (results from Graph's eventually consistent index)`
        )
        return listUsers(url(true), 'the users the filter selects', { ConsistencyLevel: 'eventual' })
      }
    }

    return {
      async plan(request) {
        if (request.filter !== undefined) {
          const users = await filterUsers(request.filter.$filter)
          return users.map((u) => userEntry(u))
        }
        const classified = request.targets.map((t) => {
          const c = classify(t, request.targetType)
          if (c === undefined) throw new Error(`target ${JSON.stringify(t)} passed validation but cannot be classified`)
          return c
        })
        const found = await lookUp(classified)
        const key = (c: { kind: Kind; value: string }): string => `${c.kind === 'group-id' ? 'g' : 'u'}:${c.value.toLowerCase()}`
        const members = new Map<string, GraphUser[] | undefined>()
        const groups = [...new Set(classified.filter((c) => c.kind === 'group-id').map((c) => c.value))]
        await mapConcurrent(groups, ctx.concurrency, async (id) => {
          const f = found.get(`g:${id}`)
          if (f && 'found' in f) {
            const g = f.found as { displayName?: string | null }
            members.set(id, await groupMembers(id, g.displayName ?? id))
          }
        })

        const seen = new Map<string, string>()
        const out: PlanEntry[] = []
        const add = (e: PlanEntry, given: string): void => {
          const first = seen.get(e.id)
          if (first !== undefined) {
            ctx.log.info(`${given} is the same Entra user as ${first} (${e.id}): planned once`)
            return
          }
          seen.set(e.id, given)
          out.push(e)
        }
        for (const c of classified) {
          const f = found.get(key(c))
          if (c.kind === 'group-id') {
            const id = `${GROUP_PREFIX}${c.value}`
            if (!f || 'missing' in f) {
              out.push(notFound(id, 'group-id', 'no Entra group with this id', f && 'missing' in f ? itemError(f.missing) : undefined))
              continue
            }
            const g = f.found as { displayName?: string | null }
            const users = members.get(c.value)
            if (users === undefined) {
              out.push(notFound(id, 'group-id', 'the group was deleted while it was being read', undefined, g.displayName ?? undefined))
              continue
            }
            if (users.length === 0) {
              out.push({
                id,
                kind: 'group-id',
                label: g.displayName ?? undefined,
                details: { members: 0 },
                skip: 'the group has no user among its members (direct or nested); nothing sent'
              })
              continue
            }
            for (const u of users) add(userEntry(u, { group: g.displayName ?? c.value }), `${u.userPrincipalName ?? u.id} (group ${g.displayName ?? c.value})`)
            continue
          }
          if (!f || 'missing' in f) {
            const what = c.kind === 'user-id' ? 'no Entra user with this object id' : 'no Entra user with this user principal name'
            out.push(
              notFound(c.value, c.kind, what, f && 'missing' in f ? itemError(f.missing) : undefined, c.kind === 'user-principal-name' ? c.value : undefined)
            )
            continue
          }
          const u = f.found as GraphUser
          // What was typed, when it is not how the user shows anyway (an id, or a UPN in another case).
          const typedAsShown = c.value.toLowerCase() === u.id.toLowerCase() || c.value === u.userPrincipalName
          // `given` (the field) always says what was listed when it is not the id, so a pipeline can map results back.
          add({ ...userEntry(u, typedAsShown ? {} : { given: c.value }), given: c.value.toLowerCase() !== u.id.toLowerCase() ? c.value : undefined }, c.value)
        }
        return out
      },

      batches(entries, batchSize) {
        return chunk(entries, Math.min(batchSize, BATCH_LIMIT))
      },

      async execute(batch): Promise<BatchOutcome[]> {
        // Every entry is a user the plan resolved, revoked by its object id: the exact user the plan showed.
        const items: BatchItem[] = batch.map((e) => ({
          method: 'POST',
          url: `/users/${segment(e.id)}/microsoft.graph.revokeSignInSessions`,
          // Graph refuses a write item without both (the whole batch fails): the action takes no content.
          headers: { 'Content-Type': 'application/json' },
          body: {}
        }))
        const result = await sendBatch(items, batchOptions(`${batch.length} revokeSignInSessions`))
        const outcomes: BatchOutcome[] = []
        batch.forEach((e, i) => {
          const a = result.answers[i]
          if (a === undefined) return
          const base = { id: e.id, attempts: a.attempts, requestId: a.requestId }
          if (a.status === 200 || a.status === 204) {
            const value = a.body !== null && typeof a.body === 'object' ? (a.body as { value?: unknown }).value : undefined
            if (a.status === 204 || value === true) {
              outcomes.push({
                ...base,
                outcome: 'terminated',
                reason: `sign-in sessions revoked (HTTP ${a.status}); Graph notes it can take a few minutes to reach every app`
              })
            } else {
              outcomes.push({
                ...base,
                outcome: 'failed',
                error: {
                  status: a.status,
                  code: 'unexpected-response',
                  message: `revokeSignInSessions answered HTTP 200 without "value": true (${JSON.stringify(a.body ?? null).slice(0, 200)})`,
                  requestId: a.requestId
                }
              })
            }
            return
          }
          outcomes.push({
            ...base,
            outcome: 'failed',
            error: itemError(a, a.status === 403 ? PERMISSION_FIX.revoke : a.status === 404 ? 'the user no longer exists (deleted after the plan)' : undefined)
          })
        })
        if (result.stopped) {
          const { halted, info } = stoppedError(result.stopped.error)
          for (const s of result.stopped.items) {
            const e = batch[s.index]
            if (s.mayHaveTakenEffect || halted?.mayHaveTakenEffect) {
              outcomes.push({
                id: e.id,
                outcome: 'unknown',
                reason: `unknown: an earlier attempt may have taken effect, and its retry did not finish (${info.message})`,
                attempts: s.last?.attempts
              })
            } else if (s.last) {
              const last = itemError(s.last)
              outcomes.push({
                id: e.id,
                outcome: 'failed',
                error: { ...last, message: `${last.message} (not retried: ${info.message})` },
                attempts: s.last.attempts
              })
            } else {
              outcomes.push({ id: e.id, outcome: 'not-attempted', reason: `not attempted: ${info.message}` })
            }
          }
        }
        return outcomes
      }
    }
  }
})
