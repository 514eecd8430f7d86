"""Benchmark: the web UI in Chromium — first meaningful render of the IOC overview with the demo
data, and frame times while panning the map with 20,000 points.

Starts `cityops demo` on a temporary SQLite database (one simulator tick feeds the demo
stations), logs in, then in Debian's Chromium (headless, Playwright):

- first render: navigation start -> the overview's `cityops:overview-ready` mark (map drawn
  with boundaries and sensors, KPI wall filled), median of --runs fresh page loads; baseline in
  the same run: first contentful paint of the login page (same shell, no data, no map);
- panning: 20,000 points are put into the overview's own clustered GeoJSON sources (the same
  WebGL circle layers the live data uses), then the map is dragged with the mouse while
  requestAnimationFrame records frame times; p95 compared with the same drag on the map
  emptied of points (baseline). Frames are drawn as soon as they are ready (vsync off, see
  UNLOCKED); the same drags locked to a 60 Hz vsync are printed beside them. The map renders
  as the product does on this machine: with software WebGL (no GPU) at
  CITYOPS_WEB__MAP_SOFTWARE_RENDER_SCALE of the screen's resolution
  (`map_pixel_ratio`); the same drag at full resolution is printed beside it for reference.

Targets (issue 6): first render <= 2,000 ms, pan frame p95 <= 33 ms. Prints one JSON line;
exits non-zero when under target only with --enforce; skips (exit 0) without Chromium or build.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import BIN, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "src" / "cityops" / "web" / "static" / "index.html"
CHROMIUM = Path(os.environ.get("CITYOPS_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TARGET_RENDER_MS = 2_000.0
TARGET_FRAME_P95_MS = 33.0
PASSWORD = "cityops-demo-2026"
READY = "document.body.dataset.overviewReady === '1'"

# Put N random points around the province into the overview's sources, wait until drawn.
LOAD_POINTS = """(n) => new Promise((done) => {
  const map = window.__cityopsMap
  const features = []
  for (let i = 0; i < n; i++) {
    const lon = 107.2 + Math.random() * 1.8, lat = 10.5 + Math.random() * 1.6
    features.push({type: 'Feature', geometry: {type: 'Point', coordinates: [lon, lat]},
      properties: {id: 'p' + i, state: ['normal', 'warning', 'danger'][i % 3]}})
  }
  const half = Math.floor(n / 2)
  map.getSource('sensors').setData({type: 'FeatureCollection', features: features.slice(0, half)})
  map.getSource('reports').setData({type: 'FeatureCollection', features: features.slice(half)})
  map.jumpTo({center: [108.1, 11.3], zoom: 9})
  map.once('idle', () => done(n))
})"""
START_FRAMES = """() => {
  window.__frames = []
  let last = performance.now()
  const tick = (now) => {
    window.__frames.push(now - last); last = now
    if (window.__recording) requestAnimationFrame(tick)
  }
  window.__recording = true
  requestAnimationFrame(tick)
}"""
STOP_FRAMES = "() => { window.__recording = false; return window.__frames.slice(1) }"
RENDERER = """() => { const gl = document.createElement('canvas').getContext('webgl2')
  const info = gl && gl.getExtension('WEBGL_debug_renderer_info')
  return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : String(gl) }"""
# Why these flags: --disable-gpu is what Chromium itself falls back to on a wall PC without a
# GPU (SwiftShader WebGL, software compositing). Measured on this machine, the alternative
# `--use-angle=swiftshader --enable-unsafe-swiftshader` (GPU process compositing in SwiftShader)
# doubled the pan p95 (466 vs 233 ms with an empty map, load 6), so it is not used.
BROWSER_NOTE = "chromium --headless --disable-gpu: software WebGL as on a wall PC without a GPU"
# The pan is measured in a browser that draws each frame as soon as it is ready instead of at
# the next 60 Hz vsync. Locked to vsync, a frame time can only be 16.7, 33.3, 50 ms...: a frame
# of 18 ms and one of 32 ms both read 33.3, and a p95 of "33.4" says only that some frames
# missed one vsync. Unlocked, the frame times are the time the browser needed for each frame,
# which is what the target bounds; the vsync-locked figures are printed beside them.
UNLOCKED = ["--disable-gpu-vsync", "--disable-frame-rate-limit"]


class Demo:
    """`cityops demo` on a temporary SQLite database and a free port."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="cityops-bench-ui-")
        self.base = f"http://127.0.0.1:{free_port()}"
        self.env = os.environ | {
            "CITYOPS_DATABASE_URL": f"sqlite:///{self.dir}/demo.db",
            "CITYOPS_ENV": "demo",
            "CITYOPS_DATA_DIR": self.dir,
            "CITYOPS_LOG_LEVEL": "WARNING",
        }
        self.env.pop("CITYOPS_SECRET_KEY", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Demo:
        """Load the demo, serve it, feed the stations once."""
        port = self.base.rsplit(":", 1)[1]
        self.proc = subprocess.Popen(
            [str(BIN / "cityops"), "demo", "--port", port],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("cityops demo did not become ready")
        subprocess.run(
            [str(BIN / "cityops"), "simulate", "--url", self.base, "--ticks", "1"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        return self

    def stop(self) -> None:
        """Stop the server."""
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def logged_in_context(browser: Any, base: str) -> Any:
    """A browser context holding the operator's session cookie."""
    context = browser.new_context(base_url=base, viewport={"width": 1920, "height": 1080})
    r = context.request.post("/api/auth/login", data={"username": "vanhanh", "password": PASSWORD})
    assert r.ok, r.text()
    context.add_init_script("localStorage.setItem('cityops.session', '1')")
    return context


def open_overview(context: Any) -> Any:
    """Open the overview and wait for its ready mark (say what the page showed if it never came)."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto("/overview")
    try:
        page.wait_for_function(READY, timeout=60_000)
    except Exception as err:
        text = page.inner_text("body")[:300]
        raise RuntimeError(f"overview not ready at {page.url}: {errors} {text!r}") from err
    return page


MARKS = """() => Object.fromEntries(performance.getEntriesByType('mark')
  .filter((m) => m.name.startsWith('cityops:')).map((m) => [m.name.slice(8), m.startTime]))"""


def first_render(
    browser: Any, base: str, runs: int
) -> tuple[list[float], list[float], dict[str, float]]:
    """Measure the overview's ready mark and, as baseline, the login page's first paint."""
    overview, login, marks = [], [], {}
    for _ in range(runs):
        context = logged_in_context(browser, base)
        page = open_overview(context)
        marks = page.evaluate(MARKS)
        overview.append(marks["overview-ready"])
        context.close()
        context = browser.new_context(base_url=base, viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.goto("/login")
        page.wait_for_selector("form")
        fcp = "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
        value = page.evaluate(fcp)
        if value is not None:
            login.append(value)
        context.close()
    return overview, login, {k: round(v, 1) for k, v in marks.items()}


def drag(page: Any, steps: int) -> list[float]:
    """Drag the map across the screen with the mouse and return the frame times (ms)."""
    box = page.get_by_test_id("map").bounding_box()
    x, y = box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.5
    page.evaluate(START_FRAMES)
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, steps + 1):
        dx = (i % 60 - 30) * 12  # back and forth
        page.mouse.move(x - 360 + abs(dx), y + (i % 20) * 3)
        page.wait_for_timeout(16)
    page.mouse.up()
    return page.evaluate(STOP_FRAMES)


PIXEL_RATIO = "() => window.__cityopsMap.getPixelRatio()"
FULL_RESOLUTION = """() => new Promise((done) => {
  const map = window.__cityopsMap
  map.setPixelRatio(window.devicePixelRatio || 1)
  map.once('idle', () => done(map.getPixelRatio()))
})"""


def panning(browser: Any, base: str, points: int, steps: int, full: bool) -> dict[str, Any]:
    """Frame times while panning with `points` points as the product renders them, with none
    (baseline), idle, and (`full`) at full resolution (what a software-WebGL wall would do
    without CITYOPS_WEB__MAP_SOFTWARE_RENDER_SCALE); the renderer and pixel ratios."""
    context = logged_in_context(browser, base)
    page = open_overview(context)
    out: dict[str, Any] = {"renderer": str(page.evaluate(RENDERER))}
    out["pixel_ratio"] = page.evaluate(PIXEL_RATIO)
    page.evaluate(LOAD_POINTS, 0)
    page.evaluate(START_FRAMES)
    page.wait_for_timeout(1000)
    out["idle"] = page.evaluate(STOP_FRAMES)
    out["empty"] = drag(page, steps)
    page.evaluate(LOAD_POINTS, points)
    out["loaded"] = drag(page, steps)
    if full:
        out["full_pixel_ratio"] = page.evaluate(FULL_RESOLUTION)
        out["full"] = drag(page, steps)
    context.close()
    return out


def main() -> int:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=20_000, help="points on the map when panning")
    parser.add_argument("--runs", type=int, default=2, help="page loads for the first render")
    parser.add_argument("--steps", type=int, default=40, help="mouse moves while panning")
    parser.add_argument("--enforce", action="store_true", help="exit 1 when under target")
    args = parser.parse_args()
    name = "ui_overview_render_and_pan"
    if not CHROMIUM.is_file() or not BUILD.is_file():
        why = "chromium not installed" if not CHROMIUM.is_file() else "run `make frontend`"
        print(json.dumps({"benchmark": name, "skipped": why}))
        return 0
    from playwright.sync_api import sync_playwright

    demo = Demo().start()
    started = time.monotonic()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            overview, login, marks = first_render(browser, demo.base, args.runs)
            locked = panning(browser, demo.base, args.points, args.steps, full=False)
            browser.close()
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS + UNLOCKED)
            pan = panning(browser, demo.base, args.points, args.steps, full=True)
            browser.close()
    finally:
        demo.stop()
    render_ms = statistics.median(overview)
    loaded, empty, idle = pan["loaded"], pan["empty"], pan["idle"]
    frame_p95 = p95(loaded)
    ok = render_ms <= TARGET_RENDER_MS and frame_p95 <= TARGET_FRAME_P95_MS
    result = {
        "benchmark": name,
        "first_render_ms": {
            "overview_median": round(render_ms, 1),
            "overview_runs": [round(v, 1) for v in overview],
            "baseline_login_first_paint_median": round(statistics.median(login), 1)
            if login
            else None,
            "target": TARGET_RENDER_MS,
            "last_run_marks": marks,
        },
        "pan_frame_ms": {
            "points": args.points,
            "p95": round(frame_p95, 1),
            "median": round(statistics.median(loaded), 1),
            "frames": len(loaded),
            "baseline_empty_p95": round(p95(empty), 1),
            "baseline_empty_median": round(statistics.median(empty), 1),
            "baseline_idle_page_p95": round(p95(idle), 1),
            "map_pixel_ratio": pan["pixel_ratio"],
            "full_resolution_p95": round(p95(pan["full"]), 1),
            "full_resolution_median": round(statistics.median(pan["full"]), 1),
            "full_pixel_ratio": pan["full_pixel_ratio"],
            "vsync_locked_p95": round(p95(locked["loaded"]), 1),
            "vsync_locked_median": round(statistics.median(locked["loaded"]), 1),
            "vsync_locked_empty_p95": round(p95(locked["empty"]), 1),
            "target_p95": TARGET_FRAME_P95_MS,
        },
        "browser": BROWSER_NOTE,
        "webgl_renderer": pan["renderer"],
        "seconds": round(time.monotonic() - started, 1),
        "load_average": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        "ok": ok,
    }
    print(json.dumps(result))
    return 0 if ok or not args.enforce else 1


if __name__ == "__main__":
    sys.exit(main())
