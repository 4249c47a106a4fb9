// Reads the action's inputs into validated run settings. The shared inputs are declared here; each
// provider declares its own (src/providers/<name>/), and this reader treats both the same way:
// secrets masked as soon as they are read, every value checked before any request is sent, one
// InputError naming the input and the fix.
import { existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { InputError } from './engine/errors.js'
import { choice, flag, httpUrl, isLoopbackHost, MIN_SECRET_LENGTH, readDeclared, text, wholeNumber, type InputDecls } from './engine/inputs.js'
import { checkedPath, type PathRoots } from './engine/paths.js'
import type { RunSettings } from './engine/pipeline.js'
import type { AnyProvider, ValidationInput } from './engine/provider.js'
import { dedupe, parseFilter, parseTargetList, readTargetsFile, type ParsedTargets } from './engine/targets.js'
import { providerNames, providers } from './providers/index.js'

/** The inputs every provider shares, beyond provider, token, targets, targets-file, target-type, filter and report-path. */
export const SHARED_INPUTS = {
  dryRun: flag({
    name: 'dry-run',
    description: 'true: resolve and list the plan, send no mutating request.',
    fix: 'set dry-run to true or false',
    default: false
  }),
  maxTargets: wholeNumber({
    name: 'max-targets',
    description: 'Refuse, before any mutating request, when the plan holds more targets than this.',
    fix: 'set max-targets to a whole number from 0 to 10000000',
    min: 0,
    max: 10_000_000,
    default: 25
  }),
  expectedCount: wholeNumber({
    name: 'expected-count',
    description: 'When set, refuse unless the plan holds exactly this many targets.',
    fix: 'set expected-count to the planned-count of the approved dry run, or leave it empty',
    min: 0,
    max: 10_000_000
  }),
  expectedPlanHash: text({
    name: 'expected-plan-hash',
    description: 'When set, refuse unless the fresh plan-hash equals this value.',
    fix: "pass the plan job's plan-hash output unchanged",
    pattern: /^[0-9a-fA-F]{64}$/,
    problem: 'is not a sha256 hex digest (64 hex characters)'
  }),
  batchSize: wholeNumber({
    name: 'batch-size',
    description: "Targets per request. Default: the provider's.",
    fix: 'set batch-size to a whole number from 1 to 10000, or leave it empty for the default',
    min: 1,
    max: 10_000
  }),
  concurrency: wholeNumber({
    name: 'concurrency',
    description: "Requests in flight at once. Default: the provider's.",
    fix: 'set concurrency to a whole number from 1 to 64, or leave it empty for the default',
    min: 1,
    max: 64
  }),
  rateLimit: wholeNumber({
    name: 'rate-limit',
    description: "Requests per minute to the provider, shared by every worker. Default: the provider's.",
    fix: 'set rate-limit to a whole number from 1 to 100000, or leave it empty for the default',
    min: 1,
    max: 100_000
  }),
  maxRetries: wholeNumber({
    name: 'max-retries',
    description: "Retries for a request that failed with 429, 5xx, a timeout or a network error. Default: the provider's.",
    fix: 'set max-retries to a whole number from 0 to 20, or leave it empty for the default',
    min: 0,
    max: 20
  }),
  timeoutSeconds: wholeNumber({
    name: 'timeout-seconds',
    description: "Time limit for one HTTP request. Default: the provider's.",
    fix: 'set timeout-seconds to a whole number from 1 to 600, or leave it empty for the default',
    min: 1,
    max: 600
  }),
  maxWaitSeconds: wholeNumber({
    name: 'max-wait-seconds',
    description: 'Upper bound on the total time spent waiting for retries and throttling.',
    fix: 'set max-wait-seconds to a whole number from 0 to 21600',
    min: 0,
    max: 21_600,
    default: 300
  }),
  failOn: choice({
    name: 'fail-on',
    description: 'When the step fails: any (a target failed), all (every target failed), never.',
    fix: 'set fail-on to any, all or never',
    values: ['any', 'all', 'never'] as const,
    default: 'any'
  }),
  ifUnresolved: choice({
    name: 'if-unresolved',
    description: 'A listed target that does not exist at the provider: fail (the step fails after acting on the rest, naming it) or skip.',
    fix: 'set if-unresolved to fail or skip',
    values: ['fail', 'skip'] as const,
    default: 'fail'
  }),
  baseUrl: httpUrl({
    name: 'base-url',
    description: 'Override the provider endpoint.',
    fix: 'set base-url to a URL such as https://host/path, or leave it empty for the default'
  }),
  authBaseUrl: httpUrl({
    name: 'auth-base-url',
    description: 'Override the authentication / discovery host.',
    fix: 'set auth-base-url to a URL such as https://host, or leave it empty for the default'
  })
} satisfies InputDecls

/** Inputs read by hand below (they depend on each other or on the provider). */
export const SPECIAL_INPUTS = ['provider', 'token', 'targets', 'targets-file', 'target-type', 'filter', 'report-path'] as const

/** Every input of the action: the shared ones and every provider's own. */
export function allInputNames(): Set<string> {
  const names = new Set<string>([...SPECIAL_INPUTS, ...Object.values(SHARED_INPUTS).map((d) => d.name)])
  for (const p of providers.values()) for (const d of Object.values(p.inputs as InputDecls)) names.add(d.name)
  return names
}

/** Replaces `{name}` in a provider's default URL with its option of that name (Huawei's `{region}`). */
function fillTemplate(url: string, options: Record<string, unknown>): string {
  return url.replace(/\{(\w+)\}/g, (_, key: string) => String(options[key] ?? ''))
}

/**
 * Reads and validates every input. Secrets are masked as soon as they are read, before any
 * validation can echo them. Throws InputError naming the input and the fix.
 */
export function readSettings(get: (name: string) => string, env: NodeJS.ProcessEnv, mask: (value: string) => void): RunSettings {
  const token = get('token')
  mask(token)
  const notes: string[] = []

  const providerName = get('provider').trim().toLowerCase()
  if (providerName === '') throw new InputError('provider', 'is empty', `set provider to one of: ${providerNames.join(', ')}`)
  const provider: AnyProvider | undefined = providers.get(providerName)
  if (provider === undefined) {
    throw new InputError(
      'provider',
      `${JSON.stringify(providerName.slice(0, 40))} is not a supported provider`,
      `set provider to one of: ${providerNames.join(', ')}`
    )
  }
  const options = readDeclared(provider.inputs, get, mask) as Record<string, unknown>
  if (token.trim() === '' && !provider.token.optional) {
    throw new InputError('token', 'is empty', `pass the ${provider.title} credential from a secret: token: \${{ secrets.YOUR_SECRET }} (${provider.token.fix})`)
  }
  if (token.trim() !== '' && token.trim().length < MIN_SECRET_LENGTH) {
    throw new InputError(
      'token',
      `is ${token.trim().length} characters long, too short to be masked in logs safely (at least ${MIN_SECRET_LENGTH})`,
      provider.token.fix
    )
  }
  // An input another provider reads, set here, is a mistake that would otherwise pass in silence.
  const own = new Set([
    ...SPECIAL_INPUTS,
    ...Object.values(SHARED_INPUTS).map((d) => d.name),
    ...Object.values(provider.inputs as InputDecls).map((d) => d.name)
  ])
  for (const name of allInputNames()) {
    if (!own.has(name) && get(name).trim() !== '') {
      throw new InputError(name, `is set, but ${provider.name} does not use it`, `remove ${name}, or check provider (${provider.name})`)
    }
  }
  const shared = readDeclared(SHARED_INPUTS, get, mask)

  const targetType = get('target-type').trim() || provider.defaultTargetType
  if (!provider.targetTypes.includes(targetType)) {
    throw new InputError(
      'target-type',
      `${JSON.stringify(targetType.slice(0, 40))} is not a ${provider.name} target type`,
      `set target-type to one of: ${provider.targetTypes.join(', ')}`
    )
  }

  const workspace = env.GITHUB_WORKSPACE || process.cwd()
  const roots: PathRoots = { workspace, temp: env.RUNNER_TEMP || undefined }
  const inlineTargets = get('targets')
  const targetsFile = get('targets-file').trim()
  if (inlineTargets.trim() !== '' && targetsFile !== '') {
    throw new InputError('targets-file', 'is set together with targets', 'give the targets either inline (targets) or in a file (targets-file), not both')
  }
  const parsed: ParsedTargets = targetsFile !== '' ? readTargetsFile(targetsFile, targetType, roots) : parseTargetList(inlineTargets)
  const { unique, duplicates } = dedupe(parsed.targets)
  if (duplicates > 0) notes.push(`${duplicates} duplicate targets removed`)
  if (parsed.commentLines.length > 0) {
    const lines = parsed.commentLines.slice(0, 20).join(', ')
    notes.push(
      `${parsed.commentLines.length} line(s) starting with # were read as comments, not targets (${targetsFile !== '' ? 'targets-file' : 'targets'} line ${lines}${parsed.commentLines.length > 20 ? ', …' : ''})`
    )
  }

  const filter = parseFilter(get('filter'))
  const spec = provider.filter
  if (filter !== undefined) {
    if (spec === undefined) throw new InputError('filter', `${provider.name} takes no filter`, 'remove filter and list the targets')
    // Own keys only: `in` would accept names every object has (isPrototypeOf, toString, ...).
    const unknown = Object.keys(filter).filter((k) => !Object.hasOwn(spec.keys, k))
    if (unknown.length > 0) {
      throw new InputError(
        'filter',
        `unknown key ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')} for ${provider.name}`,
        `use only: ${Object.keys(spec.keys).join(', ')}`
      )
    }
    if (spec.requireNonEmpty && Object.keys(filter).length === 0) {
      throw new InputError('filter', 'is empty', `give at least one of: ${Object.keys(spec.keys).join(', ')}`)
    }
    for (const [key, value] of Object.entries(filter)) {
      const problem = spec.keys[key](value)
      if (problem) throw new InputError('filter', `${key}=${JSON.stringify(value.slice(0, 80))}: ${problem}`, `correct the value of ${key}`)
    }
  }
  const source = targetsFile !== '' ? 'targets-file' : inlineTargets.trim() !== '' ? 'targets' : 'filter'
  if (unique.length === 0) {
    if (filter === undefined || spec?.mode !== 'select') {
      const from = targetsFile !== '' ? 'targets-file' : 'targets'
      const hint = spec?.mode === 'select' ? `, or a filter (${Object.keys(spec.keys).join(', ')})` : ''
      throw new InputError(from, 'holds no targets', `list at least one ${targetType} in targets or targets-file${hint}`)
    }
  } else if (filter !== undefined && spec?.mode === 'select') {
    throw new InputError(
      'filter',
      `is set together with ${source}, and a ${provider.name} filter selects the targets itself`,
      `use either ${source} or filter, not both`
    )
  }
  if (unique.length > shared.maxTargets) {
    throw new InputError(
      'max-targets',
      `${unique.length} targets were given, more than max-targets (${shared.maxTargets}); nothing was sent`,
      `list fewer targets, or raise max-targets to at least ${unique.length} if this is intended`
    )
  }

  const baseTemplate = provider.baseUrl.default
  if (shared.baseUrl === undefined && baseTemplate === undefined) {
    throw new InputError(
      'base-url',
      `is required for ${provider.name}`,
      `set base-url to your ${provider.title} address, e.g. ${provider.baseUrl.example ?? 'https://host/path'}`
    )
  }
  const baseUrl = shared.baseUrl ?? fillTemplate(baseTemplate ?? '', options)
  const authBaseUrl = shared.authBaseUrl ?? (provider.authBaseUrl?.default !== undefined ? fillTemplate(provider.authBaseUrl.default, options) : undefined)
  if (shared.authBaseUrl !== undefined && provider.authBaseUrl === undefined) {
    throw new InputError('auth-base-url', `is set, but ${provider.name} has no separate authentication host`, 'remove auth-base-url')
  }
  for (const [name, url] of [
    ['base-url', shared.baseUrl],
    ['auth-base-url', shared.authBaseUrl]
  ] as const) {
    if (url !== undefined && url.startsWith('http://') && !isLoopbackHost(new URL(url).hostname)) {
      notes.push(`warning: ${name} is plain http:// to a host that is not loopback: the credential travels unencrypted`)
    }
  }

  const targets = validateTargets(
    provider,
    { targets: unique, targetType, filter, options, token },
    targetsFile !== '' ? { file: targetsFile, where: parsed.where, all: parsed.targets } : undefined
  )

  const reportInput = get('report-path').trim()
  const reportPath = checkedPath('report-path', reportInput !== '' ? reportInput : join(env.RUNNER_TEMP || workspace, 'terminate-sessions-report.json'), roots)
  probeWritable(reportPath)

  const d = provider.defaults
  const reported: Record<string, unknown> = {
    targetType,
    targetsSource: source,
    targetsGiven: targets.length,
    filter,
    baseUrl,
    authBaseUrl,
    tokenGiven: token.trim() !== ''
  }
  for (const [key, decl] of Object.entries(SHARED_INPUTS)) reported[decl.name] = (shared as Record<string, unknown>)[key]
  for (const [key, decl] of Object.entries(provider.inputs as InputDecls)) if (!decl.secret && !decl.unreported) reported[decl.name] = options[key]

  return {
    provider,
    token,
    options,
    baseUrl,
    authBaseUrl,
    targets,
    targetType,
    filter,
    dryRun: shared.dryRun,
    maxTargets: shared.maxTargets,
    expectedCount: shared.expectedCount,
    expectedPlanHash: shared.expectedPlanHash?.toLowerCase(),
    batchSize: shared.batchSize ?? d.batchSize,
    concurrency: shared.concurrency ?? d.concurrency,
    rateLimit: shared.rateLimit ?? d.rateLimit,
    maxRetries: shared.maxRetries ?? d.maxRetries,
    timeoutSeconds: shared.timeoutSeconds ?? d.timeoutSeconds,
    maxWaitSeconds: shared.maxWaitSeconds,
    failOn: shared.failOn,
    ifUnresolved: shared.ifUnresolved,
    reportPath,
    reported,
    notes
  }
}

/** The report is written after the run has acted: find out now, before any request, that it can be. */
function probeWritable(path: string): void {
  const fix = 'set report-path to a file path in a writable directory of the workspace or RUNNER_TEMP'
  if (existsSync(path) && statSync(path).isDirectory()) throw new InputError('report-path', `${JSON.stringify(path)} is a directory`, fix)
  try {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(`${path}.partial`, '', { mode: 0o600 })
    unlinkSync(`${path}.partial`)
  } catch (err) {
    throw new InputError('report-path', `${JSON.stringify(path)} cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, fix)
  }
}

/**
 * The provider's checks of the targets. A file may hold anything (it could be /etc/passwd): when the
 * targets came from one, a refused target is named by its line, never quoted.
 */
function validateTargets(
  provider: AnyProvider,
  input: ValidationInput<Record<string, unknown>>,
  file?: { file: string; where: string[]; all: string[] }
): string[] {
  try {
    return provider.validate(input)
  } catch (err) {
    if (!file || !(err instanceof InputError) || err.input !== 'targets') throw err
    const bad = input.targets.find((t) => {
      try {
        provider.validate({ ...input, targets: [t] })
        return false
      } catch {
        return true
      }
    })
    const at = bad === undefined ? undefined : file.where[file.all.indexOf(bad)]
    throw new InputError(
      'targets-file',
      `${at ?? 'a line'} of ${file.file} is not a valid ${input.targetType} for ${provider.name} (the value is not shown: it comes from a file)`,
      err.fix
    )
  }
}
