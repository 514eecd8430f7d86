"""Serves the web UI (the built dashboard, or a landing page) and the live feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.middleware.gzip import GZipMiddleware

from cityops import __version__
from cityops.core.config import Environment
from cityops.web import live, spa, ui_routes

router = APIRouter(include_in_schema=False)

LANDING = Path(__file__).resolve().parent / "landing.html"


@router.get("/", response_model=None)
def index(request: Request) -> FileResponse | HTMLResponse:
    """Serve the dashboard, or a landing page saying how to build it."""
    built = request.app.state.web_static / "index.html"
    if built.is_file():
        return FileResponse(built, headers={"Cache-Control": spa.REVALIDATE})
    page = LANDING.read_text(encoding="utf-8")
    return HTMLResponse(
        page.replace("{version}", __version__).replace("{static}", escape(str(built)))
    )


@asynccontextmanager
async def prepare_at_start(app: FastAPI) -> AsyncIterator[None]:
    """Build what the first page load would otherwise wait for before serving (real servers;
    the test suite's per-test apps skip it)."""
    if app.state.settings.env != Environment.test:
        await anyio.to_thread.run_sync(ui_routes.prepare, app)
    yield


def install(app: FastAPI) -> None:
    """Add the UI routes, the live feed, gzip and the client-route fallback to an app."""
    static = spa.STATIC
    app.state.web_static = static
    live.install(app, app.state.bus, app.state.db, app.state.settings.web)
    app.include_router(router)
    app.include_router(ui_routes.router)
    app.include_router(live.router)
    app.state.lifespan_hooks.append(prepare_at_start)
    assets = spa.HashedAssets(directory=static / "assets", check_dir=False)
    app.mount("/assets", assets, name="assets")
    # text/event-stream is excluded by GZipMiddleware, so the live feed is never buffered;
    # assets come precompressed (spa.HashedAssets) and pass through it untouched
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.router.default = spa.SpaFallback(app.router.not_found, static)
