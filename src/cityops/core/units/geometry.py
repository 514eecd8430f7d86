"""Unit geometry: validate GeoJSON polygons, keep the bbox columns in step, attribution texts."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import event, inspect

from cityops.core.units.models import Unit

BOUNDARY_ATTRIBUTION = (
    "Administrative boundaries: Open Development Mekong / "
    "Vietnam Department of Survey and Mapping, CC BY-SA 4.0"
)
BOUNDARY_LICENSE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
CODES_ATTRIBUTION = (
    "Administrative unit codes and names: Vietnam National Statistics Office "
    "(Cục Thống kê, formerly General Statistics Office)"
)
POLYGON_TYPES = ("Polygon", "MultiPolygon")


class GeometryError(ValueError):
    """A geometry is not a valid lon/lat (Multi)Polygon; the message says why."""


def _plain(value: Any) -> Any:
    """Turn tuples (as shapely's mapping gives) into lists, recursively."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def validate_geometry(geometry: Any) -> dict[str, Any]:
    """Check a GeoJSON geometry is a valid lon/lat Polygon/MultiPolygon; return it normalised."""
    if not isinstance(geometry, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    kind = geometry.get("type")
    if kind not in POLYGON_TYPES:
        raise GeometryError(f"geometry type must be Polygon or MultiPolygon, not {kind!r}")
    try:
        geom = shape({"type": kind, "coordinates": geometry.get("coordinates")})
    except Exception as err:  # shapely raises several types for malformed coordinates
        raise GeometryError(f"malformed coordinates ({err})") from err
    if geom.is_empty:
        raise GeometryError("geometry is empty")
    min_x, min_y, max_x, max_y = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds):
        raise GeometryError("coordinates must be finite numbers")
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise GeometryError(
            "coordinates out of range: expected [longitude, latitude] in WGS 84 "
            f"(bounds {min_x:g}, {min_y:g}, {max_x:g}, {max_y:g})"
        )
    if not geom.is_valid:
        raise GeometryError(f"invalid polygon: {shapely.is_valid_reason(geom)}")
    return {"type": kind, "coordinates": _plain(geometry["coordinates"])}


def geometry_from_wkt(text: str) -> dict[str, Any]:
    """Parse WKT into a GeoJSON geometry dict (validate it with validate_geometry)."""
    try:
        geom = shapely.from_wkt(text)
    except Exception as err:
        raise GeometryError(f"unreadable WKT ({err})") from err
    return _plain(shapely.geometry.mapping(geom))  # type: ignore[no-any-return]


def to_shape(geometry: dict[str, Any]) -> BaseGeometry:
    """Build a shapely geometry from a stored GeoJSON geometry."""
    return shape(geometry)


def bbox(geometry: dict[str, Any] | None) -> tuple[float, float, float, float] | None:
    """Return (min_lon, min_lat, max_lon, max_lat) of a geometry, or None."""
    if not geometry:
        return None
    return tuple(float(v) for v in to_shape(geometry).bounds)  # type: ignore[return-value]


def summary(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """Describe a geometry briefly for the audit log (type, bbox and a content hash)."""
    if not geometry:
        return None
    digest = hashlib.sha256(json.dumps(geometry, sort_keys=True).encode()).hexdigest()
    return {"type": geometry.get("type"), "bbox": bbox(geometry), "sha256": digest}


def _sync_bbox(_mapper: Any, _conn: Any, unit: Unit) -> None:
    """Recompute the bbox columns of a unit whose geometry was set or changed."""
    state = inspect(unit)
    if state.persistent and not state.attrs.geometry.history.has_changes():
        return
    box = bbox(unit.geometry) if unit.geometry else None
    unit.min_lon, unit.min_lat, unit.max_lon, unit.max_lat = box or (None, None, None, None)


event.listen(Unit, "before_insert", _sync_bbox)
event.listen(Unit, "before_update", _sync_bbox)
