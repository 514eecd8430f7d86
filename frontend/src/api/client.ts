// Typed fetch wrapper: same-origin cookie session, structured errors ({detail, code} and 422 lists).

export interface FieldProblem {
  field: string
  message: string
}

/** An error answered by the server, split into a general message and per-field messages. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, string>

  constructor(status: number, code: string, message: string, fields: Record<string, string>) {
    super(message)
    this.status = status
    this.code = code
    this.fields = fields
  }
}

type Listener = () => void
const unauthorizedListeners = new Set<Listener>()

/** Be told when any call answers 401 (the session expired or was closed). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

interface ValidationItem {
  loc?: (string | number)[]
  msg?: string
}

/** Turn a response body into an ApiError (FastAPI 422 lists become field messages). */
export function toApiError(status: number, body: unknown): ApiError {
  const data = (body ?? {}) as { detail?: unknown; code?: string }
  const code = data.code ?? `http_${status}`
  const fields: Record<string, string> = {}
  if (Array.isArray(data.detail)) {
    for (const item of data.detail as ValidationItem[]) {
      const loc = (item.loc ?? []).filter((p) => p !== 'body' && p !== 'query')
      const field = loc.length ? String(loc[loc.length - 1]) : '_'
      fields[field] = item.msg ?? code
    }
    const message = Object.entries(fields)
      .map(([f, m]) => `${f}: ${m}`)
      .join('; ')
    return new ApiError(status, code, message, fields)
  }
  const message = typeof data.detail === 'string' ? data.detail : `HTTP ${status}`
  return new ApiError(status, code, message, fields)
}

export interface RequestOptions {
  method?: string
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Do not announce a 401 (the login form itself). */
  quiet401?: boolean
}

/** Call the CityOps API and return the parsed JSON (throws ApiError on an error status). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  let body: BodyInit | undefined
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  const response = await fetch(path, {
    method: options.method ?? (body ? 'POST' : 'GET'),
    headers,
    body,
    credentials: 'same-origin',
    signal: options.signal,
  })
  if (response.status === 204) return undefined as T
  const text = await response.text()
  const parsed: unknown = text ? safeJson(text) : undefined
  if (!response.ok) {
    if (response.status === 401 && !options.quiet401) unauthorizedListeners.forEach((l) => l())
    throw toApiError(response.status, parsed)
  }
  return parsed as T
}

/** Like api(), but answers null for a 404 (optional endpoints of modules not installed). */
export async function apiOptional<T>(path: string, options: RequestOptions = {}): Promise<T | null> {
  try {
    return await api<T>(path, options)
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null
    throw err
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return { detail: text }
  }
}
