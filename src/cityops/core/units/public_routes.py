"""GET /api/units/outline.geojson: the administrative boundaries for public maps (no login).

Boundaries are public open data (CC BY-SA 4.0, attributed in the body), so the citizen pages
draw the province and its communes without an account. Only what a map draws is sent: code,
name, level and a polygon simplified for display (about 100 m), built once per change of the
units table and revalidated by ETag.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from shapely.geometry import mapping, shape
from sqlalchemy import func, select

from cityops.core.deps import SessionDep
from cityops.core.policy import system_principal
from cityops.core.units import service
from cityops.core.units.geometry import BOUNDARY_ATTRIBUTION, BOUNDARY_LICENSE_URL
from cityops.core.units.models import Unit

router = APIRouter(prefix="/api/units", tags=["units"])
GEOJSON = "application/geo+json"
TOLERANCE_DEG = 0.001  # ~110 m: invisible at province and commune zoom levels
_PUBLIC = system_principal("public-map")


def _version(session: SessionDep) -> str:
    """A tag that changes whenever a unit is added, changed or removed."""
    count, changed = session.execute(select(func.count(), func.max(Unit.updated_at))).one()
    raw = f"{count}:{changed.isoformat() if changed else ''}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:24] + '"'


def _feature(unit: Unit) -> dict[str, Any]:
    outline = shape(unit.geometry).simplify(TOLERANCE_DEG, preserve_topology=True)
    props = {"code": unit.code, "name": unit.name, "level": unit.level}
    return {"type": "Feature", "id": unit.code, "geometry": mapping(outline), "properties": props}


def _body(session: SessionDep) -> bytes:
    units = service.with_geometry(session, _PUBLIC)
    return orjson.dumps(
        {
            "type": "FeatureCollection",
            "attribution": BOUNDARY_ATTRIBUTION,
            "license": BOUNDARY_LICENSE_URL,
            "features": [_feature(u) for u in units],
        }
    )


@router.get("/outline.geojson", response_class=Response)
def units_outline(request: Request, session: SessionDep) -> Response:
    """Return today's unit boundaries, simplified for maps, to anyone (public open data)."""
    etag = _version(session)
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    cached: tuple[str, bytes] | None = getattr(request.app.state, "units_outline", None)
    if cached is None or cached[0] != etag:
        cached = request.app.state.units_outline = (etag, _body(session))
    return Response(cached[1], media_type=GEOJSON, headers=headers)
