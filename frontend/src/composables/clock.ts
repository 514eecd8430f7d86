// The header clock and the duty shift (ca trực): sáng 06–14, chiều 14–22, đêm 22–06.
import { onBeforeUnmount, ref } from 'vue'

export type Shift = 'morning' | 'afternoon' | 'night'

/** Name the shift an hour of the day (0–23) falls in. */
export function shiftOf(hour: number): Shift {
  if (hour >= 6 && hour < 14) return 'morning'
  if (hour >= 14 && hour < 22) return 'afternoon'
  return 'night'
}

/** A ref to the current time, ticking every second while the component lives. */
export function useNow() {
  const now = ref(new Date())
  const timer = window.setInterval(() => (now.value = new Date()), 1000)
  onBeforeUnmount(() => window.clearInterval(timer))
  return now
}
