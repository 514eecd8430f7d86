// The citizen page's strings (public.html): the shared ones, its own area, and the one field
// label it borrows from the reports area; the operator app's other areas stay out of its bundle.
import type { Messages } from '@/i18n'
import enCommon from './en/common'
import enPublic from './en/public'
import enReports from './en/reports'
import viCommon from './vi/common'
import viPublic from './vi/public'
import viReports from './vi/reports'

export const messages: Messages = {
  vi: { ...viCommon, public: viPublic, reports: { detail: { description: viReports.detail.description } } },
  en: { ...enCommon, public: enPublic, reports: { detail: { description: enReports.detail.description } } },
}
