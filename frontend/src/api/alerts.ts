// Alerts, alert rules and incidents: the shapes the consoles read and the calls they make.
import { api } from '@/api/client'
import type { Choice } from '@/api/reports'

export interface AlertChoices {
  severities: Choice[]
  statuses: Choice[]
  rule_kinds: Choice[]
}

export interface AlertEvent {
  at: string
  kind: string
  actor_name: string
  note: string | null
  from_status: string | null
  to_status: string | null
}

export interface Alert {
  id: number
  rule_id: number | null
  source_kind: string
  source_id: string
  severity: string
  status: string
  title_vi: string
  title_en: string
  description: string | null
  value: Record<string, unknown> | null
  raised_at: string
  last_triggered_at: string
  trigger_count: number
  escalation_level: number
  assignee_agency_id: number | null
  timeline?: AlertEvent[]
}

export interface Rule {
  id: number
  name: string
  kind: string
  severity: string
  enabled: boolean
  entity_type: string | null
  condition: string | null
  q: string | null
  for_seconds: number
  auto_clear: boolean
  public: boolean
  attribute?: string | null
  delta?: number | null
  window_seconds?: number | null
  silence_seconds?: number | null
  event_name?: string | null
  filter?: Record<string, unknown>
  count?: number | null
  radius_m?: number | null
  fence?: Record<string, unknown> | null
  fence_unit_id?: number | null
  transition?: 'enter' | 'leave' | null
  title_vi: string
  title_en: string
  description: string | null
  version: number
  updated_at: string
}

export interface RuleProblem {
  field: string
  code: string
  message: string
  position: number | null
}

export interface Task {
  id: number
  position: number
  title_vi: string
  title_en: string
  owner_agency_code: string | null
  due_at: string | null
  overdue: boolean
  status: string
  checklist: { vi: string; en: string; done: boolean }[]
  note: string
}

export interface Incident {
  code: string
  title_vi: string
  title_en: string
  description: string
  severity: string
  status: string
  status_label_vi: string
  status_label_en: string
  status_colour: string
  unit_name: string | null
  sop_code: string | null
  opened_at: string
  closed_at: string | null
  alerts: { id: number; title_vi?: string; title_en?: string }[]
  tasks: Task[]
}

export interface TimelineEntry {
  at: string
  actor: string
  kind: string
  detail: Record<string, unknown>
}

let choices: Promise<AlertChoices> | null = null
/** Severities, statuses and rule kinds with labels and colours (loaded once). */
export function alertChoices(): Promise<AlertChoices> {
  choices ??= api<AlertChoices>('/api/alerts/choices').catch((err) => {
    choices = null
    throw err
  })
  return choices
}

/** Find a choice's label in the current language (the value itself when unknown). */
export function labelOf(list: Choice[] | undefined, value: string, pick: (vi: string, en: string) => string): string {
  const c = list?.find((x) => x.value === value)
  return c ? pick(c.label_vi, c.label_en) : value
}

/** The colour of a choice (grey when unknown). */
export function colourOf(list: Choice[] | undefined, value: string): string {
  return list?.find((x) => x.value === value)?.colour ?? '#6c757d'
}

/** Run an alert action (acknowledge, start, comment, escalate, resolve, clear, close, reopen). */
export function alertAction(id: number, action: string, note: string | null): Promise<Alert> {
  return api<Alert>(`/api/alerts/${id}/${action}`, { body: { note } })
}

// Allowed actions by alert status (mirrors TRANSITIONS in alerts/choices.py).
const ACTIVE = ['open', 'acknowledged', 'in_progress']
export const ALERT_ACTIONS: Record<string, string[]> = {
  acknowledge: ['open'],
  start: ['open', 'acknowledged'],
  comment: ['open', 'acknowledged', 'in_progress', 'resolved', 'cleared', 'closed'],
  escalate: ACTIVE,
  resolve: ACTIVE,
  close: ['open', 'acknowledged', 'in_progress', 'resolved', 'cleared'],
  reopen: ['resolved', 'cleared', 'closed'],
}
