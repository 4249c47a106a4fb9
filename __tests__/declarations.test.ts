// The public contract (action.yml, the reusable workflow) and the code's declarations agree: every input
// a provider or the engine declares is an input of action.yml, described for each provider that reads it,
// and passed through by both jobs of the reusable workflow; nothing in action.yml is read by no one.
import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import type { InputDecl } from '../src/engine/inputs.js'
import { providers } from '../src/providers/index.js'
import { pipelineSecrets, secretVar } from '../src/offboard/config.js'
import { SHARED_INPUTS, SPECIAL_INPUTS, allInputNames } from '../src/settings.js'
import { repoRoot } from './helpers/run-action.js'

type ActionYml = { inputs: Record<string, { description: string; required?: boolean; default?: string }>; outputs: Record<string, { description: string }> }
type Step = { uses?: string; with?: Record<string, string>; id?: string; run?: string; env?: Record<string, string> }
type Workflow = { on: { workflow_call: { inputs: Record<string, unknown>; secrets: Record<string, unknown> } }; jobs: Record<string, { steps?: Step[] }> }

const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as ActionYml
const reusable = parse(readFileSync(join(repoRoot, '.github', 'workflows', 'terminate-sessions.yml'), 'utf8')) as Workflow
const list = [...providers.values()]
const declsOf = (p: (typeof list)[number]): InputDecl<unknown>[] => Object.values(p.inputs as Record<string, InputDecl<unknown>>)

describe('action.yml agrees with the declarations', () => {
  it('has exactly the inputs the engine and the providers declare', () => {
    expect(Object.keys(action.inputs).sort()).toEqual([...allInputNames()].sort())
  })

  it('describes every provider input for each provider that reads it, and never makes one required', () => {
    for (const p of list) {
      for (const d of declsOf(p)) {
        const spec = action.inputs[d.name]
        expect({ input: d.name, described: spec.description.includes(`${p.name}:`) }).toEqual({ input: d.name, described: true })
        expect(spec.required ?? false).toBe(false)
        // A provider's default applies when the input is empty: action.yml must not pre-fill one.
        expect({ input: d.name, default: spec.default ?? '' }).toEqual({ input: d.name, default: '' })
      }
    }
  })

  it('names every provider where the shared inputs differ by provider', () => {
    for (const input of ['provider', 'token', 'target-type']) {
      for (const p of list)
        expect({ input, provider: p.name, named: action.inputs[input].description.includes(p.name) }).toEqual({ input, provider: p.name, named: true })
    }
    for (const p of list.filter((x) => x.filter !== undefined)) expect(action.inputs.filter.description).toContain(p.name)
  })

  it('keeps token optional in the metadata: keyless providers need none, the others refuse an empty one by name', () => {
    expect(action.inputs.token.required ?? false).toBe(false)
    expect(action.inputs.provider.required).toBe(true)
  })

  it('declares the shared inputs with the defaults the reader applies', () => {
    for (const d of Object.values(SHARED_INPUTS)) expect(action.inputs[d.name]).toBeDefined()
    for (const name of SPECIAL_INPUTS) expect(action.inputs[name]).toBeDefined()
    expect(action.inputs['max-targets'].default).toBe('25')
    expect(action.inputs['if-unresolved'].default).toBe('fail')
  })

  it('lists every count, the plan outputs and the report path as outputs', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(
      [
        'accepted-count',
        'failed-count',
        'not-attempted-count',
        'plan-hash',
        'planned-count',
        'report-path',
        'skipped-count',
        'targets',
        'terminated-count',
        'unknown-count',
        'unresolved'
      ].sort()
    )
  })
})

describe('the reusable workflow passes every provider input through both jobs', () => {
  const actionWith = (job: string): Record<string, string> => {
    const step = (reusable.jobs[job].steps ?? []).find((s) => s.uses === './.terminate-sessions')
    expect(step).toBeDefined()
    return step?.with ?? {}
  }

  it.each(['plan', 'execute'])('%s job', (job) => {
    const given = actionWith(job)
    for (const p of list) {
      for (const d of declsOf(p)) {
        const expected = d.secret ? `\${{ secrets.${d.name} }}` : [`\${{ inputs.${d.name} }}`, `\${{ secrets.${d.name} }}`]
        const value = given[d.name]
        if (Array.isArray(expected)) expect({ input: d.name, value: expected.includes(value) }).toEqual({ input: d.name, value: true })
        else expect({ input: d.name, value }).toEqual({ input: d.name, value: expected })
        const declared = d.secret || value?.includes('secrets.') ? reusable.on.workflow_call.secrets : reusable.on.workflow_call.inputs
        expect({ input: d.name, declared: Object.hasOwn(declared, d.name) }).toEqual({ input: d.name, declared: true })
      }
    }
  })
})

describe('every provider has its pieces', () => {
  it.each(list.map((p) => [p.name]))('%s: an emulator and tests', (name) => {
    expect(existsSync(join(repoRoot, '__tests__', 'emulators', name, 'index.js'))).toBe(true)
    expect(existsSync(join(repoRoot, '__tests__', `${name}.e2e.test.ts`))).toBe(true)
  })
})

describe('the offboard-everywhere workflow declares one secret per provider credential and hands each to the pipeline', () => {
  const offboard = parse(readFileSync(join(repoRoot, '.github', 'workflows', 'offboard.yml'), 'utf8')) as Workflow & {
    jobs: Record<string, { steps?: Array<Step & { id?: string; env?: Record<string, string>; run?: string }> }>
  }

  it('declares exactly the secrets the pipeline reads, none required', () => {
    const declared = offboard.on.workflow_call.secrets as Record<string, { required?: boolean }>
    expect(Object.keys(declared).sort()).toEqual(
      pipelineSecrets()
        .map((s) => s.name)
        .sort()
    )
    for (const spec of Object.values(declared)) expect(spec.required ?? false).toBe(false)
  })

  it.each(['plan', 'execute'])('%s job passes every secret to the pipeline step, and nothing else carries one', (job) => {
    const step = (offboard.jobs[job].steps ?? []).find((s) => s.id === job)
    expect(step?.run).toBe(`node .terminate-sessions/dist/offboard/index.js ${job}`)
    for (const s of pipelineSecrets())
      expect({ secret: s.name, env: step?.env?.[secretVar(s.provider, s.input)] }).toEqual({ secret: s.name, env: `\${{ secrets.${s.name} }}` })
    for (const other of offboard.jobs[job].steps ?? []) {
      if (other === step) continue
      for (const [k, v] of Object.entries(other.env ?? {}))
        if (v.includes('secrets.')) expect(`${k}=${v}`).toBe('OFFBOARD_SECRET_GOOGLE_TOKEN=${{ secrets.google-token }}')
    }
  })
})
