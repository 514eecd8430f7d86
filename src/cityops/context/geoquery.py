"""NGSI-LD geo-queries (ETSI GS CIM 009 v1.8, 4.10): parse, pre-filter by bbox, test exactly."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import shapely
from shapely.errors import GEOSException, ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from shapely.validation import explain_validity
from sqlalchemy import ColumnElement, and_

from cityops.context.geometry import self_crossing

GEORELS = ("near", "within", "contains", "intersects", "disjoint", "equals", "overlaps")
GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
EARTH_RADIUS_M = 6_371_008.8  # mean radius; within 0.6% of WGS84 distances at any latitude
# Shortest length of a degree (of latitude, at the equator); a margin computed with it is wide
# enough for both the sphere used by `matches` and the WGS84 ellipsoid.
_MIN_M_PER_DEGREE = 110_574.0
_EPS = 1e-9
_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
_DISTANCE = re.compile(r"(maxDistance|minDistance)(?:==|:)(\d+(?:\.\d+)?)")


class GeoQuerySyntaxError(ValueError):
    """A geo-query that cannot be understood; the message says what is wrong."""


@dataclass(frozen=True)
class GeoQuery:
    """A parsed geo-query: relation, reference geometry (lon/lat) and geoproperty."""

    georel: str
    geometry_type: str
    coordinates: Any
    geometry: BaseGeometry
    geoproperty: str = "location"
    max_distance: float | None = None  # meters, near only
    min_distance: float | None = None  # meters, near only

    @cached_property
    def prepared(self) -> BaseGeometry:
        """The reference geometry, prepared for many predicate tests."""
        shapely.prepare(self.geometry)
        return self.geometry


def _parse_georel(georel: Any) -> tuple[str, float | None, float | None]:
    if not isinstance(georel, str) or not georel.strip():
        raise GeoQuerySyntaxError("georel is required, e.g. near;maxDistance==2000 or within")
    rel, *rest = (part.strip() for part in georel.split(";"))
    if rel not in GEORELS:
        raise GeoQuerySyntaxError(f"georel must be one of {', '.join(GEORELS)}; not {rel!r}")
    distances: dict[str, float] = {}
    for part in rest:
        m = _DISTANCE.fullmatch(part)
        if rel != "near" or not m:
            raise GeoQuerySyntaxError(
                f"unexpected {part!r} in georel: only near takes ;maxDistance==<meters> "
                "or ;minDistance==<meters>"
            )
        distances[m.group(1)] = float(m.group(2))
    if rel == "near" and not distances:
        raise GeoQuerySyntaxError("near needs ;maxDistance==<meters> or ;minDistance==<meters>")
    return rel, distances.get("maxDistance"), distances.get("minDistance")


def _load_coordinates(coordinates: Any) -> Any:
    if isinstance(coordinates, str):
        try:
            return json.loads(coordinates)
        except json.JSONDecodeError as err:
            raise GeoQuerySyntaxError(f"coordinates are not a JSON array: {err}") from None
    return coordinates


def _check_position(pos: Any, where: str) -> None:
    if not isinstance(pos, list | tuple) or len(pos) not in (2, 3):
        raise GeoQuerySyntaxError(f"{where} must be a position [longitude, latitude]")
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in pos):
        raise GeoQuerySyntaxError(f"{where} must hold numbers, not {pos!r}")
    if not all(math.isfinite(c) for c in pos):
        raise GeoQuerySyntaxError(f"{where} must hold finite numbers, not {pos!r}")
    lon, lat = pos[0], pos[1]
    if not -180 <= lon <= 180:
        raise GeoQuerySyntaxError(f"{where}: longitude {lon} is outside -180..180")
    if not -90 <= lat <= 90:
        raise GeoQuerySyntaxError(
            f"{where}: latitude {lat} is outside -90..90 (positions are [longitude, latitude])"
        )


def _check_nesting(coords: Any, depth: int, where: str) -> None:
    if depth == 0:
        _check_position(coords, where)
        return
    if not isinstance(coords, list | tuple) or not coords:
        raise GeoQuerySyntaxError(f"{where} must be a non-empty array")
    for i, item in enumerate(coords):
        _check_nesting(item, depth - 1, f"{where}[{i}]")


def _check_line(line: Any, where: str) -> None:
    if len(line) < 2:
        raise GeoQuerySyntaxError(f"{where}: a line needs at least 2 positions")


def _check_rings(rings: Any, where: str) -> None:
    for i, ring in enumerate(rings):
        if len(ring) < 4:
            raise GeoQuerySyntaxError(f"{where}[{i}]: a polygon ring needs at least 4 positions")
        if list(ring[0]) != list(ring[-1]):
            raise GeoQuerySyntaxError(
                f"{where}[{i}]: the ring is not closed (its last position must repeat the first)"
            )


def _check_parts(kind: str, coords: Any) -> None:
    if kind == "LineString":
        _check_line(coords, "coordinates")
    elif kind == "MultiLineString":
        for i, line in enumerate(coords):
            _check_line(line, f"coordinates[{i}]")
    elif kind == "Polygon":
        _check_rings(coords, "coordinates")
    elif kind == "MultiPolygon":
        for i, polygon in enumerate(coords):
            _check_rings(polygon, f"coordinates[{i}]")


def _geometry_name(geometry: Any) -> str:
    names = {g.lower(): g for g in GEOMETRIES}
    name = names.get(geometry.lower()) if isinstance(geometry, str) else None
    if name is None:
        raise GeoQuerySyntaxError(
            f"geometry must be one of {', '.join(GEOMETRIES)}; not {geometry!r}"
        )
    return name


def parse_geoquery(
    georel: str, geometry: str, coordinates: str | list[Any], geoproperty: str | None = None
) -> GeoQuery:
    """Parse and validate the georel, geometry, coordinates and geoproperty parameters."""
    rel, max_distance, min_distance = _parse_georel(georel)
    kind = _geometry_name(geometry)
    coords = _load_coordinates(coordinates)
    _check_nesting(coords, _DEPTH[kind], "coordinates")
    _check_parts(kind, coords)
    try:
        geom = shape({"type": kind, "coordinates": coords})
    except (ShapelyError, ValueError, TypeError) as err:
        raise GeoQuerySyntaxError(f"{kind} coordinates are not valid: {err}") from None
    if not geom.is_valid:
        if not self_crossing(geom):
            raise GeoQuerySyntaxError(f"the {kind} is not valid: {explain_validity(geom)}")
        geom = shapely.make_valid(geom)  # a boundary crossing itself: its repaired area
    if geoproperty is not None and (not isinstance(geoproperty, str) or not geoproperty.strip()):
        raise GeoQuerySyntaxError("geoproperty must be an attribute name")
    return GeoQuery(
        georel=rel,
        geometry_type=kind,
        coordinates=coords,
        geometry=geom,
        geoproperty=geoproperty or "location",
        max_distance=max_distance,
        min_distance=min_distance,
    )


def from_body(body: Mapping[str, Any]) -> GeoQuery | None:
    """Read `geoQ` of a POST /entityOperations/query body (or a bare geoQ); None if absent."""
    geo = body.get("geoQ", body if "georel" in body else None)
    if geo is None:
        return None
    if not isinstance(geo, Mapping):
        raise GeoQuerySyntaxError("geoQ must be a JSON object")
    missing = [k for k in ("georel", "geometry", "coordinates") if geo.get(k) in (None, "", [])]
    if missing:
        raise GeoQuerySyntaxError(f"geoQ lacks {', '.join(missing)}")
    return parse_geoquery(
        geo["georel"], geo["geometry"], geo["coordinates"], geo.get("geoproperty")
    )


def _grow_bounds(bounds: tuple[float, ...], meters: float) -> tuple[float, float, float, float]:
    """Grow lon/lat bounds by a distance, using the shortest degree at the widest latitude."""
    x0, y0, x1, y1 = bounds
    margin = meters * 1.01  # a little slack for rounding and great-circle vs parallel
    dlat = margin / _MIN_M_PER_DEGREE
    y0, y1 = max(-90.0, y0 - dlat), min(90.0, y1 + dlat)
    cos_lat = math.cos(math.radians(max(abs(y0), abs(y1))))
    if cos_lat < 1e-3:
        return -180.0, y0, 180.0, y1
    dlon = margin / (_MIN_M_PER_DEGREE * cos_lat)
    return max(-180.0, x0 - dlon), y0, min(180.0, x1 + dlon), y1


def bbox_prefilter(
    gq: GeoQuery, *, min_lon: Any, min_lat: Any, max_lon: Any, max_lat: Any
) -> ColumnElement[bool] | None:
    """A SQL condition on bbox columns keeping every entity that may match (None: no help)."""
    if gq.georel == "disjoint" or (gq.georel == "near" and gq.max_distance is None):
        return None
    x0, y0, x1, y1 = gq.geometry.bounds
    if gq.max_distance is not None:
        x0, y0, x1, y1 = _grow_bounds((x0, y0, x1, y1), gq.max_distance)
    if gq.georel == "within":  # the entity's box lies inside the reference box
        return and_(
            min_lon >= x0 - _EPS, max_lon <= x1 + _EPS, min_lat >= y0 - _EPS, max_lat <= y1 + _EPS
        )
    if gq.georel == "contains":  # the entity's box covers the reference box
        return and_(
            min_lon <= x0 + _EPS, max_lon >= x1 - _EPS, min_lat <= y0 + _EPS, max_lat >= y1 - _EPS
        )
    return and_(
        min_lon <= x1 + _EPS, max_lon >= x0 - _EPS, min_lat <= y1 + _EPS, max_lat >= y0 - _EPS
    )


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the great-circle distance in meters between two lon/lat points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Return the shortest distance in meters between two lon/lat geometries."""
    if a.geom_type == "Point" and b.geom_type == "Point":
        return haversine_m(a.x, a.y, b.x, b.y)
    if shapely.intersects(a, b):
        return 0.0
    # Find the closest pair in a local equirectangular projection around them, then measure
    # that pair on the sphere: the projection only picks the pair, it does not set the length.
    pa, pb = nearest_points(a, b)
    cos_lat = max(math.cos(math.radians((pa.y + pb.y) / 2)), 1e-6)
    scale = (cos_lat, 1.0)
    qa, qb = nearest_points(_scaled(a, scale), _scaled(b, scale))
    return haversine_m(qa.x / cos_lat, qa.y, qb.x / cos_lat, qb.y)


def _scaled(geom: BaseGeometry, factors: tuple[float, float]) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: xy * factors)


def _entity_shape(geometry: Any) -> BaseGeometry | None:
    if isinstance(geometry, BaseGeometry):
        return geometry
    if isinstance(geometry, Mapping) and geometry.get("type") in ("GeoProperty", "Property"):
        geometry = geometry.get("value")
    if not isinstance(geometry, Mapping):
        return None
    try:
        geom = shape(geometry)
    except (ShapelyError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None
    if geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_valid:
        return shapely.make_valid(geom)  # stored crossing itself (geometry.self_crossing)
    return geom


def _near(gq: GeoQuery, geom: BaseGeometry) -> bool:
    d = distance_m(gq.prepared, geom)
    if gq.max_distance is not None and d > gq.max_distance:
        return False
    return gq.min_distance is None or d >= gq.min_distance


def matches(gq: GeoQuery, entity_geometry: Mapping[str, Any] | BaseGeometry) -> bool:
    """Say whether an entity's GeoJSON geometry satisfies the geo-query exactly."""
    geom = _entity_shape(entity_geometry)
    if geom is None:
        return False
    ref = gq.prepared
    try:
        if gq.georel == "near":
            return _near(gq, geom)
        if gq.georel == "within":  # entity within reference == reference contains entity
            return bool(shapely.contains(ref, geom))
        if gq.georel == "contains":  # entity contains reference == reference within entity
            return bool(shapely.within(ref, geom))
        if gq.georel == "intersects":
            return bool(shapely.intersects(ref, geom))
        if gq.georel == "disjoint":
            return bool(shapely.disjoint(ref, geom))
        if gq.georel == "overlaps":
            return bool(shapely.overlaps(ref, geom))
        return bool(shapely.equals(ref, geom))
    except GEOSException:  # an invalid stored geometry matches nothing
        return False
