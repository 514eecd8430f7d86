"""Serving the built single-page app: hashed assets cached for good, client routes fall back.

Vite writes the build to web/static/: index.html (operator app), public.html (citizen pages)
and assets/ with content-hashed names, each text asset beside its brotli (.br) and gzip (.gz)
copies made at build time: a client that accepts them gets those bytes as they are, with
Content-Encoding (no compression per request; GZipMiddleware passes encoded responses through).
Any GET that no API route answered and that is not under a reserved prefix gets index.html (or
public.html under /public), so deep links and reloads of client routes work; reserved prefixes
keep their JSON 404s.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import HTTPException
from fastapi.responses import FileResponse
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent / "static"
RESERVED = (
    "/api",
    "/ngsi-ld",
    "/open311",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
    "/cap",
    "/assets",
)
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# (Content-Encoding, suffix of the build-time copy), best first
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(header: str) -> set[str]:
    """Read an Accept-Encoding header into the codings it accepts ('br;q=0' is refused)."""
    out = set()
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=")
        if coding and not (params and q.replace("0", "").strip(".") == ""):
            out.add(coding.strip())
    return out


class HashedAssets(StaticFiles):
    """Static files whose names carry a content hash: cache them for a year, and send the
    build's brotli or gzip copy of one to a client that accepts it."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Answer with the best precompressed copy the client accepts, else the file itself."""
        if scope["method"] in ("GET", "HEAD"):
            accepted = accepted_encodings(Headers(scope=scope).get("accept-encoding", ""))
            for coding, suffix in PRECOMPRESSED:
                if coding not in accepted:
                    continue
                full, found = await anyio.to_thread.run_sync(self.lookup_path, path + suffix)
                if found is not None and stat.S_ISREG(found.st_mode):
                    response = self.file_response(full, found, scope)
                    response.headers["Content-Encoding"] = coding
                    response.headers["Vary"] = "Accept-Encoding"
                    return response
        return await super().get_response(path, scope)  # GZipMiddleware adds Vary to it

    def file_response(self, *args: Any, **kwargs: Any) -> Any:
        """Serve a file with an immutable Cache-Control header."""
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = IMMUTABLE
        return response

    async def check_config(self) -> None:
        """Answer 404 (not a crash) while the frontend is not built."""
        if self.directory is None or not Path(self.directory).is_dir():
            raise HTTPException(status_code=404, detail="The web UI is not built (make frontend)")


def is_reserved(path: str) -> bool:
    """Say whether a path belongs to the API side (never answered with the app's HTML)."""
    return any(path == p or path.startswith(p + "/") for p in RESERVED)


def page_for(path: str, static: Path = STATIC) -> Path | None:
    """Pick the file to answer a client route with (None: not ours, or not built)."""
    if is_reserved(path) or not (static / "index.html").is_file():
        return None
    name = path.strip("/")
    if name and "/" not in name and ".." not in name:
        direct = static / name
        if direct.is_file():
            return direct  # favicon.svg, public.html, robots.txt ...
    if "." in name.rsplit("/", 1)[-1]:
        return None  # a missing file is a 404, not the app
    if path == "/public" or path.startswith("/public/"):
        public = static / "public.html"
        return public if public.is_file() else None
    return static / "index.html"


class SpaFallback:
    """The router's default app: client routes get the SPA, everything else the JSON 404."""

    def __init__(self, not_found: ASGIApp, static: Path = STATIC) -> None:
        self.not_found = not_found
        self.static = static

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer with the page for a client route, else with the original 404."""
        page = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            page = page_for(scope["path"], self.static)
        if page is None:
            await self.not_found(scope, receive, send)
            return
        response = FileResponse(page, headers={"Cache-Control": REVALIDATE})
        await response(scope, receive, send)
