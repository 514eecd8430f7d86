"""Serves the web UI: the built dashboard when present, otherwise a landing page."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from cityops import __version__

STATIC = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)

LANDING = Path(__file__).resolve().parent / "landing.html"


@router.get("/", response_model=None)
def index(request: Request) -> FileResponse | HTMLResponse:
    """Serve the dashboard, or a landing page pointing to the API docs."""
    built = STATIC / "index.html"
    if built.is_file():
        return FileResponse(built)
    static = escape(f"{STATIC}/index.html")
    page = LANDING.read_text(encoding="utf-8")
    return HTMLResponse(page.replace("{version}", __version__).replace("{static}", static))
