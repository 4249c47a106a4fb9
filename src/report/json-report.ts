import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SecretStore } from '../engine/secrets.js'
import type { RunReport } from './run-info.js'

/** Writes the full report, scrubbed of every secret the run knows. */
export function writeJsonReport(path: string, report: RunReport, secrets: SecretStore): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${secrets.scrub(JSON.stringify(report, null, 1))}\n`, { mode: 0o600 })
}
