// vue-i18n set-up: one message file per area and language; Vietnamese first, choice persisted.
import { createI18n } from 'vue-i18n'
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

export type Locale = 'vi' | 'en'
export const LOCALES: Locale[] = ['vi', 'en']
const STORAGE_KEY = 'cityops.locale'

// An area added later (e.g. 'reports') adds its two files here.
const messages = {
  vi: { ...viCommon, login: viLogin, overview: viOverview, reports: viReports, public: viPublic, leader: viLeader, alerts: viAlerts, admin: viAdmin, notifications: viNotifications, sectors: viSectors, devices: viDevices },
  en: { ...enCommon, login: enLogin, overview: enOverview, reports: enReports, public: enPublic, leader: enLeader, alerts: enAlerts, admin: enAdmin, notifications: enNotifications, sectors: enSectors, devices: enDevices },
}

function savedLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY)
  return saved === 'en' ? 'en' : 'vi'
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: 'vi',
  messages,
})

/** Switch the language of the whole UI and remember it. */
export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(STORAGE_KEY, locale)
  document.documentElement.lang = locale
}

/** Pick the Vietnamese or English variant of a bilingual API field. */
export function pick(vi: string | null | undefined, en: string | null | undefined): string {
  return (i18n.global.locale.value === 'en' ? en || vi : vi || en) ?? ''
}
