// Routes of the operator app: lazy-loaded views, login guard that remembers the page.
import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalized,
  type RouteRecordRaw,
} from 'vue-router'
import { hasSessionHint, loadMe } from '@/composables/session'
import { prefetchOverview } from '@/views/overviewData'

declare module 'vue-router' {
  interface RouteMeta {
    /** Public page (no login needed). */
    public?: boolean
    /** Permission the page needs (from /api/auth/me). */
    permission?: string
    /** i18n key of the navigation label; routes with one appear in the menu. */
    nav?: string
  }
}

// H5 adds the consoles (reports, alerts, admin, leader) here, each a lazy import.
export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/overview' },
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { public: true },
  },
  {
    path: '/overview',
    name: 'overview',
    component: () => import('@/views/OverviewView.vue'),
    meta: { permission: 'data:read', nav: 'nav.overview' },
  },
  {
    path: '/reports',
    name: 'reports',
    component: () => import('@/views/reports/ReportsView.vue'),
    meta: { permission: 'data:read', nav: 'reports.nav' },
  },
  {
    path: '/alerts',
    name: 'alerts',
    component: () => import('@/views/alerts/AlertsView.vue'),
    meta: { permission: 'data:read', nav: 'alerts.nav' },
  },
  {
    // links in notifications and e-mails: /alerts/<id>, /incidents/<code>, /reports/<code>
    path: '/alerts/:id(\\d+)',
    redirect: (to) => ({ path: '/alerts', query: { open: String(to.params.id) } }),
  },
  {
    path: '/incidents/:code',
    redirect: (to) => ({ path: '/incidents', query: { open: String(to.params.code) } }),
  },
  {
    path: '/reports/:code',
    redirect: (to) => ({ path: '/reports', query: { open: String(to.params.code) } }),
  },
  {
    path: '/alerts/rules',
    name: 'alert-rules',
    component: () => import('@/views/alerts/RulesView.vue'),
    meta: { permission: 'data:read', nav: 'alerts.rules.nav' },
  },
  {
    path: '/incidents',
    name: 'incidents',
    component: () => import('@/views/incidents/IncidentsView.vue'),
    meta: { permission: 'data:read', nav: 'alerts.incidents.nav' },
  },
  {
    path: '/devices',
    name: 'devices',
    component: () => import('@/views/devices/DevicesView.vue'),
    meta: { permission: 'data:read', nav: 'devices.nav' },
  },
  {
    path: '/leader',
    name: 'leader',
    component: () => import('@/views/leader/LeaderView.vue'),
    meta: { permission: 'data:read', nav: 'leader.nav' },
  },
  {
    path: '/admin',
    name: 'admin',
    component: () => import('@/views/admin/AdminView.vue'),
    meta: { permission: 'users:manage', nav: 'admin.nav' },
  },
  {
    path: '/sectors',
    component: () => import('@/views/sectors/SectorsLayout.vue'),
    redirect: '/sectors/public-services',
    meta: { permission: 'data:read', nav: 'sectors.nav' },
    children: [
      { path: 'public-services', name: 'sector-public-services', component: () => import('@/views/sectors/PublicServicesView.vue'), meta: { permission: 'data:read' } },
      { path: 'socioeconomic', name: 'sector-socioeconomic', component: () => import('@/views/sectors/SocioEconomicView.vue'), meta: { permission: 'data:read' } },
      { path: 'health', name: 'sector-health', component: () => import('@/views/sectors/HealthView.vue'), meta: { permission: 'data:read' } },
      { path: 'education', name: 'sector-education', component: () => import('@/views/sectors/EducationView.vue'), meta: { permission: 'data:read' } },
      { path: 'tourism', name: 'sector-tourism', component: () => import('@/views/sectors/TourismView.vue'), meta: { permission: 'data:read' } },
    ],
  },
  {
    path: '/visit',
    name: 'visit',
    component: () => import('@/views/sectors/VisitorView.vue'),
    meta: { public: true },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { public: true },
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

/** Start fetching a page's code now (the router would only ask after its guards). */
function preloadViews(to: RouteLocationNormalized): void {
  for (const record of to.matched) {
    const view = record.components?.default
    if (typeof view === 'function') void (view as () => Promise<unknown>)().catch(() => undefined)
  }
}

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (hasSessionHint()) preloadViews(to) // while the server says who is logged in
  const me = await loadMe()
  if (!me) return { name: 'login', query: { next: to.fullPath } }
  if (to.meta.permission && !me.permissions.includes(to.meta.permission)) {
    return { name: 'not-found', params: { pathMatch: to.path.slice(1).split('/') } }
  }
  if (to.name === 'overview') prefetchOverview() // its data loads beside its code (MapLibre)
  return true
})

/** Send the user to the login page, remembering where they were. */
export function toLogin(expired = false): void {
  const current = router.currentRoute.value
  if (current.name === 'login') return
  void router.push({
    name: 'login',
    query: { next: current.fullPath, ...(expired ? { expired: '1' } : {}) },
  })
}
