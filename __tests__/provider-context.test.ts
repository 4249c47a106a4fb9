// What the pipeline hands a provider (ProviderContext), in-process: the run's settings as the provider
// sees them. maxRetries lets a provider bound what it retries itself (an item of a batch) by the same
// max-retries input the HTTP client applies to every request.
import { describe, expect, it } from '@jest/globals'
import { RunControl } from '../src/engine/control.js'
import { Logger } from '../src/engine/logger.js'
import { runPipeline, type RunSettings } from '../src/engine/pipeline.js'
import { defineProvider, type ProviderContext } from '../src/engine/provider.js'
import { SecretStore } from '../src/engine/secrets.js'
import type { ActionSink } from '../src/engine/sink.js'

const quietSink: ActionSink = {
  getInput: () => '',
  setSecret: () => {},
  setOutput: () => {},
  setFailed: () => {},
  info: () => {},
  debug: () => {},
  warning: () => {},
  error: () => {},
  notice: () => {},
  startGroup: () => {},
  endGroup: () => {},
  writeSummary: async () => {},
  getIDToken: async () => 'id-token-for-tests'
}

async function contextFor(overrides: Partial<RunSettings>): Promise<ProviderContext> {
  let seen: ProviderContext | undefined
  const provider = defineProvider({
    name: 'probe',
    title: 'Probe',
    inputs: {},
    token: { description: 'none', fix: 'none', optional: true },
    baseUrl: { default: 'http://127.0.0.1:9' },
    defaults: { batchSize: 10, concurrency: 1, rateLimit: 600, maxRetries: 5, timeoutSeconds: 5 },
    targetTypes: ['id'],
    defaultTargetType: 'id',
    targetTypesDescription: 'id',
    http: { requestIdHeaders: [], parseError: (status) => ({ status, message: 'error' }) },
    validate: ({ targets }) => targets,
    start(ctx) {
      seen = ctx as ProviderContext
      return {
        plan: async (request) => request.targets.map((id) => ({ id, kind: 'id' })),
        execute: async (batch) => batch.map((e) => ({ id: e.id, outcome: 'terminated' as const }))
      }
    }
  })
  const settings: RunSettings = {
    provider,
    token: '',
    options: {},
    baseUrl: 'http://127.0.0.1:9',
    targets: ['a'],
    targetType: 'id',
    dryRun: true,
    maxTargets: 10,
    batchSize: 10,
    concurrency: 2,
    rateLimit: 600,
    maxRetries: 5,
    timeoutSeconds: 5,
    maxWaitSeconds: 30,
    failOn: 'any',
    ifUnresolved: 'fail',
    reportPath: '/dev/null',
    reported: {},
    notes: [],
    ...overrides
  }
  const secrets = new SecretStore()
  const report = await runPipeline(settings, {
    fetch: async () => {
      throw new Error('no request is expected')
    },
    clock: { now: () => 0, sleep: async () => {} },
    random: () => 0.5,
    secrets,
    log: new Logger(quietSink, secrets),
    control: new RunControl(),
    context: {},
    getIdToken: (audience) => quietSink.getIDToken(audience)
  })
  expect(report.status).toBe('completed')
  if (!seen) throw new Error('the provider was not started')
  return seen
}

describe('ProviderContext', () => {
  it("carries the run's max-retries, as the HTTP client applies it", async () => {
    expect((await contextFor({ maxRetries: 0 })).maxRetries).toBe(0)
    expect((await contextFor({ maxRetries: 7 })).maxRetries).toBe(7)
  })

  it('carries the plan bounds and the OIDC token source the provider may use', async () => {
    const ctx = await contextFor({ maxTargets: 3, concurrency: 2 })
    expect(ctx.maxTargets).toBe(3)
    expect(ctx.concurrency).toBe(6) // three tasks per request slot
    await expect(ctx.getIdToken('api://AzureADTokenExchange')).resolves.toBe('id-token-for-tests')
  })
})
