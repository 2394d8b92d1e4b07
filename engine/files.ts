import { realpath } from 'node:fs/promises'
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import type { FileResolver } from './define-node.ts'
import { ConnectorError } from './errors.ts'

/**
 * Resolve node file paths against `baseDir`. With `roots`, a path (after following symlinks) must
 * stay inside one of them: `../`, absolute paths elsewhere and symlinks leading out are refused.
 */
export function createFileResolver(options: { baseDir: string; roots?: readonly string[] }): FileResolver {
  return {
    display(path) {
      const rel = relative(options.baseDir, path)
      if (rel === '') return '.'
      if (isAbsolute(rel) || (options.roots !== undefined && rel.startsWith('..'))) return basename(path)
      return rel.split(sep).join('/')
    },
    async resolve(path, { field }) {
      const absolute = resolve(options.baseDir, path)
      if (options.roots === undefined) return absolute
      const real = await realpathOfExistingPart(absolute)
      for (const root of options.roots) {
        const realRoot = await realpathOfExistingPart(resolve(root))
        if (isInside(real, realRoot)) return absolute
      }
      throw new ConnectorError(
        'PATH_OUTSIDE_FILES',
        `${field} "${path}" is outside the files folder; use a path inside it${isAbsolute(path) ? ' (absolute paths must point into it too)' : ''}`,
        { field },
      )
    },
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`))
}

/** realpath of the longest existing prefix of `path`, with the rest appended (for files not yet written). */
async function realpathOfExistingPart(path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch {
    const parent = dirname(path)
    if (parent === path) return path
    return resolve(await realpathOfExistingPart(parent), relative(parent, path))
  }
}
