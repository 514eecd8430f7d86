// Small helpers shared by the admin panels: the roles, server errors onto fields, dates.
import { ApiError } from '@/api/client'

export const ROLES = ['admin', 'operator', 'leader', 'agency_staff', 'unit_operator', 'integrator']

/** Put an API error's field messages into `errors` (or return its general message). */
export function applyError(err: unknown, errors: Record<string, string>): string {
  for (const k of Object.keys(errors)) delete errors[k]
  if (err instanceof ApiError && Object.keys(err.fields).length) {
    Object.assign(errors, err.fields)
    return ''
  }
  return err instanceof Error ? err.message : String(err)
}

/** Format a date-time for the admin tables. */
export function when(iso: string | null, locale: string): string {
  return iso ? new Date(iso).toLocaleString(locale === 'en' ? 'en-GB' : 'vi-VN', { dateStyle: 'short', timeStyle: 'short' }) : '—'
}
