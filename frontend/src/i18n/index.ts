// vue-i18n set-up: one message file per area and language; Vietnamese first, choice persisted.
// Each entry point hands over only the strings it shows (operator.ts, citizen.ts).
import { createI18n } from 'vue-i18n'

export type Locale = 'vi' | 'en'
export const LOCALES: Locale[] = ['vi', 'en']
const STORAGE_KEY = 'cityops.locale'
/** Strings per language: areas ('login', 'public', ...) plus the shared ones at the top. */
export type Messages = Record<Locale, Record<string, unknown>>

function savedLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY)
  return saved === 'en' ? 'en' : 'vi'
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: 'vi',
  messages: { vi: {}, en: {} },
})

/** Give the UI its strings (before mounting; each entry point brings only its own areas). */
export function useMessages(messages: Messages): void {
  for (const locale of LOCALES) i18n.global.setLocaleMessage(locale, messages[locale] as never)
}

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
