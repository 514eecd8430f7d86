// Sensors from the NGSI-LD hub as GeoJSON, with a state (normal / warning / danger) for colour.
import { api } from '@/api/client'
import type { FeatureCollection, GeoFeature } from '@/api/types'

export type SensorState = 'normal' | 'warning' | 'danger' | 'unknown'
export const STATE_COLOURS: Record<SensorState, string> = {
  normal: '#22c55e',
  warning: '#f59e0b',
  danger: '#ef4444',
  unknown: '#94a3b8',
}
const PAGE = 1000
const SKIP_TYPES = new Set(['Device', 'DeviceModel'])
// Observations of a device (Smart Data Models naming); other located entities are places.
const SENSOR_TYPE = /(Observed|Monitoring)$/

export interface HubLayers {
  sensors: GeoFeature[]
  places: GeoFeature[]
}

/** Shorten an expanded NGSI-LD term to its last part ('https://…/FloodMonitoring' -> 'FloodMonitoring'). */
export function shortName(iri: string): string {
  return iri.split(/[/#]/).pop() ?? iri
}

/** Copy the properties with short names. */
export function compact(props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(props)) out[shortName(k)] = v
  return out
}

/** Judge a sensor's state from its latest values (river alert levels, PM2.5 bands). */
export function sensorState(p: Record<string, unknown>): SensorState {
  const status = p.floodLevelStatus
  if (typeof status === 'string') {
    if (status === 'normal') return 'normal'
    return status === 'alert1' ? 'warning' : 'danger'
  }
  const level = p.currentLevel
  if (typeof level === 'number' && typeof p.alertLevel1 === 'number') {
    if (typeof p.alertLevel2 === 'number' && level >= p.alertLevel2) return 'danger'
    return level >= p.alertLevel1 ? 'warning' : 'normal'
  }
  const pm25 = p.pm25
  if (typeof pm25 === 'number') return pm25 > 55 ? 'danger' : pm25 > 35 ? 'warning' : 'normal'
  return p.type ? 'normal' : 'unknown'
}

/** Turn an NGSI-LD GeoJSON feature into a map feature with short names and a state. */
export function toSensorFeature(f: GeoFeature): GeoFeature {
  const props = compact(f.properties)
  const type = shortName(String(props.type ?? ''))
  delete props.location
  return {
    type: 'Feature',
    id: undefined,
    geometry: f.geometry,
    properties: { ...props, id: f.id, type, state: sensorState(props), name: props.name ?? f.id },
  }
}

/** Say whether an entity type is a sensor's observations (else a place: school, hospital...). */
export function isSensorType(type: string): boolean {
  return SENSOR_TYPE.test(shortName(type))
}

/** Load every located entity of the hub: sensors and places (pages of 1000). */
export async function loadHubLayers(signal?: AbortSignal): Promise<HubLayers> {
  const features = await loadLocated(signal)
  return {
    sensors: features.filter((f) => isSensorType(String(f.properties.type))),
    places: features.filter((f) => !isSensorType(String(f.properties.type))),
  }
}

async function loadLocated(signal?: AbortSignal): Promise<GeoFeature[]> {
  const types = await api<{ typeList: string[] }>('/ngsi-ld/v1/types', { signal })
  const wanted = types.typeList.filter((t) => !SKIP_TYPES.has(shortName(t)))
  if (!wanted.length) return []
  const out: GeoFeature[] = []
  for (let offset = 0; ; offset += PAGE) {
    const query = new URLSearchParams({
      type: wanted.join(','),
      limit: String(PAGE),
      offset: String(offset),
      options: 'keyValues',
    })
    const page = await api<FeatureCollection>(`/ngsi-ld/v1/entities?${query}`, {
      headers: { Accept: 'application/geo+json' },
      signal,
    })
    for (const f of page.features) if (f.geometry) out.push(toSensorFeature(f))
    if (page.features.length < PAGE) return out
  }
}
