// Shapes of the API answers the UI reads (only the fields it uses).

export interface Me {
  kind: string
  id: number | null
  name: string
  role: string | null
  unit_code: string | null
  agency_id: number | null
  permissions: string[]
}

export interface UiConfig {
  version: string
  province_code: string
  province_name: string | null
  map: { tile_url: string | null; tile_attribution: string; software_render_scale: number }
  live_heartbeat_s: number
  live_events: string[]
  /** First segments of the /api routes this server has ('alerts', 'field-reports', ...). */
  apis: string[]
}

export interface Kpi {
  key: string
  module: string
  title_vi: string
  title_en: string
  unit: string
  value: number | null
  higher_is_better: boolean
}

export interface Widget {
  key: string
  module: string
  title_vi: string
  title_en: string
  component: string
  data_url: string
}

export interface GeoFeature {
  type: 'Feature'
  id?: string | number
  geometry: { type: string; coordinates: unknown } | null
  properties: Record<string, unknown>
}

export interface FeatureCollection {
  type: 'FeatureCollection'
  features: GeoFeature[]
}

export interface FieldReport {
  tracking_code: string
  title?: string
  category_name: string
  unit_code: string | null
  status: string
  status_label_vi: string
  status_label_en: string
  status_colour: string
  lat: number | null
  lon: number | null
  created_at: string
}

export interface FieldReportList {
  items: FieldReport[]
  total: number
}

export interface StatsRow {
  key: string
  label?: string
  received?: number
  [k: string]: unknown
}

export interface StatsTable {
  by: string
  total: StatsRow
  rows: StatsRow[]
}

/** One message of the live feed (the bus event as Event.to_dict() writes it). */
export interface LiveEvent {
  seq: number
  event: string
  data: Record<string, unknown>
  receivedAt: Date
}
