import { GuardError } from './errors.js'

export interface GuardSettings {
  maxTargets: number
  expectedCount?: number
  expectedPlanHash?: string
}

/** Refuses a plan, before any mutating request, unless every guard holds. */
export function checkGuards(count: number, hash: string, guards: GuardSettings): void {
  if (count > guards.maxTargets) {
    throw new GuardError(
      'max-targets',
      `Input 'max-targets': the plan holds ${count} targets, more than max-targets (${guards.maxTargets}). Nothing was terminated. Fix: narrow the targets or filter, or raise max-targets to at least ${count} if this is intended.`
    )
  }
  if (guards.expectedCount !== undefined && count !== guards.expectedCount) {
    throw new GuardError(
      'expected-count',
      `Input 'expected-count': the plan holds ${count} targets, expected-count is ${guards.expectedCount}. Nothing was terminated. Fix: review the plan (dry run) and set expected-count to the count you approved.`
    )
  }
  if (guards.expectedPlanHash !== undefined && hash !== guards.expectedPlanHash) {
    throw new GuardError(
      'expected-plan-hash',
      `Input 'expected-plan-hash': the fresh plan's hash ${hash} differs from the approved ${guards.expectedPlanHash}; the targets changed since the preview. Nothing was terminated. Fix: run the dry run again, review the new plan and approve its plan-hash.`
    )
  }
}
