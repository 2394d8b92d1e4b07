import { createCatalog } from '../../engine/index.ts'
import { collect, failing, values } from '../../engine/testing/test-nodes.ts'
import { definitions } from '../../nodes/index.ts'
import { discard, generate, readLines } from './test-nodes.ts'

/** The shipped nodes plus test nodes; worker threads load this module (moduleUrl) to find them. */
export const catalog = createCatalog(
  [...definitions, values, collect, failing, generate, discard, readLines],
  import.meta.url,
)
