// The documentation points only at things that exist: every relative link in a Markdown file resolves to a
// file (and its #anchor to a heading there), and every docs/... path a workflow, example or action.yml
// mentions is a file. Every provider has its page and a README section that links it. Reads files only.
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { repoRoot } from './helpers/run-action.js'

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage'])

function walk(dir: string, keep: (file: string) => boolean, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(join(dir, entry.name), keep, out)
    } else if (keep(entry.name)) out.push(join(dir, entry.name))
  }
  return out
}

const markdownFiles = walk(repoRoot, (f) => f.endsWith('.md')).sort()
const rel = (file: string): string => relative(repoRoot, file)

/** The text outside fenced code blocks and inline code spans, line by line (links in code are not links). */
function proseLines(text: string): string[] {
  let fence: string | undefined
  return text.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)
    if (marker) {
      if (fence === undefined) fence = marker[1][0]
      else if (marker[1][0] === fence) fence = undefined
      return ''
    }
    return fence === undefined ? line.replace(/`[^`]*`/g, '') : ''
  })
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  let fence: string | undefined
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)
    if (marker) {
      if (fence === undefined) fence = marker[1][0]
      else if (marker[1][0] === fence) fence = undefined
      continue
    }
    if (fence !== undefined) continue
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!h) continue
    const text = h[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

interface Link {
  file: string
  line: number
  target: string
}

/** Inline links and images `[text](target)`, reference definitions `[x]: target`, and `href`/`src` attributes. */
function links(file: string): Link[] {
  const out: Link[] = []
  proseLines(readFileSync(file, 'utf8')).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ file, line: i + 1, target: m[1] })
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line)
    if (def) out.push({ file, line: i + 1, target: def[1] })
    for (const m of line.matchAll(/\b(?:href|src)="([^"]+)"/g)) out.push({ file, line: i + 1, target: m[1] })
  })
  return out
}

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')

/** Providers in the code: one folder each under src/providers/. */
const registered = readdirSync(join(repoRoot, 'src', 'providers'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)

/**
 * A page of a provider that is not in the code yet (a README placeholder for a provider being added in
 * another branch) may be missing; once the provider's folder exists, its page must too.
 */
function pendingProviderPage(path: string): boolean {
  const m = /^docs\/providers\/([a-z0-9-]+)\.md$/.exec(path)
  return m !== null && !registered.includes(m[1])
}

describe('documentation links', () => {
  it('finds the Markdown files', () => {
    expect(markdownFiles.map(rel)).toEqual(expect.arrayContaining(['README.md', 'SECURITY.md', 'CONTRIBUTING.md', 'docs/offboarding-pipeline.md']))
  })

  it.each(markdownFiles.map((f) => [rel(f), f]))('%s: every relative link resolves', (_name, file) => {
    const broken: string[] = []
    for (const link of links(file)) {
      if (isExternal(link.target)) continue
      const [pathPart, fragment] = link.target.split('#', 2) as [string, string | undefined]
      const path = decodeURIComponent(pathPart.split('?')[0])
      const target = path === '' ? file : resolve(dirname(file), path)
      const where = `${rel(file)}:${link.line}: ${link.target}`
      if (!existsSync(target)) {
        if (!pendingProviderPage(rel(target))) broken.push(`${where} (no such file)`)
        continue
      }
      if (fragment !== undefined && fragment !== '' && statSync(target).isFile() && target.endsWith('.md') && !anchors(target).has(fragment.toLowerCase())) {
        broken.push(`${where} (no heading #${fragment} in ${rel(target)})`)
      }
    }
    expect(broken).toEqual([])
  })

  it('every docs/ path named in a workflow, an example or action.yml exists', () => {
    const files = [...walk(join(repoRoot, '.github'), (f) => /\.ya?ml$/.test(f)), ...walk(join(repoRoot, 'examples'), () => true), join(repoRoot, 'action.yml')]
    const missing: string[] = []
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const m of line.matchAll(/\bdocs\/[\w./-]*[\w/]/g)) {
            const path = m[0].replace(/[.]+$/, '')
            if (!existsSync(join(repoRoot, path)) && !pendingProviderPage(path)) missing.push(`${rel(file)}:${i + 1}: ${path}`)
          }
        })
    }
    expect(missing).toEqual([])
  })

  it('every provider in the code has its page, and a README section that links it', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    for (const name of registered) {
      const page = `docs/providers/${name}.md`
      expect([page, existsSync(join(repoRoot, page))]).toEqual([page, true])
      expect([page, readme.includes(`](${page})`)]).toEqual([page, true])
    }
  })

  it('the link checker itself catches a missing file, a missing anchor and ignores code', () => {
    const sample = join(repoRoot, 'README.md')
    const fake: Link[] = links(sample).filter((l) => !isExternal(l.target))
    expect(fake.length).toBeGreaterThan(5)
    expect(anchors(sample).has('how-it-behaves')).toBe(true)
    expect(anchors(sample).has('no-such-heading')).toBe(false)
    expect(proseLines('a `[x](nowhere.md)` b\n```\n[y](nowhere.md)\n```\n[z](here.md)').join('\n')).not.toContain('nowhere')
    expect(pendingProviderPage('docs/providers/iproyal.md')).toBe(false)
  })
})
