// The offboard-everywhere pipeline's steps (.github/workflows/offboard.yml runs them):
//   node dist/offboard/index.js prepare   validate people and providers; settings for the keyless Google step
//   node dist/offboard/index.js plan      dry-run every selected provider at once; one combined summary and hash
//   node dist/offboard/index.js execute   check the approved hashes, run every provider bound to its approved
//                                         plan at once; one combined outcome table and JSON report
// Each provider runs as the action itself (dist/index.js) with its own inputs: the same code, guards and
// report as a single-provider run. Inputs come from environment variables set by the workflow.
import * as core from '@actions/core'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errorMessage, InputError } from '../engine/errors.js'
import { escapeLogText } from '../engine/logger.js'
import { readRunContext } from '../report/run-info.js'
import { combinedHash, combinedReport, renderCombinedSummary, type ProviderRun } from './combine.js'
import { parseProviders, secretName, secretVar, type Selected } from './config.js'
import { isEmail, parsePeople, type Person } from './people.js'
import { runStep } from './runner.js'
import { providerNames } from '../providers/index.js'

const GOOGLE_SCOPES = {
  always: ['https://www.googleapis.com/auth/admin.directory.user.security', 'https://www.googleapis.com/auth/admin.directory.user.readonly'],
  groups: ['https://www.googleapis.com/auth/admin.directory.group.member.readonly']
}

interface Plan {
  people: Person[]
  selected: Selected[]
}

function read(env: NodeJS.ProcessEnv): Plan {
  const selected = parseProviders(env.PROVIDERS ?? '')
  const people = parsePeople(env.PEOPLE ?? '', providerNames)
  return { people, selected }
}

/** What each provider is asked to act on: per person, the id the mapping gives, else their email where it takes one. */
function targetsOf(s: Selected, people: Person[]): { targets: Record<string, string | undefined>; targetType: string; noTarget?: string } {
  const p = s.provider
  const targets: Record<string, string | undefined> = {}
  let usesEmail = false
  for (const person of people) {
    const id = person.ids[p.name]
    if (id !== undefined) targets[person.key] = id
    else if (p.emailTargetType !== undefined && isEmail(person.key)) {
      targets[person.key] = person.key
      usesEmail = true
    } else targets[person.key] = undefined
  }
  const targetType = s.inputs['target-type'] ?? (usesEmail ? (p.emailTargetType ?? p.defaultTargetType) : p.defaultTargetType)
  const noTarget =
    p.emailTargetType === undefined
      ? `${p.title} does not take email addresses: give this person's ${p.name} id in the people mapping`
      : 'no email or id given for this person'
  return { targets, targetType, noTarget }
}

/** The provider's credentials from the workflow's secrets, or why it is left out. */
function credentialsOf(s: Selected, env: NodeJS.ProcessEnv): { inputs: Record<string, string> } | { leftOut: string } {
  const p = s.provider
  const inputs: Record<string, string> = {}
  let token = env[secretVar(p.name, 'token')] ?? ''
  if (token === '' && p.name === 'google' && (env.GOOGLE_ACCESS_TOKEN ?? '') !== '') token = env.GOOGLE_ACCESS_TOKEN ?? ''
  if (token === '' && !p.token.optional)
    return { leftOut: `no secret ${secretName(p.name, 'token')} was passed${p.name === 'google' ? ' and no keyless access token was minted' : ''}` }
  if (token !== '') inputs.token = token
  for (const [, decl] of Object.entries(p.inputs as Record<string, { name: string; secret?: boolean }>)) {
    if (!decl.secret) continue
    const v = env[secretVar(p.name, decl.name)] ?? ''
    if (v !== '') inputs[decl.name] = v
  }
  return { inputs }
}

function dirOf(env: NodeJS.ProcessEnv): string {
  return env.OFFBOARD_DIR || join(env.RUNNER_TEMP || process.cwd(), 'terminate-sessions-offboard')
}

function actionEntry(env: NodeJS.ProcessEnv): string {
  return env.ACTION_ENTRY || join(dirname(fileURLToPath(import.meta.url)), '..', 'index.js')
}

async function runAll(
  stage: 'plan' | 'execute',
  plan: Plan,
  env: NodeJS.ProcessEnv,
  approved?: { hashes: Record<string, string>; planned: Record<string, number> }
): Promise<ProviderRun[]> {
  const dir = join(dirOf(env), stage)
  const maxTargets = env.MAX_TARGETS || '25'
  const runs = await Promise.all(
    plan.selected.map(async (s): Promise<ProviderRun> => {
      const p = s.provider
      const { targets, targetType, noTarget } = targetsOf(s, plan.people)
      const base: ProviderRun = { provider: p.name, title: p.title, targets, noTarget }
      const creds = credentialsOf(s, env)
      if ('leftOut' in creds) {
        core.notice(`${p.title} is left out: ${creds.leftOut}`)
        return { ...base, leftOut: creds.leftOut }
      }
      const list = [...new Set(Object.values(targets).filter((t): t is string => t !== undefined))]
      if (list.length === 0) return { ...base, leftOut: 'nobody to act on there (no id given, and it takes no email address)' }
      if (approved && (approved.planned[p.name] ?? 0) === 0)
        return { ...base, leftOut: approved.hashes[p.name] ? 'nothing to do: its approved plan was empty' : 'not in the approved plan' }
      const inputs: Record<string, string> = {
        'max-targets': maxTargets,
        ...s.inputs,
        ...creds.inputs,
        provider: p.name,
        targets: list.join('\n'),
        'target-type': targetType,
        // A person may have no account at a provider: that is an answer, not a failure.
        'if-unresolved': 'skip',
        'dry-run': stage === 'plan' ? 'true' : 'false'
      }
      if (approved) {
        inputs['expected-plan-hash'] = approved.hashes[p.name] ?? ''
        inputs['expected-count'] = String(approved.planned[p.name] ?? '')
      }
      const step = await runStep({
        entry: actionEntry(env),
        provider: p.name,
        inputs,
        dir: join(dir, p.name),
        env,
        relay: (line) => process.stdout.write(`${line}\n`)
      })
      const planned = step.outputs['planned-count'] !== undefined && step.outputs['planned-count'] !== '' ? Number(step.outputs['planned-count']) : undefined
      return { ...base, exitCode: step.exitCode, planHash: step.outputs['plan-hash'] || step.report?.planHash, planned, report: step.report }
    })
  )
  return runs
}

function writeCombined(
  stage: 'plan' | 'execute',
  plan: Plan,
  runs: ProviderRun[],
  env: NodeJS.ProcessEnv,
  combined: string,
  approvedCombined: string | undefined,
  failure: string | undefined
): Promise<void> {
  const ctx = readRunContext(env)
  const input = { stage, people: plan.people, runs, combined, approvedCombined, runUrl: ctx.runUrl, actor: ctx.actor, failure }
  const path = join(dirOf(env), `${stage}-report.json`)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(combinedReport(input), null, 1)}\n`, { mode: 0o600 })
  core.setOutput('report-path', path)
  core.setOutput('combined-hash', combined)
  return env.GITHUB_STEP_SUMMARY
    ? core.summary
        .addRaw(renderCombinedSummary(input), true)
        .write()
        .then(() => undefined)
    : Promise.resolve()
}

async function prepare(env: NodeJS.ProcessEnv): Promise<number> {
  const plan = read(env)
  const google = plan.selected.find((s) => s.provider.name === 'google')
  const wif = google?.workflow['workload-identity-provider'] ?? ''
  const sa = google?.workflow['service-account'] ?? ''
  if ((wif === '') !== (sa === ''))
    throw new InputError(
      'providers',
      'google: workload-identity-provider and service-account go together',
      'set both for the keyless route, or neither and pass the secret google-token'
    )
  const keyless = google !== undefined && wif !== '' && (env[secretVar('google', 'token')] ?? '') === ''
  if (keyless && !google?.inputs.subject)
    throw new InputError('providers', 'google: the keyless route needs subject (the admin to act as)', 'add subject: admin@your-domain')
  const needsGroups = google !== undefined && google.inputs['target-type'] === 'group'
  core.setOutput('google-keyless', keyless ? 'true' : 'false')
  core.setOutput('google-workload-identity-provider', keyless ? wif : '')
  core.setOutput('google-service-account', keyless ? sa : '')
  core.setOutput('google-subject', keyless ? (google?.inputs.subject ?? '') : '')
  core.setOutput('google-scopes', keyless ? [...GOOGLE_SCOPES.always, ...(needsGroups ? GOOGLE_SCOPES.groups : [])].join(',') : '')
  core.info(`people: ${plan.people.length}; providers: ${plan.selected.map((s) => s.provider.name).join(', ')}`)
  return 0
}

async function planStage(env: NodeJS.ProcessEnv): Promise<number> {
  const plan = read(env)
  const runs = await runAll('plan', plan, env)
  const combined = combinedHash(plan.people, runs)
  const hashes: Record<string, string> = {}
  const planned: Record<string, number> = {}
  for (const r of runs) {
    if (r.leftOut || r.planHash === undefined) continue
    hashes[r.provider] = r.planHash
    planned[r.provider] = r.planned ?? 0
  }
  const failed = runs.filter((r) => !r.leftOut && r.exitCode !== 0)
  const failure =
    failed.length > 0
      ? `planning failed at ${failed.map((r) => r.title).join(', ')}: nothing can be approved until every selected provider plans; see their groups in the log`
      : undefined
  core.setOutput('hashes', JSON.stringify(hashes))
  core.setOutput('planned', JSON.stringify(planned))
  core.setOutput('total-planned', String(Object.values(planned).reduce((a, b) => a + b, 0)))
  await writeCombined('plan', plan, runs, env, combined, undefined, failure)
  if (failure) core.setFailed(failure)
  return failure ? 1 : 0
}

function parseApproved(env: NodeJS.ProcessEnv): { hashes: Record<string, string>; planned: Record<string, number>; combined: string } {
  const fail = (what: string): never => {
    throw new InputError(
      what,
      'is missing or malformed: this run cannot be bound to the approved plan, and nothing was executed',
      'run the workflow again: the plan job publishes it'
    )
  }
  let hashes: unknown
  let planned: unknown
  try {
    hashes = JSON.parse(env.APPROVED_HASHES ?? '')
    planned = JSON.parse(env.APPROVED_PLANNED ?? '')
  } catch {
    fail('approved hashes')
  }
  const combined = env.APPROVED_COMBINED_HASH ?? ''
  if (!/^[0-9a-f]{64}$/.test(combined)) fail('approved combined-hash')
  if (hashes === null || typeof hashes !== 'object' || Object.values(hashes as object).some((h) => typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)))
    fail('approved hashes')
  if (planned === null || typeof planned !== 'object' || Object.values(planned as object).some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 0))
    fail('approved planned counts')
  return { hashes: hashes as Record<string, string>, planned: planned as Record<string, number>, combined }
}

async function executeStage(env: NodeJS.ProcessEnv): Promise<number> {
  const plan = read(env)
  const approved = parseApproved(env)
  // The approved per-provider hashes must be the ones the combined hash was computed over.
  const approvedRuns: ProviderRun[] = plan.selected.map((s) => {
    const { targets } = targetsOf(s, plan.people)
    const planHash = approved.hashes[s.provider.name]
    return planHash === undefined
      ? { provider: s.provider.name, title: s.provider.title, targets, leftOut: 'not planned' }
      : { provider: s.provider.name, title: s.provider.title, targets, planHash, planned: approved.planned[s.provider.name] }
  })
  const recomputed = combinedHash(plan.people, approvedRuns)
  if (recomputed !== approved.combined) {
    const msg = `the approved per-provider plan hashes do not add up to the approved combined hash (${approved.combined}); nothing was executed`
    core.setFailed(msg)
    return 1
  }
  const runs = await runAll('execute', plan, env, approved)
  const ran = runs.filter((r) => !r.leftOut)
  const failed = ran.filter((r) => r.exitCode !== 0)
  const refused = ran.filter((r) => r.report?.status === 'refused')
  const failure =
    failed.length > 0
      ? `${failed.map((r) => `${r.title} (${r.report?.status === 'refused' ? 'refused: its plan changed since the approval' : (r.report?.status ?? `exit ${r.exitCode}`)})`).join(', ')} did not complete; the other providers ran. See the table and their groups in the log.`
      : undefined
  // What the combined table binds to at execution is the fresh plans; the approved hash is shown beside it.
  const fresh = combinedHash(
    plan.people,
    runs
      .map((r) => (r.leftOut ? { ...r, leftOut: undefined, planHash: approved.hashes[r.provider], planned: approved.planned[r.provider] } : r))
      .filter((r) => approved.hashes[r.provider] !== undefined)
  )
  await writeCombined('execute', plan, runs, env, fresh, approved.combined, failure)
  core.setOutput('failed-providers', JSON.stringify(failed.map((r) => r.provider)))
  core.setOutput('refused-providers', JSON.stringify(refused.map((r) => r.provider)))
  if (failure) core.setFailed(failure)
  return failure ? 1 : 0
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const command = argv[2]
  try {
    if (command === 'prepare') return await prepare(env)
    if (command === 'plan') return await planStage(env)
    if (command === 'execute') return await executeStage(env)
    core.setFailed(`unknown command ${JSON.stringify(command)}: use prepare, plan or execute`)
    return 2
  } catch (err) {
    core.setFailed(escapeLogText(errorMessage(err)))
    return 1
  }
}
