import { existsSync, lstatSync, realpathSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { InputError } from './errors.js'

/** Where the action may read and write files: the workspace and the runner's temp directory. */
export interface PathRoots {
  workspace: string
  temp?: string
}

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

function real(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return resolve(path)
  }
}

/** The nearest existing ancestor's real path joined with the rest: where `path` really is. */
function realLocation(path: string): string {
  let existing = path
  const rest: string[] = []
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(existing.slice(dirname(existing).length + 1))
    existing = dirname(existing)
  }
  return resolve(real(existing), ...rest)
}

/**
 * Resolves a path input against the workspace and refuses it unless it lies in the workspace or
 * RUNNER_TEMP and reaches there without a symlink: a workflow input must not read /etc/passwd or
 * write over a file a symlink points to.
 */
export function checkedPath(input: string, raw: string, roots: PathRoots): string {
  const path = isAbsolute(raw) ? resolve(raw) : resolve(roots.workspace, raw)
  const fix = `give a path inside the workspace (${roots.workspace})${roots.temp ? ` or RUNNER_TEMP (${roots.temp})` : ''}, with no symlink on the way`
  const root = [roots.workspace, roots.temp].find((r): r is string => r !== undefined && r !== '' && inside(path, resolve(r)))
  if (root === undefined) throw new InputError(input, `${JSON.stringify(raw)} is outside the workspace and RUNNER_TEMP`, fix)
  // Below the root, the real location must be the written one: any symlink on the way changes it.
  const expected = resolve(real(root), relative(resolve(root), path))
  let link = false
  try {
    link = lstatSync(path).isSymbolicLink()
  } catch {
    link = false
  }
  if (link || realLocation(path) !== expected) throw new InputError(input, `${JSON.stringify(raw)} goes through a symlink`, fix)
  return path
}
