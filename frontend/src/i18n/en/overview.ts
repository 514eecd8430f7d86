// The IOC overview (big screen).
export default {
  title: 'Province overview',
  map: 'Overview map',
  layers: {
    title: 'Map layers',
    boundaries: 'Administrative boundaries',
    sensors: 'Sensors',
    places: 'Places (schools, health, tourism…)',
    reports: 'Field reports',
    alerts: 'Open alerts',
    choropleth: 'Field reports per commune',
  },
  kpis: { title: 'KPIs', empty: 'No KPI is registered yet.' },
  feed: { title: 'Live alerts and events', empty: 'No new events yet.' },
  detail: {
    title: 'Details',
    latest: 'Latest values',
    history: 'Recent history',
    alerts: 'Related alerts',
    noHistory: 'No history yet.',
    observedAt: 'Observed at',
  },
  state: { normal: 'Normal', warning: 'Warning', danger: 'Danger', unknown: 'Unknown' },
  severity: { info: 'Info', minor: 'Minor', moderate: 'Moderate', major: 'Major', critical: 'Critical' },
  events: {
    report_created: 'New field report',
    status_changed: 'Report status changed',
    alert: 'Alert',
    other: 'Event',
  },
}
