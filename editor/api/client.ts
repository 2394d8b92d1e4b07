import type {
  Connection,
  FileInfo,
  GraphDoc,
  GraphSummary,
  NodeTypeInfo,
  PreviewResult,
  RunDetail,
  RunListItem,
  StoredGraph,
  TemplateDetail,
  TemplateParam,
  TemplateSummary,
  User,
  ValidateResult,
} from './types.ts'

/** A failed API call, with a message fit to show a person (never raw JSON). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

const SESSION_KEY = 'syncgraph.signedIn'

/** Whether this browser signed in before; without it the shell shows the login page without asking the server. */
export const sessionHint = {
  get: (): boolean => localStorage.getItem(SESSION_KEY) === '1',
  set: (on: boolean) => (on ? localStorage.setItem(SESSION_KEY, '1') : localStorage.removeItem(SESSION_KEY)),
}

/** Listeners told when the session has ended (401), so the shell can show the login page. */
const unauthorizedListeners = new Set<() => void>()
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

const statusText: Record<number, string> = {
  400: 'The request was not accepted',
  401: 'Your session has ended; please sign in again',
  403: 'You do not have permission to do this',
  404: 'Not found',
  409: 'Someone else saved a newer version',
  413: 'The upload is too large',
  500: 'The server failed to handle the request',
  502: 'The server cannot be reached',
  503: 'The server is not available right now',
}

/** Turn zod-style issue details into one readable line per problem. */
function describeDetails(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined
  const lines = details
    .map((d) => {
      if (typeof d !== 'object' || d === null) return String(d)
      const item = d as { path?: unknown; message?: unknown }
      const path = Array.isArray(item.path)
        ? item.path.join('.')
        : typeof item.path === 'string'
          ? item.path
          : ''
      const message = typeof item.message === 'string' ? item.message : ''
      return path ? `${path}: ${message}` : message
    })
    .filter((line) => line.length > 0)
  return lines.length > 0 ? lines.slice(0, 5).join('; ') : undefined
}

async function toApiError(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`
  let message = statusText[response.status] ?? `The server answered ${response.status}`
  let details: unknown
  const text = await response.text().catch(() => '')
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } }
    if (body.error) {
      if (typeof body.error.code === 'string') code = body.error.code
      if (typeof body.error.message === 'string' && body.error.message.trim()) message = body.error.message
      details = body.error.details
      const extra = describeDetails(details)
      if (extra && !message.includes(extra)) message = `${message}: ${extra}`
    }
  } catch {
    if (text && text.length < 200 && !text.trimStart().startsWith('<')) message = text
  }
  return new ApiError(response.status, code, message, details)
}

/** One call to the REST API; screens build their own API modules on it. */
export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  init: RequestInit = {},
): Promise<T> {
  let response: Response
  try {
    response = await fetch(`/api${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined || body instanceof Blob ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : body instanceof Blob ? body : JSON.stringify(body),
      ...init,
    })
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached. Check that Syncgraph is running.')
  }
  if (!response.ok) {
    const error = await toApiError(response)
    if (response.status === 401 && path !== '/auth/login') {
      sessionHint.set(false)
      if (path !== '/auth/me') for (const listener of unauthorizedListeners) listener()
    }
    throw error
  }
  if (response.status === 204) return undefined as T
  const type = response.headers.get('content-type') ?? ''
  if (!type.includes('json')) return (await response.text()) as T
  return (await response.json()) as T
}

const q = (params: Record<string, string | undefined>): string => {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, v)
  const s = search.toString()
  return s ? `?${s}` : ''
}

const enc = encodeURIComponent

/** The typed client of the Syncgraph REST API. */
export const api = {
  health: () => request<{ ok: boolean; version: string }>('GET', '/health'),
  login: async (username: string, password: string) => {
    const result = await request<{ user: User }>('POST', '/auth/login', { username, password })
    sessionHint.set(true)
    return result
  },
  logout: () => {
    sessionHint.set(false)
    return request<void>('POST', '/auth/logout')
  },
  me: () => request<{ user: User }>('GET', '/auth/me'),

  nodeTypes: () => request<{ nodeTypes: NodeTypeInfo[] }>('GET', '/node-types'),

  listGraphs: (search?: string) => request<{ graphs: GraphSummary[] }>('GET', `/graphs${q({ q: search })}`),
  createGraph: (graph: GraphDoc) => request<StoredGraph>('POST', '/graphs', { graph }),
  getGraph: (id: string) => request<StoredGraph>('GET', `/graphs/${enc(id)}`),
  saveGraph: (id: string, graph: GraphDoc, revision: number) =>
    request<StoredGraph>('PUT', `/graphs/${enc(id)}`, { graph, revision }),
  deleteGraph: (id: string) => request<void>('DELETE', `/graphs/${enc(id)}`),
  duplicateGraph: (id: string, name?: string) =>
    request<StoredGraph>('POST', `/graphs/${enc(id)}/duplicate`, name === undefined ? {} : { name }),
  revisions: (id: string) =>
    request<{ revisions: { revision: number; savedAt: string }[] }>('GET', `/graphs/${enc(id)}/revisions`),

  validate: (graph: GraphDoc, params?: Record<string, unknown>, signal?: AbortSignal) =>
    request<ValidateResult>('POST', '/validate', { graph, params }, signal ? { signal } : {}),
  preview: (
    args: {
      graph: GraphDoc
      nodeId: string
      port?: string
      limit?: number
      params?: Record<string, unknown>
    },
    signal?: AbortSignal,
  ) => request<PreviewResult>('POST', '/preview', args, signal ? { signal } : {}),

  startRun: (body: { graph: GraphDoc } | { graphId: string; params?: Record<string, unknown> }) =>
    request<{ id: string }>('POST', '/runs', body),
  listRuns: (graphId?: string, status?: string) =>
    request<{ runs: RunListItem[] }>('GET', `/runs${q({ graphId, status })}`),
  getRun: (id: string) => request<RunDetail>('GET', `/runs/${enc(id)}`),
  cancelRun: (id: string) => request<void>('POST', `/runs/${enc(id)}/cancel`),
  rejectedRows: (id: string, nodeId?: string) =>
    request<{ rows: Record<string, unknown>[] }>('GET', `/runs/${enc(id)}/rejected${q({ nodeId })}`),

  createTemplate: (body: {
    name: string
    description?: string
    graph: GraphDoc
    params: Record<string, TemplateParam & { targets: { nodeId: string; path: string }[] }>
  }) => request<{ id: string }>('POST', '/templates', body),
  listTemplates: () => request<{ templates: TemplateSummary[] }>('GET', '/templates'),
  getTemplate: (id: string) => request<TemplateDetail>('GET', `/templates/${enc(id)}`),
  instantiateTemplate: (id: string, name: string, values: Record<string, unknown>) =>
    request<{ id: string }>('POST', `/templates/${enc(id)}/instantiate`, { name, values }),

  listConnections: () => request<{ connections: Connection[] }>('GET', '/connections'),
  listFiles: () => request<{ files: FileInfo[] }>('GET', '/files'),
  uploadFile: (name: string, body: Blob) => request<unknown>('PUT', `/files/${enc(name)}`, body),
}

/** The readable message of anything thrown by an API call or elsewhere. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message
  if (error instanceof Error) return error.message
  return String(error)
}
