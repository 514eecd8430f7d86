// Every string of the operator app (main.ts); the citizen page loads only its own (citizen.ts).
import type { Messages } from '@/i18n'
import enAdmin from './en/admin'
import enAlerts from './en/alerts'
import enCommon from './en/common'
import enDevices from './en/devices'
import enLeader from './en/leader'
import enLogin from './en/login'
import enNotifications from './en/notifications'
import enOverview from './en/overview'
import enPublic from './en/public'
import enReports from './en/reports'
import enSectors from './en/sectors'
import viAdmin from './vi/admin'
import viAlerts from './vi/alerts'
import viCommon from './vi/common'
import viDevices from './vi/devices'
import viLeader from './vi/leader'
import viLogin from './vi/login'
import viNotifications from './vi/notifications'
import viOverview from './vi/overview'
import viPublic from './vi/public'
import viReports from './vi/reports'
import viSectors from './vi/sectors'

// An area added later (e.g. 'reports') adds its two files here.
export const messages: Messages = {
  vi: { ...viCommon, login: viLogin, overview: viOverview, reports: viReports, public: viPublic, leader: viLeader, alerts: viAlerts, admin: viAdmin, notifications: viNotifications, sectors: viSectors, devices: viDevices },
  en: { ...enCommon, login: enLogin, overview: enOverview, reports: enReports, public: enPublic, leader: enLeader, alerts: enAlerts, admin: enAdmin, notifications: enNotifications, sectors: enSectors, devices: enDevices },
}
