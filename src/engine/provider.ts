// What a provider is: everything the engine needs to know about one service, declared in one folder
// (src/providers/<name>/). The engine never names a provider; it reads these declarations.
import type { Clock } from './clock.js'
import type { HttpClient, HttpProfile } from './http/client.js'
import type { InputDecls, InputValues } from './inputs.js'
import type { Logger } from './logger.js'
import type { BatchOutcome, PlanEntry, TargetRequest } from './types.js'

export interface ProviderDefaults {
  batchSize: number
  concurrency: number
  rateLimit: number
  maxRetries: number
  timeoutSeconds: number
}

export interface FilterSpec {
  /** How the filter combines with `targets`: it selects the targets, or it narrows what is done to them. */
  mode: 'select' | 'narrow'
  /** Allowed keys with a validator that returns an error text for a bad value, or undefined. */
  keys: Record<string, (value: string) => string | undefined>
  /** Whether an empty filter (no keys) is refused. */
  requireNonEmpty?: boolean
  /** Shown in errors and docs: what a filter looks like. */
  example?: string
}

/** Everything a provider may use while it runs. */
export interface ProviderContext<O = Record<string, unknown>> {
  /** The run's HTTP client: set `credentials` for the default auth, or pass `auth` per request. */
  http: HttpClient
  log: Logger
  /** The `token` input (empty when the provider does not require one and none was given). */
  token: string
  /** The provider's own inputs, validated. */
  options: O
  /** base-url, or the provider's default. */
  baseUrl: string
  /** auth-base-url, or the provider's default. */
  authBaseUrl?: string
  /** Registers a value minted at run time as a secret: masked in logs, scrubbed from every file. */
  addSecret(value: string): void
  /** Lookups a provider may run at once; the HTTP client separately caps requests on the wire. */
  concurrency: number
  /** Upper bound on targets the plan may hold: resolvers stop paging past it. */
  maxTargets: number
  /**
   * Retries allowed for one request (the max-retries input). The client applies it to every HTTP
   * request; a provider applies it to what it retries itself (an item of a batch, through
   * `http.waitToRetry`).
   */
  maxRetries: number
  dryRun: boolean
  clock: Clock
  random: () => number
  /** GitHub's OIDC token for `audience` (the job needs `permissions: id-token: write`). */
  getIdToken(audience: string): Promise<string>
}

/** A provider session: built once per run from the validated settings. */
export interface ProviderRun {
  /** Resolves the request into plan entries; only read-only requests. */
  plan(request: TargetRequest): Promise<PlanEntry[]>
  /** Acts on one batch of planned entries (never on `skip` entries) and reports each one. */
  execute(batch: PlanEntry[]): Promise<BatchOutcome[]>
  /** Splits planned entries into batches; default: chunks of batchSize. */
  batches?(entries: PlanEntry[], batchSize: number): PlanEntry[][]
  /** Facts learnt while planning that decide where the run acts (a discovered store id): part of the plan hash. */
  scope?(): Record<string, unknown>
}

export interface ValidationInput<O> {
  targets: string[]
  targetType: string
  filter?: Record<string, string>
  options: O
  token: string
}

export interface Provider<D extends InputDecls = InputDecls> {
  name: string
  title: string
  /** Whether the run deletes accounts rather than sessions. */
  destructive?: boolean
  /** Text for the summary when targets end `accepted` (where to follow the queued work). */
  acceptedNote?: string
  /** The provider's own inputs (beyond the shared ones); action.yml and the workflows must agree. */
  inputs: D
  /** What `token` holds for this provider, and whether it may be empty (keyless auth). */
  token: { description: string; fix: string; optional?: boolean }
  /** Default base-url; without one, base-url is required (`example` shows the shape). */
  baseUrl: { default?: string; example?: string; description?: string }
  /** Default auth-base-url, when the provider has a separate authentication host. */
  authBaseUrl?: { default?: string; description: string }
  defaults: ProviderDefaults
  targetTypes: readonly string[]
  defaultTargetType: string
  /** One line per target type for action.yml and the docs. */
  targetTypesDescription: string
  /**
   * The target type that takes a person's email address (and, where it detects them, the provider's own
   * ids too), for pipelines that know people by email. Undefined: the provider has no email lookup.
   */
  emailTargetType?: string
  filter?: FilterSpec
  /** How HTTP answers are read: error bodies, request id headers, retry and throttle rules. */
  http: Omit<HttpProfile, 'paceByHeaders'> & { paceByHeaders?: boolean }
  /** Settings of this provider that change what the run does to the planned targets: part of the plan hash. */
  bindsPlan?(options: InputValues<D>): Record<string, unknown>
  /** Checks provider-specific settings and targets before any request. Throws InputError. Returns the normalised targets. */
  validate(input: ValidationInput<InputValues<D>>): string[]
  start(ctx: ProviderContext<InputValues<D>>): Promise<ProviderRun> | ProviderRun
}

/** Any provider, its input types erased: what the registry and the engine hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProvider = Provider<any>

/** Declares a provider with its inputs typed from their declarations. */
export function defineProvider<D extends InputDecls>(p: Provider<D>): AnyProvider {
  return p
}
