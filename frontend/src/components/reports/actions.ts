// Which workflow steps a user may take on a report in a given status, and their request bodies.
import type { Me } from '@/api/types'

export type ActionName =
  | 'verify' | 'reject' | 'assign' | 'accept' | 'return' | 'start' | 'progress' | 'resolve' | 'close' | 'reopen'

export interface ActionForm {
  urgency: string
  note: string
  reason: string
  rejectAs: string
  duplicateOf: string
  agency: string
  resolution: string
}

// The operator's steps (data:write) and the handling agency's steps (assigned:handle), per status;
// they mirror TRANSITIONS in modules/field_reports/workflow.py.
const OPERATOR: Record<string, ActionName[]> = {
  received: ['verify', 'reject'],
  verified: ['assign'],
  assigned: ['assign'],
  returned: ['assign'],
  accepted: ['assign'],
  in_progress: ['assign'],
  resolved: ['close', 'reopen', 'assign'],
  closed: ['reopen'],
}
const HANDLER: Record<string, ActionName[]> = {
  assigned: ['accept', 'return'],
  accepted: ['start', 'progress'],
  in_progress: ['progress', 'resolve'],
}

/** List the steps this user may take on a report in this status. */
export function actionsFor(status: string, me: Me | null): ActionName[] {
  if (!me) return []
  const out: ActionName[] = []
  const agencyStaff = me.role === 'agency_staff'
  if (me.permissions.includes('assigned:handle')) out.push(...(HANDLER[status] ?? []))
  if (!agencyStaff && me.permissions.includes('data:write')) {
    for (const a of OPERATOR[status] ?? []) if (!out.includes(a)) out.push(a)
  }
  return out
}

/** Build the JSON body the server expects for a step. */
export function bodyFor(name: ActionName, f: ActionForm): object {
  const note = f.note.trim() || null
  switch (name) {
    case 'verify':
      return { urgency: f.urgency, note }
    case 'reject':
      return { status: f.rejectAs, reason: f.reason.trim(), duplicate_of: f.rejectAs === 'duplicate' ? f.duplicateOf.trim() : null }
    case 'assign':
      return { agency_code: f.agency, reason: f.reason.trim() }
    case 'return':
    case 'reopen':
      return { reason: f.reason.trim() }
    case 'resolve':
      return { resolution: f.resolution.trim() }
    default:
      return { note }
  }
}

type Translate = (key: string, values?: Record<string, unknown>) => string

/** Check a step's form before sending it; returns messages by field (empty: fine). */
export function checkForm(name: ActionName, f: ActionForm, t: Translate): Record<string, string> {
  const errors: Record<string, string> = {}
  const need = (key: 'reason' | 'resolution' | 'note' | 'duplicateOf' | 'agency', label: string, min = 3): void => {
    const value = f[key].trim()
    const field = t(label)
    if (!value) errors[key] = t('reports.form.required', { field })
    else if (value.length < min) errors[key] = t('reports.form.tooShort', { field })
  }
  if (['reject', 'assign', 'return', 'reopen'].includes(name)) need('reason', 'reports.form.reason')
  if (name === 'resolve') need('resolution', 'reports.form.resolution')
  if (name === 'progress') need('note', 'reports.form.note', 1)
  if (name === 'assign') need('agency', 'reports.form.agency', 1)
  if (name === 'reject' && f.rejectAs === 'duplicate') need('duplicateOf', 'reports.form.duplicateOf', 1)
  return errors
}
