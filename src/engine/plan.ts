import { createHash } from 'node:crypto'
import type { PlanEntry } from './types.js'

/** The entries a run acts on: everything the plan did not already mark skipped. */
export function actionable(entries: readonly PlanEntry[]): PlanEntry[] {
  return entries.filter((e) => e.skip === undefined)
}

/**
 * sha256 over the provider and the sorted ids of the entries the run acts on, one per line:
 * `provider\nid1\nid2...`. Order-independent, so the same set always hashes the same.
 */
export function planHash(provider: string, ids: readonly string[]): string {
  const sorted = [...new Set(ids)].sort()
  return createHash('sha256').update([provider, ...sorted].join('\n')).digest('hex')
}

/** Splits entries into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
