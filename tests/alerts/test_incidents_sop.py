"""SOP templates become tasks with owners and deadlines; closing writes the after-action summary."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from alerts.incident_support import insert_alert, make_world, minutes_ago
from cityops.alerts.incidents.sop import seed_templates
from cityops.alerts.notify.dispatch import LOCAL_TZ


@pytest.fixture
def world(factory, client, database):
    w = make_world(factory)
    with database.session() as s:
        assert seed_templates(s) == 5
    return w


def flood_incident(client, world, database, who="operator", **alert):
    a = insert_alert(database, world.ward_a, **alert)
    r = client.post(
        f"/api/alerts/{a.id}/promote", headers=world.headers[who], json={"sop_code": "SOP-NGAP-LUT"}
    )
    assert r.status_code == 201, r.text
    return r.json()


def local(stamp: str) -> str:
    """Format a time the way notices show it: Vietnam local time."""
    return datetime.fromisoformat(stamp).astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def patch_task(client, headers, code, task_id, **body):
    return client.patch(f"/api/incidents/{code}/tasks/{task_id}", headers=headers, json=body)


def test_the_demo_province_has_five_procedures_in_both_languages(client, world):
    r = client.get("/api/sop-templates", headers=world.headers["leader"])
    items = r.json()["items"]
    assert sorted(t["hazard"] for t in items) == [
        "air_pollution",
        "flood",
        "forest_fire",
        "landslide",
        "traffic_accident",
    ]
    flood = next(t for t in items if t["code"] == "SOP-NGAP-LUT")
    assert flood["name_vi"] == "Ứng phó ngập lụt"
    assert [s["title_en"] for s in flood["steps"]][:4] == [
        "Verify water levels and warn the commune/ward",
        "Dispatch rescue teams",
        "Open evacuation shelters",
        "Notify citizens (loudspeakers, Zalo, SMS)",
    ]


def test_sop_steps_become_tasks_with_owners_and_deadlines(client, world, database):
    body = flood_incident(client, world, database)
    assert (body["sop_code"], body["sop_version"], body["hazard"]) == ("SOP-NGAP-LUT", 1, "flood")
    tasks = body["tasks"]
    assert len(tasks) == 6
    opened = datetime.fromisoformat(body["opened_at"])
    rescue = tasks[1]
    assert rescue["title_vi"] == "Điều lực lượng cứu hộ, cứu nạn"
    assert rescue["owner_agency_code"] == "CA-LD"
    assert datetime.fromisoformat(rescue["due_at"]) - opened == timedelta(minutes=30)
    assert [c["en"] for c in rescue["checklist"]] == [
        "Boats and life jackets",
        "Close flooded roads",
    ]
    assert not any(c["done"] for c in rescue["checklist"])
    assert tasks[0]["owner_role"] == "operator" and tasks[0]["owner_agency_code"] is None
    assert {t["status"] for t in tasks} == {"todo"}


def test_an_agency_sees_the_incident_it_has_a_task_in_and_works_only_on_its_own(
    client, world, database
):
    body = flood_incident(client, world, database)
    code, tasks = body["code"], body["tasks"]
    police, medic = world.headers["police"], world.headers["medic"]
    assert [i["code"] for i in client.get("/api/incidents", headers=police).json()["items"]] == [
        code
    ]
    notices = client.get("/api/notifications", headers=police).json()["items"]
    assert [n["subject_en"] for n in notices] == [
        f"Incident task {code}: Dispatch rescue teams (due {local(tasks[1]['due_at'])})"
    ]

    r = patch_task(
        client, police, code, tasks[1]["id"], status="in_progress", checklist_done=[True, False]
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_progress" and r.json()["started_at"] is not None
    assert [c["done"] for c in r.json()["checklist"]] == [True, False]
    r = patch_task(client, police, code, tasks[2]["id"], status="done")
    assert r.status_code == 403 and r.json()["code"] == "not_your_agency"
    r = patch_task(client, police, code, tasks[1]["id"], checklist_done=[True])
    assert r.status_code == 422 and r.json()["code"] == "checklist_length"
    # the health department's task comes later; until then it sees the incident because of it
    assert client.get(f"/api/incidents/{code}", headers=medic).status_code == 200
    other = insert_alert(database, world.ward_a, source_id="other")
    client.post(f"/api/alerts/{other.id}/promote", headers=world.headers["operator"], json={})
    assert len(client.get("/api/incidents", headers=medic).json()["items"]) == 1


def test_reassigning_a_task_tells_the_new_owner(client, world, database):
    body = flood_incident(client, world, database)
    task = body["tasks"][0]
    r = patch_task(
        client, world.headers["operator"], body["code"], task["id"], owner_agency_code="SYT-LD"
    )
    assert r.status_code == 200 and r.json()["owner_agency_code"] == "SYT-LD"
    subjects = [
        n["subject_en"]
        for n in client.get("/api/notifications", headers=world.headers["medic"]).json()["items"]
    ]
    assert any("Verify water levels" in s for s in subjects)
    r = patch_task(
        client, world.headers["operator"], body["code"], task["id"], owner_agency_code="X"
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_agency"


def test_an_overdue_task_shows_and_counts(client, world, database):
    body = flood_incident(client, world, database)
    h = world.headers["operator"]
    past = (datetime.fromisoformat(body["opened_at"]) - timedelta(minutes=5)).isoformat()
    r = patch_task(client, h, body["code"], body["tasks"][0]["id"], due_at=past)
    assert r.json()["overdue"] is True
    kpis = {k["key"]: k["value"] for k in client.get("/api/kpis", headers=h).json()}
    assert kpis["incidents.overdue_tasks"] == 1


def test_closing_writes_the_after_action_summary(client, world, database):
    body = flood_incident(client, world, database, raised_at=minutes_ago(45))
    code, tasks, h = body["code"], body["tasks"], world.headers["operator"]
    r = client.get(f"/api/incidents/{code}/summary", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "not_closed"

    past = (datetime.fromisoformat(body["opened_at"]) - timedelta(minutes=1)).isoformat()
    patch_task(client, h, code, tasks[0]["id"], status="done")
    patch_task(client, h, code, tasks[1]["id"], due_at=past)
    patch_task(client, world.headers["police"], code, tasks[1]["id"], status="done")
    patch_task(client, h, code, tasks[2]["id"], status="skipped", note="Không cần sơ tán")
    client.post(f"/api/incidents/{code}/comments", headers=h, json={"body": "Ổn định"})
    for status in ("responding", "contained", "closed"):
        r = client.post(
            f"/api/incidents/{code}/status",
            headers=h,
            json={"status": status, "note": "Nước đã rút" if status == "closed" else ""},
        )
        assert r.status_code == 200, r.text

    s = client.get(f"/api/incidents/{code}/summary", headers=world.headers["leader"]).json()
    assert s["code"] == code and s["notes"] == "Nước đã rút"
    d = s["durations_minutes"]
    assert 44 <= d["detection_to_incident"] <= 46
    assert 0 <= d["incident_to_contained"] < 1 and d["contained_to_closed"] < 1
    assert 44 <= d["detection_to_closed"] <= 47
    t = s["tasks"]
    assert (t["total"], t["done"], t["done_late"], t["skipped"], t["unfinished"]) == (6, 2, 1, 1, 3)
    assert t["late"] == [{"title_vi": tasks[1]["title_vi"], "title_en": tasks[1]["title_en"]}]
    assert [a["id"] for a in s["alerts"]] == [body["alerts"][0]["id"]]
    assert s["comments"] == 1 and s["sop"] == {"code": "SOP-NGAP-LUT", "version": 1}

    vi = client.get(f"/api/incidents/{code}/summary.md", headers=h, params={"lang": "vi"})
    assert vi.headers["content-disposition"] == f'attachment; filename="{code}-vi.md"'
    assert vi.text.startswith(f"# Báo cáo tổng kết sự cố {code}")
    assert "6 nhiệm vụ: 2 xong (1 trễ hạn), 1 bỏ qua, 3 chưa xong" in vi.text
    assert "Điều lực lượng cứu hộ, cứu nạn — trễ hạn" in vi.text
    en = client.get(f"/api/incidents/{code}/summary.md", headers=h, params={"lang": "en"}).text
    assert en.startswith(f"# Incident after-action summary {code}")
    assert "6 tasks: 2 done (1 late), 1 skipped, 3 unfinished" in en
    r = patch_task(client, h, code, tasks[3]["id"], status="done")
    assert r.status_code == 409 and r.json()["code"] == "incident_closed"


def test_editing_a_template_makes_a_new_version_and_old_incidents_keep_theirs(
    client, world, database
):
    body = flood_incident(client, world, database)
    h = world.headers["operator"]
    r = client.patch(
        "/api/sop-templates/SOP-NGAP-LUT", headers=h, json={"name_en": "Flood response (2026)"}
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    assert client.get(f"/api/incidents/{body['code']}", headers=h).json()["sop_version"] == 1
    r = client.patch(
        "/api/sop-templates/SOP-NGAP-LUT", headers=world.headers["ward_a"], json={"name_en": "x"}
    )
    assert r.status_code == 403  # templates serve the whole province


def test_a_template_is_created_and_checked(client, world):
    h = world.headers["operator"]
    step = {"title_vi": "Kiểm tra", "title_en": "Check", "due_minutes": 10}
    body = {"code": "SOP-BAO", "name_vi": "Ứng phó bão", "name_en": "Storm", "hazard": "flood"}
    r = client.post("/api/sop-templates", headers=h, json={**body, "steps": [step]})
    assert r.status_code == 201 and r.json()["version"] == 1
    r = client.post("/api/sop-templates", headers=h, json={**body, "steps": [step]})
    assert r.status_code == 409 and r.json()["code"] == "duplicate_code"
    r = client.post("/api/sop-templates", headers=h, json={**body, "code": "X", "steps": []})
    assert r.status_code == 422


def test_an_sop_is_applied_once(client, world, database):
    alert = insert_alert(database, world.ward_a)
    h = world.headers["operator"]
    code = client.post(f"/api/alerts/{alert.id}/promote", headers=h, json={}).json()["code"]
    r = client.post(f"/api/incidents/{code}/sop", headers=h, json={"sop_code": "SOP-SAT-LO"})
    assert r.status_code == 200 and len(r.json()["tasks"]) == 4
    r = client.post(f"/api/incidents/{code}/sop", headers=h, json={"sop_code": "SOP-NGAP-LUT"})
    assert r.status_code == 409 and r.json()["code"] == "sop_set"
    other = insert_alert(database, world.ward_a, source_id="other")
    r = client.post(f"/api/alerts/{other.id}/promote", headers=h, json={"sop_code": "NONE"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_sop"
    assert client.get("/api/incidents", headers=h).json()["total"] == 1  # nothing half-made
