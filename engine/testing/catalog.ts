import { createCatalog } from '../index.ts'
import { collect, evaluate, failing, resultsOnly, values } from './test-nodes.ts'

/** A catalog of test nodes for engine tests; worker threads load this module (moduleUrl) to find them. */
export const catalog = createCatalog([values, collect, failing, resultsOnly, evaluate], import.meta.url)
