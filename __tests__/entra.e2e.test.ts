// The bundled action (dist/index.js) run as the Actions runner runs it, against the Entra emulator:
// keyless sign-in (the emulated GitHub OIDC service) and client secrets, user ids, UPNs, groups, a
// filter, $batch items judged one by one, per-item throttling, and a dry run that revokes nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  BATCH_LIMIT,
  DEFAULT_SUBJECT,
  ENTRA_CLIENT_ID,
  ENTRA_CLIENT_SECRET,
  EntraEmulator,
  GITHUB_ISSUER,
  TOKEN_EXCHANGE_AUDIENCE,
  guidFor,
  makeGuest,
  makeUsers
} from './emulators/entra/index.js'
import { runAction, visibleLog } from './helpers/run-action.js'

const users = makeUsers(1_100)
const guest = makeGuest('partner@fabrikam.com')
const SALES = guidFor(1, 500)
const EMEA = guidFor(2, 500)
const EMPTY = guidFor(3, 500)
const BIG = guidFor(4, 500)
const groups = [
  // Sales holds two users and the nested EMEA group (which holds one of them again and two more).
  { id: SALES, displayName: 'Sales', members: [users[0].id, users[1].id, EMEA] },
  { id: EMEA, displayName: 'Sales EMEA', members: [users[1].id, users[2].id, users[3].id, guest.id] },
  { id: EMPTY, displayName: 'Nobody', members: [] },
  { id: BIG, displayName: 'Everyone', members: users.map((u) => u.id) }
]
const emu = new EntraEmulator({ users: [...users, guest], groups })

beforeAll(async () => {
  await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.reset())

type Result = {
  id: string
  kind: string
  label?: string
  outcome: string
  reason?: string
  status?: number
  code?: string
  message?: string
  requestId?: string
  attempts?: number
  unresolved?: boolean
  details?: Record<string, unknown>
}
type Run = Awaited<ReturnType<typeof runAction>>

function inputs(extra: Record<string, string>): Record<string, string> {
  return { provider: 'entra', ...emu.inputs(), token: ENTRA_CLIENT_SECRET, 'rate-limit': '60000', ...extra }
}
const keyless = (extra: Record<string, string>): Parameters<typeof runAction>[0] => ({ inputs: inputs({ token: '', ...extra }), env: emu.actionsEnv() })

const byId = (r: Run, id: string): Result | undefined => (r.report.results as Result[]).find((x) => x.id === id)
const revokeItems = () => emu.batchItems.filter((i) => i.method === 'POST')
const lookupItems = () => emu.batchItems.filter((i) => i.method === 'GET')

/** Every place a secret could leak to, as the admin would see it. */
function shown(r: Run): string[] {
  return [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.report), JSON.stringify(r.outputs)]
}

describe('entra end to end', () => {
  it("dry run: resolves ids and UPNs 20 to a $batch with name and status, skips unknown users with Graph's error and guests with why, revokes nothing", async () => {
    const ids = users.slice(0, 25).map((u) => u.id)
    const targets = [...ids, users[30].userPrincipalName.toUpperCase(), 'nobody@contoso.onmicrosoft.com', guidFor(99_999, 3), guest.userPrincipalName].join(
      '\n'
    )
    const r = await runAction({ inputs: inputs({ targets, 'dry-run': 'true', 'if-unresolved': 'skip', 'max-targets': '50' }) })
    expect(r.code).toBe(0)
    expect(emu.revokeAttempts()).toHaveLength(0)
    expect(revokeItems()).toHaveLength(0)
    expect(r.outputs['planned-count']).toBe('26')
    expect(JSON.parse(r.outputs.targets)).toEqual([...ids, users[30].id])
    expect(JSON.parse(r.outputs.unresolved)).toEqual(['nobody@contoso.onmicrosoft.com', guidFor(99_999, 3)])
    expect(byId(r, users[30].id)).toMatchObject({
      label: 'User 31',
      outcome: 'planned',
      details: { userPrincipalName: users[30].userPrincipalName, accountEnabled: true, given: users[30].userPrincipalName.toUpperCase() }
    })
    expect(byId(r, users[8].id)).toMatchObject({ outcome: 'planned', details: { accountEnabled: false } })
    const unknown = byId(r, 'nobody@contoso.onmicrosoft.com')
    expect(unknown).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(unknown?.reason).toContain('no Entra user with this user principal name')
    expect(unknown?.reason).toContain('code Request_ResourceNotFound')
    expect(unknown?.reason).toMatch(/request id [0-9a-f-]{36}/)
    expect(byId(r, guidFor(99_999, 3))?.reason).toContain('no Entra user with this object id')
    const g = byId(r, guest.id)
    expect(g).toMatchObject({ outcome: 'skipped', details: { userType: 'Guest' } })
    expect(g?.unresolved).toBeUndefined()
    expect(g?.reason).toContain('external (guest) user')
    // Lookups went through $batch, at most 20 a call, with the $select the plan shows, UPNs with @ as written.
    expect(emu.batchRequests()).toHaveLength(2)
    expect(emu.batchRequests().every((q) => q.method === 'POST')).toBe(true)
    expect(lookupItems()).toHaveLength(29)
    expect(new Set(lookupItems().map((i) => i.batch)).size).toBe(2)
    for (const i of lookupItems()) expect(i.url).toMatch(/^\/users\/[^/?]+\?\$select=id,userPrincipalName,displayName,accountEnabled,userType$/)
    expect(lookupItems().map((i) => i.url)).toContain(
      `/users/${users[30].userPrincipalName.toUpperCase()}?$select=id,userPrincipalName,displayName,accountEnabled,userType`
    )
    expect(lookupItems().map((i) => i.url)).toContain(
      `/users/${guest.userPrincipalName.replace(/#/g, '%23')}?$select=id,userPrincipalName,displayName,accountEnabled,userType`
    )
    // Nothing but the token and the batches.
    expect(emu.graphRequests().filter((q) => q.path !== '/v1.0/$batch')).toHaveLength(0)
    expect(r.summary).toContain('User 31')
  })

  it('client secret: mints once with the documented form, revokes by object id in $batch items that carry Content-Type and a body, and shows no secret or token', async () => {
    const targets = [...users.slice(0, 30).map((u) => u.id), ...users.slice(30, 35).map((u) => u.userPrincipalName)].join(',')
    const r = await runAction({ inputs: inputs({ targets, 'max-targets': '40' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('35')
    expect(emu.revokedUserIds().sort()).toEqual(
      users
        .slice(0, 35)
        .map((u) => u.id)
        .sort()
    )
    const mints = emu.tokenRequests()
    expect(mints).toHaveLength(1)
    expect(mints[0].path).toBe(`/${emu.tenantId}/oauth2/v2.0/token`)
    expect(mints[0].headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(new URLSearchParams(mints[0].bodyText))).toEqual({
      grant_type: 'client_credentials',
      client_id: ENTRA_CLIENT_ID,
      scope: 'https://graph.microsoft.com/.default',
      client_secret: ENTRA_CLIENT_SECRET
    })
    expect(emu.github.tokenRequests()).toHaveLength(0)
    const revokes = revokeItems()
    expect(revokes).toHaveLength(35)
    for (const i of revokes) {
      expect(i.url).toMatch(/^\/users\/[0-9a-f-]{36}\/microsoft\.graph\.revokeSignInSessions$/)
      expect(i.headers).toEqual({ 'Content-Type': 'application/json' })
      expect(i.body).toEqual({})
    }
    const perBatch = new Map<number, number>()
    for (const i of revokes) perBatch.set(i.batch, (perBatch.get(i.batch) ?? 0) + 1)
    expect([...perBatch.values()].sort((a, b) => b - a)).toEqual([BATCH_LIMIT, 15])
    const one = byId(r, users[0].id)
    expect(one).toMatchObject({ outcome: 'terminated', attempts: 1, label: 'User 1' })
    expect(one?.reason).toContain('revoked (HTTP 200)')
    expect(one?.requestId).toMatch(/^[0-9a-f-]{36}$/)
    const [token] = emu.mintedTokens()
    for (const q of emu.graphRequests()) expect(q.headers.authorization).toBe(`Bearer ${token}`)
    expect(r.stdout).toContain(`::add-mask::${token}`)
    for (const text of shown(r)) {
      expect(text).not.toContain(token)
      expect(text).not.toContain(ENTRA_CLIENT_SECRET)
    }
  })

  it('keyless: exchanges the GitHub OIDC token (audience api://AzureADTokenExchange) for a Graph token; both are masked and shown nowhere', async () => {
    const r = await runAction(keyless({ targets: `${users[0].id}\n${users[1].userPrincipalName}` }))
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('2')
    const asked = emu.github.tokenRequests()
    expect(asked).toHaveLength(1)
    expect(asked[0].query.get('audience')).toBe(TOKEN_EXCHANGE_AUDIENCE)
    const form = Object.fromEntries(new URLSearchParams(emu.tokenRequests()[0].bodyText))
    const idToken = emu.github.issued[0].token as string
    expect(form).toEqual({
      grant_type: 'client_credentials',
      client_id: ENTRA_CLIENT_ID,
      scope: 'https://graph.microsoft.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: idToken
    })
    expect(emu.minted.get(emu.mintedTokens()[0])).toMatchObject({ via: 'federated' })
    const secrets = [idToken, ...emu.mintedTokens()]
    for (const s of secrets) {
      expect(r.stdout).toContain(`::add-mask::${s}`)
      for (const text of shown(r)) expect(text).not.toContain(s)
    }
    expect(r.report.settings.tokenGiven).toBe(false)
  })

  it('keyless without id-token: write fails the plan saying what to set up, and sends nothing', async () => {
    const r = await runAction({ inputs: inputs({ token: '', targets: users[0].id }) })
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    // (Written without a colon after "token": the scrubber masks whatever follows "token:".)
    expect(r.report.error).toContain('the permission "id-token" set to "write"')
    expect(r.report.error).toContain(`issuer ${GITHUB_ISSUER}`)
    expect(r.report.error).toContain(`audience ${TOKEN_EXCHANGE_AUDIENCE}`)
    expect(r.report.error).toContain('repo:ORG/REPO:environment:NAME')
    expect(emu.server.requests).toHaveLength(0)
  })

  it("keyless with no matching federated credential: the identity platform's AADSTS error, and the exact subject to put in the credential", async () => {
    emu.app.federatedCredentials = [{ issuer: GITHUB_ISSUER, subject: 'repo:acme/it-automation:ref:refs/heads/main', audiences: [TOKEN_EXCHANGE_AUDIENCE] }]
    const r = await runAction(keyless({ targets: users[0].id }))
    expect(r.code).not.toBe(0)
    expect(r.report.status).toBe('plan-failed')
    expect(r.report.error).toContain('AADSTS700213')
    expect(r.report.error).toContain('invalid_client')
    expect(r.report.error).toContain(`exactly ${JSON.stringify(DEFAULT_SUBJECT)}`)
    expect(emu.graphRequests()).toHaveLength(0)
    for (const text of shown(r)) expect(text).not.toContain(emu.github.issued[0].token as string)
  })

  it('a wrong client secret fails the run with the AADSTS code, the trace id and the fix; nothing reaches Graph', async () => {
    const bad = await runAction({ inputs: inputs({ token: 'Zz9~not-the-secret-value-0123456789', targets: users[0].id }) })
    expect(bad.code).not.toBe(0)
    expect(bad.report.error).toContain('AADSTS7000215')
    expect(bad.report.error).toContain("pass the secret's Value (not its Secret ID)")
    expect(bad.report.error).toMatch(/request id [0-9a-f-]{36}/)
    for (const text of shown(bad)) expect(text).not.toContain('Zz9~not-the-secret-value-0123456789')
    expect(emu.graphRequests()).toHaveLength(0)
  })

  it('groups: every user among the transitive members (nested, each once), guests skipped; an empty group and an unknown group say so', async () => {
    const targets = `${SALES}\n${EMPTY}\n${guidFor(77, 77)}`
    const dry = await runAction({ inputs: inputs({ 'target-type': 'group-id', targets, 'dry-run': 'true', 'if-unresolved': 'skip' }) })
    expect(dry.code).toBe(0)
    expect(dry.outputs['planned-count']).toBe('4')
    expect(JSON.parse(dry.outputs.targets).sort()).toEqual(
      users
        .slice(0, 4)
        .map((u) => u.id)
        .sort()
    )
    expect(byId(dry, users[2].id)).toMatchObject({ outcome: 'planned', details: { group: 'Sales' } })
    expect(byId(dry, guest.id)).toMatchObject({ outcome: 'skipped' })
    expect(byId(dry, `group:${EMPTY}`)).toMatchObject({ outcome: 'skipped', label: 'Nobody' })
    expect(byId(dry, `group:${EMPTY}`)?.reason).toContain('no user among its members')
    expect(byId(dry, `group:${guidFor(77, 77)}`)).toMatchObject({ outcome: 'skipped', unresolved: true })
    expect(byId(dry, `group:${guidFor(77, 77)}`)?.reason).toContain('no Entra group with this id')
    const memberCalls = emu.graphRequests().filter((q) => q.path.endsWith('/transitiveMembers/microsoft.graph.user'))
    expect(memberCalls.map((q) => q.path).sort()).toEqual(
      [`/v1.0/groups/${SALES}/transitiveMembers/microsoft.graph.user`, `/v1.0/groups/${EMPTY}/transitiveMembers/microsoft.graph.user`].sort()
    )
    expect(emu.revokeAttempts()).toHaveLength(0)

    emu.reset()
    const real = await runAction({ inputs: inputs({ targets: `group:${SALES}` }) })
    expect(real.code).toBe(0)
    expect(real.outputs['terminated-count']).toBe('4')
    expect(real.outputs['skipped-count']).toBe('1')
    expect(emu.revokedUserIds().sort()).toEqual(
      users
        .slice(0, 4)
        .map((u) => u.id)
        .sort()
    )
  })

  it('a group larger than one page is read through @odata.nextLink; max-targets refuses it before any revoke', async () => {
    const dry = await runAction({ inputs: inputs({ targets: `group:${BIG}`, 'dry-run': 'true', 'max-targets': '2000' }) })
    expect(dry.code).toBe(0)
    expect(dry.outputs['planned-count']).toBe('1100')
    const pages = emu.graphRequests().filter((q) => q.path.endsWith('/transitiveMembers/microsoft.graph.user'))
    expect(pages).toHaveLength(2)
    expect(pages[0].query.get('$top')).toBe('999')
    expect(pages[1].query.get('$skiptoken')).toBeTruthy()

    emu.reset()
    const capped = await runAction({ inputs: inputs({ targets: `group:${BIG}`, 'max-targets': '30' }) })
    expect(capped.code).not.toBe(0)
    expect(capped.stdout).toContain('more than max-targets (30)')
    expect(emu.revokeAttempts()).toHaveLength(0)
    const one = emu.graphRequests().filter((q) => q.path.endsWith('/transitiveMembers/microsoft.graph.user'))
    expect(one).toHaveLength(1)
    expect(one[0].query.get('$top')).toBe('31')
  })

  it('filter: an OData $filter selects the users; an operator Graph serves only with advanced queries is asked again with them', async () => {
    const small = users.filter((u) => u.department === 'Legal' && u.userPrincipalName.startsWith('user10'))
    const r = await runAction({ inputs: inputs({ filter: "$filter=department eq 'Legal' and startswith(userPrincipalName,'user10')", 'max-targets': '50' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe(String(small.length))
    expect(emu.revokedUserIds().sort()).toEqual(small.map((u) => u.id).sort())
    const list = emu.graphRequests().filter((q) => q.path === '/v1.0/users')
    expect(list).toHaveLength(1)
    expect(list[0].query.get('$filter')).toBe("department eq 'Legal' and startswith(userPrincipalName,'user10')")
    expect(list[0].headers.consistencylevel).toBeUndefined()

    emu.reset()
    const ne = await runAction({
      inputs: inputs({ filter: "$filter=department ne 'Sales' and startswith(displayName,'User 10')", 'max-targets': '200', 'dry-run': 'true' })
    })
    expect(ne.code).toBe(0)
    const expected = [...users, guest].filter((u) => u.department !== 'Sales' && u.displayName.startsWith('User 10'))
    expect(Number(ne.outputs['planned-count'])).toBe(expected.length)
    const asks = emu.graphRequests().filter((q) => q.path === '/v1.0/users')
    expect(asks.map((q) => [q.status, q.headers.consistencylevel, q.query.get('$count')])).toEqual([
      [400, undefined, null],
      [200, 'eventual', 'true']
    ])
    expect(visibleLog(ne.stdout)).toContain('advanced query parameters')

    emu.reset()
    const big = await runAction({ inputs: inputs({ filter: "$filter=department eq 'Sales'", 'max-targets': '25' }) })
    expect(big.code).not.toBe(0)
    expect(big.stdout).toContain('more than max-targets (25)')
    expect(emu.revokeAttempts()).toHaveLength(0)
  })

  it("a batch with mixed item results: each item judged on its own (200, 204, 404, 403), with Graph's code, message and request id", async () => {
    const [a, b, c, d] = users
    emu.queueItemFaults(
      [
        {
          status: 404,
          code: 'Request_ResourceNotFound',
          message: `Resource '${c.id}' does not exist or one of its queried reference-property objects are not present.`
        }
      ],
      (i) => i.method === 'POST' && i.url.includes(c.id)
    )
    emu.queueItemFaults(
      [{ status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' }],
      (i) => i.method === 'POST' && i.url.includes(d.id)
    )
    emu.onGraphRequest = (req: { method: string; path: string }) => {
      // The known issue: a revoke that answers 204 instead of 200.
      emu.revokeStatus = req.method === 'POST' && req.path.includes(b.id) ? 204 : 200
    }
    const r = await runAction({ inputs: inputs({ targets: [a, b, c, d].map((u) => u.id).join('\n') }) })
    expect(r.code).not.toBe(0) // fail-on: any
    expect(r.outputs['terminated-count']).toBe('2')
    expect(r.outputs['failed-count']).toBe('2')
    expect(
      emu.batchRequests().filter((q) => (q.json as { requests: unknown[] }).requests.some((x) => (x as { method: string }).method === 'POST'))
    ).toHaveLength(1)
    expect(byId(r, b.id)).toMatchObject({ outcome: 'terminated' })
    expect(byId(r, b.id)?.reason).toContain('HTTP 204')
    const gone = byId(r, c.id)
    expect(gone).toMatchObject({ outcome: 'failed', status: 404, code: 'Request_ResourceNotFound', attempts: 1 })
    expect(gone?.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(gone?.message).toContain('deleted after the plan')
    const denied = byId(r, d.id)
    expect(denied).toMatchObject({ outcome: 'failed', status: 403, code: 'Authorization_RequestDenied' })
    expect(denied?.message).toContain('User.RevokeSessions.All')
    // Items that failed for good are not sent again.
    expect(revokeItems()).toHaveLength(4)
    expect(r.summary).toContain('Authorization\\_RequestDenied') // Markdown-escaped
  })

  it('per-item throttling: a 429 item (decimal Retry-After) and a 503 item are sent again alone, after the wait, and end terminated', async () => {
    const ids = users.slice(0, 20).map((u) => u.id)
    emu.queueItemFaults([{ status: 429, retryAfter: '0.4' }], (i) => i.method === 'POST' && i.url.includes(ids[3]))
    emu.queueItemFaults([{ status: 503 }], (i) => i.method === 'POST' && i.url.includes(ids[11]))
    const r = await runAction({ inputs: inputs({ targets: ids.join('\n') }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('20')
    const batches = [...new Set(revokeItems().map((i) => i.batch))]
    expect(batches).toHaveLength(2)
    const second = revokeItems().filter((i) => i.batch === batches[1])
    expect(second.map((i) => i.url.split('/')[2]).sort()).toEqual([ids[3], ids[11]].sort())
    const first = revokeItems().filter((i) => i.batch === batches[0])
    expect(second[0].at - first[0].at).toBeGreaterThanOrEqual(380)
    expect(byId(r, ids[3])).toMatchObject({ outcome: 'terminated', attempts: 2 })
    expect(byId(r, ids[0])).toMatchObject({ outcome: 'terminated', attempts: 1 })
    expect(r.report.http.throttled).toBeGreaterThanOrEqual(1)
    expect(emu.revokedUserIds().sort()).toEqual([...ids].sort())
  })

  it("Graph's per-app throttling across batches: throttled items wait for Retry-After and every user is revoked exactly once", async () => {
    emu.setThrottle({ limit: 30, windowMs: 1_000, retryAfterSeconds: 1, match: (q: { method: string }) => q.method === 'POST' })
    const ids = users.slice(0, 60).map((u) => u.id)
    const r = await runAction({ inputs: inputs({ targets: ids.join('\n'), 'max-targets': '60', concurrency: '3' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('60')
    expect(emu.throttledCount).toBeGreaterThan(0)
    expect(emu.revocations).toHaveLength(60)
    expect(new Set(emu.revocations.map((x) => x.userId)).size).toBe(60)
    // Retried items are never revoked twice: every 200 belongs to a distinct user.
    expect(revokeItems().filter((i) => i.status === 200)).toHaveLength(60)
  })

  it('an item that stays unavailable fails after max-retries with its status and the attempts; a throttled envelope is retried whole', async () => {
    emu.queueItemFaults([{ status: 503 }, { status: 503 }], (i) => i.method === 'POST' && i.url.includes(users[1].id))
    emu.server.queueFaults(
      [{ kind: 'throttle', seconds: 0.3 }],
      (q) => q.path === '/v1.0/$batch' && (q.json as { requests: { method: string }[] } | undefined)?.requests?.[0]?.method === 'POST'
    )
    const r = await runAction({ inputs: inputs({ targets: `${users[0].id}\n${users[1].id}`, 'max-retries': '1' }) })
    expect(r.code).not.toBe(0)
    expect(byId(r, users[0].id)).toMatchObject({ outcome: 'terminated' })
    const failed = byId(r, users[1].id)
    expect(failed).toMatchObject({ outcome: 'failed', status: 503, code: 'serviceNotAvailable', attempts: 2 })
    expect(failed?.message).toContain('after 2 attempts')
    const envelopes = emu.batchRequests().filter((q) => (q.json as { requests: { method: string }[] }).requests[0].method === 'POST')
    expect(envelopes.map((q) => q.status)).toEqual([429, 200, 200])
  })

  it('a Graph token that expires mid-run is minted again once; the new one is masked too', async () => {
    emu.expireTokensAfterRequests = 3 // each token dies after 3 Graph calls: 3 lookup batches, then the first revoke batch is refused
    const ids = users.slice(0, 60).map((u) => u.id)
    const r = await runAction({ inputs: inputs({ targets: ids.join('\n'), 'max-targets': '60', concurrency: '1' }) })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('60')
    const tokens = emu.mintedTokens()
    expect(tokens).toHaveLength(2)
    expect(emu.graphRequests().filter((q) => q.status === 401).length).toBeGreaterThanOrEqual(1)
    expect(visibleLog(r.stdout)).toContain('minting a Microsoft Graph token (client secret) again')
    for (const t of tokens) {
      expect(r.stdout).toContain(`::add-mask::${t}`)
      for (const text of shown(r)) expect(text).not.toContain(t)
    }
  })

  it('bad inputs fail with the input named and the fix, before any request', async () => {
    const cases: [string, Record<string, string>][] = [
      ['tenant-id', { 'tenant-id': 'common', targets: users[0].id }],
      ['client-id', { 'client-id': 'terminate-sessions', targets: users[0].id }],
      ['targets', { 'target-type': 'user-id', targets: `${users[0].id}\n${users[0].userPrincipalName}` }],
      ['token', { token: ENTRA_CLIENT_ID, targets: users[0].id }],
      ['filter', { filter: "$filter=department eq 'Sales" }]
    ]
    for (const [input, extra] of cases) {
      const r = await runAction({ inputs: inputs(extra) })
      expect([input, r.code === 0]).toEqual([input, false])
      expect([input, r.stdout.includes(`Input '${input}'`)]).toEqual([input, true])
    }
    expect(emu.server.requests).toHaveLength(0)
    expect(emu.github.tokenRequests()).toHaveLength(0)
  })
})
