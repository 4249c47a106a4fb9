import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SecretStore } from '../engine/secrets.js'
import type { RunReport } from './run-info.js'

/**
 * Writes the full report, scrubbed of every secret the run knows, readable by the job only. Written to
 * a temporary file first and renamed, so a reader (or a cancelled run) never sees half a report.
 */
export function writeJsonReport(path: string, report: RunReport, secrets: SecretStore): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.partial`
  // Indented for reading; compact past 10,000 targets, where indentation only adds megabytes to hold and write.
  const text = JSON.stringify(report, null, report.results.length > 10_000 ? undefined : 1)
  writeFileSync(tmp, `${secrets.scrub(text)}\n`, { mode: 0o600 })
  renameSync(tmp, path)
}
