// The operator app: shell, router, i18n; an expired session anywhere leads back to login.
import { createApp } from 'vue'
import App from '@/App.vue'
import { onUnauthorized } from '@/api/client'
import { i18n, useMessages } from '@/i18n'
import { messages } from '@/i18n/operator'
import { forget } from '@/composables/session'
import { disconnectLive } from '@/composables/live'
import { router, toLogin } from '@/router'
import '@/styles/base.css'

onUnauthorized(() => {
  forget()
  disconnectLive()
  toLogin(true)
})

// After an upgrade the old hashed chunks are gone: load the new build instead of failing.
window.addEventListener('vite:preloadError', () => window.location.reload())

useMessages(messages)
document.documentElement.lang = i18n.global.locale.value
createApp(App).use(i18n).use(router).mount('#app')
