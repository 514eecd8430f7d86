// Leader's phone view (English).
export default {
  nav: 'Leader',
  title: 'Today at a glance',
  kpis: 'Headline KPIs',
  reports: 'Field reports (90 days)',
  received: 'Received',
  processed: 'Processed',
  onTime: 'On time',
  satisfied: 'Satisfied',
  alerts: 'Alerts being handled',
  noAlerts: 'No open alerts.',
  incidents: "Today's incidents",
  noIncidents: 'No incident today.',
  overdue: 'Overdue reports',
  noOverdue: 'No overdue report.',
  more: 'See all ({n})',
  updated: 'Updated at {time}',
}
