"""CAP intake: a message from another system raises, updates and clears an alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.incident_support import make_world

EXAMPLE = (
    Path(__file__).resolve().parents[3]
    / "shared/data/cap/examples/cityops-exercise-flood-warning-phan-thiet.xml"
).read_bytes()
XML = {"Content-Type": "application/xml"}


@pytest.fixture
def world(factory, client):
    return make_world(factory)


def send(client, headers, body):
    return client.post("/api/alerts/cap", headers={**headers, **XML}, content=body)


def follow_up(msg_type: str, identifier: str, severity: str = "Extreme") -> bytes:
    """The example message turned into an Update or Cancel that references it."""
    text = EXAMPLE.decode()
    text = text.replace("<identifier>vn-68-cityops-2025-0001", f"<identifier>{identifier}")
    text = text.replace("<msgType>Alert</msgType>", f"<msgType>{msg_type}</msgType>")
    refs = "ioc@example.lamdong.gov.vn,vn-68-cityops-2025-0001,2025-10-20T06:30:00+07:00"
    text = text.replace("</note>", f"</note>\n  <references>{refs}</references>", 1)
    return text.replace("<severity>Severe</severity>", f"<severity>{severity}</severity>").encode()


def test_a_weather_service_message_raises_an_alert_in_the_ward_it_names(client, world):
    r = send(client, world.headers["operator"], EXAMPLE)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["result"], body["severity"], body["unit_id"]) == (
        "raised",
        "major",
        world.ward_a.id,
    )
    alert = client.get(f"/api/alerts/{body['alert_id']}", headers=world.headers["ward_a"]).json()
    assert alert["title_vi"] == "Cảnh báo ngập lụt khu vực phường Phan Thiết"
    assert alert["title_en"] == "Flood warning for Phan Thiet ward"
    assert alert["source_kind"] == "cap"
    r = send(client, world.headers["operator"], EXAMPLE)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_message"


def test_an_update_changes_the_alert_and_a_cancel_clears_it(client, world):
    first = send(client, world.headers["operator"], EXAMPLE).json()
    r = send(client, world.headers["operator"], follow_up("Update", "vn-68-cityops-2025-0002"))
    assert r.status_code == 201, r.text
    assert r.json() == {**first, "result": "updated", "severity": "critical"}
    r = send(client, world.headers["operator"], follow_up("Cancel", "vn-68-cityops-2025-0003"))
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "cleared"
    alert = client.get(f"/api/alerts/{first['alert_id']}", headers=world.headers["operator"]).json()
    assert alert["status"] == "cleared"


def test_an_update_or_cancel_imported_twice_is_applied_once(client, world):
    first = send(client, world.headers["operator"], EXAMPLE).json()
    update = follow_up("Update", "vn-68-cityops-2025-0002")
    assert send(client, world.headers["operator"], update).status_code == 201
    again = send(client, world.headers["operator"], update)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_message"
    cancel = follow_up("Cancel", "vn-68-cityops-2025-0003")
    assert send(client, world.headers["operator"], cancel).status_code == 201
    again = send(client, world.headers["operator"], cancel)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_message"
    url = f"/api/alerts/{first['alert_id']}"
    alert = client.get(url, headers=world.headers["operator"]).json()
    assert alert["trigger_count"] == 2  # raised once, updated once
    kinds = [entry["kind"] for entry in alert["timeline"]]
    assert kinds.count("cap_update") == 1 and kinds.count("clear") == 1


def test_a_broken_message_is_refused_with_its_line_and_raises_nothing(client, world):
    broken = EXAMPLE.replace(b"<urgency>Expected</urgency>", b"<urgency>Soon</urgency>", 1)
    r = send(client, world.headers["operator"], broken)
    assert r.status_code == 422
    assert r.json()["code"] == "cap_invalid"
    assert r.json()["errors"][0].startswith("line 18:")
    r = send(client, world.headers["operator"], b"<alert>")
    assert r.status_code == 422 and r.json()["errors"][0].startswith("line 1:")
    assert client.get("/api/alerts", headers=world.headers["operator"]).json()["total"] == 0


def test_only_writers_of_the_ward_import_and_only_as_xml(client, world):
    assert send(client, world.headers["leader"], EXAMPLE).status_code == 403
    assert send(client, world.headers["ward_b"], EXAMPLE).status_code == 403
    r = client.post(
        "/api/alerts/cap",
        headers={**world.headers["operator"], "Content-Type": "text/plain"},
        content=EXAMPLE,
    )
    assert r.status_code == 415
