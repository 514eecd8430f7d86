"""GET /api/ui/config: what the web UI needs to know before anyone logs in."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import select

from cityops import __version__
from cityops.core.bus import registered_names
from cityops.core.deps import SessionDep
from cityops.core.units.models import Unit

router = APIRouter(prefix="/api/ui", tags=["web"])


class MapConfigPublic(BaseModel):
    """The map background (tile URL template; None: offline, boundaries only) and the map
    resolution used where WebGL runs in software."""

    tile_url: str | None
    tile_attribution: str
    software_render_scale: float


class UiConfigPublic(BaseModel):
    """Deployment facts the UI shows or uses (no secrets; readable without login)."""

    version: str
    province_code: str
    province_name: str | None
    map: MapConfigPublic
    live_heartbeat_s: float
    live_events: list[str]
    apis: list[str]


def api_families(app: FastAPI) -> list[str]:
    """List the first path segment of every documented /api route ('alerts', 'field-reports').

    Read from the route table (not the OpenAPI document, which takes ~1 s to build), once per
    app; walking the table also builds every route's lazily made state, which prepare() does at
    start-up so that no first request pays for it.
    """
    cached: list[str] | None = getattr(app.state, "ui_api_families", None)
    if cached is not None:
        return cached
    families = set()
    for route in iter_route_contexts(app.routes):
        parts = (route.path or "").split("/")
        if getattr(route, "include_in_schema", False) and len(parts) > 2 and parts[1] == "api":
            families.add(parts[2].split(".")[0])
    app.state.ui_api_families = sorted(f for f in families if f)
    return app.state.ui_api_families


def prepare(app: FastAPI) -> None:
    """Do the once-per-process work of the first page load now: the route table (~0.3 s)."""
    api_families(app)


@router.get("/config")
def ui_config(request: Request, session: SessionDep) -> UiConfigPublic:
    """Tell the web UI the province, the map background and the live-feed heartbeat."""
    settings = request.app.state.settings
    code = settings.units.root_code
    name = session.scalar(select(Unit.name).where(Unit.code == code))
    return UiConfigPublic(
        version=__version__,
        province_code=code,
        province_name=name,
        map=MapConfigPublic(
            tile_url=settings.web.map_tile_url,
            tile_attribution=settings.web.map_tile_attribution,
            software_render_scale=settings.web.map_software_render_scale,
        ),
        live_heartbeat_s=settings.web.live_heartbeat_s,
        live_events=registered_names(),
        apis=api_families(request.app),
    )
