// Alert severities' colours (as alerts/choices.py; the API's /api/alerts/choices is the source).
export const SEVERITY_COLOURS: Record<string, string> = {
  info: '#38bdf8',
  warning: '#facc15',
  minor: '#a3e635',
  major: '#f97316',
  critical: '#ef4444',
}
