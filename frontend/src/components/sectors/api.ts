// Shapes of the sector APIs the sector pages read, and small helpers shared by those pages.
import { api, toApiError } from '@/api/client'
import type { FeatureCollection, GeoFeature } from '@/api/types'
import { i18n } from '@/i18n'

/** A choice as the server describes it (value, both languages, dashboard colour). */
export interface Choice {
  value: string
  label_vi: string
  label_en: string
  colour: string
}

export interface Unit {
  code: string
  name: string
  parent_code: string | null
  level: string
  depth: number
}

export interface Counters {
  period: string
  unit_code: string
  as_of: string
  received: number
  carried_over: number
  to_process: number
  in_progress: number
  in_progress_late: number
  in_progress_near_late: number
  in_progress_not_due: number
  processed: number
  processed_early: number
  processed_on_time: number
  processed_late: number
  on_time_rate: number | null
  online_rate: number | null
  online_payment_rate: number | null
  digitised_rate: number | null
  average_processing_days: number | null
}

export interface IndexGroup {
  key: string
  label_vi: string
  label_en: string
  points: number
  rate: number | null
  score: number | null
}
export interface Index766 {
  period: string
  groups: IndexGroup[]
  total: number | null
  scored_points: number
  note: string
}

export interface NearDue {
  external_id: string
  procedure_name: string
  agency_code: string
  unit_code: string
  received_at: string
  due_at: string
  late: boolean
  hours_left: number
}

export interface ProcedureStat {
  procedure_code: string
  procedure_name: string
  field: string | null
  processed: number
  processed_late: number
  on_time_rate: number | null
  average_processing_days: number | null
}

export interface Standing {
  indicator: string
  name_vi: string
  name_en: string | null
  unit_of_measure: string
  unit_code: string
  period: string
  value: number | null
  year_to_date: number | null
  target: number | null
  pro_rata_target: number | null
  percent: number | null
  status: string
  status_label_vi: string
  status_label_en: string
  colour: string
}

export interface RowError {
  row: number
  column: string | null
  message: string
}
export interface ImportResult {
  imported: number
  skipped: number
  errors: RowError[]
}

export type { FeatureCollection }

let units: Promise<Unit[]> | null = null

/** Load the administrative units once (for the unit pickers and names). */
export function loadUnits(): Promise<Unit[]> {
  units ??= api<{ items: Unit[] }>('/api/units?limit=1000').then((l) => l.items)
  return units
}

/** Build a query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** Upload a file as multipart form data; throw ApiError on an error status. */
/**
 * POST a file as multipart form data; `onProgress` gets the share sent (0–1), then `null`
 * while the server processes it (XMLHttpRequest: fetch has no upload progress).
 */
export function upload<T>(
  path: string,
  file: File,
  onProgress?: (share: number | null) => void,
): Promise<T> {
  const form = new FormData()
  form.append('file', file)
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', path)
    xhr.withCredentials = true
    xhr.upload.onprogress = (e) => onProgress?.(e.lengthComputable ? e.loaded / e.total : 0)
    xhr.upload.onload = () => onProgress?.(null)
    xhr.onerror = () => reject(new Error('network error'))
    xhr.onload = () => {
      let body: unknown
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined
      } catch {
        body = undefined
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T)
      else reject(toApiError(xhr.status, body))
    }
    xhr.send(form)
  })
}

const tag = (): string => (i18n.global.locale.value === 'en' ? 'en-GB' : 'vi-VN')

/** Format a number the local way ('—' when missing). */
export function num(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined ? '—' : v.toLocaleString(tag(), { maximumFractionDigits: digits })
}

/** Format a percentage given as 0–100 ('—' when missing). */
export function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? '—' : `${num(v, digits)} %`
}

/** Format a date-time in the local language. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString(tag(), { dateStyle: 'short', timeStyle: 'short' })
}

/** A point to draw on a sector map: `colour` fills it, `title` and `detail` fill its popup. */
export interface MapPoint {
  id: string
  lon: number
  lat: number
  colour: string
  title: string
  detail: string
  big?: boolean
}

/** Turn GeoJSON point features into map points (features without a point are left out). */
export function toPoints(
  features: GeoFeature[],
  describe: (f: GeoFeature) => Omit<MapPoint, 'id' | 'lon' | 'lat'>,
): MapPoint[] {
  return features
    .filter((f) => f.geometry?.type === 'Point')
    .map((f) => {
      const [lon, lat] = f.geometry!.coordinates as [number, number]
      return { id: String(f.id), lon, lat, ...describe(f) }
    })
}

/** Make a starter of loads: each start() answers a check that is true while it is the newest. */
export function newestOnly(): () => () => boolean {
  let counter = 0
  return () => {
    const mine = ++counter
    return () => mine === counter
  }
}
