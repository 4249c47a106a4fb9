/**
 * The states a target ends in. Every target ends in exactly one:
 * - terminated: the provider confirmed the sessions (or account) are gone;
 * - accepted: the provider queued the work (HTTP 202, an async job) and reports its result elsewhere;
 * - skipped: nothing was sent for it, with the reason (not found, no sessions, already deleted);
 * - failed: the provider refused or the request failed, with status, code, message and request id;
 * - planned: a dry run stopped before acting on it ("would terminate");
 * - unknown: its request was on the wire when the run was cancelled: it may or may not have taken effect;
 * - not-attempted: the run stopped (cancelled, or the credentials were rejected) before it was sent.
 */
export type Outcome = 'terminated' | 'accepted' | 'skipped' | 'failed' | 'planned' | 'unknown' | 'not-attempted'

export const OUTCOMES: readonly Outcome[] = ['terminated', 'accepted', 'skipped', 'failed', 'planned', 'unknown', 'not-attempted']

export type DetailValue = string | number | boolean | null

/** One entry of a plan: something the run will act on, or was asked to and cannot. */
export interface PlanEntry {
  /** Canonical id: what is sent, what the plan hash and the `targets` output hold. */
  id: string
  /** The kind of target (user-hash, user-id, group-id, ...). */
  kind: string
  /** A human name for the target when the provider resolved one. */
  label?: string
  /** The target as it was listed, when that differs from `id` (a login resolved to a user id). */
  given?: string
  /** Extra facts shown in the plan table (status, sessions, last login, ...). */
  details?: Record<string, DetailValue>
  /** Set when the target is known at plan time to need no request; it ends `skipped` with this reason. */
  skip?: string
  /** The target given does not exist at the provider (a typo, a leaver without an account there). */
  unresolved?: boolean
  /**
   * What the run will act on for this entry beyond its id, when that can change between plan and
   * execute (the members of a group, the sessions of a user). Part of the plan hash.
   */
  binds?: unknown
  /** Provider-private data carried from plan to execute. Not hashed, not reported. */
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
  /** The target as it was listed, when that differs from `id`. */
  given?: string
  details?: Record<string, DetailValue>
  outcome: Outcome
  /** Why it was skipped or failed, or what the provider said on success. */
  reason?: string
  /** Set on skipped targets that did not resolve (see PlanEntry.unresolved). */
  unresolved?: boolean
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
  /** Raw target strings, deduplicated, in input order (normalised by the provider's validate). */
  targets: string[]
  /** The target type, the provider default when the input is empty. */
  targetType: string
  /** Validated filter, or undefined when none was given. */
  filter?: Record<string, string>
}
