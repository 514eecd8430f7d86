"""Facilities are hub entities: on the map, scoped to their ward, occupancy kept as history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from cityops.core.audit import AuditEntry
from cityops.modules.sector import SDM

POI_LINK = (
    f'<{SDM.format("PointOfInterest")}>; rel="http://www.w3.org/ns/json-ld#context"; '
    'type="application/ld+json"'
)
TTYT = {
    "code": "TYT-MUINE",
    "name": "Trạm Y tế phường Mũi Né",
    "level": "station",
    "unit_code": "22918",
    "lat": 10.945,
    "lon": 108.285,
    "address": "Đường Nguyễn Đình Chiểu",
    "beds": 10,
}
HOSPITAL = TTYT | {
    "code": "BVDK-LD",
    "name": "Bệnh viện Đa khoa tỉnh",
    "level": "hospital",
    "unit_code": "24778",
    "lat": 11.94,
    "lon": 108.45,
    "beds": 500,
}


def _add(client, world, body, who="operator"):
    response = client.post("/api/health/facilities", json=body, headers=world.headers[who])
    assert response.status_code == 201, response.text
    return response.json()


def _occupancy(client, world, code, occupied, who="operator", **extra):
    return client.put(
        f"/api/health/facilities/{code}/occupancy",
        json={"occupied_beds": occupied, **extra},
        headers=world.headers[who],
    )


def test_a_facility_added_by_the_department_is_on_the_map_and_in_the_hub(client, world):
    feature = _add(client, world, TTYT)
    assert feature["id"] == "urn:ngsi-ld:MedicalFacility:TYT-MUINE"
    assert feature["geometry"] == {"type": "Point", "coordinates": [108.285, 10.945]}
    assert feature["properties"]["category"] == ["station"]
    assert feature["properties"]["wardId"] == "22918"
    listed = client.get("/api/health/facilities", headers=world.headers["leader"]).json()
    assert listed["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in listed["features"]] == ["Trạm Y tế phường Mũi Né"]
    entity = client.get(
        "/ngsi-ld/v1/entities/urn:ngsi-ld:MedicalFacility:TYT-MUINE",
        params={"options": "keyValues"},
        headers=world.headers["operator"] | {"Link": POI_LINK, "Accept": "application/json"},
    )
    assert entity.status_code == 200, entity.text
    assert entity.json()["type"] == "MedicalFacility"
    assert entity.json()["capacity"] == 10


def test_occupancy_reports_are_kept_as_history_in_the_temporal_api(client, world, database):
    _add(client, world, HOSPITAL)
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    for hours, occupied in ((0, 410), (24, 455), (48, 530)):
        at = (t0 + timedelta(hours=hours)).isoformat()
        assert _occupancy(client, world, "BVDK-LD", occupied, observed_at=at).status_code == 200
    history = client.get(
        "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:MedicalFacility:BVDK-LD",
        params={"attrs": "occupancy", "options": "temporalValues"},
        headers=world.headers["operator"] | {"Link": POI_LINK},
    )
    assert history.status_code == 200, history.text
    values = [v[0] for v in history.json()["occupancy"]["values"]]
    assert values == [410, 455, 530]
    summary = client.get("/api/health/occupancy", headers=world.headers["leader"]).json()
    assert (summary["beds"], summary["occupied_beds"], summary["occupancy_rate"]) == (
        500,
        530,
        106.0,
    )
    hospitals = next(r for r in summary["by_level"] if r["level"] == "hospital")
    assert hospitals["label_vi"] == "Bệnh viện" and hospitals["facilities"] == 1
    with database.session() as s:  # every report is in the audit log, by whom and what
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "entity.update").order_by(AuditEntry.id)
        ).all()
        occupancy = [v for e in entries for k, v in e.after["attrs"].items() if "occupancy" in k]
        assert occupancy == [410, 455, 530]
        assert {e.actor.rsplit(":", 1)[-1] for e in entries} == {"operator"}


def test_occupancy_summary_adds_beds_over_the_facilities_in_scope(client, world):
    _add(client, world, TTYT)
    _add(client, world, HOSPITAL)
    _occupancy(client, world, "TYT-MUINE", 4)
    _occupancy(client, world, "BVDK-LD", 396)
    province = client.get("/api/health/occupancy", headers=world.headers["leader"]).json()
    assert (province["facilities"], province["beds"], province["occupied_beds"]) == (2, 510, 400)
    assert province["occupancy_rate"] == 78.4  # 400 / 510
    ward_a = client.get("/api/health/occupancy", headers=world.headers["ward_a"]).json()
    assert (ward_a["beds"], ward_a["occupied_beds"], ward_a["occupancy_rate"]) == (10, 4, 40.0)
    kpis = {
        k["key"]: k["value"]
        for k in client.get("/api/kpis", headers=world.headers["leader"]).json()
    }
    assert kpis["health.bed_occupancy"] == 78.4


def test_a_ward_sees_and_updates_only_its_own_facilities(client, world):
    _add(client, world, TTYT)
    _add(client, world, HOSPITAL)
    ward_b = client.get("/api/health/facilities", headers=world.headers["ward_b"]).json()
    assert [f["id"] for f in ward_b["features"]] == ["urn:ngsi-ld:MedicalFacility:BVDK-LD"]
    assert _occupancy(client, world, "TYT-MUINE", 3, who="ward_a").status_code == 200
    refused = _occupancy(client, world, "TYT-MUINE", 3, who="ward_b")
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    # nor may a ward register a facility in another ward
    moved = client.post(
        "/api/health/facilities", json=TTYT | {"code": "X"}, headers=world.headers["ward_b"]
    )
    assert moved.status_code == 403


def test_a_facility_outside_the_province_or_with_bad_fields_is_refused(client, world):
    far = client.post(
        "/api/health/facilities",
        json=TTYT | {"lat": 21.03, "lon": 105.85},
        headers=world.headers["operator"],
    )
    assert far.status_code == 422
    assert far.json()["code"] == "location_outside_unit"
    bad = client.post(
        "/api/health/facilities",
        json=TTYT | {"level": "spa", "beds": -1},
        headers=world.headers["operator"],
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"][-1:]) for e in bad.json()["detail"]} == {("level",), ("beds",)}
    listed = client.get("/api/health/facilities", headers=world.headers["operator"]).json()
    assert listed["features"] == []


def test_adding_a_facility_again_changes_it_and_keeps_its_occupancy(client, world):
    _add(client, world, TTYT)
    _occupancy(client, world, "TYT-MUINE", 6)
    feature = _add(client, world, TTYT | {"name": "Trạm Y tế Mũi Né (mới)", "beds": 12})
    assert feature["properties"]["name"] == "Trạm Y tế Mũi Né (mới)"
    assert feature["properties"]["capacity"] == 12
    assert feature["properties"]["occupancy"] == 6


def test_a_facility_list_upload_keeps_the_good_rows_and_reports_each_bad_one(client, world):
    csv = (
        "code,name,level,unit_code,lat,lon,address,beds\n"
        "TYT-1,Trạm Y tế Mũi Né,station,22918,10.945,108.285,Đường Nguyễn Đình Chiểu,8\n"
        "TYT-2,Trạm Y tế 2,spa,22918,10.945,108.285,,\n"  # unknown level
        "TYT-3,Trạm Y tế Lâm Viên,station,24778,11.94,108.45,,5\n"  # another ward
        "TYT-4,Trạm Y tế Hà Nội,station,22918,21.03,105.85,,5\n"  # outside the province
        "TYT-1,Trạm Y tế trùng,station,22918,10.945,108.285,,5\n"  # same code as row 2
        "TYT-5,Trạm Y tế 5,station,99999,10.945,108.285,,5\n"  # no such unit
        "TYT-6,Trạm Y tế 6,station,22918,mười,108.285,,5\n"  # text in a number cell
        "TYT-7,Trạm Y tế 7,station,22918,10.946,108.286,,\n"  # blank beds: 0
    )
    response = client.post(
        "/api/health/facilities/import",
        files={"file": ("co-so.csv", csv.encode(), "text/csv")},
        headers=world.headers["ward_a"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 2
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (3, "level"),
        (4, "unit_code"),
        (5, "lat"),
        (6, "code"),
        (7, "unit_code"),
        (8, "lat"),
    ]
    listed = client.get("/api/health/facilities", headers=world.headers["operator"]).json()
    assert sorted(f["id"].rsplit(":", 1)[-1] for f in listed["features"]) == ["TYT-1", "TYT-7"]


def test_a_ward_device_reporting_through_ngsi_ld_updates_the_occupancy_summary(
    client, world, factory
):
    _add(client, world, TTYT)
    key = factory.api_key("integrator", unit=world.ward_a)
    headers = {"X-API-Key": key, "Link": POI_LINK, "Content-Type": "application/json"}
    body = {"occupancy": {"type": "Property", "value": 7, "observedAt": "2026-11-20T02:00:00Z"}}
    response = client.post(  # append: the first report adds the attribute
        "/ngsi-ld/v1/entities/urn:ngsi-ld:MedicalFacility:TYT-MUINE/attrs",
        json=body,
        headers=headers,
    )
    assert response.status_code == 204, response.text
    summary = client.get("/api/health/occupancy", headers=world.headers["ward_a"]).json()
    assert (summary["beds"], summary["occupied_beds"], summary["occupancy_rate"]) == (10, 7, 70.0)
    other = factory.api_key("integrator", unit=world.ward_b)
    refused = client.patch(
        "/ngsi-ld/v1/entities/urn:ngsi-ld:MedicalFacility:TYT-MUINE/attrs",
        json=body,
        headers=headers | {"X-API-Key": other},
    )
    assert refused.status_code == 404
