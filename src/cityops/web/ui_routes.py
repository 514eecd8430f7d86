"""GET /api/ui/config: what the web UI needs to know before anyone logs in."""

from __future__ import annotations

from fastapi import APIRouter, Request
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


def api_families(request: Request) -> list[str]:
    """List the first path segment of every documented /api route ('alerts', 'field-reports')."""
    families = set()
    for path in request.app.openapi().get("paths", {}):  # built once, then cached by FastAPI
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "api" and parts[2]:
            families.add(parts[2].split(".")[0])
    return sorted(families)


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
        apis=api_families(request),
    )
