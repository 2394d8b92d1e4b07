// Worker-thread entry for the Piscina pool. Plain JavaScript, so it loads in any host (the CLI, the
// server, vitest); it registers tsx's TypeScript loader for this thread, then serves worker-task.ts.
import { register } from 'tsx/esm/api'

register()
const { runWorkerTask } = await import('./worker-task.ts')

export default runWorkerTask
