// The live feed (GET /api/live, Server-Sent Events): one connection shared by every panel.
// EventSource reconnects by itself and sends Last-Event-ID, so the server replays what was
// missed; the UI shows "reconnecting" whenever the connection is down.
import { ref } from 'vue'
import type { LiveEvent } from '@/api/types'

export type LiveState = 'idle' | 'connecting' | 'open' | 'reconnecting'
type Handler = (event: LiveEvent) => void

const state = ref<LiveState>('idle')
const handlers = new Set<{ patterns: string[]; fn: Handler }>()
let source: EventSource | null = null
let sessionExpired: (() => void) | null = null
let retryTimer: number | undefined
const knownNames = new Set<string>()

function matches(pattern: string, name: string): boolean {
  return pattern === '*' || pattern === name || (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1)))
}

function dispatch(name: string, message: MessageEvent<string>): void {
  let body: { event?: string; data?: Record<string, unknown> } = {}
  try {
    body = JSON.parse(message.data)
  } catch {
    return
  }
  const event: LiveEvent = {
    seq: Number(message.lastEventId) || 0,
    event: body.event ?? name,
    data: body.data ?? {},
    receivedAt: new Date(),
  }
  for (const h of handlers) if (h.patterns.some((p) => matches(p, name))) h.fn(event)
}

function listen(name: string): void {
  if (!source || knownNames.has(name)) return
  knownNames.add(name)
  source.addEventListener(name, (m) => dispatch(name, m as MessageEvent<string>))
}

/** Open the feed for these event name patterns (call once after login). */
export function connectLive(
  patterns: string[],
  eventNames: string[],
  onSessionExpired: () => void,
): void {
  disconnectLive()
  sessionExpired = onSessionExpired
  state.value = 'connecting'
  const url = `/api/live?events=${encodeURIComponent(patterns.join(','))}`
  source = new EventSource(url, { withCredentials: true })
  source.onopen = () => (state.value = 'open')
  source.onerror = () => {
    if (!source) return
    state.value = 'reconnecting'
    if (source.readyState === EventSource.CLOSED) {
      // the server refused (e.g. 401 after a restart): try again ourselves
      window.clearTimeout(retryTimer)
      retryTimer = window.setTimeout(() => connectLive(patterns, eventNames, onSessionExpired), 3000)
    }
  }
  source.addEventListener('ready', () => (state.value = 'open'))
  source.addEventListener('session_expired', () => {
    disconnectLive()
    sessionExpired?.()
  })
  source.addEventListener('reset', () => dispatch('reset', new MessageEvent('reset', { data: '{}' })))
  // SSE needs a listener per event name: every name the server registered (GET /api/ui/config)
  for (const name of eventNames) listen(name)
}

/** Close the feed (logout). */
export function disconnectLive(): void {
  window.clearTimeout(retryTimer)
  source?.close()
  source = null
  knownNames.clear()
  state.value = 'idle'
}

/** Receive live events whose names match `patterns`; returns an unsubscribe function. */
export function subscribe(patterns: string[], fn: Handler): () => void {
  const entry = { patterns, fn }
  handlers.add(entry)
  return () => handlers.delete(entry)
}

export function useLiveState() {
  return state
}
