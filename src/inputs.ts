import { isAbsolute, join, resolve } from 'node:path'
import { z } from 'zod'
import { InputError } from './engine/errors.js'
import type { ActionSink } from './engine/sink.js'
import { dedupe, parseFilter, parseTargetList, readTargetsFile } from './engine/targets.js'
import type { Provider, ProviderOptions } from './engine/types.js'
import { providerNames, providers } from './providers/index.js'

export type FailOn = 'any' | 'all' | 'never'

/** Everything a run needs, validated. Built only here, from the action's inputs. */
export interface Settings {
  provider: Provider
  token: string
  targets: string[]
  duplicateTargets: number
  targetsSource: 'targets' | 'targets-file' | 'filter'
  targetType: string
  filter?: Record<string, string>
  dryRun: boolean
  maxTargets: number
  expectedCount?: number
  expectedPlanHash?: string
  batchSize: number
  concurrency: number
  rateLimit: number
  maxRetries: number
  timeoutSeconds: number
  maxWaitSeconds: number
  options: ProviderOptions
  failOn: FailOn
  reportPath: string
}

const LIMITS = {
  'max-targets': { min: 0, max: 10_000_000 },
  'expected-count': { min: 0, max: 10_000_000 },
  'batch-size': { min: 1, max: 10_000 },
  concurrency: { min: 1, max: 64 },
  'rate-limit': { min: 1, max: 100_000 },
  'max-retries': { min: 0, max: 20 },
  'timeout-seconds': { min: 1, max: 600 },
  'max-wait-seconds': { min: 0, max: 21_600 }
} as const

type NumberInput = keyof typeof LIMITS

function wholeNumber(name: NumberInput, raw: string): number {
  const { min, max } = LIMITS[name]
  const value = raw.trim()
  if (!/^\d+$/.test(value)) {
    throw new InputError(name, `${JSON.stringify(raw)} is not a whole number`, `set ${name} to a whole number from ${min} to ${max}, or leave it empty for the default`)
  }
  const n = Number(value)
  if (n < min || n > max) throw new InputError(name, `${n} is out of range`, `set ${name} to a whole number from ${min} to ${max}`)
  return n
}

function optionalNumber(name: NumberInput, raw: string, fallback: number): number {
  return raw.trim() === '' ? fallback : wholeNumber(name, raw)
}

function booleanInput(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase()
  if (['true', 'yes', '1', 'on'].includes(value)) return true
  if (['false', 'no', '0', 'off', ''].includes(value)) return false
  throw new InputError(name, `${JSON.stringify(raw)} is not a boolean`, `set ${name} to true or false`)
}

const urlSchema = z.url({ protocol: /^https?$/ })

function optionalUrl(name: string, raw: string): string | undefined {
  const value = raw.trim()
  if (value === '') return undefined
  if (!urlSchema.safeParse(value).success) {
    throw new InputError(name, `${JSON.stringify(value)} is not an http(s) URL`, `set ${name} to a URL such as https://host/path, or leave it empty for the default`)
  }
  const url = new URL(value)
  if (url.username || url.password) throw new InputError(name, 'holds credentials in the URL', `remove user:password@ from ${name}; pass secrets through token`)
  if (url.search || url.hash) throw new InputError(name, 'has a query string or fragment', `give ${name} as scheme://host[:port][/path] only`)
  return value.replace(/\/+$/, '')
}

/**
 * Reads and validates every input. Secrets are masked as soon as they are read, before any
 * validation can echo them. Throws InputError naming the input and the fix.
 */
export function readInputs(core: ActionSink, env: NodeJS.ProcessEnv, mask: (value: string) => void): Settings {
  const get = (name: string): string => core.getInput(name)

  const token = get('token')
  const securityToken = get('security-token')
  mask(token)
  mask(securityToken)

  const providerName = get('provider').trim().toLowerCase()
  if (providerName === '') throw new InputError('provider', 'is empty', `set provider to one of: ${providerNames.join(', ')}`)
  const provider = providers[providerName]
  if (provider === undefined) {
    throw new InputError('provider', `${JSON.stringify(providerName)} is not a supported provider`, `set provider to one of: ${providerNames.join(', ')}`)
  }
  if (token.trim() === '') {
    throw new InputError('token', 'is empty', `pass the ${provider.title} credential from a secret: token: \${{ secrets.YOUR_SECRET }}`)
  }

  const targetType = get('target-type').trim() || provider.defaultTargetType
  if (!provider.targetTypes.includes(targetType)) {
    throw new InputError('target-type', `${JSON.stringify(targetType)} is not a ${provider.name} target type`, `set target-type to one of: ${provider.targetTypes.join(', ')}`)
  }

  const inlineTargets = get('targets')
  const targetsFile = get('targets-file').trim()
  if (inlineTargets.trim() !== '' && targetsFile !== '') {
    throw new InputError('targets-file', 'is set together with targets', 'give the targets either inline (targets) or in a file (targets-file), not both')
  }
  const workspace = env.GITHUB_WORKSPACE || process.cwd()
  const rawTargets = targetsFile !== ''
    ? readTargetsFile(isAbsolute(targetsFile) ? targetsFile : resolve(workspace, targetsFile), targetType)
    : parseTargetList(inlineTargets)
  const { unique: targets, duplicates } = dedupe(rawTargets)

  const filter = parseFilter(get('filter'))
  const spec = provider.filter
  if (filter !== undefined) {
    if (spec === undefined) throw new InputError('filter', `${provider.name} takes no filter`, 'remove filter and list the targets')
    // Own keys only: `in` would accept names every object has (isPrototypeOf, toString, ...).
    const unknown = Object.keys(filter).filter((k) => !Object.hasOwn(spec.keys, k))
    if (unknown.length > 0) {
      throw new InputError('filter', `unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')} for ${provider.name}`, `use only: ${Object.keys(spec.keys).join(', ')}`)
    }
    if (spec.requireNonEmpty && Object.keys(filter).length === 0) {
      throw new InputError('filter', 'is empty', `give at least one of: ${Object.keys(spec.keys).join(', ')}`)
    }
    for (const [key, value] of Object.entries(filter)) {
      const problem = spec.keys[key](value)
      if (problem) throw new InputError('filter', `${key}=${JSON.stringify(value)}: ${problem}`, `correct the value of ${key}`)
    }
  }
  const source = targetsFile !== '' ? 'targets-file' : inlineTargets.trim() !== '' ? 'targets' : 'filter'
  if (targets.length === 0) {
    if (filter === undefined || spec?.mode !== 'select') {
      const from = targetsFile !== '' ? 'targets-file' : 'targets'
      const hint = spec?.mode === 'select' ? `, or a filter (${Object.keys(spec.keys).join(', ')})` : ''
      throw new InputError(from, 'holds no targets', `list at least one ${targetType} in targets or targets-file${hint}`)
    }
  } else if (filter !== undefined && spec?.mode === 'select') {
    throw new InputError('filter', `is set together with ${source}, and a ${provider.name} filter selects the targets itself`, `use either ${source} or filter, not both`)
  }

  const dryRun = booleanInput('dry-run', get('dry-run'))
  const maxTargets = optionalNumber('max-targets', get('max-targets'), 25)
  const expectedCountRaw = get('expected-count')
  const expectedCount = expectedCountRaw.trim() === '' ? undefined : wholeNumber('expected-count', expectedCountRaw)
  const expectedPlanHash = get('expected-plan-hash').trim().toLowerCase() || undefined
  if (expectedPlanHash !== undefined && !/^[0-9a-f]{64}$/.test(expectedPlanHash)) {
    throw new InputError('expected-plan-hash', 'is not a sha256 hex digest (64 hex characters)', "pass the plan job's plan-hash output unchanged")
  }
  if (targets.length > maxTargets) {
    throw new InputError('max-targets', `${targets.length} targets were given, more than max-targets (${maxTargets}); nothing was sent`, `list fewer targets, or raise max-targets to at least ${targets.length} if this is intended`)
  }

  const d = provider.defaults
  const failOn = get('fail-on').trim().toLowerCase() || 'any'
  if (failOn !== 'any' && failOn !== 'all' && failOn !== 'never') {
    throw new InputError('fail-on', `${JSON.stringify(failOn)} is not one of any, all, never`, 'set fail-on to any, all or never')
  }

  const options: ProviderOptions = {
    baseUrl: optionalUrl('base-url', get('base-url')),
    authBaseUrl: optionalUrl('auth-base-url', get('auth-base-url')),
    region: get('region').trim() || undefined,
    identityStoreId: get('identity-store-id').trim() || undefined,
    accessKeyId: get('access-key-id').trim() || undefined,
    securityToken: securityToken.trim() || undefined,
    clientId: get('client-id').trim() || undefined,
    enterpriseId: get('enterprise-id').trim() || undefined,
    username: get('username').trim() || undefined
  }
  if (options.baseUrl === undefined && provider.defaultBaseUrl === undefined) {
    throw new InputError('base-url', `is required for ${provider.name} (each installation has its own host)`, 'set base-url to your installation, e.g. https://dnl.example.com/api_dnl/v1')
  }

  const normalisedTargets = provider.validate({ targets, targetType, filter, options, token })

  const reportInput = get('report-path').trim()
  const reportPath = reportInput !== ''
    ? (isAbsolute(reportInput) ? reportInput : resolve(workspace, reportInput))
    : join(env.RUNNER_TEMP || process.cwd(), 'terminate-sessions-report.json')

  return {
    provider,
    token,
    targets: normalisedTargets,
    duplicateTargets: duplicates,
    targetsSource: source,
    targetType,
    filter,
    dryRun,
    maxTargets,
    expectedCount,
    expectedPlanHash,
    batchSize: optionalNumber('batch-size', get('batch-size'), d.batchSize),
    concurrency: optionalNumber('concurrency', get('concurrency'), d.concurrency),
    rateLimit: optionalNumber('rate-limit', get('rate-limit'), d.rateLimit),
    maxRetries: optionalNumber('max-retries', get('max-retries'), d.maxRetries),
    timeoutSeconds: optionalNumber('timeout-seconds', get('timeout-seconds'), d.timeoutSeconds),
    maxWaitSeconds: optionalNumber('max-wait-seconds', get('max-wait-seconds'), 300),
    options,
    failOn,
    reportPath
  }
}
