// MapLibre set-up shared by the citizen pages' maps; imported only by lazy chunks.
import { Map as MapLibre, NavigationControl, setWorkerUrl, type StyleSpecification } from 'maplibre-gl'
import 'maplibre-gl/dist/maplibre-gl.css'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url'
import { api } from '@/api/client'
import type { UiConfig } from '@/api/types'

setWorkerUrl(workerUrl)

export interface PublicRequest {
  service_request_id: string
  service_name: string
  status: 'open' | 'closed'
  status_notes: string
  description: string | null
  address: string | null
  lat: number | null
  long: number | null
  requested_datetime: string
}

/** Verified reports with a location, from the public Open311 list (no personal data). */
export async function verifiedRequests(): Promise<PublicRequest[]> {
  const all = await api<PublicRequest[]>('/open311/v2/requests.json')
  // the Open311 view hides the description until an operator has verified the report
  return all.filter((r) => r.description !== null && r.lat !== null && r.long !== null)
}

const loadedOf = new WeakMap<MapLibre, Promise<void>>()

/** Create a map in `container`: the configured tiles if any, else a plain offline background;
 * with the province outline unless `outline: false` (a page that draws its own boundaries). */
export async function createMap(container: HTMLElement, options: { outline?: boolean } = {}): Promise<MapLibre> {
  const config = await api<UiConfig>('/api/ui/config').catch(() => null)
  const style: StyleSpecification = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#dbe4ee' } }],
  }
  if (config?.map.tile_url) {
    style.sources.tiles = { type: 'raster', tiles: [config.map.tile_url], tileSize: 256, attribution: config.map.tile_attribution }
    style.layers.push({ id: 'tiles', type: 'raster', source: 'tiles' })
  }
  const map = new MapLibre({ container, style, center: [108.0, 11.5], zoom: 7, attributionControl: { compact: true } })
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right')
  const loaded = new Promise<void>((done) => map.once('load', () => done()))
  loadedOf.set(map, loaded)
  if (options.outline !== false) void addOutline(map, loaded)
  return map
}

/** Draw today's unit boundaries (public open data, attributed) beneath the point layers. */
async function addOutline(map: MapLibre, loaded: Promise<void>): Promise<void> {
  type Outline = GeoJSON.FeatureCollection & { attribution?: string }
  const [data] = await Promise.all([api<Outline>('/api/units/outline.geojson').catch(() => null), loaded])
  if (!data || map.getSource('outline')) return
  map.addSource('outline', { type: 'geojson', data, attribution: data.attribution })
  const below = map.getStyle().layers.find((l) => l.type === 'circle')?.id
  map.addLayer({ id: 'outline-fill', type: 'fill', source: 'outline', paint: { 'fill-color': '#1d4ed8', 'fill-opacity': 0.04 } }, below)
  map.addLayer({
    id: 'outline-line',
    type: 'line',
    source: 'outline',
    paint: { 'line-color': '#1d4ed8', 'line-opacity': 0.7, 'line-width': ['match', ['get', 'level'], 'province', 2, 0.6] },
  }, below)
}

/** Resolve once the map's style has loaded (also when that happened before the call). */
export function whenLoaded(map: MapLibre): Promise<void> {
  return loadedOf.get(map) ?? Promise.resolve()
}

/** Fit the map around points ([lon, lat]). */
export function fitTo(map: MapLibre, points: [number, number][]): void {
  if (!points.length) return
  const lons = points.map((p) => p[0])
  const lats = points.map((p) => p[1])
  map.fitBounds(
    [
      [Math.min(...lons), Math.min(...lats)],
      [Math.max(...lons), Math.max(...lats)],
    ],
    { padding: 40, maxZoom: 14, duration: 0 },
  )
}
