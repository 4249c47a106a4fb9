import type { Counts } from './counts.js'
import type { TargetResult } from '../engine/types.js'

/** Where the run happened, from the workflow context. */
export interface RunContext {
  actor?: string
  repository?: string
  workflow?: string
  job?: string
  eventName?: string
  runId?: number
  runAttempt?: number
  runUrl?: string
}

/**
 * The run context from the runner's documented GITHUB_* variables — what @actions/github's `context`
 * reads too. Read here directly: that package's exports expose only its root, which builds an Octokit
 * client, and bundling it tripled the size of dist/index.js for five environment variables.
 */
export function readRunContext(env: NodeJS.ProcessEnv): RunContext {
  const repository = env.GITHUB_REPOSITORY || undefined
  const runId = Number.parseInt(env.GITHUB_RUN_ID ?? '', 10) || undefined
  const runAttempt = Number.parseInt(env.GITHUB_RUN_ATTEMPT ?? '', 10) || undefined
  const server = env.GITHUB_SERVER_URL || 'https://github.com'
  return {
    actor: env.GITHUB_ACTOR || undefined,
    repository,
    workflow: env.GITHUB_WORKFLOW || undefined,
    job: env.GITHUB_JOB || undefined,
    eventName: env.GITHUB_EVENT_NAME || undefined,
    runId,
    runAttempt,
    runUrl: repository && runId ? `${server}/${repository}/actions/runs/${runId}${runAttempt && runAttempt > 1 ? `/attempts/${runAttempt}` : ''}` : undefined
  }
}

/**
 * How the run ended:
 * - completed: planned, guarded and (unless a dry run) executed; per-target outcomes say the rest;
 * - refused: a guard (max-targets, expected-count, expected-plan-hash) refused the plan, nothing sent;
 * - plan-failed: planning failed, nothing mutating was sent;
 * - cancelled: the job was cancelled; the results say what was done before;
 * - running: written while the run is under way (a report left in this state was cut short).
 */
export type RunStatus = 'completed' | 'refused' | 'plan-failed' | 'cancelled' | 'running'

/** Everything the run did, as written to the JSON report. */
export interface RunReport {
  tool: 'terminate-sessions'
  version: 2
  provider: string
  providerTitle: string
  mode: 'dry-run' | 'real'
  destructive: boolean
  status: RunStatus
  error?: string
  /** Set when the provider rejected the credentials mid-run: nothing more was sent after that. */
  halted?: string
  startedAt: string
  finishedAt: string
  durationMs: number
  context: RunContext
  settings: Record<string, unknown>
  planHash?: string
  /** The scope the plan hash covers (provider, endpoints, target type, filter, settings). */
  planScope?: Record<string, unknown>
  counts: Counts
  http?: { requests: number; retries: number; throttled: number }
  results: TargetResult[]
}
