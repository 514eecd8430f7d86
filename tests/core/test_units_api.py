"""The /api/units endpoints: scoped reads, GeoJSON with attribution, admin writes, imports."""

from __future__ import annotations

import json

import pytest
from units_support import ADMIN

from cityops.core.units.geometry import BOUNDARY_ATTRIBUTION
from cityops.core.units.loaders import DATA_DIR, load_demo_units
from cityops.core.units.models import Unit

SQUARE = {"type": "Polygon", "coordinates": [[[111, 9], [112, 9], [112, 11], [111, 11], [111, 9]]]}


@pytest.fixture
def demo(database, client):
    with database.session() as s:
        load_demo_units(s, ADMIN)
    return database


@pytest.fixture
def admin(factory):
    return factory.headers(factory.user("admin"))


def unit(db, code) -> Unit:
    with db.session() as s:
        return s.query(Unit).filter(Unit.code == code).one()


def test_listing_filters_by_level_and_pages(client, demo, admin):
    page = client.get("/api/units?level=commune&limit=10&offset=5", headers=admin).json()
    assert page["total"] == 124 and len(page["items"]) == 10 and page["offset"] == 5
    first = page["items"][0]
    assert first["parent_code"] == "68" and first["level"] == "commune" and first["is_current"]
    assert first["has_geometry"] is False and first["bbox"] is None


def test_search_finds_names_without_accents(client, demo, admin):
    items = client.get("/api/units", params={"q": "mui ne"}, headers=admin).json()["items"]
    assert [u["name"] for u in items] == ["Phường Mũi Né"]


def test_tree_shows_current_units_and_former_ones_on_request(client, demo, admin):
    tree = client.get("/api/units/tree", headers=admin).json()
    assert tree["total"] == 125 and [t["code"] for t in tree["items"]] == ["68"]
    assert len(tree["items"][0]["children"]) == 124
    full = client.get("/api/units/tree?include_former=true", headers=admin).json()
    former = [c for c in full["items"][0]["children"] if not c["is_current"]]
    assert sorted(c["code"] for c in former) == ["60-pre2025", "67-pre2025", "68-pre2025"]


def test_commune_operator_cannot_read_other_commune(client, demo, factory):
    me = factory.headers(factory.user("unit_operator", unit(demo, "22918")))
    assert client.get("/api/units/22918", headers=me).status_code == 200
    for path in ("/api/units/22924", "/api/units/68", "/api/units/68/children"):
        response = client.get(path, headers=me)
        assert response.status_code == 404 and response.json()["code"] == "not_found", path
    tree = client.get("/api/units/tree", headers=me).json()
    assert [t["code"] for t in tree["items"]] == ["22918"]


def test_locate_gives_the_unit_its_chain_the_former_province_and_attribution(client, demo, admin):
    body = client.get("/api/units/locate?lat=10.93&lon=108.10", headers=admin).json()
    assert body["unit"]["code"] == "68" and [u["code"] for u in body["chain"]] == ["68"]
    assert [(u["code"], u["name"]) for u in body["former"]] == [("60-pre2025", "Bình Thuận")]
    assert body["attribution"] == BOUNDARY_ATTRIBUTION


@pytest.mark.parametrize(
    "query,code",
    [
        ("lat=abc&lon=108", "invalid_input"),
        ("lat=95&lon=108", "invalid_point"),
        ("lat=nan&lon=108", "invalid_point"),
        ("lon=108", "invalid_input"),
    ],
)
def test_locate_refuses_bad_coordinates(client, demo, admin, query, code):
    response = client.get(f"/api/units/locate?{query}", headers=admin)
    assert response.status_code == 422 and response.json()["code"] == code


def test_geometry_is_a_geojson_feature_with_attribution(client, demo, admin):
    response = client.get("/api/units/60-pre2025/geometry", headers=admin)
    assert response.headers["content-type"].startswith("application/geo+json")
    feature = response.json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["attribution"] == BOUNDARY_ATTRIBUTION
    missing = client.get("/api/units/22918/geometry", headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "no_geometry"


def test_units_geojson_has_the_polygons_in_scope_with_attribution(client, demo, admin, factory):
    collection = client.get("/api/units.geojson", headers=admin).json()
    assert collection["type"] == "FeatureCollection" and collection["attribution"]
    assert [f["id"] for f in collection["features"]] == ["68"]
    everything = client.get("/api/units.geojson?include_former=true", headers=admin).json()
    assert len(everything["features"]) == 4
    commune = factory.headers(factory.user("leader", unit(demo, "22918")))
    assert client.get("/api/units.geojson", headers=commune).json()["features"] == []


def test_admin_creates_moves_and_deletes_a_unit(client, demo, admin):
    body = {
        "code": "Z1",
        "name": "Vùng thử",
        "level": "zone",
        "parent_code": "68",
        "geometry": SQUARE,
    }
    created = client.post("/api/units", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["bbox"] == [111, 9, 112, 11]
    moved = client.patch("/api/units/Z1", json={"parent_code": "22918"}, headers=admin).json()
    assert moved["parent_code"] == "22918" and moved["depth"] == 2
    assert (
        client.get("/api/units/locate?lat=10&lon=111.5", headers=admin).json()["unit"]["code"]
        == "Z1"
    )
    assert client.delete("/api/units/Z1", headers=admin).status_code == 204
    assert client.get("/api/units/Z1", headers=admin).status_code == 404


def test_only_administrators_may_write_units(client, demo, factory):
    operator = factory.headers(factory.user("operator", unit(demo, "68")))
    body = {"code": "Z1", "name": "Vùng thử", "level": "zone", "parent_code": "68"}
    for response in (
        client.post("/api/units", json=body, headers=operator),
        client.patch("/api/units/22918", json={"name": "X"}, headers=operator),
        client.delete("/api/units/22918", headers=operator),
    ):
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert client.post("/api/units", json=body).status_code == 401


@pytest.mark.parametrize(
    "method,path,body,status,code",
    [
        ("POST", "/api/units", "{not json", 422, "malformed_json"),
        ("POST", "/api/units", {"code": 5, "name": "X", "level": "zone"}, 422, "invalid_input"),
        ("POST", "/api/units", {"code": "a b", "name": "X", "level": "zone"}, 422, "invalid_input"),
        (
            "POST",
            "/api/units",
            {"code": "22918", "name": "X", "level": "commune"},
            409,
            "unit_code_taken",
        ),
        (
            "POST",
            "/api/units",
            {"code": "Z", "name": "X", "level": "zone", "geometry": {"type": "Polygon"}},
            422,
            "invalid_geometry",
        ),
        ("PATCH", "/api/units/22918", {"parent_code": "nope"}, 422, "unknown_parent_code"),
        ("PATCH", "/api/units/22918", {"colour": "red"}, 422, "invalid_input"),
        ("PATCH", "/api/units/22918", {"name": None}, 422, "invalid_input"),
        ("PATCH", "/api/units/68", {"parent_code": "22918"}, 409, "unit_cycle"),
        ("PATCH", "/api/units/nope", {"name": "X"}, 404, "not_found"),
        ("DELETE", "/api/units/68", None, 409, "unit_has_children"),
    ],
)
def test_bad_requests_get_a_structured_4xx(client, demo, admin, method, path, body, status, code):
    kwargs = (
        {"content": body, "headers": admin | {"Content-Type": "application/json"}}
        if isinstance(body, str)
        else {"json": body, "headers": admin}
    )
    response = client.request(method, path, **kwargs)
    assert response.status_code == status and response.json()["code"] == code
    assert response.json()["detail"]


def test_import_endpoint_takes_a_csv_and_reports_counts(client, database, admin):
    data = (DATA_DIR / "binh-thuan-2023.csv").read_bytes()
    response = client.post(
        "/api/units/import", files={"file": ("binh-thuan-2023.csv", data)}, headers=admin
    )
    assert response.status_code == 200
    assert response.json() == {
        "source": "binh-thuan-2023.csv",
        "created": 11,
        "updated": 0,
        "unchanged": 0,
        "total": 11,
    }


def test_import_endpoint_lists_every_problem_and_imports_nothing(client, database, admin):
    features = [
        {
            "type": "Feature",
            "properties": {"code": "60", "name": "Bình Thuận", "level": "province"},
            "geometry": None,
        },
        {
            "type": "Feature",
            "properties": {
                "code": "593",
                "name": "Phan Thiết",
                "level": "district",
                "parent_code": "61",
            },
            "geometry": None,
        },
        {
            "type": "Feature",
            "properties": {"code": "594", "level": "district", "parent_code": "60"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
            },
        },
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    response = client.post(
        "/api/units/import", files={"file": ("bad.geojson", data)}, headers=admin
    )
    assert response.status_code == 422 and response.json()["code"] == "unit_import_invalid"
    problems = {(p["feature"], p["field"]) for p in response.json()["errors"]}
    assert problems == {(1, "parent_code"), (2, "name"), (2, "geometry")}
    assert client.get("/api/units", headers=admin).json()["total"] == 0


def test_import_endpoint_puts_a_file_under_a_parent(client, demo, admin):
    data = b"code,name,level,parent_code\nKCN1,Khu c\xc3\xb4ng nghi\xe1\xbb\x87p,zone,\n"
    response = client.post(
        "/api/units/import",
        files={"file": ("zones.csv", data)},
        data={"parent_code": "22918"},
        headers=admin,
    )
    assert response.status_code == 200 and response.json()["created"] == 1
    assert client.get("/api/units/KCN1", headers=admin).json()["parent_code"] == "22918"


def test_anyone_gets_todays_boundaries_simplified_for_a_public_map(client, demo, admin):
    outline = client.get("/api/units/outline.geojson")
    assert outline.status_code == 200
    assert outline.headers["content-type"].startswith("application/geo+json")
    body = outline.json()
    assert body["attribution"] == BOUNDARY_ATTRIBUTION and "by-sa" in body["license"]
    assert [f["id"] for f in body["features"]] == ["68"]  # former provinces are not drawn
    feature = body["features"][0]
    assert feature["properties"] == {
        "code": "68",
        "name": unit(demo, "68").name,
        "level": "province",
    }
    full = client.get("/api/units/68/geometry", headers=admin).json()["geometry"]

    def vertices(geometry):
        rings = geometry["coordinates"]
        if geometry["type"] == "MultiPolygon":
            return sum(len(ring) for polygon in rings for ring in polygon)
        return sum(len(ring) for ring in rings)

    assert 4 <= vertices(feature["geometry"]) < vertices(full)
    again = client.get(
        "/api/units/outline.geojson", headers={"If-None-Match": outline.headers["etag"]}
    )
    assert again.status_code == 304
    client.patch("/api/units/68", json={"name": "Tỉnh Lâm Đồng (mới)"}, headers=admin)
    changed = client.get(
        "/api/units/outline.geojson", headers={"If-None-Match": outline.headers["etag"]}
    )
    assert changed.status_code == 200
    assert changed.json()["features"][0]["properties"]["name"] == "Tỉnh Lâm Đồng (mới)"
