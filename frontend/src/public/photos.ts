// Client-side checks of the citizen's photos (type, size, count) before anything is uploaded.
import { PHOTO_LIMITS } from '@/api/reports'

type Translate = (key: string, values?: Record<string, unknown>) => string

/** Add picked files to the list, returning the new list and the problems found. */
export function addPhotos(current: File[], picked: File[], t: Translate): { files: File[]; problems: string[] } {
  const files = [...current]
  const problems: string[] = []
  const mb = PHOTO_LIMITS.maxBytes / 1_000_000
  for (const file of picked) {
    if (!PHOTO_LIMITS.types.includes(file.type)) problems.push(t('public.submit.badType', { name: file.name }))
    else if (file.size > PHOTO_LIMITS.maxBytes) problems.push(t('public.submit.tooBig', { name: file.name, mb }))
    else if (files.length >= PHOTO_LIMITS.maxPhotos) {
      problems.push(t('public.submit.tooMany', { n: PHOTO_LIMITS.maxPhotos }))
      break
    } else files.push(file)
  }
  return { files, problems }
}

const KEY = 'cityops.myReports'

/** Remember a report's secret in this browser (to rate or reopen it later). */
export function rememberSecret(code: string, secret: string): void {
  const all = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Record<string, string>
  all[code] = secret
  localStorage.setItem(KEY, JSON.stringify(all))
}

/** The remembered secret of a report, if this browser sent it. */
export function secretOf(code: string): string {
  const all = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Record<string, string>
  return all[code] ?? ''
}
