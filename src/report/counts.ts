import type { Outcome, TargetResult } from '../engine/types.js'

export type Counts = Record<Outcome, number> & { planned: number }

export function countOutcomes(results: readonly TargetResult[], planned: number): Counts {
  const counts: Counts = { planned, terminated: 0, accepted: 0, skipped: 0, failed: 0 }
  for (const r of results) counts[r.outcome]++
  return counts
}
