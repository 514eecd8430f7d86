// The kind-specific fields of an alert rule: which ones each kind shows, and how the form's
// text becomes the API's values (numbers, JSON objects), with a problem at the field otherwise.
import type { Rule, RuleProblem } from '@/api/alerts'

export type ParamField =
  | 'entity_type' | 'condition' | 'q' | 'for_seconds' | 'attribute' | 'delta' | 'window_seconds'
  | 'silence_seconds' | 'event_name' | 'filter' | 'count' | 'radius_m' | 'fence' | 'fence_unit_id'
  | 'transition'

export const ALL_FIELDS: ParamField[] = [
  'entity_type', 'condition', 'q', 'for_seconds', 'attribute', 'delta', 'window_seconds',
  'silence_seconds', 'event_name', 'filter', 'count', 'radius_m', 'fence', 'fence_unit_id', 'transition',
]

// In the order the form shows them (the server says which are required).
const BY_KIND: Record<string, ParamField[]> = {
  threshold: ['entity_type', 'condition', 'q', 'for_seconds'],
  rate_of_change: ['entity_type', 'attribute', 'delta', 'window_seconds', 'q'],
  absence: ['entity_type', 'attribute', 'silence_seconds', 'q'],
  count_window: ['event_name', 'filter', 'count', 'radius_m', 'window_seconds'],
  event: ['event_name', 'filter'],
  geofence: ['entity_type', 'transition', 'fence_unit_id', 'fence', 'q'],
}

export const NUMBER_FIELDS = new Set<ParamField>([
  'for_seconds', 'delta', 'window_seconds', 'silence_seconds', 'count', 'radius_m', 'fence_unit_id',
])
const JSON_FIELDS = new Set<ParamField>(['filter', 'fence'])
// The smallest value each number field takes (as the API checks it; `above`: strictly greater).
const MINIMUM: Partial<Record<ParamField, { min: number; above: boolean }>> = {
  for_seconds: { min: 0, above: false },
  window_seconds: { min: 0, above: true },
  silence_seconds: { min: 0, above: true },
  radius_m: { min: 0, above: true },
  count: { min: 2, above: false },
}

export const LABELS: Record<string, string> = {
  name: 'alerts.rules.name', title_vi: 'alerts.rules.titleVi', title_en: 'alerts.rules.titleEn',
  entity_type: 'alerts.rules.entityType', condition: 'alerts.rules.condition', q: 'alerts.rules.q',
  for_seconds: 'alerts.rules.forSeconds', attribute: 'alerts.rules.attribute', delta: 'alerts.rules.delta',
  window_seconds: 'alerts.rules.windowSeconds', silence_seconds: 'alerts.rules.silenceSeconds',
  event_name: 'alerts.rules.eventName', filter: 'alerts.rules.filter', count: 'alerts.rules.count',
  radius_m: 'alerts.rules.radiusM', fence: 'alerts.rules.fence', fence_unit_id: 'alerts.rules.fenceUnitId',
  transition: 'alerts.rules.transition',
}

// Examples shown in the empty JSON fields (code, the same in both languages).
export const HINTS: Record<string, string> = {
  filter: '{"category": "PA-NGAP"}',
  fence: '{"type": "Polygon", "coordinates": [[[108.0, 10.9], [108.2, 10.9], [108.2, 11.0], [108.0, 10.9]]]}',
}

/** The fields a rule kind shows. */
export function fieldsOf(kind: string): ParamField[] {
  return BY_KIND[kind] ?? BY_KIND.threshold
}

/** The form's text for every kind-specific field of a rule (empty strings for a new one). */
export function toForm(rule: Rule | null): Record<ParamField, string> {
  const out = {} as Record<ParamField, string>
  const source = (rule ?? {}) as unknown as Record<string, unknown>
  for (const f of ALL_FIELDS) {
    const value = source[f]
    if (value === null || value === undefined) out[f] = ''
    else if (JSON_FIELDS.has(f)) out[f] = Object.keys(value as object).length ? JSON.stringify(value) : ''
    else out[f] = String(value)
  }
  if (!rule) out.for_seconds = '0'
  return out
}

/** Turn the kind's fields into API values; say at which field a number or JSON is malformed. */
export function paramsOf(
  kind: string,
  form: Record<ParamField, string>,
  t: (key: string, named?: Record<string, unknown>) => string,
): { values: Record<string, unknown>; problems: RuleProblem[] } {
  const values: Record<string, unknown> = {}
  const problems: RuleProblem[] = []
  for (const f of fieldsOf(kind)) {
    const text = String(form[f] ?? '').trim()
    if (NUMBER_FIELDS.has(f)) {
      const n = Number(text.replace(',', '.'))
      const floor = MINIMUM[f]
      if (text && !Number.isFinite(n)) problems.push({ field: f, code: 'not_a_number', message: t('alerts.rules.notNumber'), position: null })
      else if (text && floor && (floor.above ? n <= floor.min : n < floor.min)) {
        const message = floor.above ? t('alerts.rules.positive') : t('alerts.rules.atLeast', { n: floor.min })
        problems.push({ field: f, code: 'too_small', message, position: null })
      }
      values[f] = text ? n : f === 'for_seconds' ? 0 : null
    } else if (JSON_FIELDS.has(f)) {
      if (!text) values[f] = f === 'filter' ? {} : null
      else {
        try {
          const parsed: unknown = JSON.parse(text)
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
          values[f] = parsed
        } catch {
          problems.push({ field: f, code: 'invalid_json', message: t('alerts.rules.badJson'), position: null })
        }
      }
    } else values[f] = text || null
  }
  return { values, problems }
}
