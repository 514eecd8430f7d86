"""The overview map's lean GeoJSON layer of field reports: scoped, small, and free to reload."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from cityops.core.db import utcnow
from cityops.modules.field_reports.models import Report

from .conftest import MUI_NE, PHU_THUY, act, submit

LAYER = "/api/field-reports/reports.geojson"


def _layer(client, w, who, **headers):
    response = client.get(LAYER, headers=w.headers[who] | headers)
    assert response.status_code in (200, 304), response.text
    return response


def _points(response):
    return {f["properties"]["id"]: f for f in response.json()["features"]}


def test_map_layer_holds_each_located_report_as_a_point_with_status_and_category(client, world):
    first = submit(client, MUI_NE)["tracking_code"]
    second = submit(client, PHU_THUY)["tracking_code"]
    assert act(client, world, "operator", second, "verify").status_code == 200
    response = _layer(client, world, "operator")
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    points = _points(response)
    assert set(points) == {first, second}
    assert points[first]["geometry"] == {"type": "Point", "coordinates": [MUI_NE[1], MUI_NE[0]]}
    assert points[first]["properties"] == {
        "id": first,
        "status": "received",
        "category": "PA-DUONG",
    }
    assert points[second]["properties"]["status"] != "received"


def test_map_layer_shows_a_ward_operator_only_their_ward_and_agency_staff_only_their_reports(
    client, world
):
    in_a = submit(client, MUI_NE)["tracking_code"]
    in_b = submit(client, PHU_THUY)["tracking_code"]
    assert set(_points(_layer(client, world, "ward_operator"))) == {in_a}
    assert set(_points(_layer(client, world, "ward_a_staff"))) == set()
    assert act(client, world, "operator", in_a, "verify").status_code == 200
    assert set(_points(_layer(client, world, "ward_a_staff"))) == {in_a}
    assert set(_points(_layer(client, world, "operator"))) == {in_a, in_b}


def test_reloading_an_unchanged_layer_answers_304_until_a_report_changes(client, world):
    code = submit(client, MUI_NE)["tracking_code"]
    first = _layer(client, world, "operator")
    etag = first.headers["etag"]
    again = _layer(client, world, "operator", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert act(client, world, "operator", code, "verify").status_code == 200
    changed = _layer(client, world, "operator", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert _points(changed)[code]["properties"]["status"] != "received"
    added = submit(client, PHU_THUY)["tracking_code"]
    newer = _layer(client, world, "operator", **{"If-None-Match": changed.headers["etag"]})
    assert newer.status_code == 200 and added in _points(newer)


def test_one_callers_etag_does_not_validate_another_callers_smaller_layer(client, world):
    submit(client, MUI_NE)
    submit(client, PHU_THUY)
    etag = _layer(client, world, "operator").headers["etag"]
    ward = _layer(client, world, "ward_operator", **{"If-None-Match": etag})
    assert ward.status_code == 200 and len(ward.json()["features"]) == 1


def test_anonymous_callers_get_401_from_the_map_layer(client, world):
    response = client.get(LAYER)
    assert response.status_code == 401 and "code" in response.json()


def test_map_layer_keeps_open_reports_of_any_age_and_finished_ones_only_while_recent(
    client, world, database
):
    old_open = submit(client, MUI_NE)["tracking_code"]
    old_done = submit(client, PHU_THUY)["tracking_code"]
    new_done = submit(client, MUI_NE)["tracking_code"]
    for code in (old_done, new_done):
        body = {"status": "invalid", "reason": "Không phải phản ánh"}
        assert act(client, world, "operator", code, "reject", **body).status_code == 200
    with database.session() as s:
        s.execute(
            update(Report)
            .where(Report.tracking_code.in_([old_open, old_done]))
            .values(created_at=utcnow() - timedelta(days=45))
        )
    assert set(_points(_layer(client, world, "operator"))) == {old_open, new_done}
    wide = client.get(LAYER + "?days=60", headers=world.headers["operator"])
    assert set(_points(wide)) == {old_open, old_done, new_done}
    refused = client.get(LAYER + "?days=0", headers=world.headers["operator"])
    assert refused.status_code == 422
