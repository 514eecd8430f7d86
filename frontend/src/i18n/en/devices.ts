// Sensors and devices page (English).
export default {
  nav: 'Sensors',
  title: 'Sensors and monitoring stations',
  total: '{n} sensors',
  search: 'Search name or id',
  type: 'Type',
  state: 'State',
  all: 'All',
  name: 'Name',
  values: 'Latest values',
  observed: 'Observed',
  empty: 'No sensors.',
  states: { normal: 'Normal', warning: 'Warning', danger: 'Danger', unknown: 'Unknown' },
}
