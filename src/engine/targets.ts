import { lstatSync, readFileSync } from 'node:fs'
import { InputError } from './errors.js'
import { checkedPath, type PathRoots } from './paths.js'

const MAX_TARGET_LENGTH = 512
/** Larger target files are refused before they are read (10 MiB: about 200,000 long targets). */
const MAX_FILE_BYTES = 10 * 1024 * 1024

/** Targets as read, with what was left out (comment lines), so the run can say so. */
export interface ParsedTargets {
  targets: string[]
  /** Where each target came from ("line 3", "item 2"), for errors that must not quote file content. */
  where: string[]
  /** Line numbers (1-based) of lines that start with # and were read as comments. */
  commentLines: number[]
}

/** Parses the `targets` input: newline- or comma-separated, or a JSON array of strings. */
export function parseTargetList(raw: string, input = 'targets', quote = true): ParsedTargets {
  const text = raw.trim()
  if (text === '') return { targets: [], where: [], commentLines: [] }
  if (text.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new InputError(input, 'looks like a JSON array but does not parse', 'write a JSON array of strings such as ["a","b"], or one target per line')
    }
    if (!Array.isArray(parsed)) throw new InputError(input, 'JSON must be an array', 'write a JSON array of strings')
    return { targets: parsed.map((v, i) => jsonTarget(v, input, `item ${i + 1}`, quote)), where: parsed.map((_, i) => `item ${i + 1}`), commentLines: [] }
  }
  const targets: string[] = []
  const where: string[] = []
  const commentLines: number[] = []
  raw.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim()
    if (trimmed.startsWith('#')) {
      commentLines.push(i + 1)
      return
    }
    for (const part of trimmed.split(',')) {
      const s = part.trim()
      if (s !== '') {
        targets.push(checkTarget(s, input, `line ${i + 1}`, quote))
        where.push(`line ${i + 1}`)
      }
    }
  })
  return { targets, where, commentLines }
}

function jsonTarget(v: unknown, input: string, where: string, quote: boolean): string {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v)
  if (typeof v !== 'string') throw new InputError(input, `${where} is ${v === null ? 'null' : typeof v}, not a string`, 'list each target as a JSON string')
  return checkTarget(v.trim(), input, where, quote)
}

/** `quote`: whether the value may be shown in the error (not for file content, which may be anything). */
function checkTarget(value: string, input: string, where: string, quote: boolean): string {
  const shown = quote ? ` ${JSON.stringify(value.slice(0, 60))}` : ''
  if (value === '') throw new InputError(input, `${where} holds an empty target`, 'remove empty entries')
  if (value.length > MAX_TARGET_LENGTH)
    throw new InputError(input, `${where} holds a target of ${value.length} characters`, `targets are at most ${MAX_TARGET_LENGTH} characters`)
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InputError(input, `${where}: target${shown} holds a control character`, 'remove control characters')
  return value
}

/**
 * Reads `targets-file`: JSON (an array of strings, or of objects with the column), CSV whose first
 * row names the column, or one target per line. The path must lie in the workspace or RUNNER_TEMP and
 * not go through a symlink; errors give line numbers, never the file's content.
 */
export function readTargetsFile(raw: string, targetType: string, roots: PathRoots): ParsedTargets {
  const input = 'targets-file'
  const path = checkedPath(input, raw, roots)
  let text: string
  try {
    const st = lstatSync(path)
    if (!st.isFile()) throw new Error('not a regular file')
    if (st.size > MAX_FILE_BYTES) throw new InputError(input, `is ${st.size} bytes, more than ${MAX_FILE_BYTES}`, 'split the targets over several runs')
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (err instanceof InputError) throw err
    throw new InputError(
      input,
      `cannot read ${JSON.stringify(raw)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      'give a path relative to the workspace, to a file the workflow checked out or wrote'
    )
  }
  text = text.replace(/^\uFEFF/, '')
  const trimmed = text.trim()
  if (trimmed === '') throw new InputError(input, `${raw} is empty`, 'put at least one target in the file')
  if (path.toLowerCase().endsWith('.json') || trimmed.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch {
      throw new InputError(input, `${raw} is not valid JSON`, 'write a JSON array of strings, or use one target per line')
    }
    if (!Array.isArray(parsed)) throw new InputError(input, `${raw} must hold a JSON array`, 'write a JSON array of strings or objects')
    const targets = parsed.map((v, i) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const record = v as Record<string, unknown>
        const key = pickColumn(Object.keys(record), targetType)
        if (key === undefined)
          throw new InputError(input, `item ${i + 1} has no ${columnNames(targetType)} field`, `name the field ${JSON.stringify(targetType)}, "target" or "id"`)
        return jsonTarget(record[key], input, `item ${i + 1}`, false)
      }
      return jsonTarget(v, input, `item ${i + 1}`, false)
    })
    return { targets, where: targets.map((_, i) => `item ${i + 1}`), commentLines: [] }
  }
  const lines = trimmed.split(/\r?\n/)
  if (path.toLowerCase().endsWith('.csv') || lines[0].includes(',')) return parseCsv(lines, targetType, raw)
  return parseTargetList(text, input, false)
}

function parseCsv(lines: string[], targetType: string, name: string): ParsedTargets {
  const input = 'targets-file'
  const first = splitCsvLine(lines[0], 1, name)
  // Only a first row that names the column is a header: a one-column file of targets has none.
  const named = pickColumn(first, targetType, false)
  let column: number
  let start: number
  if (named !== undefined) {
    column = first.indexOf(named)
    start = 1
  } else if (first.length === 1) {
    column = 0
    start = 0
  } else {
    throw new InputError(
      input,
      `the first row of ${name} has ${first.length} columns and none is named ${columnNames(targetType)}`,
      `add a header row naming the column of targets ${JSON.stringify(targetType)}, "target" or "id"`
    )
  }
  const width = first.length
  const targets: string[] = []
  const where: string[] = []
  const commentLines: number[] = []
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]
    if (line.trim() === '') continue
    if (line.trim().startsWith('#')) {
      commentLines.push(i + 1)
      continue
    }
    const cells = splitCsvLine(line, i + 1, name)
    if (cells.length !== width) {
      throw new InputError(
        input,
        `line ${i + 1} of ${name} has ${cells.length} cells, the first row has ${width}`,
        'give every row as many cells as the header (quote values that contain commas)'
      )
    }
    const value = cells[column].trim()
    if (value !== '') {
      targets.push(checkTarget(value, input, `line ${i + 1}`, false))
      where.push(`line ${i + 1}`)
    }
  }
  if (targets.length === 0) throw new InputError(input, `${name} has a header but no rows`, 'add one row per target')
  return { targets, where, commentLines }
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines); `input` and `name` word the error. */
export function splitCsvLine(line: string, lineNo: number, name: string, input = 'targets-file'): string[] {
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true
      cell = ''
    } else if (ch === ',') {
      cells.push(cell)
      cell = ''
    } else cell += ch
  }
  if (quoted) throw new InputError(input, `line ${lineNo} of ${name} has an unclosed quote`, 'close the quote or remove it')
  cells.push(cell)
  return cells.map((c) => c.trim())
}

function normaliseName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '')
}

function pickColumn(names: string[], targetType: string, soleColumn = true): string | undefined {
  const wanted = [targetType, 'target', 'id'].map(normaliseName)
  for (const w of wanted) {
    const hit = names.find((n) => normaliseName(n) === w)
    if (hit !== undefined) return hit
  }
  return soleColumn && names.length === 1 ? names[0] : undefined
}

function columnNames(targetType: string): string {
  return `"${targetType}", "target" or "id"`
}

/** The keys of a JSON object's top level, in order, repeats included (JSON.parse keeps only the last). */
export function topLevelKeys(json: string): string[] {
  const keys: string[] = []
  let depth = 0
  for (let i = 0; i < json.length; i++) {
    const ch = json[i]
    if (ch === '"') {
      let j = i + 1
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1
      const literal = json.slice(i, j + 1)
      if (depth === 1 && /^\s*:/.test(json.slice(j + 1))) keys.push(JSON.parse(literal) as string)
      i = j
    } else if (ch === '{' || ch === '[') depth++
    else if (ch === '}' || ch === ']') depth--
  }
  return keys
}

/** Parses `filter`: key=value lines or a JSON object of scalars; a key given twice is refused either way. */
export function parseFilter(raw: string): Record<string, string> | undefined {
  const input = 'filter'
  const text = raw.trim()
  if (text === '') return undefined
  // No prototype: a key named __proto__ or toString is an ordinary (and then unknown) key.
  const out = Object.create(null) as Record<string, string>
  if (text.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw new InputError(
        input,
        `looks like JSON but does not parse (${(err as Error).message})`,
        'write a JSON object such as {"search":"alice"}, or key=value lines'
      )
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InputError(input, 'JSON must be an object', 'write a JSON object of key/value pairs')
    }
    const seen = new Set<string>()
    for (const k of topLevelKeys(text)) {
      if (seen.has(k.trim())) throw new InputError(input, `key ${JSON.stringify(k)} is given twice`, 'give each key once')
      seen.add(k.trim())
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new InputError(input, `value of ${JSON.stringify(k)} is ${v === null ? 'null' : typeof v}`, 'give each filter key a string, number or boolean')
      }
      out[k.trim()] = String(v).trim()
    }
    return out
  }
  for (const part of text.split(/\r?\n/)) {
    const line = part.trim()
    if (line === '' || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) throw new InputError(input, `line ${JSON.stringify(line)} is not key=value`, 'write one key=value per line')
    const key = line.slice(0, eq).trim()
    if (Object.hasOwn(out, key)) throw new InputError(input, `key ${JSON.stringify(key)} is given twice`, 'give each key once')
    out[key] = line.slice(eq + 1).trim()
  }
  return out
}

/** Removes repeats, keeping the first occurrence. */
export function dedupe(values: string[]): { unique: string[]; duplicates: number } {
  const seen = new Set<string>()
  const unique: string[] = []
  for (const v of values) {
    if (seen.has(v)) continue
    seen.add(v)
    unique.push(v)
  }
  return { unique, duplicates: values.length - unique.length }
}
