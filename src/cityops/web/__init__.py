"""Serves the web UI: the built dashboard when present, otherwise a landing page."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from cityops import __version__

STATIC = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)

_LANDING = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CityOps — Trung tâm điều hành thông minh</title>
<style>
body{{font-family:system-ui,sans-serif;background:#0f172a;color:#e2e8f0;margin:0;padding:2rem;line-height:1.5}}
main{{max-width:46rem;margin:auto}} a{{color:#7dd3fc}} h1{{margin-bottom:.2rem}}
.muted{{color:#94a3b8;font-size:.9rem}} li{{margin:.3rem 0}}
</style></head><body><main>
<h1>CityOps</h1>
<p>Trung tâm giám sát, điều hành đô thị thông minh (IOC) mã nguồn mở — phiên bản {version}.<br>
<span class="muted">Open intelligent operations center — version {version}.</span></p>
<ul>
<li><a href="/docs">Tài liệu API và đăng nhập</a> <span class="muted">(API docs; use “Authorize” to log in)</span></li>
<li><a href="/readyz">Tình trạng hệ thống</a> <span class="muted">(readiness)</span></li>
</ul>
<p class="muted">Bảng điều khiển web chưa có trong bản dựng này ({static}); hãy dùng API tại /docs.<br>
The web dashboard is not in this build ({static}); use the API at /docs.</p>
<p class="muted">Administrative boundaries: Open Development Mekong / Vietnam Department of Survey and
Mapping, <a href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA 4.0</a>.
Administrative unit codes and names: Vietnam National Statistics Office.
CityOps is free software under the AGPL-3.0-or-later.</p>
</main></body></html>"""


@router.get("/", response_model=None)
def index(request: Request) -> FileResponse | HTMLResponse:
    """Serve the dashboard, or a landing page that says how to build it."""
    built = STATIC / "index.html"
    if built.is_file():
        return FileResponse(built)
    static = escape(f"{STATIC}/index.html")
    return HTMLResponse(_LANDING.format(version=__version__, static=static))
