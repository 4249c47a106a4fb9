import { describe, expect, it } from '@jest/globals'
import { z } from 'zod'
import { RunControl } from '../../src/engine/control.js'
import { InputError } from '../../src/engine/errors.js'
import { staticCredentials } from '../../src/engine/http/auth.js'
import { Logger } from '../../src/engine/logger.js'
import { runPipeline, verbOf, type PipelineDeps, type RunSettings } from '../../src/engine/pipeline.js'
import { defineProvider, type ProviderRun } from '../../src/engine/provider.js'
import { lookup, notFound } from '../../src/engine/resolve.js'
import { SecretStore } from '../../src/engine/secrets.js'
import type { BatchOutcome, PlanEntry } from '../../src/engine/types.js'
import type { RunReport } from '../../src/report/run-info.js'
import { RecordingSink, T0, VirtualClock, parseError, scriptedFetch, until, type Script } from './helpers.js'

const BASE = 'https://fake.example.test/api'
const user = z.object({ id: z.string(), name: z.string() })

interface FakeOptions {
  /** Replaces the provider's plan. */
  plan?: ProviderRun['plan']
  /** Replaces the provider's execute. */
  execute?: ProviderRun['execute']
  batches?: ProviderRun['batches']
  destructive?: boolean
  start?: () => never
}

/**
 * A small provider over the scripted fetch: plans by looking each target up (GET /users/:id, 404 ->
 * unresolved), terminates a batch with one POST /revoke. Defined as real providers are.
 */
let executeCalls = 0

function fakeProvider(o: FakeOptions = {}) {
  return defineProvider({
    name: 'fake',
    title: 'Fake Service',
    destructive: o.destructive,
    inputs: {},
    token: { description: 'API token', fix: 'pass a token' },
    baseUrl: { default: BASE },
    defaults: { batchSize: 10, concurrency: 2, rateLimit: 600_000, maxRetries: 2, timeoutSeconds: 30 },
    targetTypes: ['user-id'],
    defaultTargetType: 'user-id',
    targetTypesDescription: 'user-id',
    http: { parseError, requestIdHeaders: ['x-request-id'] },
    bindsPlan: () => ({ revokeTokens: true }),
    validate: ({ targets }) => targets,
    start(ctx) {
      if (o.start) o.start()
      const http = ctx.http.with({ auth: staticCredentials({ authorization: `Bearer ${ctx.token}` }) })
      return {
        scope: () => ({ tenant: 'acme' }),
        batches: o.batches,
        plan:
          o.plan ??
          (async (request) => {
            const out: PlanEntry[] = []
            for (const id of request.targets) {
              const found = await lookup(http, { method: 'GET', url: `${BASE}/users/${id}`, schema: user, what: 'the user' })
              out.push(
                found.found
                  ? { id, kind: 'user-id', label: found.res.data.name, binds: { sessions: 1 } }
                  : notFound(id, 'user-id', `no user ${id}`, found.error)
              )
            }
            return out
          }),
        execute:
          o.execute ??
          (async (batch): Promise<BatchOutcome[]> => {
            executeCalls++
            const res = await http.request({
              method: 'POST',
              url: `${BASE}/revoke`,
              json: { ids: batch.map((e) => e.id) },
              ok: [204],
              body: 'empty',
              what: 'POST /revoke'
            })
            return batch.map((e) => ({ id: e.id, outcome: 'terminated', reason: 'sessions ended', requestId: res.requestId, attempts: res.attempts }))
          })
      }
    }
  })
}

function settings(provider = fakeProvider(), over: Partial<RunSettings> = {}): RunSettings {
  return {
    provider,
    token: 'fake-token-0123456789',
    options: {},
    baseUrl: BASE,
    targets: ['u1', 'u2', 'u3'],
    targetType: 'user-id',
    dryRun: false,
    maxTargets: 25,
    batchSize: 10,
    concurrency: 2,
    rateLimit: 600_000,
    maxRetries: 2,
    timeoutSeconds: 30,
    maxWaitSeconds: 300,
    failOn: 'any',
    ifUnresolved: 'fail',
    reportPath: '/tmp/unused.json',
    reported: { targetType: 'user-id' },
    notes: [],
    ...over
  }
}

/** Users u1..u999 exist except those named `missing`; /revoke answers 204. */
const fakeApi =
  (missing: string[] = []): Script =>
  (req) => {
    const m = /\/users\/(.+)$/.exec(req.url)
    if (m)
      return missing.includes(m[1]) ? { status: 404, body: { message: `user ${m[1]} not found` } } : { status: 200, body: { id: m[1], name: `User ${m[1]}` } }
    if (req.url.endsWith('/revoke')) return { status: 204, headers: { 'x-request-id': `rv-${req.at}` } }
    return { status: 500, body: { message: 'unexpected request' } }
  }

function harness(script: Script = fakeApi(), over: Partial<PipelineDeps> = {}) {
  const clock = new VirtualClock()
  const sink = new RecordingSink()
  const secrets = new SecretStore((v) => sink.setSecret(v))
  const log = new Logger(sink, secrets)
  const control = new RunControl()
  const fetch = scriptedFetch(clock, script)
  const checkpoints: RunReport[] = []
  const deps: PipelineDeps = {
    fetch,
    clock,
    random: () => 0.5,
    secrets,
    log,
    control,
    context: { actor: 'octo', repository: 'o/r' },
    getIdToken: async (a) => `id-token-${a}`,
    checkpoint: (r) => checkpoints.push(structuredClone(r)),
    ...over
  }
  return { clock, sink, secrets, log, control, fetch, checkpoints, deps, run: (s: RunSettings) => runPipeline(s, deps) }
}

const mutating = (h: ReturnType<typeof harness>): number => h.fetch.requests.filter((r) => r.method !== 'GET').length

describe('runPipeline', () => {
  it('a real run plans, executes and reports every target with counts, the plan hash and http stats', async () => {
    const h = harness(fakeApi(['u2']))
    const report = await h.run(settings())
    expect(report).toMatchObject({
      tool: 'terminate-sessions',
      version: 2,
      provider: 'fake',
      providerTitle: 'Fake Service',
      mode: 'real',
      destructive: false,
      status: 'completed'
    })
    expect(report.results.map((r) => [r.id, r.outcome])).toEqual([
      ['u1', 'terminated'],
      ['u2', 'skipped'],
      ['u3', 'terminated']
    ])
    expect(report.results[1]).toMatchObject({ unresolved: true, reason: 'no user u2 (HTTP 404: user u2 not found); nothing sent' })
    expect(report.results[0]).toMatchObject({ label: 'User u1', requestId: expect.stringMatching(/^rv-/), attempts: 1, batch: 1 })
    expect(report.counts).toEqual({ planned: 2, terminated: 2, accepted: 0, skipped: 1, failed: 0, unknown: 0, notAttempted: 0 })
    expect(report.planHash).toMatch(/^[0-9a-f]{64}$/)
    expect(report.planScope).toEqual({
      provider: 'fake',
      endpoint: { baseUrl: BASE, authBaseUrl: undefined },
      targetType: 'user-id',
      filter: undefined,
      settings: { revokeTokens: true, tenant: 'acme' }
    })
    expect(report.http).toEqual({ requests: 4, retries: 0, throttled: 0 })
    expect(report.context).toEqual({ actor: 'octo', repository: 'o/r' })
    expect(report.startedAt).toBe(new Date(T0).toISOString())
    expect(report.halted).toBeUndefined()
    // Only the planned targets were sent, in one POST, with the token.
    const posts = h.fetch.requests.filter((r) => r.method === 'POST')
    expect(posts).toHaveLength(1)
    expect(JSON.parse(posts[0].body)).toEqual({ ids: ['u1', 'u3'] })
    expect(posts[0].headers.authorization).toBe('Bearer fake-token-0123456789')
    expect(h.sink.text('group')).toContain('plan: 2 targets, 1 to skip')
    expect(h.sink.text('info')).toContain('plan u1 (User u1)')
  })

  it('a dry run plans and stops: every planned target ends planned, nothing mutating is sent', async () => {
    const h = harness()
    const report = await h.run(settings(undefined, { dryRun: true }))
    expect(report.mode).toBe('dry-run')
    expect(report.status).toBe('completed')
    expect(report.results.every((r) => r.outcome === 'planned' && r.reason === 'dry run: would terminate')).toBe(true)
    expect(report.counts).toMatchObject({ planned: 3, terminated: 0, notAttempted: 0 })
    expect(mutating(h)).toBe(0)
    expect(h.checkpoints).toHaveLength(0)
  })

  it('the plan hash of a dry run is what expected-plan-hash approves; a destructive provider would delete', async () => {
    const dry = await harness().run(settings(fakeProvider({ destructive: true }), { dryRun: true }))
    expect(dry.results[0].reason).toBe('dry run: would delete')
    expect(dry.destructive).toBe(true)
    const h = harness()
    const real = await h.run(settings(fakeProvider({ destructive: true }), { expectedPlanHash: dry.planHash, expectedCount: 3 }))
    expect(real.status).toBe('completed')
    expect(real.planHash).toBe(dry.planHash)
    expect(real.counts.terminated).toBe(3)
    expect(verbOf(fakeProvider())).toBe('terminate')
  })

  it.each([
    ['max-targets', { maxTargets: 2 }, /Input 'max-targets': the plan holds 3 targets, more than max-targets \(2\)/],
    ['expected-count', { expectedCount: 4 }, /Input 'expected-count': the plan holds 3 targets, expected-count is 4/],
    [
      'expected-plan-hash',
      { expectedPlanHash: '0'.repeat(64) },
      /Input 'expected-plan-hash': the fresh plan's hash [0-9a-f]{64} differs from the approved 0{64}/
    ]
  ] as const)('refuses a plan %s does not allow: every planned target not-attempted, nothing executed', async (input, over, message) => {
    executeCalls = 0
    const h = harness(fakeApi(['u4']))
    const report = await h.run(settings(undefined, { targets: ['u1', 'u2', 'u3', 'u4'], ...over }))
    expect(report.status).toBe('refused')
    expect(report.error).toMatch(message)
    expect(report.error).toContain('Nothing was terminated')
    expect(report.results.map((r) => r.outcome)).toEqual(['not-attempted', 'not-attempted', 'not-attempted', 'skipped'])
    expect(report.results[0].reason).toBe(`not attempted: the plan was refused (${input})`)
    expect(report.counts).toMatchObject({ planned: 3, notAttempted: 3, skipped: 1, terminated: 0 })
    expect(executeCalls).toBe(0)
    expect(mutating(h)).toBe(0)
    expect(h.checkpoints).toHaveLength(0)
  })

  it('a failed plan sends nothing mutating: plan-failed with the reason', async () => {
    const h = harness((req) => (req.url.endsWith('/u2') ? { status: 403, body: { message: 'missing scope users:read' } } : fakeApi()(req, 0)))
    const report = await h.run(settings())
    expect(report.status).toBe('plan-failed')
    expect(report.error).toBe('Planning failed, nothing was terminated: HTTP 403: missing scope users:read')
    expect(report.results).toEqual([])
    expect(report.counts.planned).toBe(0)
    expect(mutating(h)).toBe(0)
  })

  it('reports a provider bug while planning as an internal error, and an input error as itself', async () => {
    const bug = await harness().run(
      settings(
        fakeProvider({
          plan: async () => {
            throw new TypeError('x is not a function')
          },
          destructive: true
        })
      )
    )
    expect(bug.status).toBe('plan-failed')
    expect(bug.error).toBe('Planning failed, nothing was deleted: internal error: x is not a function')
    const input = await harness().run(
      settings(
        fakeProvider({
          start: () => {
            throw new InputError('region', 'is unknown', 'set region')
          }
        })
      )
    )
    expect(input.error).toBe("Planning failed, nothing was terminated: Input 'region': is unknown. Fix: set region")
  })

  it('a cancel during planning ends the run cancelled, with nothing executed', async () => {
    const h = harness((req) => ({ ...(fakeApi()(req, 0) as { status: number }), delayMs: 1000 }))
    const p = h.run(settings())
    await until(() => h.fetch.requests.length === 1)
    h.control.cancel('the job was cancelled (SIGTERM)')
    const report = await p
    expect(report.status).toBe('cancelled')
    expect(report.error).toBe(
      'Planning was cancelled, nothing was terminated: unknown: the job was cancelled (SIGTERM) while its request was in flight; it may have taken effect'
    )
    expect(mutating(h)).toBe(0)
  })

  it('a cancel right after planning (before any batch) executes nothing', async () => {
    const h = harness(fakeApi(), { checkpoint: () => control.cancel('cancelled after the plan') })
    const control = h.control
    const report = await h.run(settings())
    expect(report.status).toBe('cancelled')
    expect(report.error).toBe('Planning was cancelled, nothing was terminated: not attempted: cancelled after the plan')
    expect(mutating(h)).toBe(0)
  })

  it('a cancel during execution: status cancelled, in-flight targets unknown, the rest not attempted, with counts', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `u${i + 1}`)
    const h = harness((req) => (req.url.endsWith('/revoke') ? (JSON.parse(req.body).ids[0] === 'u1' ? { status: 204 } : { hang: true }) : fakeApi()(req, 0)))
    const p = h.run(settings(undefined, { targets: many, maxTargets: 100, batchSize: 5, concurrency: 2 }))
    await until(() => h.fetch.requests.filter((r) => r.method === 'POST').length === 3)
    h.control.cancel('the job was cancelled (SIGINT)')
    const report = await p
    expect(report.status).toBe('cancelled')
    expect(report.error).toBe('the run was cancelled (the job was cancelled (SIGINT))')
    expect(report.halted).toBeUndefined()
    expect(report.counts).toEqual({ planned: 40, terminated: 5, accepted: 0, skipped: 0, failed: 0, unknown: 10, notAttempted: 25 })
    expect(report.results).toHaveLength(40)
  })

  it('credentials refused mid-run: the report says halted, later batches are not attempted', async () => {
    const many = Array.from({ length: 30 }, (_, i) => `u${i + 1}`)
    const h = harness((req) => (req.url.endsWith('/revoke') ? { status: 401, body: { message: 'token revoked' } } : fakeApi()(req, 0)))
    const report = await h.run(settings(undefined, { targets: many, maxTargets: 100, batchSize: 10, concurrency: 1 }))
    expect(report.status).toBe('completed')
    expect(report.halted).toBe('the run stopped after HTTP 401: token revoked')
    expect(report.counts).toMatchObject({ planned: 30, failed: 10, notAttempted: 20 })
    expect(h.fetch.requests.filter((r) => r.method === 'POST')).toHaveLength(1)
  })

  it('writes checkpoints during execution, no more often than the interval, each a whole report so far', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `u${i + 1}`)
    const h = harness((req) => (req.url.endsWith('/revoke') ? { status: 204, delayMs: 300 } : fakeApi()(req, 0)), { checkpointIntervalMs: 1000 })
    const report = await h.run(settings(undefined, { targets: many, maxTargets: 100, batchSize: 5, concurrency: 1 }))
    expect(report.counts.terminated).toBe(100)
    // One after planning, then one a second while 20 batches take 300 ms each (6 s): about 6.
    const [first, ...during] = h.checkpoints
    expect(first.status).toBe('running')
    expect(first.results).toEqual([])
    expect(first.counts.planned).toBe(100)
    expect(during.length).toBeGreaterThanOrEqual(4)
    expect(during.length).toBeLessThanOrEqual(7)
    for (const c of during) {
      expect(c.status).toBe('running')
      expect(c.results).toHaveLength(100)
      expect(c.counts.terminated + c.counts.notAttempted).toBe(100)
      expect(c.results.filter((r) => r.outcome === 'not-attempted').every((r) => r.reason === 'not attempted yet (the run is under way)')).toBe(true)
    }
    const done = during.map((c) => c.counts.terminated)
    expect([...done].sort((a, b) => a - b)).toEqual(done)
    expect(done[0]).toBeGreaterThan(0)
  })

  it('completes a plan of 130,000 entries in-process (no deep recursion or spread of the whole plan)', async () => {
    const n = 130_000
    const big = Array.from({ length: n }, (_, i): PlanEntry =>
      i % 1000 === 999 ? { id: `id-${i}`, kind: 'user-id', skip: 'no sessions' } : { id: `id-${i}`, kind: 'user-id', details: { n: i } }
    )
    const executed: number[] = []
    const provider = fakeProvider({
      plan: async () => big,
      execute: async (batch) => {
        executed.push(batch.length)
        return batch.map((e) => ({ id: e.id, outcome: 'terminated' }))
      }
    })
    const started = Date.now()
    const checkpoints: number[] = []
    const h = harness(fakeApi(), { checkpoint: (r) => checkpoints.push(r.counts.terminated) })
    const report = await h.run(settings(provider, { targets: [], maxTargets: 10_000_000, batchSize: 1000, concurrency: 4 }))
    expect(report.status).toBe('completed')
    expect(report.results).toHaveLength(n)
    expect(report.counts).toEqual({ planned: 129_870, terminated: 129_870, accepted: 0, skipped: 130, failed: 0, unknown: 0, notAttempted: 0 })
    expect(executed.reduce((a, b) => a + b, 0)).toBe(129_870)
    expect(h.sink.text('info')).toContain('… and 129000 more (see the report)')
    // No time passes on the virtual clock: only the checkpoint after planning.
    expect(checkpoints).toEqual([0])
    // Quadratic work on 130,000 entries would take minutes; this bound only catches that, not load.
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('keeps the first of repeated plan entries, and runs nothing for an empty plan', async () => {
    const dup = fakeProvider({
      plan: async () => [
        { id: 'a', kind: 'user-id' },
        { id: 'a', kind: 'user-id', label: 'again' },
        { id: 'b', kind: 'user-id' }
      ]
    })
    const h = harness()
    const report = await h.run(settings(dup))
    expect(report.results.map((r) => r.id)).toEqual(['a', 'b'])
    expect(report.results[0].label).toBeUndefined()

    const none = harness()
    const empty = await none.run(settings(fakeProvider({ plan: async () => [] })))
    expect(empty.status).toBe('completed')
    expect(empty.results).toEqual([])
    expect(mutating(none)).toBe(0)
  })

  it('turns an execution that breaks down into unknown targets, never "nothing happened"', async () => {
    const broken = fakeProvider({
      batches: () => {
        throw new Error('batching bug')
      }
    })
    const h = harness()
    const report = await h.run(settings(broken))
    expect(report.status).toBe('completed')
    expect(report.results.every((r) => r.outcome === 'unknown' && r.reason === 'unknown: execution stopped unexpectedly (batching bug)')).toBe(true)
    expect(h.sink.text('warning')).toContain('execution stopped unexpectedly: batching bug')
  })

  it('logs the notes first: warnings as warnings', async () => {
    const h = harness()
    await h.run(settings(undefined, { dryRun: true, notes: ['2 duplicate targets removed', 'warning: base-url is plain http://'] }))
    expect(h.sink.text('info')[0]).toBe('2 duplicate targets removed')
    expect(h.sink.text('warning')).toEqual(['base-url is plain http://'])
    expect(h.sink.text('info')[1]).toBe('Fake Service: dry run; 3 user-id targets; batch 10, concurrency 2, 600000 requests/min')
  })

  it('gives the provider its context: token, concurrency for lookups, clock, secrets, OIDC', async () => {
    let seen: Record<string, unknown> = {}
    const provider = defineProvider({
      ...fakeProvider(),
      start: async (ctx) => {
        ctx.addSecret('minted-secret-value')
        seen = {
          token: ctx.token,
          concurrency: ctx.concurrency,
          maxTargets: ctx.maxTargets,
          dryRun: ctx.dryRun,
          now: ctx.clock.now(),
          random: ctx.random(),
          oidc: await ctx.getIdToken('sts.example')
        }
        ctx.log.info('minted-secret-value in a log line')
        return { plan: async () => [], execute: async () => [] }
      }
    })
    const h = harness()
    await h.run(settings(provider, { dryRun: true }))
    expect(seen).toEqual({ token: 'fake-token-0123456789', concurrency: 6, maxTargets: 25, dryRun: true, now: T0, random: 0.5, oidc: 'id-token-sts.example' })
    expect(h.sink.text('info')).toContain('*** in a log line')
  })
})
