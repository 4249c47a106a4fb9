import type { HttpClient } from './http.js'
import type { Logger } from './logger.js'

/** The four states every target ends in. */
export type Outcome = 'terminated' | 'accepted' | 'skipped' | 'failed'

export type DetailValue = string | number | boolean | null

/** One entry of a plan: something the run will act on, or was asked to and cannot. */
export interface PlanEntry {
  /** Canonical id: what is sent, what plan-hash and the `targets` output hold. */
  id: string
  /** The kind of target (user-hash, user-id, group-id, ...). */
  kind: string
  /** A human name for the target when the provider resolved one. */
  label?: string
  /** Extra facts shown in the plan table (status, sessions, last login, ...). */
  details?: Record<string, DetailValue>
  /** Set when the target is known at plan time to need no request; it ends `skipped` with this reason. */
  skip?: string
  /** Provider-private data carried from plan to execute (e.g. session ids). Not hashed, not reported. */
  payload?: unknown
}

/** What a provider knows about a failed call. */
export interface ProviderErrorInfo {
  status?: number
  code?: string
  message: string
  requestId?: string
}

export interface TargetResult {
  id: string
  kind: string
  label?: string
  details?: Record<string, DetailValue>
  outcome: Outcome
  /** Why it was skipped or failed, or what the provider said on success. */
  reason?: string
  status?: number
  code?: string
  message?: string
  requestId?: string
  /** HTTP attempts spent on the request(s) that decided this target. */
  attempts?: number
  batch?: number
}

/** A provider's verdict for one target of a batch. */
export interface BatchOutcome {
  id: string
  outcome: Outcome
  reason?: string
  error?: ProviderErrorInfo
  requestId?: string
  attempts?: number
}

export interface TargetRequest {
  /** Raw target strings, deduplicated, in input order. */
  targets: string[]
  /** The target type, the provider default when the input is empty. */
  targetType: string
  /** Validated filter, or undefined when none was given. */
  filter?: Record<string, string>
}

export interface ProviderDefaults {
  batchSize: number
  concurrency: number
  rateLimit: number
  maxRetries: number
  timeoutSeconds: number
}

/** Settings a provider needs beyond the shared ones; all optional strings from the inputs. */
export interface ProviderOptions {
  baseUrl?: string
  authBaseUrl?: string
  region?: string
  identityStoreId?: string
  accessKeyId?: string
  securityToken?: string
  clientId?: string
  enterpriseId?: string
  username?: string
}

/** Everything a provider may use while it runs. */
export interface ProviderContext {
  http: HttpClient
  log: Logger
  token: string
  options: ProviderOptions
  /** Registers a value minted at run time as a secret: masked in logs, scrubbed from every file. */
  addSecret(value: string): void
  /** Lookups a provider may run at once; the HTTP client separately caps requests on the wire at the concurrency input. */
  concurrency: number
  /** Upper bound on targets the plan may hold: resolvers stop paging past it. */
  maxTargets: number
  dryRun: boolean
}

export interface FilterSpec {
  /** How the filter combines with `targets`: it selects the targets, or it narrows what is done to them. */
  mode: 'select' | 'narrow'
  /** Allowed keys with a validator that returns an error text for a bad value, or undefined. */
  keys: Record<string, (value: string) => string | undefined>
  /** Whether an empty filter (no keys) is refused. */
  requireNonEmpty?: boolean
}

/** A provider session: built once per run from the validated settings. */
export interface ProviderRun {
  /** Resolves the request into plan entries; only read-only requests. */
  plan(request: TargetRequest): Promise<PlanEntry[]>
  /** Acts on one batch of planned entries (never on `skip` entries) and reports each one. */
  execute(batch: PlanEntry[]): Promise<BatchOutcome[]>
  /** Splits planned entries into batches; default: chunks of batchSize. */
  batches?(entries: PlanEntry[], batchSize: number): PlanEntry[][]
}

export interface Provider {
  name: string
  title: string
  defaults: ProviderDefaults
  /** Default base URL; undefined means base-url is required. */
  defaultBaseUrl?: string
  targetTypes: readonly string[]
  defaultTargetType: string
  filter?: FilterSpec
  /** Whether the run deletes accounts rather than sessions. */
  destructive?: boolean
  /** Text for the summary when targets end `accepted` (where to follow the queued work). */
  acceptedNote?: string
  /** Headers whose values carry the provider's request id, in order of preference. */
  requestIdHeaders: readonly string[]
  /**
   * Checks provider-specific settings and targets before any request. Throws InputError.
   * Returns the normalised targets.
   */
  validate(input: ValidationInput): string[]
  /** Builds the HTTP profile (auth, error parsing, retry rules) and the run. */
  start(ctx: ProviderContext): Promise<ProviderRun> | ProviderRun
  /** How to read an error response into status/code/message/request id. */
  parseError(status: number, body: unknown, text: string): ProviderErrorInfo
  /** Provider-specific retry verdict for a non-2xx response; undefined falls back to the shared rules. */
  isRetryable?(status: number, error: ProviderErrorInfo): boolean | undefined
}

export interface ValidationInput {
  targets: string[]
  targetType: string
  filter?: Record<string, string>
  options: ProviderOptions
  token: string
}
