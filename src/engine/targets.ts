import { readFileSync, statSync } from 'node:fs'
import { InputError } from './errors.js'

const MAX_TARGET_LENGTH = 512

/** Parses the `targets` input: newline- or comma-separated, or a JSON array of strings. */
export function parseTargetList(raw: string, input = 'targets'): string[] {
  const text = raw.trim()
  if (text === '') return []
  if (text.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw new InputError(input, `looks like a JSON array but does not parse (${(err as Error).message})`, 'write a JSON array of strings such as ["a","b"], or one target per line')
    }
    if (!Array.isArray(parsed)) throw new InputError(input, 'JSON must be an array', 'write a JSON array of strings')
    return parsed.map((v, i) => jsonTarget(v, input, `item ${i + 1}`))
  }
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'))
    .map((s) => checkTarget(s, input))
}

function jsonTarget(v: unknown, input: string, where: string): string {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v)
  if (typeof v !== 'string') throw new InputError(input, `${where} is ${v === null ? 'null' : typeof v}, not a string`, 'list each target as a JSON string')
  return checkTarget(v.trim(), input)
}

function checkTarget(value: string, input: string): string {
  if (value === '') throw new InputError(input, 'holds an empty target', 'remove empty entries')
  if (value.length > MAX_TARGET_LENGTH) throw new InputError(input, `a target is ${value.length} characters long`, `targets are at most ${MAX_TARGET_LENGTH} characters`)
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InputError(input, `target ${JSON.stringify(value)} holds a control character`, 'remove control characters')
  return value
}

/**
 * Reads `targets-file`: JSON (an array of strings, or of objects with the column), CSV with a
 * header naming the column, or one target per line.
 */
export function readTargetsFile(path: string, targetType: string): string[] {
  const input = 'targets-file'
  let text: string
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file')
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new InputError(input, `cannot read ${JSON.stringify(path)} (${(err as Error).message})`, 'give a path relative to the workspace, to a file the workflow checked out or wrote')
  }
  text = text.replace(/^\uFEFF/, '')
  const trimmed = text.trim()
  if (trimmed === '') throw new InputError(input, `${path} is empty`, 'put at least one target in the file')
  if (path.toLowerCase().endsWith('.json') || trimmed.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch (err) {
      throw new InputError(input, `${path} is not valid JSON (${(err as Error).message})`, 'write a JSON array of strings, or use one target per line')
    }
    if (!Array.isArray(parsed)) throw new InputError(input, `${path} must hold a JSON array`, 'write a JSON array of strings or objects')
    return parsed.map((v, i) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const record = v as Record<string, unknown>
        const key = pickColumn(Object.keys(record), targetType)
        if (key === undefined) throw new InputError(input, `item ${i + 1} has no ${columnNames(targetType)} field`, `name the field ${JSON.stringify(targetType)}, "target" or "id"`)
        return jsonTarget(record[key], input, `item ${i + 1}`)
      }
      return jsonTarget(v, input, `item ${i + 1}`)
    })
  }
  const lines = trimmed.split(/\r?\n/)
  if (path.toLowerCase().endsWith('.csv') || lines[0].includes(',')) return parseCsv(lines, targetType, path)
  return parseTargetList(trimmed, input)
}

function parseCsv(lines: string[], targetType: string, path: string): string[] {
  const input = 'targets-file'
  const header = splitCsvLine(lines[0], 1, path)
  const column = pickColumn(header, targetType)
  if (column === undefined) {
    throw new InputError(input, `CSV header of ${path} (${header.join(', ')}) has no ${columnNames(targetType)} column`, `name the column of targets ${JSON.stringify(targetType)}, "target" or "id"`)
  }
  const index = header.indexOf(column)
  const out: string[] = []
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return
    const cells = splitCsvLine(line, i + 2, path)
    if (cells.length !== header.length) {
      throw new InputError(input, `line ${i + 2} of ${path} has ${cells.length} cells, the header has ${header.length}`, 'give every row as many cells as the header (quote values that contain commas)')
    }
    const value = cells[index].trim()
    if (value !== '') out.push(checkTarget(value, input))
  })
  if (out.length === 0) throw new InputError(input, `${path} has a header but no rows`, 'add one row per target')
  return out
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
function splitCsvLine(line: string, lineNo: number, path: string): string[] {
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
  if (quoted) throw new InputError('targets-file', `line ${lineNo} of ${path} has an unclosed quote`, 'close the quote or remove it')
  cells.push(cell)
  return cells.map((c) => c.trim())
}

function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_-]+/g, '')
}

function pickColumn(names: string[], targetType: string): string | undefined {
  const wanted = [targetType, 'target', 'id'].map(normaliseName)
  for (const w of wanted) {
    const hit = names.find((n) => normaliseName(n) === w)
    if (hit !== undefined) return hit
  }
  return names.length === 1 ? names[0] : undefined
}

function columnNames(targetType: string): string {
  return `"${targetType}", "target" or "id"`
}

/** Parses `filter`: key=value lines (or comma-separated pairs) or a JSON object of scalars. */
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
      throw new InputError(input, `looks like JSON but does not parse (${(err as Error).message})`, 'write a JSON object such as {"search":"alice"}, or key=value lines')
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InputError(input, 'JSON must be an object', 'write a JSON object of key/value pairs')
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
