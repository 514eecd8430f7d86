"""GeoJSON geometries as NGSI-LD GeoProperty values (GS CIM 009 4.7): validated, with errors
that name the attribute; entities.py checks every GeoProperty it parses with check_geometry."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import shape

from cityops.context.errors import bad_request

GEO_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)


def _point(value: dict[str, Any]) -> dict[str, Any] | None:
    """Validate a GeoJSON Point without shapely (the common case, kept fast)."""
    coords = value.get("coordinates")
    if (
        isinstance(coords, list)
        and len(coords) in (2, 3)
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
        and -180 <= coords[0] <= 180
        and -90 <= coords[1] <= 90
    ):
        return {"type": "Point", "coordinates": coords}
    return None


def self_crossing(geom: Any) -> bool:
    """Whether a polygon's only fault is that its boundary crosses itself: GeoJSON (RFC 7946)
    does not forbid it and hand-drawn areas often do it (the ETSI suite's 019_11 polygons
    too). Such a polygon is kept as given and queried as shapely.make_valid repairs it."""
    reason = shapely.is_valid_reason(geom)
    crossing = reason.startswith(("Self-intersection", "Ring Self-intersection"))
    return crossing and shapely.make_valid(geom).area > 0  # (a ring folded flat has none)


def check_geometry(value: Any, what: str) -> dict[str, Any]:
    """Return a valid GeoJSON geometry or raise BadRequestData naming the attribute."""
    if isinstance(value, dict) and value.get("type") == "Point" and (point := _point(value)):
        return point
    if not isinstance(value, dict) or value.get("type") not in GEO_TYPES:
        raise bad_request(f"{what} must be a GeoJSON geometry ({', '.join(sorted(GEO_TYPES))})")
    try:
        geom = shape(value)
    except Exception as err:  # shapely raises several types for malformed coordinates
        raise bad_request(f"{what} has malformed coordinates: {err}") from err
    if geom.is_empty or not (shapely.is_valid(geom) or self_crossing(geom)):
        raise bad_request(f"{what} is not a valid geometry: {shapely.is_valid_reason(geom)}")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise bad_request(f"{what} has coordinates outside lon -180..180 / lat -90..90")
    return {"type": value["type"], "coordinates": value["coordinates"]}
