// Where the browser draws WebGL in software (a wall PC without a GPU), maps render at a reduced
// resolution (CITYOPS_WEB__MAP_SOFTWARE_RENDER_SCALE): each frame then fills a quarter of the
// pixels at 0.5, which is what keeps panning smooth on the CPU. With a GPU nothing changes.

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render/i
let software: boolean | null = null

/** Say whether WebGL is drawn in software here (asked once, from a throwaway context). */
export function softwareWebgl(): boolean {
  if (software !== null) return software
  const canvas = document.createElement('canvas')
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl')
  const info = gl?.getExtension('WEBGL_debug_renderer_info')
  const name = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : ''
  gl?.getExtension('WEBGL_lose_context')?.loseContext()
  software = SOFTWARE.test(name)
  return software
}

/** The pixel ratio a map should render at: the screen's, scaled down under software WebGL. */
export function mapPixelRatio(scale: number | null | undefined): number {
  const full = window.devicePixelRatio || 1
  if (scale == null || scale >= 1 || !softwareWebgl()) return full
  return full * scale
}
