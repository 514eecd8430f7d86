"""CAP 1.2: public alerts become valid CAP messages (checked against the OASIS XSD) in an
Atom feed; updates reference earlier messages; a broken message never leaves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from alerts.incident_support import change_alert, insert_alert, make_world, publish_raised
from cityops.alerts.cap.models import CapMessage
from cityops.alerts.cap.validate import CapInvalid, validate
from cityops.app import create_app

SHARED_XSD = Path(__file__).resolve().parents[3] / "shared" / "data" / "cap" / "CAP-v1.2.xsd"
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ATOM = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    """The OASIS schema as shipped in shared/data (not the copy the code uses)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(SHARED_XSD), parser))


@pytest.fixture
def world(factory, client):
    return make_world(factory)


def feed(client):
    r = client.get("/cap/feed.atom")  # no login
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    return etree.fromstring(r.content)


def fetch(client, xsd, url):
    r = client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/cap+xml")
    doc = etree.fromstring(r.content)
    xsd.assertValid(doc)
    return doc


def text(doc, path):
    return doc.findtext(path, namespaces=CAP)


def entry_links(atom):
    return [e.find("a:link", ATOM).get("href") for e in atom.findall("a:entry", ATOM)]


def test_a_public_alert_is_published_as_a_valid_cap_message(client, world, database, xsd):
    alert = insert_alert(database, world.ward_a, severity="critical", public=True)
    publish_raised(client, alert)

    atom = feed(client)
    assert atom.findtext("a:title", namespaces=ATOM).endswith("CAP")
    [url] = entry_links(atom)
    assert atom.find("a:entry/a:category", ATOM).get("term") == "Met"
    doc = fetch(client, xsd, url.replace("http://testserver", ""))
    assert text(doc, "cap:identifier") == f"cityops-68-alert-{alert.id}-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", text(doc, "cap:sent"))
    assert (text(doc, "cap:status"), text(doc, "cap:msgType"), text(doc, "cap:scope")) == (
        "Actual",
        "Alert",
        "Public",
    )
    infos = doc.findall("cap:info", CAP)
    assert [text(i, "cap:language") for i in infos] == ["vi-VN", "en-US"]
    vi, en = infos
    assert text(vi, "cap:headline") == "Ngập lụt: mực nước sông Cà Ty vượt báo động 2"
    assert text(en, "cap:headline") == "Flood: Ca Ty river above alarm level 2"
    for info in infos:
        assert text(info, "cap:category") == "Met"
        assert text(info, "cap:severity") == "Extreme"
        assert text(info, "cap:urgency") == "Immediate"
        assert text(info, "cap:certainty") == "Observed"
    assert text(vi, "cap:area/cap:areaDesc") == "Phường Phan Thiết"
    ring = text(vi, "cap:area/cap:polygon").split()
    assert ring[0] == ring[-1] and len(ring) == 5
    assert ring[0] == "10.90000,108.05000"  # lat,lon
    assert text(vi, "cap:area/cap:circle") == "10.93000,108.10000 2"


def test_a_private_alert_stays_out_of_the_feed(client, world, database):
    publish_raised(client, insert_alert(database, world.ward_a, public=False))
    assert feed(client).findall("a:entry", ATOM) == []


def test_a_change_of_severity_is_an_update_and_the_end_is_a_cancel(client, world, database, xsd):
    alert = insert_alert(database, world.ward_a, severity="major", public=True)
    publish_raised(client, alert)
    change_alert(client, alert.id, "acknowledge", status="acknowledged")  # nothing for the public
    change_alert(client, alert.id, "retrigger", severity="critical")
    change_alert(client, alert.id, "resolve", status="resolved")

    with database.session() as s:
        rows = s.scalars(select(CapMessage).order_by(CapMessage.id)).all()
    assert [m.msg_type for m in rows] == ["Alert", "Update", "Cancel"]
    docs = [fetch(client, xsd, f"/cap/alerts/{m.identifier}.xml") for m in rows]
    assert text(docs[1], "cap:info/cap:severity") == "Extreme"
    sent0 = text(docs[0], "cap:sent")
    assert text(docs[1], "cap:references") == f"ioc@cityops.invalid,{rows[0].identifier},{sent0}"
    assert len(text(docs[2], "cap:references").split()) == 2
    assert text(docs[2], "cap:info/cap:urgency") == "Past"
    # the feed lists the current message of each alert: now the Cancel
    assert entry_links(feed(client)) == [f"http://testserver/cap/alerts/{rows[2].identifier}.xml"]


def test_an_operator_publishes_an_alert_with_an_instruction(client, world, database, xsd):
    alert = insert_alert(database, world.ward_a, severity="warning", point=None)
    body = {
        "urgency": "Expected",
        "certainty": "Likely",
        "instruction_vi": "Không đi qua đường ngập sâu.",
        "instruction_en": "Do not drive through deep water.",
        "area_desc_vi": "Ven sông Cà Ty",
        "area_desc_en": "Along the Ca Ty river",
    }
    r = client.post(
        f"/api/alerts/{alert.id}/publish-cap", headers=world.headers["ward_a"], json=body
    )
    assert r.status_code == 201, r.text
    assert r.json()["msg_type"] == "Alert"
    doc = fetch(client, xsd, r.json()["url"].replace("http://testserver", ""))
    vi, en = doc.findall("cap:info", CAP)
    assert text(vi, "cap:instruction") == "Không đi qua đường ngập sâu."
    assert text(en, "cap:instruction") == "Do not drive through deep water."
    assert text(en, "cap:area/cap:areaDesc") == "Along the Ca Ty river"
    assert text(vi, "cap:severity") == "Minor" and text(vi, "cap:urgency") == "Expected"
    assert doc.find("cap:info/cap:area/cap:circle", CAP) is None  # no point, the ward's polygon
    # publishing again is an Update that keeps the instruction
    r = client.post(f"/api/alerts/{alert.id}/publish-cap", headers=world.headers["ward_a"], json={})
    assert r.json()["msg_type"] == "Update"
    doc = fetch(client, xsd, r.json()["url"].replace("http://testserver", ""))
    assert text(doc, "cap:info/cap:instruction") == "Không đi qua đường ngập sâu."
    listed = client.get(f"/api/alerts/{alert.id}/cap", headers=world.headers["operator"]).json()
    assert [m["msg_type"] for m in listed] == ["Alert", "Update"]


def test_only_operators_of_the_alerts_unit_publish(client, world, database):
    alert = insert_alert(database, world.ward_a)
    for who, status in (("ward_b", 404), ("leader", 403), ("police", 404)):
        r = client.post(f"/api/alerts/{alert.id}/publish-cap", headers=world.headers[who], json={})
        assert r.status_code == status, who
    assert client.post(f"/api/alerts/{alert.id}/publish-cap", json={}).status_code == 401


def test_a_message_that_would_be_invalid_is_refused_and_never_served(client, world, database):
    alert = insert_alert(database, world.ward_a)
    bad = {"polygon": [[123.0, 108.0], [10.9, 108.1], [10.95, 108.2]]}  # latitude 123
    r = client.post(
        f"/api/alerts/{alert.id}/publish-cap", headers=world.headers["operator"], json=bad
    )
    assert r.status_code == 422
    assert r.json()["code"] == "cap_invalid"
    assert any("<polygon>" in e for e in r.json()["errors"])
    with database.session() as s:
        assert s.scalars(select(CapMessage)).all() == []
    assert feed(client).findall("a:entry", ATOM) == []
    metrics = client.get("/metrics").text
    assert "cityops_cap_invalid_messages_total 1.0" in metrics


def test_the_validator_names_the_line_of_a_broken_message():
    broken = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>x-1</identifier>
  <sent>2026-01-01T00:00:00+07:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
</alert>"""
    with pytest.raises(CapInvalid) as err:
        validate(broken)
    assert err.value.errors[0].startswith("line 4:")  # <sent> where <sender> belongs
    with pytest.raises(CapInvalid) as err:
        validate(b"<alert><oops></alert>")
    assert err.value.errors[0].startswith("line 1:")
    shipped = Path(__file__).resolve().parents[3] / "shared" / "data" / "cap" / "examples"
    for example in sorted(shipped.glob("*.xml")):
        validate(example.read_bytes())  # the OASIS, NOAA and CityOps examples all pass


def test_unknown_messages_are_404(client):
    r = client.get("/cap/alerts/nope.xml")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_an_exercise_instance_marks_its_messages_exercise(settings, database, factory, xsd):
    from fastapi.testclient import TestClient

    exercise = settings.model_copy(
        update={"cap": settings.cap.model_copy(update={"exercise": True, "sender": "ioc@ld.vn"})}
    )
    with TestClient(create_app(exercise, db=database)) as client:
        w = make_world(factory)
        alert = insert_alert(database, w.ward_b, public=True, point=None)
        publish_raised(client, alert)
        [url] = entry_links(feed(client))
        doc = fetch(client, xsd, url.replace("http://testserver", ""))
        assert text(doc, "cap:status") == "Exercise"
        assert text(doc, "cap:sender") == "ioc@ld.vn"
        # a ward without a boundary or point: area description only
        assert text(doc, "cap:info/cap:area/cap:areaDesc") == "Phường Mũi Né"
        assert doc.find("cap:info/cap:area/cap:polygon", CAP) is None
