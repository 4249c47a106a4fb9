import * as github from '@actions/github'
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
  runUrl?: string
}

export function readRunContext(env: NodeJS.ProcessEnv): RunContext {
  const ctx = github.context
  const repository = env.GITHUB_REPOSITORY || undefined
  const runId = ctx.runId || undefined
  const server = ctx.serverUrl || 'https://github.com'
  return {
    actor: ctx.actor || undefined,
    repository,
    workflow: ctx.workflow || undefined,
    job: ctx.job || undefined,
    eventName: ctx.eventName || undefined,
    runId,
    runUrl: repository && runId ? `${server}/${repository}/actions/runs/${runId}` : undefined
  }
}

/** Everything the run did, as written to the JSON report. */
export interface RunReport {
  tool: 'terminate-sessions'
  version: 1
  provider: string
  mode: 'dry-run' | 'real'
  destructive: boolean
  status: 'completed' | 'refused' | 'plan-failed'
  error?: string
  startedAt: string
  finishedAt: string
  durationMs: number
  context: RunContext
  settings: Record<string, unknown>
  planHash?: string
  counts: Counts
  http?: { requests: number; retries: number; throttled: number }
  results: TargetResult[]
}
