"""Querying entities over the API: type, q, geo-queries, pagination, GeoJSON."""

from __future__ import annotations

import json

import pytest
from ngsi import ENV_CONTEXT, air_quality, json_headers, link

BASE = "/ngsi-ld/v1"

# Stations around Phan Thiết: (n, pm25, lon, lat)
STATIONS = [
    (1, 12.0, 108.10, 10.93),
    (2, 48.5, 108.12, 10.95),
    (3, 75.0, 108.29, 10.95),
    (4, 30.0, 107.85, 10.66),
    (5, 90.0, 108.45, 11.35),
]


@pytest.fixture
def key(client, factory) -> dict[str, str]:
    key = {"X-API-Key": factory.api_key("integrator")}
    body = [air_quality(n, pm, lon=lon, lat=lat) for n, pm, lon, lat in STATIONS]
    body.append(
        {
            "id": "urn:ngsi-ld:Device:D1",
            "type": "Device",
            "controlledAsset": {
                "type": "Relationship",
                "object": "urn:ngsi-ld:AirQualityObserved:PT-001",
            },
        }
    )
    assert (
        client.post(
            f"{BASE}/entityOperations/create", json=body, headers=json_headers(key)
        ).status_code
        == 201
    )
    return key


def found(client, key, **params) -> list[str]:
    response = client.get(f"{BASE}/entities", params=params, headers={**key, "Link": link()})
    assert response.status_code == 200, response.text
    return [e["id"].rsplit(":", 1)[-1] for e in response.json()]


def test_q_selects_stations_above_a_threshold(client, key):
    assert found(client, key, type="AirQualityObserved", q="pm25>40") == [
        "PT-002",
        "PT-003",
        "PT-005",
    ]


def test_q_range_and_or(client, key):
    assert found(client, key, type="AirQualityObserved", q="pm25==20..50") == ["PT-002", "PT-004"]
    assert found(client, key, type="AirQualityObserved", q="pm25<15|pm25>80") == [
        "PT-001",
        "PT-005",
    ]


def test_q_on_a_relationship(client, key):
    assert found(
        client, key, type="Device", q="controlledAsset==urn:ngsi-ld:AirQualityObserved:PT-001"
    ) == ["D1"]


def test_id_pattern_and_id_list(client, key):
    assert found(client, key, idPattern=".*PT-00[12]$") == ["PT-001", "PT-002"]
    ids = "urn:ngsi-ld:AirQualityObserved:PT-003,urn:ngsi-ld:Device:D1"
    assert found(client, key, id=ids) == ["PT-003", "D1"]


def test_near_query_finds_stations_within_5_km_of_phan_thiet_centre(client, key):
    got = found(
        client,
        key,
        type="AirQualityObserved",
        georel="near;maxDistance==5000",
        geometry="Point",
        coordinates="[108.10,10.93]",
    )
    assert got == ["PT-001", "PT-002"]


def test_within_polygon(client, key):
    polygon = "[[[108.0,10.8],[108.35,10.8],[108.35,11.0],[108.0,11.0],[108.0,10.8]]]"
    got = found(
        client,
        key,
        type="AirQualityObserved",
        georel="within",
        geometry="Polygon",
        coordinates=polygon,
    )
    assert got == ["PT-001", "PT-002", "PT-003"]


# a flood zone drawn by hand: its boundary crosses itself near its first corner
BOWTIE = [
    [[108.0, 11.0], [108.02, 11.0], [108.01, 10.8], [108.35, 10.8], [108.4, 10.95], [108.0, 11.0]]
]


def test_a_polygon_crossing_itself_is_kept_and_queried_as_repaired(client, key):
    zone = {"id": "urn:ngsi-ld:FloodZone:Z1", "type": "FloodZone"}
    zone["location"] = {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": BOWTIE}}
    made = client.post(f"{BASE}/entities", json=zone, headers=json_headers(key, context=None))
    assert made.status_code == 201, made.text
    stored = client.get(f"{BASE}/entities/urn:ngsi-ld:FloodZone:Z1", headers=key).json()
    assert stored["location"]["value"]["coordinates"] == BOWTIE  # as given
    geo = {"geometry": "Polygon", "coordinates": json.dumps(BOWTIE)}
    assert found(client, key, type="FloodZone", georel="equals", **geo) == ["Z1"]
    point = {"geometry": "Point", "coordinates": "[108.2, 10.9]"}
    assert found(client, key, type="FloodZone", georel="contains", **point) == ["Z1"]
    inside = found(client, key, type="AirQualityObserved", georel="within", **geo)
    assert inside == ["PT-001", "PT-002", "PT-003"]
    # other faults are still refused: a ring that folds back on itself has no area
    flat = {"type": "Polygon", "coordinates": [[[108, 11], [108.1, 11], [108.2, 11], [108, 11]]]}
    bad = client.post(
        f"{BASE}/entities",
        json={"id": "urn:ngsi-ld:FloodZone:Z2", "type": "FloodZone", "location": flat},
        headers=json_headers(key, context=None),
    )
    assert bad.status_code == 400, bad.text


def test_pagination_with_count(client, key):
    response = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "limit": 2, "offset": 2, "count": "true"},
        headers={**key, "Link": link()},
    )
    assert response.headers["NGSILD-Results-Count"] == "5"
    assert [e["id"][-6:] for e in response.json()] == ["PT-003", "PT-004"]


def _follow(client, key, url: str, params: dict | None = None) -> tuple[list[list[str]], list]:
    """Walk the pages from `url` by their Link rel="next"; return each page's ids and each
    page's links (as a client reads them)."""
    pages, links = [], []
    response = client.get(url, params=params, headers={**key, "Link": link()})
    while True:
        assert response.status_code == 200, response.text
        pages.append([e["id"][-6:] for e in response.json()])
        links.append(response.links)
        if "next" not in response.links:
            return pages, links
        assert response.links["next"]["type"] == "application/ld+json"
        response = client.get(response.links["next"]["url"], headers={**key, "Link": link()})


@pytest.mark.parametrize("path", ["/entities", "/temporal/entities"])
def test_pages_link_to_the_previous_and_the_next_one(client, key, path):
    params = {"type": "AirQualityObserved", "limit": 2, "q": "pm25>0"}
    pages, links = _follow(client, key, f"{BASE}{path}", params)
    assert pages == [["PT-001", "PT-002"], ["PT-003", "PT-004"], ["PT-005"]]
    assert "prev" not in links[0] and "prev" in links[1] and "next" not in links[2]
    back = client.get(links[2]["prev"]["url"], headers={**key, "Link": link()})
    assert [e["id"][-6:] for e in back.json()] == ["PT-003", "PT-004"]
    assert "q=pm25%3E0" in links[1]["next"]["url"]  # the query's own parameters stay
    # the @context Link stays a header of its own beside the page links
    assert any(v.startswith(f"<{ENV_CONTEXT}>") for v in back.headers.get_list("link"))


def test_a_full_last_page_has_no_next_link(client, key):
    params = {"type": "AirQualityObserved", "limit": 5}
    pages, links = _follow(client, key, f"{BASE}/entities", params)
    assert len(pages) == 1 and len(pages[0]) == 5
    assert "next" not in links[0] and "prev" not in links[0]


def _ids(client, key, path: str = "/entities", **params) -> list[str]:
    response = client.get(f"{BASE}{path}", params=params, headers={**key, "Link": link()})
    assert response.status_code == 200, response.text
    return [e["id"].rsplit(":", 1)[-1] for e in response.json()]


def test_order_by_attribute_values_ids_and_types(client, key):
    aq = {"type": "AirQualityObserved"}
    assert _ids(client, key, **aq, orderBy="pm25") == [
        "PT-001",
        "PT-004",
        "PT-002",
        "PT-003",
        "PT-005",
    ]
    assert _ids(client, key, **aq, orderBy="pm25;desc", limit=2) == ["PT-005", "PT-003"]
    page2 = _ids(client, key, **aq, orderBy="pm25;desc", limit=2, offset=2)
    assert page2 == ["PT-002", "PT-004"]  # pages follow the order
    assert _ids(client, key, **aq, orderBy="id;desc")[0] == "PT-005"
    assert _ids(client, key, **aq, orderBy="pm25.unitCode,id;desc")[0] == "PT-005"
    both = _ids(client, key, type="AirQualityObserved,Device", orderBy="type;desc,pm25")
    assert both[0] == "D1" and both[1:] == ["PT-001", "PT-004", "PT-002", "PT-003", "PT-005"]
    # an entity without the attribute comes last, in either direction
    for direction in ("asc", "desc"):
        mixed = _ids(client, key, type="AirQualityObserved,Device", orderBy=f"pm25;{direction}")
        assert mixed[-1] == "D1"
    temporal = _ids(
        client,
        key,
        "/temporal/entities",
        **aq,
        orderBy="pm25;desc",
        timerel="after",
        timeAt="2000-01-01T00:00:00Z",
    )
    assert temporal == ["PT-005", "PT-003", "PT-002", "PT-004", "PT-001"]


@pytest.mark.parametrize(
    ("scope_q", "expected"),
    [
        ("/LamDong/PhanThiet", ["PT-001", "PT-002"]),
        ("/LamDong/+", ["PT-001", "PT-002", "PT-003"]),
        ("/LamDong/#", ["PT-001", "PT-002", "PT-003", "PT-004"]),
        ("/LamDong/+/MuiNe", ["PT-004"]),
        ("/#", ["PT-001", "PT-002", "PT-003", "PT-004"]),
        ("/LamDong/PhanThiet;/Water", ["PT-002"]),
        ("/Water,/LamDong/BaoLoc", ["PT-002", "PT-003"]),
        ("(/Water|/LamDong/BaoLoc);/LamDong/#", ["PT-002", "PT-003"]),
        ("/LamDong/Phan_hiet", []),  # a scope's characters are literal
    ],
)
def test_scope_q_selects_by_scope(client, key, scope_q, expected):
    scopes = {
        1: ["/LamDong/PhanThiet"],
        2: ["/LamDong/PhanThiet", "/Water"],
        3: ["/LamDong/BaoLoc"],
        4: ["/LamDong/PhanThiet/MuiNe"],
    }
    for n, scope in scopes.items():
        station = f"urn:ngsi-ld:AirQualityObserved:PT-{n:03d}"
        body = {"scope": scope}
        added = client.post(
            f"{BASE}/entities/{station}/attrs", json=body, headers=json_headers(key)
        )
        assert added.status_code == 204, added.text
    assert _ids(client, key, type="AirQualityObserved", scopeQ=scope_q) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [("scopeQ", v) for v in ("LamDong", "/LamDong//x", "/#/x", "(/a", "/a;", "/a)")]
    + [("orderBy", v) for v in ("pm25;up", "pm25..unitCode", ";desc", "pm25,")],
)
def test_a_malformed_scope_q_or_order_by_is_bad_request_data(client, key, name, value):
    response = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", name: value},
        headers={**key, "Link": link()},
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("BadRequestData")


def test_too_large_limit_is_too_many_results(client, key):
    response = client.get(
        f"{BASE}/entities", params={"type": "AirQualityObserved", "limit": 5000}, headers=key
    )
    assert response.status_code == 403 and response.json()["type"].endswith("TooManyResults")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "pm25>>3"},
        {"q": "(pm25>3"},
        {"georel": "near", "geometry": "Point", "coordinates": "[108.1]"},
        {"idPattern": "(unclosed"},
        {"limit": "ten"},
    ],
)
def test_bad_query_parameters_are_bad_request_data(client, key, params):
    response = client.get(
        f"{BASE}/entities", params={"type": "AirQualityObserved", **params}, headers=key
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("BadRequestData")


def test_geojson_representation(client, key):
    response = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "q": "pm25>80"},
        headers={**key, "Link": link(), "Accept": "application/geo+json"},
    )
    assert response.headers["content-type"].startswith("application/geo+json")
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    feature = collection["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [108.45, 11.35]}
    assert feature["properties"]["pm25"]["value"] == 90.0
    assert collection["@context"] == [ENV_CONTEXT]  # GeoJSON-LD: the context travels along


def test_geojson_geometry_from_another_geo_property(client, key):
    """A station's catchment area drawn instead of its position (geometryProperty); an
    entity without that property is a Feature with no geometry."""
    area = {"type": "Polygon", "coordinates": [[[108, 10], [108.2, 10], [108.2, 10.2], [108, 10]]]}
    patch = {"catchment": {"type": "GeoProperty", "value": area}}
    station = "urn:ngsi-ld:AirQualityObserved:PT-001"
    added = client.post(f"{BASE}/entities/{station}/attrs", json=patch, headers=json_headers(key))
    assert added.status_code == 204, added.text
    geo = {**key, "Link": link(), "Accept": "application/geo+json"}
    one = client.get(
        f"{BASE}/entities/{station}", params={"geometryProperty": "catchment"}, headers=geo
    ).json()
    assert one["type"] == "Feature" and one["geometry"] == area
    assert one["properties"]["location"]["value"]["type"] == "Point"
    many = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "geometryProperty": "catchment", "limit": 2},
        headers=geo,
    ).json()["features"]
    assert [f["geometry"] for f in many] == [area, None]


def test_batch_query_with_a_query_body(client, key):
    body = {
        "type": "Query",
        "entities": [{"type": "AirQualityObserved"}],
        "q": "pm25>70",
        "geoQ": {
            "georel": "near;maxDistance==20000",
            "geometry": "Point",
            "coordinates": [108.29, 10.95],
        },
    }
    response = client.post(f"{BASE}/entityOperations/query", json=body, headers=json_headers(key))
    assert response.status_code == 200, response.text
    assert [e["id"][-6:] for e in response.json()] == ["PT-003"]
