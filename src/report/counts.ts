import type { Outcome, TargetResult } from '../engine/types.js'

/**
 * The run in numbers. `planned` is the size of the plan (the targets the run acts on); in a dry run
 * those targets end `planned` too, so that outcome is not counted twice. Every other outcome is counted.
 */
export interface Counts {
  planned: number
  terminated: number
  accepted: number
  skipped: number
  failed: number
  unknown: number
  notAttempted: number
}

const FIELD: Record<Exclude<Outcome, 'planned'>, keyof Counts> = {
  terminated: 'terminated',
  accepted: 'accepted',
  skipped: 'skipped',
  failed: 'failed',
  unknown: 'unknown',
  'not-attempted': 'notAttempted'
}

export function emptyCounts(planned = 0): Counts {
  return { planned, terminated: 0, accepted: 0, skipped: 0, failed: 0, unknown: 0, notAttempted: 0 }
}

export function countOutcomes(results: Iterable<TargetResult>, planned: number): Counts {
  const counts = emptyCounts(planned)
  for (const r of results) if (r.outcome !== 'planned') counts[FIELD[r.outcome]]++
  return counts
}

/** The step outputs that carry the counts. */
export const COUNT_OUTPUTS: Record<keyof Counts, string> = {
  planned: 'planned-count',
  terminated: 'terminated-count',
  accepted: 'accepted-count',
  skipped: 'skipped-count',
  failed: 'failed-count',
  unknown: 'unknown-count',
  notAttempted: 'not-attempted-count'
}
