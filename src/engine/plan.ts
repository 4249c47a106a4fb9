import { createHash } from 'node:crypto'
import type { PlanEntry } from './types.js'

/** The entries a run acts on: everything the plan did not already mark skipped. */
export function actionable(entries: readonly PlanEntry[]): PlanEntry[] {
  return entries.filter((e) => e.skip === undefined)
}

/** JSON with object keys sorted at every level and undefined members dropped: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`
  const keys = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
}

/** Where and how the run acts, beyond the entries themselves. */
export interface PlanScope {
  provider: string
  /** The endpoints the run talks to (base-url, auth-base-url, regional hosts). */
  endpoint: Record<string, string | undefined>
  targetType: string
  filter?: Record<string, string>
  /** Provider settings that change what is done (revoke tokens too, session scope, the store id...). */
  settings: Record<string, unknown>
}

/**
 * sha256 over a canonical JSON of everything the run will do: the scope (provider, endpoints, target
 * type, filter, settings that change the action) and every entry acted on with what it binds (the
 * members of a group, the sessions of a user), sorted by id. A change in any of them — a plan made on
 * another server, a filter dropped, a group that gained a member — changes the hash, so an approval
 * binds exactly what the reviewer was shown.
 */
export function planHash(scope: PlanScope, planned: readonly PlanEntry[]): string {
  const entries = [...planned].map((e) => ({ id: e.id, kind: e.kind, binds: e.binds })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const doc = { version: 2, ...scope, filter: scope.filter ?? null, entries }
  return createHash('sha256').update(canonicalJson(doc)).digest('hex')
}

/** Splits entries into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
