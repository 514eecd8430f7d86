// The citizen entry (public.html): small on purpose — no map or chart libraries up front.
import { createApp } from 'vue'
import { i18n, useMessages } from '@/i18n'
import { messages } from '@/i18n/citizen'
import PublicApp from '@/public/PublicApp.vue'
import '@/styles/base.css'

useMessages(messages)
document.documentElement.lang = i18n.global.locale.value
createApp(PublicApp).use(i18n).mount('#app')
