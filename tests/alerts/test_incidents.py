"""Incidents: promoting alerts, scope, the status machine, timeline, comments, attachments."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from alerts.incident_support import insert_alert, make_world, minutes_ago
from cityops.alerts.incidents.models import Incident
from cityops.core.audit import AuditEntry
from cityops.core.db import utcnow


@pytest.fixture
def world(factory, client):
    return make_world(factory)


def promote(client, headers, alert_id, **body):
    return client.post(f"/api/alerts/{alert_id}/promote", headers=headers, json=body)


def move(client, headers, code, status, note=""):
    return client.post(
        f"/api/incidents/{code}/status", headers=headers, json={"status": status, "note": note}
    )


def test_an_operator_promotes_an_alert_to_an_incident(client, world, database):
    alert = insert_alert(database, world.ward_a, severity="major", raised_at=minutes_ago(20))
    r = promote(client, world.headers["ward_a"], alert.id, description="Ngập sâu 0,5 m")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["code"] == f"SC-{utcnow().year}-0001"
    assert body["status"] == "open"
    assert (body["status_label_vi"], body["status_label_en"]) == ("Mới mở", "Open")
    assert body["severity"] == "major"
    assert body["unit_code"] == "22945"
    assert body["title_vi"] == "Ngập lụt: mực nước sông Cà Ty vượt báo động 2"
    assert [a["id"] for a in body["alerts"]] == [alert.id]
    assert datetime.fromisoformat(body["detected_at"]) == alert.raised_at

    got = client.get(f"/api/incidents/{body['code']}", headers=world.headers["operator"])
    assert got.status_code == 200 and got.json()["code"] == body["code"]


def test_alerts_of_two_wards_make_a_province_incident_at_the_worst_severity(
    client, world, database
):
    a = insert_alert(database, world.ward_a, severity="minor")
    b = insert_alert(database, world.ward_b, severity="critical", source_id="mui-ne", point=None)
    r = client.post(
        "/api/incidents",
        headers=world.headers["operator"],
        json={
            "alert_ids": [a.id, b.id],
            "title_vi": "Lũ diện rộng",
            "title_en": "Widespread flood",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["unit_code"], body["severity"]) == ("68", "critical")
    assert sorted(x["id"] for x in body["alerts"]) == sorted([a.id, b.id])
    # a ward operator cannot run an incident wider than their ward
    c = insert_alert(database, world.ward_a, source_id="c")
    d = insert_alert(database, world.ward_b, source_id="d", point=None)
    r = client.post(
        "/api/incidents", headers=world.headers["ward_b"], json={"alert_ids": [c.id, d.id]}
    )
    assert r.status_code == 404  # ward A's alert is outside ward B's scope


def test_an_alert_belongs_to_one_incident_only(client, world, database):
    alert = insert_alert(database, world.ward_a)
    assert promote(client, world.headers["operator"], alert.id).status_code == 201
    r = promote(client, world.headers["operator"], alert.id)
    assert r.status_code == 409
    assert r.json()["code"] == "alert_linked"
    with database.session() as s:
        assert len(s.scalars(select(Incident)).all()) == 1


def test_an_unknown_or_hidden_alert_cannot_be_promoted(client, world, database):
    alert = insert_alert(database, world.ward_a)
    assert promote(client, world.headers["ward_b"], alert.id).status_code == 404
    assert promote(client, world.headers["operator"], 999_999).status_code == 404
    assert promote(client, world.headers["leader"], alert.id).status_code == 403


def test_incidents_are_listed_within_the_callers_scope(client, world, database):
    for unit, who in ((world.ward_a, "ward_a"), (world.ward_b, "ward_b")):
        alert = insert_alert(database, unit, source_id=who, point=None)
        assert promote(client, world.headers[who], alert.id).status_code == 201
    listing = {
        who: [i["unit_code"] for i in client.get("/api/incidents", headers=h).json()["items"]]
        for who, h in world.headers.items()
    }
    assert sorted(listing["operator"]) == ["22918", "22945"]
    assert listing["ward_a"] == ["22945"]
    assert listing["ward_b"] == ["22918"]
    assert listing["police"] == []  # no task of the police yet
    code = client.get("/api/incidents", headers=world.headers["ward_a"]).json()["items"][0]["code"]
    assert client.get(f"/api/incidents/{code}", headers=world.headers["ward_b"]).status_code == 404


def test_the_status_machine_refuses_illegal_moves(client, world, database):
    code = promote(
        client, world.headers["operator"], insert_alert(database, world.ward_a).id
    ).json()["code"]
    h = world.headers["operator"]
    r = move(client, h, code, "contained")
    assert r.status_code == 409
    assert r.json()["code"] == "illegal_transition"
    assert "open to contained" in r.json()["detail"]
    for status in ("responding", "contained", "responding", "contained", "closed"):
        r = move(client, h, code, status, note=f"→ {status}")
        assert r.status_code == 200, (status, r.text)
    assert move(client, h, code, "responding").status_code == 409
    r = client.patch(f"/api/incidents/{code}", headers=h, json={"severity": "critical"})
    assert r.status_code == 409 and r.json()["code"] == "incident_closed"


def test_every_change_is_on_the_timeline_and_in_the_audit_log(client, world, database):
    h = world.headers["operator"]
    code = promote(client, h, insert_alert(database, world.ward_a).id).json()["code"]
    client.patch(f"/api/incidents/{code}", headers=h, json={"severity": "critical"})
    move(client, h, code, "responding", "Đã điều lực lượng")
    client.post(f"/api/incidents/{code}/comments", headers=h, json={"body": "Nước đang rút"})
    timeline = client.get(f"/api/incidents/{code}/timeline", headers=h).json()
    assert [e["kind"] for e in timeline] == ["opened", "updated", "status", "comment"]
    assert timeline[1]["detail"] == {
        "before": {"severity": "major"},
        "after": {"severity": "critical"},
    }
    assert timeline[2]["detail"]["note"] == "Đã điều lực lượng"
    assert all(e["actor"].startswith("user:") for e in timeline)
    with database.session() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == code).order_by(AuditEntry.id)
        ).all()
    assert actions == ["incident.opened", "incident.updated", "incident.status", "incident.comment"]


def test_comments_and_attachments_are_kept_with_the_incident(client, world, database):
    h = world.headers["ward_a"]
    code = promote(client, h, insert_alert(database, world.ward_a).id).json()["code"]
    r = client.post(f"/api/incidents/{code}/comments", headers=h, json={"body": "Đã sơ tán 12 hộ"})
    assert r.status_code == 201
    photo = b"\x89PNG\r\n\x1a\n" + b"anh-hien-truong" * 10
    r = client.post(
        f"/api/incidents/{code}/attachments",
        headers=h,
        files={"file": ("hiện trường.png", photo, "image/png")},
    )
    assert r.status_code == 201, r.text
    att = r.json()
    assert (att["filename"], att["size"]) == ("hiện trường.png", len(photo))
    got = client.get(
        f"/api/incidents/{code}/attachments/{att['id']}", headers=world.headers["operator"]
    )
    assert got.content == photo
    assert got.headers["content-type"] == "image/png"
    assert [c["body"] for c in client.get(f"/api/incidents/{code}/comments", headers=h).json()] == [
        "Đã sơ tán 12 hộ"
    ]
    r = client.post(
        f"/api/incidents/{code}/attachments",
        headers=h,
        files={"file": ("x.exe", b"MZ...", "application/x-msdownload")},
    )
    assert r.status_code == 415
    assert client.get(f"/api/incidents/{code}/attachments", headers=h).json()[0]["id"] == att["id"]
    # a leader reads but does not write
    r = client.post(
        f"/api/incidents/{code}/comments", headers=world.headers["leader"], json={"body": "?"}
    )
    assert r.status_code == 403


def test_incident_events_go_out_on_the_bus(client, world, database):
    seen = []
    client.app.state.bus.subscribe("incidents.*", seen.append)
    h = world.headers["operator"]
    code = promote(client, h, insert_alert(database, world.ward_a).id).json()["code"]
    move(client, h, code, "responding")
    client.portal.call(client.app.state.bus.drain)
    assert [e.name for e in seen] == ["incidents.incident_opened", "incidents.status_changed"]
    assert seen[0].code == code and seen[1].to_status == "responding"


def test_opening_an_incident_notifies_people_in_scope(client, world, database):
    h = world.headers["operator"]
    code = promote(client, h, insert_alert(database, world.ward_a, severity="critical").id).json()[
        "code"
    ]
    items = client.get("/api/notifications", headers=world.headers["ward_a"]).json()["items"]
    assert any(i["subject_en"].startswith(f"New incident {code}") for i in items)
    assert client.get("/api/notifications", headers=world.headers["ward_b"]).json()["total"] == 0


def test_open_incidents_is_a_kpi(client, world, database):
    h = world.headers["operator"]
    promote(client, h, insert_alert(database, world.ward_a).id)
    kpis = {k["key"]: k["value"] for k in client.get("/api/kpis", headers=h).json()}
    assert kpis["incidents.open"] == 1
    assert kpis["incidents.overdue_tasks"] == 0
    ward_b = {
        k["key"]: k["value"]
        for k in client.get("/api/kpis", headers=world.headers["ward_b"]).json()
    }
    assert ward_b["incidents.open"] == 0


def test_closing_an_incident_resolves_its_linked_alerts(client, world):
    h = world.headers["operator"]
    body = {"severity": "major", "title_vi": "Cháy rừng thông", "unit_id": world.ward_a.id}
    alert = client.post("/api/alerts", headers=h, json=body)
    assert alert.status_code == 201, alert.text
    alert_id = alert.json()["id"]
    code = promote(client, h, alert_id).json()["code"]
    for status in ("responding", "contained", "closed"):
        assert move(client, h, code, status, "Đã dập tắt").status_code == 200
    got = client.get(f"/api/alerts/{alert_id}", headers=h).json()
    assert got["status"] == "resolved"
    timeline = client.get(f"/api/incidents/{code}/timeline", headers=h).json()
    assert timeline[-1]["detail"]["resolved_alerts"] == [alert_id]
    summary = client.get(f"/api/incidents/{code}/summary", headers=h).json()
    assert summary["alerts"][0]["status"] == "resolved"
