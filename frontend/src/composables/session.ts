// Who is logged in (GET /api/auth/me), shared by the whole app.
import { computed, ref } from 'vue'
import { api, ApiError } from '@/api/client'
import type { Me, UiConfig } from '@/api/types'

const me = ref<Me | null>(null)
const config = ref<UiConfig | null>(null)
let loaded = false
// Set while this browser holds a login, so a visitor who never logged in is sent to the login
// page without a request that can only answer 401.
const HINT = 'cityops.session'

/** Load the current user once (null when not logged in). */
export async function loadMe(force = false): Promise<Me | null> {
  if (loaded && !force) return me.value
  if (!force && !localStorage.getItem(HINT)) {
    loaded = true
    return null
  }
  try {
    me.value = await api<Me>('/api/auth/me', { quiet401: true })
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err
    me.value = null
  }
  loaded = true
  if (me.value) localStorage.setItem(HINT, '1')
  else localStorage.removeItem(HINT)
  return me.value
}

let configLoad: Promise<UiConfig> | null = null

/** Load the deployment facts (province name, map tiles) once; callers share one request. */
export function loadConfig(): Promise<UiConfig> {
  configLoad ??= api<UiConfig>('/api/ui/config').then(
    (value) => (config.value = value),
    (err: unknown) => {
      configLoad = null // asked again by the next caller
      throw err
    },
  )
  return configLoad
}

/** Say whether this browser holds a login (it may have expired: only a hint). */
export function hasSessionHint(): boolean {
  return localStorage.getItem(HINT) !== null
}

/** Say whether the server has an API family (a module or package may be absent). */
export function hasApi(family: string): boolean {
  return config.value?.apis.includes(family) ?? false
}

/** Log in with the session cookie; the caller shows ApiError fields next to the inputs. */
export async function login(username: string, password: string): Promise<Me | null> {
  await api('/api/auth/login', { body: { username, password }, quiet401: true })
  return loadMe(true)
}

/** Log out and forget the user. */
export async function logout(): Promise<void> {
  try {
    await api('/api/auth/logout', { method: 'POST', quiet401: true })
  } finally {
    forget()
  }
}

/** Forget the user locally (the server already ended the session). */
export function forget(): void {
  localStorage.removeItem(HINT)
  me.value = null
  loaded = true
}

/** Say whether the user's role has a permission (e.g. 'data:write'). */
export function can(permission: string): boolean {
  return me.value?.permissions.includes(permission) ?? false
}

export function useSession() {
  return { me, config, isLoggedIn: computed(() => me.value !== null), can }
}
