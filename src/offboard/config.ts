// Which providers the pipeline acts on, with their non-secret settings: the `providers` input, YAML (or
// JSON) mapping a provider name to the action inputs it needs, e.g.
//   okta:   { base-url: https://acme.okta.com }
//   entra:  { tenant-id: 0000..., client-id: 1111... }
//   google: { subject: admin@acme.com, workload-identity-provider: projects/..., service-account: ...@....iam.gserviceaccount.com }
//   box: {}
// Secrets are never settings: each provider's credential is the workflow secret `<provider>-token` (and
// `<provider>-<input>` for its other secret inputs), handed to this code as OFFBOARD_SECRET_* variables.
import { parse } from 'yaml'
import { InputError } from '../engine/errors.js'
import type { InputDecls } from '../engine/inputs.js'
import type { AnyProvider } from '../engine/provider.js'
import { providerNames, providers } from '../providers/index.js'

/** Shared action inputs a pipeline may set per provider; the rest (targets, dry-run, guards) it sets itself. */
const TUNABLE = [
  'base-url',
  'auth-base-url',
  'target-type',
  'max-targets',
  'batch-size',
  'concurrency',
  'rate-limit',
  'max-retries',
  'timeout-seconds',
  'max-wait-seconds',
  'fail-on'
]
/** Settings the workflow itself reads (the keyless Google route runs google-github-actions/auth first). */
export const WORKFLOW_KEYS: Record<string, readonly string[]> = { google: ['workload-identity-provider', 'service-account'] }

export interface Selected {
  provider: AnyProvider
  /** Action inputs (non-secret) for this provider, by input name. */
  inputs: Record<string, string>
  /** Settings only the workflow reads (keyless Google). */
  workflow: Record<string, string>
}

function secretInputs(p: AnyProvider): string[] {
  return Object.values(p.inputs as InputDecls)
    .filter((d) => d.secret)
    .map((d) => d.name)
}

/** The environment variable that carries a provider's secret input into the pipeline. */
export function secretVar(provider: string, input: string): string {
  return `OFFBOARD_SECRET_${provider.toUpperCase()}_${input.toUpperCase().replace(/-/g, '_')}`
}

/** The workflow secret that holds it. */
export function secretName(provider: string, input: string): string {
  return `${provider}-${input}`
}

/** Every secret the pipeline workflow declares: `<provider>-token` and each secret input, per provider. */
export function pipelineSecrets(): Array<{ provider: string; input: string; name: string }> {
  const out: Array<{ provider: string; input: string; name: string }> = []
  for (const p of providers.values()) for (const input of ['token', ...secretInputs(p)]) out.push({ provider: p.name, input, name: secretName(p.name, input) })
  return out
}

export function parseProviders(raw: string): Selected[] {
  const text = raw.trim()
  if (text === '') throw new InputError('providers', 'is empty', `name the providers to act on, e.g. "box: {}" (one of: ${providerNames.join(', ')})`)
  let doc: unknown
  try {
    doc = parse(text, { uniqueKeys: true, maxAliasCount: 0 })
  } catch (err) {
    throw new InputError(
      'providers',
      `is not YAML or JSON (${(err as Error).message.split('\n')[0]})`,
      'write one "<provider>: { input: value, ... }" per line'
    )
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InputError('providers', 'must map provider names to their settings', 'write e.g. "okta: { base-url: https://acme.okta.com }"')
  }
  const out: Selected[] = []
  for (const [name, settings] of Object.entries(doc as Record<string, unknown>)) {
    const provider = providers.get(name)
    if (provider === undefined) throw new InputError('providers', `${JSON.stringify(name)} is not a provider`, `use: ${providerNames.join(', ')}`)
    if (settings !== null && (typeof settings !== 'object' || Array.isArray(settings))) {
      throw new InputError('providers', `${name}: the settings must be a map (or {} for none)`, `write "${name}: {}" or "${name}: { input: value }"`)
    }
    const own = Object.values(provider.inputs as InputDecls)
    const allowed = new Set([...TUNABLE, ...own.filter((d) => !d.secret).map((d) => d.name)])
    const secret = new Set(secretInputs(provider))
    const workflowKeys = new Set(WORKFLOW_KEYS[name] ?? [])
    const inputs: Record<string, string> = {}
    const workflow: Record<string, string> = {}
    for (const [key, value] of Object.entries((settings ?? {}) as Record<string, unknown>)) {
      if (key === 'token' || secret.has(key)) {
        throw new InputError(
          'providers',
          `${name}: ${key} is a secret and cannot be a setting`,
          `store it as the secret ${secretName(name, key)} and pass it to the workflow`
        )
      }
      if (!allowed.has(key) && !workflowKeys.has(key)) {
        throw new InputError(
          'providers',
          `${name}: ${JSON.stringify(key)} is not a setting of ${name}`,
          `use: ${[...allowed, ...workflowKeys].sort().join(', ')}`
        )
      }
      if (value === null || typeof value === 'object') throw new InputError('providers', `${name}: ${key} must be a single value`, `write ${key}: value`)
      const v = String(value)
      if (workflowKeys.has(key)) workflow[key] = v
      else inputs[key] = v
    }
    out.push({ provider, inputs, workflow })
  }
  if (out.length === 0) throw new InputError('providers', 'names no provider', `name at least one of: ${providerNames.join(', ')}`)
  return out
}
