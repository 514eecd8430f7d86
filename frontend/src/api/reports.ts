// Field-report API calls and shapes used by the operator queue and the citizen pages.
import { api, apiOptional, toApiError } from '@/api/client'

export const FR = '/api/field-reports'

export interface Choice {
  value: string
  label_vi: string
  label_en: string
  colour: string
}

export interface Choices {
  statuses: Choice[]
  urgencies: Choice[]
  sources: Choice[]
}

export interface CategoryAttribute {
  code: string
  datatype: 'string' | 'number' | 'datetime' | 'text' | 'singlevaluelist' | 'multivaluelist'
  required: boolean
  variable: boolean
  order: number | null
  description: string
  values: { key: string; name: string }[] | null
}

export interface Category {
  code: string
  attributes: CategoryAttribute[]
  name: string
  name_en: string | null
  group: string | null
  group_en: string | null
  default_agency_code: string | null
}

export interface Photo {
  id: number
  url: string
  thumb_url: string
  width: number
  height: number
}

export interface Comment {
  id: number
  body: string
  public: boolean
  author: string
  created_at: string
}

export interface StatusChange {
  action: string
  from_status: string | null
  to_status: string
  at: string
  actor: string | null
  note: string | null
  agency_code: string | null
}

export interface Report {
  tracking_code: string
  category_code: string
  category_name: string
  description: string
  address: string | null
  lat: number | null
  lon: number | null
  unit_code: string | null
  unit_name: string | null
  status: string
  status_label_vi: string
  status_label_en: string
  status_colour: string
  urgency: string
  urgency_label_vi: string
  agency_code: string | null
  agency_name: string | null
  status_note: string | null
  resolution: string | null
  anonymous: boolean
  reporter: { name: string | null; phone: string | null; email: string | null } | null
  duplicate_of: string | null
  created_at: string
  due_at: string | null
  overdue: boolean
  rating: number | null
  photos: Photo[]
  spam_flagged?: boolean
  spam_score?: number
}

export interface Duplicate {
  tracking_code: string
  status_label_vi: string
  status_label_en: string
  description: string
  address: string | null
  distance_m: number
  created_at: string
}

export interface ReportPage {
  items: Report[]
  total: number
}

export interface ReportQuery {
  status?: string
  category?: string
  unit?: string
  urgency?: string
  overdue?: string
  spam_flagged?: string
  sort?: string
  q?: string
  limit: number
  offset: number
}

export interface Agency {
  code: string
  name: string
  name_en?: string | null
}

/** Build a query string from the filled-in fields only. */
export function queryString(params: object): string {
  const q = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value))
  }
  const text = q.toString()
  return text ? `?${text}` : ''
}

/** List one page of the reports the user may see. */
export function listReports(query: ReportQuery, signal?: AbortSignal): Promise<ReportPage> {
  return api<ReportPage>(`${FR}/reports${queryString(query)}`, { signal })
}

/** Read one report. */
export function getReport(code: string): Promise<Report> {
  return api<Report>(`${FR}/reports/${encodeURIComponent(code)}`)
}

/** Run a workflow step (verify, reject, assign, accept, return, start, resolve, close, reopen). */
export function act(code: string, action: string, body: object): Promise<Report> {
  return api<Report>(`${FR}/reports/${encodeURIComponent(code)}/${action}`, { body })
}

/** List a report's history. */
export function history(code: string): Promise<StatusChange[]> {
  return api<StatusChange[]>(`${FR}/reports/${encodeURIComponent(code)}/history`)
}

/** List a report's comments (internal and public). */
export function comments(code: string): Promise<Comment[]> {
  return api<Comment[]>(`${FR}/reports/${encodeURIComponent(code)}/comments`)
}

/** Add a comment. */
export function addComment(code: string, body: string, isPublic: boolean): Promise<Comment> {
  return api<Comment>(`${FR}/reports/${encodeURIComponent(code)}/comments`, {
    body: { body, public: isPublic },
  })
}

/** Suggested duplicates of a report (empty when the server does not offer them). */
export async function duplicates(code: string): Promise<Duplicate[]> {
  const found = await apiOptional<Duplicate[] | { items: Duplicate[] }>(
    `${FR}/reports/${encodeURIComponent(code)}/duplicates`,
  )
  if (!found) return []
  return Array.isArray(found) ? found : found.items
}

export interface Receipt {
  tracking_code: string
  secret: string
}

/** Send a citizen's report and its photos in one request (multipart when there are photos):
 * the server stores all or nothing, and names a refused photo. */
export async function submitReport(report: object, photos: File[]): Promise<Receipt> {
  if (!photos.length) return api<Receipt>(`${FR}/public/reports`, { body: report })
  const form = new FormData()
  form.append('report', new Blob([JSON.stringify(report)], { type: 'application/json' }))
  for (const file of photos) form.append('photos', file)
  return postForm<Receipt>(`${FR}/public/reports`, form)
}

async function postForm<T>(url: string, form: FormData): Promise<T> {
  const response = await fetch(url, { method: 'POST', body: form, credentials: 'same-origin', headers: { Accept: 'application/json' } })
  const text = await response.text()
  let body: unknown = undefined
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = { detail: text }
  }
  if (!response.ok) throw toApiError(response.status, body)
  return body as T
}

/** Upload a photo (multipart) to a report; `secret` for the citizen's own report. */
export async function uploadPhoto(url: string, file: File, secret?: string): Promise<Photo> {
  const form = new FormData()
  if (secret) form.append('secret', secret)
  form.append('file', file)
  return postForm<Photo>(url, form)
}

let choicesCache: Promise<Choices> | null = null
/** Statuses, urgencies and sources with their labels and colours (loaded once). */
export function loadChoices(): Promise<Choices> {
  choicesCache ??= api<Choices>(`${FR}/choices`).catch((err) => {
    choicesCache = null
    throw err
  })
  return choicesCache
}

/** Categories a citizen may report in (public, no login). */
export async function publicCategories(): Promise<Category[]> {
  return (await api<{ items: Category[] }>(`${FR}/public/categories`)).items
}

/** Agencies a report may be sent to. */
export async function listAgencies(): Promise<Agency[]> {
  const found = await apiOptional<Agency[] | { items: Agency[] }>('/api/agencies?limit=1000')
  if (!found) return []
  return Array.isArray(found) ? found : found.items
}

/** Photo limits the server enforces (defaults of CITYOPS_FIELD_REPORTS__MAX_PHOTO*). */
export const PHOTO_LIMITS = {
  maxPhotos: 5,
  maxBytes: 10_000_000,
  types: ['image/jpeg', 'image/png', 'image/webp'],
}
