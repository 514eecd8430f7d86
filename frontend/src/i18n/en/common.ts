// Shared UI strings (English).
export default {
  app: { name: 'CityOps', title: 'Intelligent operations center' },
  shift: { morning: 'Morning shift', afternoon: 'Afternoon shift', night: 'Night shift', label: 'Shift' },
  nav: { main: 'Main navigation', overview: 'Overview', apiDocs: 'API docs' },
  lang: { switch: 'Language', vi: 'Tiếng Việt', en: 'English' },
  user: { menu: 'Account', logout: 'Log out', role: 'Role' },
  roles: {
    admin: 'Administrator',
    operator: 'IOC operator',
    leader: 'Leader',
    agency_staff: 'Agency staff',
    unit_operator: 'Lower-level unit operator',
    integrator: 'Integrator',
  },
  live: {
    connected: 'Receiving live data',
    connecting: 'Connecting…',
    reconnecting: 'Reconnecting…',
    lost: 'Lost the connection to the server — what is on screen may be out of date.',
  },
  errors: {
    generic: 'Something went wrong: {message}',
    network: 'Cannot reach the server.',
    notFound: 'This page does not exist.',
    back: 'Back to the overview',
  },
  common: { loading: 'Loading…', close: 'Close', none: 'None', unknown: '—' },
}
