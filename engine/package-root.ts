import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The folder holding the project's package.json: the same whether this module runs from source
 * (`engine/`) or from the compiled build (`dist/node/engine/`), so files shipped beside the code
 * (migrations, the built editor, package.json) are found from either.
 */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)))

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`)
  }
}
