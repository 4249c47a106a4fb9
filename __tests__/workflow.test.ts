// The structure that makes the reusable workflow safe, read from the YAML itself, and the offline
// workflow linter (scripts/lint-workflows.mjs): clean on the repository, and catching broken files.
import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { repoRoot } from './helpers/run-action.js'

type Step = { id?: string; name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> }
type Job = {
  needs?: string | string[]
  if?: string
  environment?: unknown
  permissions?: unknown
  concurrency?: { group?: string; 'cancel-in-progress'?: unknown }
  outputs?: Record<string, string>
  steps?: Step[]
  uses?: string
  with?: Record<string, unknown>
  secrets?: unknown
  strategy?: { matrix?: unknown }
}
type Workflow = { on?: Record<string, any>; permissions?: unknown; concurrency?: unknown; jobs: Record<string, Job> }

const REUSABLE = join(repoRoot, '.github', 'workflows', 'terminate-sessions.yml')
const read = (path: string): Workflow => parse(readFileSync(path, 'utf8')) as Workflow
const listYaml = (dir: string): string[] =>
  readdirSync(join(repoRoot, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(repoRoot, dir, f))
const allWorkflows = [...listYaml('.github/workflows'), ...listYaml('examples')]
const actionInputs = Object.keys((parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }).inputs)

const wf = read(REUSABLE)
const actionStep = (job: Job): Step => {
  const steps = (job.steps ?? []).filter((s) => s.uses === './.terminate-sessions')
  expect(steps).toHaveLength(1)
  return steps[0]
}
const needsList = (job: Job): string[] => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs])

describe('reusable workflow terminate-sessions.yml', () => {
  it('is callable with workflow_call and declares the inputs and secrets explicitly', () => {
    const call = wf.on?.workflow_call
    expect(call).toBeDefined()
    for (const name of [
      'provider',
      'targets',
      'target-type',
      'filter',
      'max-targets',
      'environment',
      'base-url',
      'region',
      'identity-store-id',
      'client-id',
      'enterprise-id',
      'username',
      'dry-run-only'
    ]) {
      expect(call.inputs).toHaveProperty([name])
    }
    expect(call.inputs.environment.required).toBe(true)
    expect(call.inputs.provider.required).toBe(true)
    expect(call.inputs['dry-run-only']).toMatchObject({ type: 'boolean', default: false })
    expect(Object.keys(call.secrets).sort()).toEqual(['access-key-id', 'security-token', 'token'])
    expect(call.secrets.token.required).toBe(true)
    expect(Object.keys(call.outputs)).toEqual(expect.arrayContaining(['plan-hash', 'planned-count', 'targets']))
  })

  it('grants nothing at the top and only contents: read to each job', () => {
    expect(wf.permissions).toEqual({})
    expect(Object.keys(wf.jobs).sort()).toEqual(['execute', 'plan'])
    for (const job of Object.values(wf.jobs)) expect(job.permissions).toEqual({ contents: 'read' })
  })

  it('plan job: a dry run that publishes plan-hash, planned-count and targets, with no approval gate', () => {
    const plan = wf.jobs.plan
    const step = actionStep(plan)
    expect(step.with?.['dry-run']).toBe('true')
    expect(plan.environment).toBeUndefined()
    expect(step.id).toBeDefined()
    expect(plan.outputs).toEqual({
      'plan-hash': `\${{ steps.${step.id}.outputs.plan-hash }}`,
      'planned-count': `\${{ steps.${step.id}.outputs.planned-count }}`,
      targets: `\${{ steps.${step.id}.outputs.targets }}`
    })
  })

  it('execute job: needs plan, waits for the environment, and is bound to the approved hash and count', () => {
    const exec = wf.jobs.execute
    expect(needsList(exec)).toEqual(['plan'])
    expect(exec.environment).toBe('${{ inputs.environment }}')
    const step = actionStep(exec)
    expect(step.with?.['dry-run']).toBe('false')
    expect(step.with?.['expected-plan-hash']).toBe('${{ needs.plan.outputs.plan-hash }}')
    expect(step.with?.['expected-count']).toBe('${{ needs.plan.outputs.planned-count }}')
    // Skipped for a preview and for an empty plan.
    expect(exec.if).toContain('!inputs.dry-run-only')
    expect(exec.if).toContain("needs.plan.outputs.planned-count != '0'")
  })

  it('execute never runs unbound: its first step stops when the plan outputs come back empty or malformed', async () => {
    const steps = wf.jobs.execute.steps ?? []
    const guard = steps[0]
    expect(guard.name).toBe('Refuse to run unbound')
    expect(steps.findIndex((s) => s.uses === './.terminate-sessions')).toBeGreaterThan(0)
    expect(guard.env).toEqual({ PLAN_HASH: '${{ needs.plan.outputs.plan-hash }}', PLANNED: '${{ needs.plan.outputs.planned-count }}' })
    const runGuard = (env: Record<string, string>): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const child = spawn('bash', ['-e', '-c', guard.run as string], { env: { PATH: process.env.PATH ?? '', ...env } })
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        child.on('close', (code) => resolve({ code, out }))
      })
    const hash = 'a'.repeat(64)
    expect((await runGuard({ PLAN_HASH: hash, PLANNED: '3' })).code).toBe(0)
    for (const env of [
      { PLAN_HASH: '', PLANNED: '3' },
      { PLAN_HASH: hash, PLANNED: '' },
      { PLAN_HASH: '***', PLANNED: '3' },
      { PLAN_HASH: `${hash}\n`, PLANNED: 'x' }
    ]) {
      const r = await runGuard(env)
      expect(r.code).not.toBe(0)
      expect(r.out).toContain('::error title=terminate-sessions::')
    }
  })

  it('execute re-plans from exactly the inputs the plan job used, so its fresh hash is comparable', () => {
    const planWith = actionStep(wf.jobs.plan).with ?? {}
    const execWith = actionStep(wf.jobs.execute).with ?? {}
    const shared = Object.keys(planWith).filter((k) => !['dry-run', 'fail-on'].includes(k))
    for (const key of shared) expect([key, execWith[key]]).toEqual([key, planWith[key]])
    for (const key of ['provider', 'targets', 'target-type', 'filter', 'max-targets', 'token']) expect(planWith).toHaveProperty([key])
    for (const key of Object.keys(execWith)) expect(actionInputs).toContain(key)
  })

  it('runs the action from its own repository at its own commit, checked out before it is used', () => {
    for (const job of Object.values(wf.jobs)) {
      const steps = job.steps ?? []
      const checkout = steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'))
      const run = steps.findIndex((s) => s.uses === './.terminate-sessions')
      expect(checkout).toBeGreaterThanOrEqual(0)
      expect(checkout).toBeLessThan(run)
      expect(steps[checkout].with).toMatchObject({
        repository: '${{ job.workflow_repository }}',
        ref: '${{ job.workflow_sha }}',
        path: '.terminate-sessions',
        'persist-credentials': false
      })
      // A guard fails the job when the runner does not provide those contexts (checkout would fall back to the caller's repo).
      const guard = steps.slice(0, checkout).find((s) => s.env?.WORKFLOW_SHA === '${{ job.workflow_sha }}')
      expect(guard?.run).toContain('exit 1')
    }
  })

  it('uploads the report from both jobs, even when the action fails', () => {
    for (const job of Object.values(wf.jobs)) {
      const step = actionStep(job)
      const upload = (job.steps ?? []).find((s) => s.uses?.startsWith('actions/upload-artifact@'))
      expect(upload?.if).toBe('${{ always() }}')
      expect(upload?.with?.path).toBe(step.with?.['report-path'])
    }
  })

  it('serialises executions per provider and target set and never cancels one in progress', () => {
    const c = wf.jobs.execute.concurrency
    expect(c?.['cancel-in-progress']).toBe(false)
    expect(c?.group).toContain('inputs.provider')
    expect(c?.group).toContain('needs.plan.outputs.plan-hash')
  })
})

describe('every workflow and example', () => {
  it.each(allWorkflows.map((f) => [f.slice(repoRoot.length + 1), f]))('%s: pinned, least privilege, no inherited secrets', (_name, file) => {
    const text = readFileSync(file, 'utf8')
    const doc = read(file)
    expect(text).not.toMatch(/secrets:\s*inherit/)
    expect(doc.permissions).toBeDefined()
    expect(JSON.stringify(doc.permissions ?? {})).not.toContain('write')
    for (const [jobId, job] of Object.entries(doc.jobs)) {
      expect(job.secrets).not.toBe('inherit')
      // No job may write to the repository, with one named exception: the release workflow's job that moves
      // the major tag (contents). id-token: write only lets a job ask GitHub for its OIDC token (keyless sign-in).
      expect(typeof job.permissions === 'string' ? job.permissions : '').not.toContain('write')
      const allowed = ['id-token', ...(_name === '.github/workflows/release.yml' && jobId === 'move-major-tag' ? ['contents'] : [])]
      const writes = Object.entries((job.permissions ?? {}) as Record<string, string>).filter(([scope, level]) => level === 'write' && !allowed.includes(scope))
      expect(writes).toEqual([])
      for (const step of job.steps ?? []) {
        if (step.uses === undefined || step.uses.startsWith('./')) continue
        expect(step.uses).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/)
        // The version the SHA stands for, as a comment on the same line.
        const line = text.split('\n').find((l) => l.includes(step.uses as string))
        expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
      }
    }
  })

  it('CI and check-dist only read the repository', () => {
    for (const name of ['ci.yml', 'check-dist.yml']) {
      const doc = read(join(repoRoot, '.github', 'workflows', name))
      expect(doc.permissions).toEqual({})
      for (const job of Object.values(doc.jobs)) expect(job.permissions).toEqual({ contents: 'read' })
    }
    const ci = read(join(repoRoot, '.github', 'workflows', 'ci.yml'))
    const selfTest = Object.values(ci.jobs)
      .flatMap((j) => j.steps ?? [])
      .filter((s) => s.uses === './')
    expect(selfTest.find((s) => s.with?.['dry-run'] === 'true')).toBeDefined()
  })

  it('examples/offboard.yml: dispatch with dry-run on by default, one call per provider, a combined summary', () => {
    const ex = read(join(repoRoot, 'examples', 'offboard.yml'))
    const inputs = ex.on?.workflow_dispatch?.inputs
    expect(inputs['dry-run']).toMatchObject({ type: 'boolean', default: true })
    expect(inputs.providers.type).toBe('choice')
    expect(inputs.providers.options).toEqual(expect.arrayContaining(['iproyal', 'box', 'huaweicloud', 'denovolab']))
    const calls = Object.entries(ex.jobs).filter(([, j]) => j.uses?.includes('/.github/workflows/terminate-sessions.yml@'))
    expect(calls).toHaveLength(1)
    const [callId, call] = calls[0]
    expect(call.strategy?.matrix).toBeDefined()
    expect(call.with?.['dry-run-only']).toBe('${{ inputs.dry-run }}')
    expect(typeof call.with?.environment).toBe('string')
    expect(typeof call.secrets).toBe('object')
    const reusableSecrets = Object.keys(wf.on?.workflow_call.secrets)
    for (const key of Object.keys(call.secrets as object)) expect(reusableSecrets).toContain(key)
    const summary = Object.values(ex.jobs).find((j) => needsList(j).includes(callId))
    expect(summary?.if).toContain('always()')
    expect(summary?.steps?.some((s) => s.run?.includes('GITHUB_STEP_SUMMARY'))).toBe(true)
  })
})

function lint(files: string[] = []): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'lint-workflows.mjs'), ...files], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`lint did not finish\n${out}`))
    }, 50_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

describe('scripts/lint-workflows.mjs', () => {
  it('finds nothing in the repository', async () => {
    const r = await lint()
    expect(r.out).toContain('clean')
    expect(r.code).toBe(0)
  })

  it('applies the SHA-pin rule to reusable workflows called from another repository, not to local calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lint-reusable-'))
    const caller = join(dir, 'caller.yml')
    const sha = '0123456789abcdef0123456789abcdef01234567'
    const call = (id: string, uses: string): string[] => [
      `  ${id}:`,
      '    permissions:',
      '      contents: read',
      `    uses: ${uses}`,
      '    with:',
      '      provider: iproyal',
      '      targets: jdoe',
      '      environment: offboarding',
      '    secrets:',
      '      token: ${{ secrets.IPROYAL_TOKEN }}'
    ]
    const lines = [
      'on: workflow_dispatch',
      'permissions: {}',
      'jobs:',
      ...call('tag', 'your-org/terminate-sessions/.github/workflows/terminate-sessions.yml@v1'),
      ...call('branch', 'your-org/terminate-sessions/.github/workflows/terminate-sessions.yml@main'),
      ...call('pinned', `your-org/terminate-sessions/.github/workflows/terminate-sessions.yml@${sha} # v1.2.3`),
      ...call('local', './.github/workflows/terminate-sessions.yml'),
      '  other:',
      '    permissions: {}',
      '    uses: other-org/shared/.github/workflows/notify.yml@v2',
      ''
    ]
    writeFileSync(caller, lines.join('\n'))
    const lineOf = (text: string): number => lines.findIndex((l) => l.includes(text)) + 1
    const r = await lint([caller])
    const findings = r.out.split('\n').filter((l) => l.startsWith(`${caller}:`))
    const pinFindings = findings.filter((l) => /not pinned to a full commit SHA/.test(l))
    expect(pinFindings.map((l) => Number(l.split(':')[1])).sort((a, b) => a - b)).toEqual(
      [lineOf('@v1'), lineOf('@main'), lineOf('notify.yml@v2')].sort((a, b) => a - b)
    )
    expect(pinFindings.join('\n')).toContain('job tag: your-org/terminate-sessions/.github/workflows/terminate-sessions.yml@v1 is not pinned')
    expect(r.code).toBe(1)
    // The pinned and the local call raise nothing at all.
    for (const id of ['pinned', 'local']) expect(findings.filter((l) => Number(l.split(':')[1]) === lineOf(`  ${id}:`) + 3)).toEqual([])
  })

  it('reports broken workflows and action metadata with file:line and exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lint-workflows-'))
    const bad = join(dir, 'bad.yml')
    writeFileSync(
      bad,
      [
        'on: push', //                                     1
        'permissions: {}', //                              2
        'jobs:', //                                        3
        '  build:', //                                     4
        '    runs-on: ubuntu-latest', //                   5
        '    needs: nosuchjob', //                         6
        '    steps:', //                                   7
        '      - run: echo "${{ nosuch.context }}"', //    8
        '      - uses: actions/checkout@v4', //            9
        '      - uses: ./', //                             10
        '        with:', //                                11
        "          dry-run: 'true'", //                   12
        '          tokn: x', //                            13
        ''
      ].join('\n')
    )
    const caller = join(dir, 'caller.yml')
    writeFileSync(
      caller,
      [
        'on: workflow_dispatch', //                        1
        'jobs:', //                                        2
        '  call:', //                                      3
        '    uses: ./.github/workflows/terminate-sessions.yml', // 4
        '    with:', //                                    5
        '      provider: box', //                          6
        '    secrets: inherit', //                         7
        ''
      ].join('\n')
    )
    // The real reusable workflow with the execute job's `needs: plan` removed: its needs.plan.* references break.
    const unbound = join(dir, 'unbound.yml')
    writeFileSync(unbound, readFileSync(REUSABLE, 'utf8').replace(/^ {4}needs: plan\n/m, ''))
    const actionDir = mkdtempSync(join(tmpdir(), 'lint-action-'))
    const action = join(actionDir, 'action.yml')
    writeFileSync(action, 'name: x\ndescription: y\ninputs:\n  a:\n    required: false\nruns:\n  using: node20\n  main: dist/index.js\n')

    const r = await lint([bad, caller, unbound, action])
    expect(r.code).toBe(1)
    const lines = r.out.split('\n')
    const at = (file: string, line: number, text: RegExp): void => {
      expect(lines.some((l) => l.startsWith(`${file}:${line}:`) && text.test(l))).toBe(true)
    }
    at(bad, 4, /needs job "nosuchjob" which does not exist/)
    at(bad, 8, /nosuch/)
    at(bad, 9, /not pinned to a full commit SHA/)
    at(bad, 10, /required input "provider"/)
    at(bad, 13, /"tokn" is not an input of action\.yml/)
    at(caller, 1, /no top-level permissions/)
    at(caller, 4, /required input "environment"/)
    at(caller, 7, /secrets: inherit/)
    const unboundLine =
      readFileSync(unbound, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('expected-plan-hash: ${{ needs.plan')) + 1
    at(unbound, unboundLine, /property "plan" is not defined/)
    at(action, 4, /inputs\.a has no description/)
    expect(lines.some((l) => l.startsWith(`${action}:`) && /node24/.test(l))).toBe(true)
    expect(r.out).toMatch(/\d+ finding\(s\) in 4 file\(s\)/)
  })
})
