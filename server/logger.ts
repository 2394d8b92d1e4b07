/** Server log lines. Callers pass messages only: never a request body, a connection's settings or a secret. */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export const consoleLogger: Logger = {
  info: (m) => console.log(`[syncgraph] ${m}`),
  warn: (m) => console.warn(`[syncgraph] warn: ${m}`),
  error: (m) => console.error(`[syncgraph] error: ${m}`),
}

/** A logger that keeps its lines, for tests that assert what was (not) logged. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) }
}
