"""NGSI-LD geo-queries: parsing, the bbox pre-filter in SQL, and the exact shapely test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import shapely
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert, select
from sqlalchemy.engine import Engine

from cityops.context.geoquery import (
    GeoQuery,
    GeoQuerySyntaxError,
    bbox_prefilter,
    from_body,
    matches,
    parse_geoquery,
)
from cityops.core.db import make_engine

PHAN_THIET = [108.1, 10.93]


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[list[float]]]:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def polygon(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": box(x0, y0, x1, y1)}


def near(meters: float, where: list[float] = PHAN_THIET, rel: str = "maxDistance") -> GeoQuery:
    return parse_geoquery(f"near;{rel}=={meters}", "Point", str(where), None)


# ------------------------------------------------------------------------------ parsing


def test_parse_geoquery_reads_the_url_parameters() -> None:
    gq = parse_geoquery("near;maxDistance==2000", "Point", "[108.1,10.93]", None)
    assert (gq.georel, gq.max_distance, gq.min_distance) == ("near", 2000.0, None)
    assert (gq.geometry_type, gq.geoproperty) == ("Point", "location")
    assert gq.geometry.equals(shapely.Point(108.1, 10.93))


def test_parse_geoquery_takes_parsed_coordinates_and_a_geoproperty() -> None:
    gq = parse_geoquery("within", "Polygon", box(108.0, 10.8, 108.3, 11.0), "observationSpace")
    assert gq.geoproperty == "observationSpace"
    assert gq.geometry.bounds == (108.0, 10.8, 108.3, 11.0)


def test_from_body_reads_the_geo_q_member_of_a_query_body() -> None:
    body = {
        "type": "Query",
        "entities": [{"type": "AirQualityObserved"}],
        "geoQ": {"georel": "near;minDistance==100", "geometry": "Point", "coordinates": PHAN_THIET},
    }
    gq = from_body(body)
    assert gq is not None and (gq.georel, gq.min_distance) == ("near", 100.0)
    assert from_body({"type": "Query", "q": "pm25>35"}) is None


def test_from_body_says_what_the_geo_q_lacks() -> None:
    with pytest.raises(GeoQuerySyntaxError, match="lacks geometry, coordinates"):
        from_body({"geoQ": {"georel": "within"}})


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "message"),
    [
        ("nearby", "Point", "[108.1,10.93]", "georel must be one of"),
        ("near", "Point", "[108.1,10.93]", "near needs ;maxDistance"),
        ("within;maxDistance==10", "Polygon", box(0, 0, 1, 1), "only near takes"),
        ("near;maxDistance==far", "Point", "[108.1,10.93]", "only near takes"),
        ("", "Point", "[108.1,10.93]", "georel is required"),
        ("within", "Circle", "[108.1,10.93]", "geometry must be one of"),
        ("within", "Point", "[108.1,", "not a JSON array"),
        ("within", "Point", "[10.93,108.1]", "latitude 108.1 is outside -90..90"),
        ("within", "Point", "[200,10]", "longitude 200 is outside"),
        ("within", "Point", '["108.1",10.93]', "must hold numbers"),
        ("within", "Polygon", "[[[108,10],[109,10],[109,11],[108,11]]]", "not closed"),
        ("within", "Polygon", "[[[108,10],[109,10],[108,10]]]", "at least 4 positions"),
        ("within", "Polygon", "[[[108,10],[109,10],[110,10],[108,10]]]", "Self-inter"),  # flat
        (
            "within",
            "Polygon",
            "[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[5,5],[6,5],[6,6],[5,5]]]",
            "Hole",
        ),
        ("intersects", "LineString", "[[108,10]]", "at least 2 positions"),
        ("intersects", "MultiPolygon", "[]", "non-empty array"),
        ("intersects", "Point", "[[108,10]]", "must be a position"),
    ],
)
def test_invalid_geoqueries_are_explained(
    georel: str, geometry: str, coordinates: Any, message: str
) -> None:
    with pytest.raises(GeoQuerySyntaxError, match=message):
        parse_geoquery(georel, geometry, coordinates, None)


def test_a_bowtie_query_polygon_is_read_as_its_two_triangles() -> None:
    bowtie = "[[[108,10],[109,11],[109,10],[108,11],[108,10]]]"  # crosses itself at 108.5 10.5
    gq = parse_geoquery("within", "Polygon", bowtie, None)
    assert gq.geometry.is_valid and gq.geometry.area == pytest.approx(0.5)
    assert matches(gq, {"type": "Point", "coordinates": [108.2, 10.5]})  # in the left one
    assert not matches(gq, {"type": "Point", "coordinates": [108.5, 10.9]})  # between them


# ------------------------------------------------------------------------------ exact test


def test_near_max_distance_in_meters_around_phan_thiet() -> None:
    gq = near(2000)
    assert matches(gq, point(108.1137, 10.93))  # 1.5 km east
    assert matches(gq, point(108.1, 10.9436))  # 1.5 km north
    assert not matches(gq, point(108.123, 10.93))  # 2.5 km east
    assert not matches(gq, point(108.1, 10.953))  # 2.5 km north


@pytest.mark.parametrize(
    ("place", "wgs84_meters"),
    [
        ([108.29, 10.95], 20_886.3),  # Mũi Né
        ([107.77, 10.66], 46_844.5),  # La Gi
        ([108.1, 11.93], 110_617.9),  # one degree north
        ([109.1, 10.93], 109_313.2),  # one degree east
    ],
)
def test_near_distances_are_within_one_percent_of_wgs84(
    place: list[float], wgs84_meters: float
) -> None:
    assert matches(near(wgs84_meters * 1.01), point(*place))
    assert not matches(near(wgs84_meters * 0.99), point(*place))


def test_near_min_distance_keeps_only_far_entities() -> None:
    gq = near(5000, rel="minDistance")
    assert matches(gq, point(108.29, 10.95))
    assert not matches(gq, point(108.1137, 10.93))


def test_near_measures_to_the_edge_of_an_area() -> None:
    lake = polygon(108.2, 10.8, 108.4, 11.1)  # west edge 10,931 m east of the point (WGS84)
    assert matches(near(11_100), lake)
    assert not matches(near(10_800), lake)
    assert matches(near(1, where=[108.3, 10.9]), lake)  # inside: distance 0


def test_near_measures_from_a_query_line() -> None:
    coast_road = [[108.0, 10.90], [108.2, 10.90]]
    gq = parse_geoquery("near;maxDistance==3500", "LineString", coast_road, None)
    assert matches(gq, point(*PHAN_THIET))  # 0.03 degrees north of the road: ~3.3 km
    assert not matches(gq, point(108.1, 10.94))


def test_within_selects_points_inside_the_query_area() -> None:
    gq = parse_geoquery("within", "Polygon", box(108.0, 10.85, 108.2, 11.0), None)
    assert matches(gq, point(*PHAN_THIET))
    assert not matches(gq, point(108.29, 10.95))
    assert not matches(gq, polygon(108.1, 10.9, 108.3, 10.95))  # sticks out


def test_contains_selects_areas_around_the_query_point() -> None:
    gq = parse_geoquery("contains", "Point", PHAN_THIET, None)
    assert matches(gq, polygon(108.05, 10.9, 108.15, 10.96))
    assert not matches(gq, polygon(108.2, 10.9, 108.3, 10.96))


def test_intersects_finds_roads_crossing_a_flood_zone() -> None:
    gq = parse_geoquery("intersects", "Polygon", box(108.08, 10.92, 108.12, 10.94), None)
    assert matches(gq, {"type": "LineString", "coordinates": [[108.0, 10.93], [108.2, 10.93]]})
    assert not matches(gq, {"type": "LineString", "coordinates": [[108.0, 10.8], [108.2, 10.8]]})


def test_disjoint_is_the_opposite_of_intersects() -> None:
    zone = box(108.08, 10.92, 108.12, 10.94)
    gq = parse_geoquery("disjoint", "Polygon", zone, None)
    assert matches(gq, point(108.29, 10.95))
    assert not matches(gq, point(*PHAN_THIET))


def test_equals_and_overlaps_compare_areas() -> None:
    area = box(108.0, 10.9, 108.2, 11.0)
    assert matches(parse_geoquery("equals", "Polygon", area, None), polygon(108.0, 10.9, 108.2, 11))
    overlaps = parse_geoquery("overlaps", "Polygon", area, None)
    assert matches(overlaps, polygon(108.1, 10.95, 108.3, 11.1))
    assert not matches(overlaps, polygon(108.05, 10.92, 108.1, 10.95))  # inside, not overlapping


def test_matches_reads_a_geo_property_and_ignores_broken_geometry() -> None:
    gq = near(2000)
    assert matches(gq, {"type": "GeoProperty", "value": point(108.1137, 10.93)})
    assert not matches(gq, {"type": "Point"})
    assert not matches(gq, {"type": "Point", "coordinates": ["x", "y"]})


def test_the_query_geometry_is_prepared_once() -> None:
    gq = parse_geoquery("within", "Polygon", box(108.0, 10.85, 108.2, 11.0), None)
    assert gq.prepared is gq.prepared
    assert shapely.is_prepared(gq.prepared)


# ------------------------------------------------------------------------------ bbox pre-filter

probe = Table(
    "geoquery_probe",
    MetaData(),
    Column("pk", Integer, primary_key=True),
    Column("id", String(100)),
    Column("min_lon", Float),
    Column("min_lat", Float),
    Column("max_lon", Float),
    Column("max_lat", Float),
)
PLACES: dict[str, dict[str, Any]] = {
    "station-centre": point(*PHAN_THIET),
    "station-1.9km-east": point(108.1174, 10.93),
    "station-2.1km-east": point(108.1193, 10.93),
    "station-1.9km-north": point(108.1, 10.9472),
    "station-mui-ne": point(108.29, 10.95),
    "ward": polygon(108.05, 10.9, 108.15, 10.96),
    "lake": polygon(108.2, 10.8, 108.4, 11.1),
    "coast-road": {"type": "LineString", "coordinates": [[108.0, 10.9], [108.3, 10.95]]},
    "no-location": {},
}


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    """A scratch table of entity bboxes on the test database."""
    eng = make_engine(database_url)
    probe.create(eng, checkfirst=True)
    rows = []
    for name, geometry in PLACES.items():
        bounds = shapely.geometry.shape(geometry).bounds if geometry else (None,) * 4
        rows.append(
            {
                "id": name,
                **dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), bounds, strict=True)),
            }
        )
    with eng.begin() as conn:
        conn.execute(insert(probe), rows)
    yield eng
    probe.drop(eng)
    eng.dispose()


def prefiltered(engine: Engine, gq: GeoQuery) -> set[str]:
    cond = bbox_prefilter(
        gq,
        min_lon=probe.c.min_lon,
        min_lat=probe.c.min_lat,
        max_lon=probe.c.max_lon,
        max_lat=probe.c.max_lat,
    )
    assert cond is not None
    with engine.connect() as conn:
        return set(conn.scalars(select(probe.c.id).where(cond)))


def exact(gq: GeoQuery) -> set[str]:
    return {name for name, geometry in PLACES.items() if matches(gq, geometry)}


@pytest.mark.parametrize(
    "gq",
    [
        near(2000),
        near(25_000),
        parse_geoquery("within", "Polygon", box(108.0, 10.85, 108.2, 11.0), None),
        parse_geoquery("contains", "Point", PHAN_THIET, None),
        parse_geoquery("intersects", "Polygon", box(108.25, 10.9, 108.35, 11.0), None),
        parse_geoquery("overlaps", "Polygon", box(108.1, 10.85, 108.3, 10.95), None),
        parse_geoquery("equals", "Polygon", box(108.05, 10.9, 108.15, 10.96), None),
    ],
    ids=["near-2km", "near-25km", "within", "contains", "intersects", "overlaps", "equals"],
)
def test_bbox_prefilter_keeps_every_entity_that_matches(engine: Engine, gq: GeoQuery) -> None:
    kept = prefiltered(engine, gq)
    assert exact(gq) <= kept
    assert "no-location" not in kept


def test_bbox_prefilter_grows_the_box_by_the_distance_in_meters(engine: Engine) -> None:
    kept = prefiltered(engine, near(2000))
    assert {"station-centre", "station-1.9km-east", "station-1.9km-north", "ward"} <= kept
    assert "station-2.1km-east" not in kept  # a lon degree is shorter at 11° N: still outside
    assert "station-mui-ne" not in kept and "lake" not in kept


def test_bbox_prefilter_cannot_help_disjoint_or_min_distance() -> None:
    cols = {c: probe.c[c] for c in ("min_lon", "min_lat", "max_lon", "max_lat")}
    assert bbox_prefilter(parse_geoquery("disjoint", "Point", PHAN_THIET, None), **cols) is None
    assert bbox_prefilter(near(100, rel="minDistance"), **cols) is None
