// Who is being offboarded, and what they are called at each provider. The `people` input is one of:
//   - email addresses, one per line (or comma-separated);
//   - CSV whose header names `person` (or `email`) and one column per provider that needs another id:
//       person,slack,huaweicloud
//       alice@acme.com,W012ABC,8d9f...
//   - JSON: an array of emails, or of objects {"person": "alice@acme.com", "slack": "W012ABC"}.
// An empty cell means "use the person's email where the provider takes one".
import { InputError } from '../engine/errors.js'
import { splitCsvLine } from '../engine/targets.js'

export interface Person {
  /** How the person is named in the tables: their email, or the first column. */
  key: string
  /** The id to use at a provider, when the mapping gives one. */
  ids: Record<string, string>
}

const MAX_PEOPLE = 200
const CONTROL = /[\u0000-\u001f\u007f]/

function check(value: string, where: string): string {
  const v = value.trim()
  if (v.length > 512) throw new InputError('people', `${where} is ${v.length} characters long`, 'give at most 512 characters per value')
  if (CONTROL.test(v)) throw new InputError('people', `${where} holds a control character`, 'remove it')
  return v
}

/** Parses the people input against the provider names it may map ids for. */
export function parsePeople(raw: string, providerNames: readonly string[]): Person[] {
  const text = raw.trim()
  if (text === '') throw new InputError('people', 'is empty', 'give the email of the person who is leaving (one per line), or a CSV/JSON mapping')
  let people: Person[]
  if (text.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new InputError('people', 'looks like JSON but does not parse', 'write a JSON array of emails or of {"person": ..., "<provider>": ...} objects')
    }
    if (!Array.isArray(parsed)) throw new InputError('people', 'JSON must be an array', 'write a JSON array')
    people = parsed.map((item, i) => {
      if (typeof item === 'string') return { key: check(item, `item ${i + 1}`), ids: {} }
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        throw new InputError('people', `item ${i + 1} is neither an email nor an object`, 'give emails or {"person": ..., "<provider>": ...} objects')
      const record = item as Record<string, unknown>
      const key = record.person ?? record.email
      if (typeof key !== 'string' || key.trim() === '')
        throw new InputError('people', `item ${i + 1} has no "person" (or "email")`, 'name each person with "person": "alice@acme.com"')
      const ids: Record<string, string> = {}
      for (const [k, v] of Object.entries(record)) {
        if (k === 'person' || k === 'email') continue
        if (!providerNames.includes(k))
          throw new InputError(
            'people',
            `item ${i + 1} has ${JSON.stringify(k)}, which is not a provider`,
            `use "person" and provider names: ${providerNames.join(', ')}`
          )
        if (v === null || v === '') continue
        if (typeof v !== 'string' && typeof v !== 'number') throw new InputError('people', `item ${i + 1}: ${k} is not a string`, 'give ids as strings')
        ids[k] = check(String(v), `item ${i + 1} ${k}`)
      }
      return { key: check(key, `item ${i + 1}`), ids }
    })
  } else {
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    const header = splitCsvLine(lines[0], 1, 'the people list', 'people').map((h) => h.toLowerCase())
    if (header.includes('person') || header.includes('email')) {
      const personCol = header.includes('person') ? header.indexOf('person') : header.indexOf('email')
      for (const [i, h] of header.entries()) {
        if (i !== personCol && !providerNames.includes(h))
          throw new InputError(
            'people',
            `the header names ${JSON.stringify(h)}, which is not a provider`,
            `name the columns person and provider names: ${providerNames.join(', ')}`
          )
      }
      people = lines.slice(1).map((line, n) => {
        const cells = splitCsvLine(line, n + 2, 'the people list', 'people')
        if (cells.length !== header.length)
          throw new InputError(
            'people',
            `line ${n + 2} has ${cells.length} cells, the header has ${header.length}`,
            'give every row as many cells as the header'
          )
        const key = check(cells[personCol], `line ${n + 2}`)
        if (key === '') throw new InputError('people', `line ${n + 2} names no person`, 'fill the person column')
        const ids: Record<string, string> = {}
        header.forEach((h, i) => {
          if (i !== personCol && cells[i] !== '') ids[h] = check(cells[i], `line ${n + 2} ${h}`)
        })
        return { key, ids }
      })
    } else {
      people = lines.flatMap((l, n) =>
        l
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '')
          .map((p) => ({ key: check(p, `line ${n + 1}`), ids: {} }))
      )
    }
  }
  if (people.length === 0) throw new InputError('people', 'names nobody', 'give at least one person')
  if (people.length > MAX_PEOPLE) throw new InputError('people', `names ${people.length} people`, `offboard at most ${MAX_PEOPLE} people in one run`)
  const seen = new Set<string>()
  for (const p of people) {
    const k = p.key.toLowerCase()
    if (seen.has(k)) throw new InputError('people', `names ${JSON.stringify(p.key)} twice`, 'list each person once')
    seen.add(k)
  }
  return people
}

/** Whether a value looks like an email address (the default id at a provider that takes emails). */
export function isEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)
}
