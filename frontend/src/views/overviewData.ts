// What the overview's first paint needs (map layers and KPIs), loaded in parallel; the router
// starts it as soon as the login is known, while the page's code (MapLibre) is still loading.
import { api, apiOptional } from '@/api/client'
import type { FeatureCollection, GeoFeature, Kpi, StatsTable } from '@/api/types'
import { FR, loadChoices } from '@/api/reports'
import { loadHubLayers } from '@/composables/sensors'
import { hasApi, loadConfig } from '@/composables/session'
import { SEVERITY_COLOURS } from '@/composables/severity'
import { pick as pickLang } from '@/i18n'

export interface OverviewLayers {
  units: FeatureCollection | null
  sensors: GeoFeature[]
  places: GeoFeature[]
  reports: GeoFeature[]
  alerts: GeoFeature[]
}

export interface OverviewLoad {
  layers: OverviewLayers
  /** Messages of the layers that failed (those are left empty, the others still show). */
  problems: string[]
}

// A prefetch older than this is not used (the page was left and opened again later).
const FRESH_MS = 10_000

async function loadUnits(): Promise<FeatureCollection> {
  const [units, stats] = await Promise.all([
    api<FeatureCollection>('/api/units.geojson'),
    hasApi('field-reports') ? apiOptional<StatsTable>('/api/field-reports/stats?by=unit') : null,
  ])
  const counts = new Map((stats?.rows ?? []).map((r) => [r.key, Number(r.received ?? 0)]))
  for (const f of units.features) f.properties.reports = counts.get(String(f.properties.code)) ?? 0
  return units
}

/** The reports' lean map layer (points, status, category; revalidated by ETag on reload). */
export async function loadReports(): Promise<GeoFeature[]> {
  if (!hasApi('field-reports')) return []
  const [layer, choices] = await Promise.all([
    api<FeatureCollection>(`${FR}/reports.geojson`),
    loadChoices().catch(() => null),
  ])
  const statuses = new Map((choices?.statuses ?? []).map((c) => [c.value, c]))
  for (const f of layer.features) {
    const status = statuses.get(String(f.properties.status))
    f.properties.colour = status?.colour ?? '#a78bfa'
    f.properties.name = `${String(f.properties.id)} — ${String(f.properties.category)}`
    if (status) f.properties.status = pickLang(status.label_vi, status.label_en)
  }
  return layer.features
}

/** The open alerts that have a place, as map points coloured by severity. */
export async function loadAlerts(): Promise<GeoFeature[]> {
  if (!hasApi('alerts')) return []
  const active = 'status=open&status=acknowledged&status=in_progress&limit=500'
  const body = await apiOptional<{ items?: Record<string, unknown>[] } | Record<string, unknown>[]>(`/api/alerts?${active}`)
  const items = Array.isArray(body) ? body : (body?.items ?? [])
  const out: GeoFeature[] = []
  for (const a of items) {
    const geometry = (a.location ?? a.geometry) as GeoFeature['geometry'] | undefined
    const lat = a.lat as number | undefined
    const lon = a.lon as number | undefined
    const g = geometry ?? (lat != null && lon != null ? { type: 'Point', coordinates: [lon, lat] } : null)
    const name = pickLang(a.title_vi as string, a.title_en as string) || String(a.id)
    const colour = SEVERITY_COLOURS[String(a.severity)] ?? '#ef4444'
    if (g) out.push({ type: 'Feature', geometry: g, properties: { id: a.id, name, colour, severity: a.severity, status: a.status } })
  }
  return out
}

/** Load every layer at once; one that fails is named in `problems` and left empty. */
export async function loadOverviewLayers(): Promise<OverviewLoad> {
  const problems: string[] = []
  await loadConfig().catch((err: Error) => problems.push(err.message))
  const [units, hub, reports, alerts] = await Promise.allSettled([loadUnits(), loadHubLayers(), loadReports(), loadAlerts()])
  for (const r of [units, hub, reports, alerts]) if (r.status === 'rejected') problems.push((r.reason as Error).message)
  return {
    problems,
    layers: {
      units: units.status === 'fulfilled' ? units.value : null,
      sensors: hub.status === 'fulfilled' ? hub.value.sensors : [],
      places: hub.status === 'fulfilled' ? hub.value.places : [],
      reports: reports.status === 'fulfilled' ? reports.value : [],
      alerts: alerts.status === 'fulfilled' ? alerts.value : [],
    },
  }
}

interface Prefetch {
  at: number
  layers?: Promise<OverviewLoad>
  kpis?: Promise<Kpi[]>
}
let prefetched: Prefetch | null = null

/** Start loading the overview's data now (called by the router once the login is known). */
export function prefetchOverview(): void {
  const kpis = api<Kpi[]>('/api/kpis')
  kpis.catch(() => undefined) // a failure is shown by the KPI wall when it takes this promise
  prefetched = { at: performance.now(), layers: loadOverviewLayers(), kpis }
}

/** Hand out a prefetched promise once, if it is still fresh. */
function take<K extends 'layers' | 'kpis'>(key: K): Prefetch[K] {
  const p = prefetched
  if (!p || performance.now() - p.at > FRESH_MS) return undefined
  const promise = p[key]
  p[key] = undefined
  return promise
}

/** Take the prefetched layers, or load them now when there is no fresh prefetch. */
export function takeOverviewLayers(): Promise<OverviewLoad> {
  return take('layers') ?? loadOverviewLayers()
}

/** Take the prefetched KPIs, or load them now. */
export function takeKpis(): Promise<Kpi[]> {
  return take('kpis') ?? api<Kpi[]>('/api/kpis')
}
