"""A report's life: submission, location, routing, the state machine, reopening, audit, events."""

from __future__ import annotations

import re

from sqlalchemy import select

from cityops.core.audit import AuditEntry

from .conftest import DA_LAT, HA_NOI, MUI_NE, PHU_THUY, act, submit

API = "/api/field-reports"


def _get(client, w, who, code):
    return client.get(f"{API}/reports/{code}", headers=w.headers[who])


def test_citizen_submits_a_report_and_gets_a_tracking_code(client, world):
    receipt = submit(client)
    assert re.fullmatch(r"PA-2026-\d{6}-[0-9A-HJKMNP-TV-Z]{4}", receipt["tracking_code"])
    assert len(receipt["secret"]) >= 12
    assert receipt["status"] == "received"
    public = client.get(f"{API}/public/reports/{receipt['tracking_code']}").json()
    assert public["status_label_vi"] == "Mới tiếp nhận"
    assert public["history"][0]["to_status"] == "received"


def test_report_lies_in_the_deepest_unit_containing_its_point(client, world):
    in_ward = submit(client, MUI_NE)["tracking_code"]
    in_province = submit(client, DA_LAT)["tracking_code"]
    assert _get(client, world, "operator", in_ward).json()["unit_code"] == "22918"
    assert _get(client, world, "operator", in_province).json()["unit_code"] == "68"


def test_point_outside_the_territory_is_400_with_a_clear_message(client, world):
    body = {"category_code": "PA-DUONG", "description": "Ổ gà", "lat": HA_NOI[0], "lon": HA_NOI[1]}
    body["attributes"] = {"SIZE": "small"}
    response = client.post(f"{API}/public/reports", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "outside_territory"
    assert "outside the territory of Lâm Đồng (68)" in response.json()["detail"]


def test_required_attribute_and_list_keys_are_checked(client, world):
    body = {"category_code": "PA-DUONG", "description": "Ổ gà", "lat": 10.95, "lon": 108.28}
    missing = client.post(f"{API}/public/reports", json=body)
    wrong = client.post(f"{API}/public/reports", json=body | {"attributes": {"SIZE": "huge"}})
    assert missing.status_code == 422 and "SIZE" in missing.json()["detail"]
    assert wrong.status_code == 422 and "not one of ['large', 'small']" in wrong.json()["detail"]


def test_verified_report_is_routed_to_the_ward_agency(client, world):
    code = submit(client, MUI_NE)["tracking_code"]
    report = act(client, world, "operator", code, "verify").json()
    assert report["status"] == "assigned"
    assert report["agency_code"] == "UBND-MUINE"
    assert report["accept_due_at"] and report["due_at"]
    other = submit(client, PHU_THUY)["tracking_code"]
    assert act(client, world, "operator", other, "verify").json()["agency_code"] == "UBND-PHUTHUY"


def test_report_outside_any_ward_office_goes_to_the_default_agency(client, world):
    code = submit(client, DA_LAT)["tracking_code"]
    assert act(client, world, "operator", code, "verify").json()["agency_code"] == "SXD"


def test_illegal_transition_is_409_naming_the_state(client, world):
    code = submit(client)["tracking_code"]
    response = act(client, world, "operator", code, "resolve", resolution="Đã vá xong")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["status"] == "received"
    assert "'received' (Mới tiếp nhận / Received)" in body["detail"]
    assert "resolve" in body["detail"]


def test_a_report_goes_from_received_to_closed_by_the_reporters_rating(client, world):
    receipt = submit(client)
    code = receipt["tracking_code"]
    act(client, world, "operator", code, "verify")
    for action, body in (("accept", {}), ("start", {}), ("resolve", {"resolution": "Đã vá"})):
        response = act(client, world, "ward_a_staff", code, action, **body)
        assert response.status_code == 200, response.text
    resolved = _get(client, world, "operator", code).json()
    assert resolved["status"] == "resolved"
    assert resolved["handling_hours"] is not None and resolved["on_time"] is True
    rated = client.post(
        f"{API}/public/reports/{code}/rate", json={"secret": receipt["secret"], "rating": 5}
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["status"] == "closed" and rated.json()["rating"] == 5
    again = client.post(
        f"{API}/public/reports/{code}/rate", json={"secret": receipt["secret"], "rating": 1}
    )
    assert again.status_code == 409


def test_agency_says_not_ours_and_the_report_goes_back_to_the_operators(client, world):
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    response = act(client, world, "ward_a_staff", code, "return", reason="Đường do tỉnh quản lý")
    assert response.status_code == 200, response.text
    report = _get(client, world, "operator", code).json()
    assert report["status"] == "returned" and report["agency_code"] is None
    assert report["status_note"] == "Đường do tỉnh quản lý"
    assert _get(client, world, "ward_a_staff", code).status_code == 404
    reassigned = act(client, world, "operator", code, "assign", agency_code="SXD", reason="Tỉnh lộ")
    assert reassigned.json()["status"] == "assigned" and reassigned.json()["agency_code"] == "SXD"


def test_operator_reassigns_a_report_by_hand_with_a_reason(client, world):
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    no_reason = act(client, world, "operator", code, "assign", agency_code="SXD", reason="")
    assert no_reason.status_code == 422
    moved = act(client, world, "operator", code, "assign", agency_code="SXD", reason="Quốc lộ 1A")
    assert moved.json()["agency_code"] == "SXD"
    steps = client.get(f"{API}/reports/{code}/history", headers=world.headers["operator"]).json()
    assert [s["action"] for s in steps] == ["submit", "verify", "route", "reassign"]
    assert steps[-1]["note"] == "Quốc lộ 1A"


def test_reporter_reopens_with_the_tracking_code_and_secret(client, world):
    receipt = submit(client)
    code, secret = receipt["tracking_code"], receipt["secret"]
    act(client, world, "operator", code, "verify")
    for action, body in (("accept", {}), ("start", {}), ("resolve", {"resolution": "Đã vá"})):
        act(client, world, "ward_a_staff", code, action, **body)
    wrong = client.post(
        f"{API}/public/reports/{code}/reopen", json={"secret": "x" * 16, "reason": "Vẫn còn"}
    )
    assert wrong.status_code == 404
    reopened = client.post(
        f"{API}/public/reports/{code}/reopen", json={"secret": secret, "reason": "Vẫn còn ổ gà"}
    )
    assert reopened.status_code == 200, reopened.text
    report = _get(client, world, "operator", code).json()
    assert report["status"] == "assigned" and report["agency_code"] == "UBND-MUINE"
    assert report["reopen_count"] == 1 and report["resolved_at"] is None


def test_operator_marks_new_reports_invalid_duplicate_or_spam(client, world):
    first = submit(client)["tracking_code"]
    dup = submit(client)["tracking_code"]
    spam = submit(client)["tracking_code"]
    r = act(
        client,
        world,
        "operator",
        dup,
        "reject",
        status="duplicate",
        reason="Trùng",
        duplicate_of=first,
    )
    assert r.json()["status"] == "duplicate" and r.json()["duplicate_of"] == first
    assert (
        act(
            client, world, "operator", spam, "reject", status="spam", reason="Quảng cáo"
        ).status_code
        == 200
    )
    late = act(client, world, "operator", spam, "verify")
    assert late.status_code == 409 and late.json()["status"] == "spam"


def test_every_write_is_audited_and_kept_in_the_history(client, world, database):
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    with database.session() as s:
        actions = s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "field_report", AuditEntry.entity_id == code)
            .order_by(AuditEntry.id)
        ).all()
        assert actions == ["field_report.create", "field_report.verify", "field_report.route"]
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "field_report.verify"))
        assert entry.actor.endswith(":operator") and "secret_hash" not in entry.after


def test_report_events_go_out_on_the_bus(client, world):
    seen = []
    client.app.state.bus.subscribe("field_reports.*", seen.append)
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    client.portal.call(client.app.state.bus.drain)
    names = [(e.name, getattr(e, "to_status", None)) for e in seen]
    assert names == [
        ("field_reports.report_created", None),
        ("field_reports.status_changed", "verified"),
        ("field_reports.status_changed", "assigned"),
    ]
    assert seen[0].tracking_code == code


def test_urgent_report_gets_four_working_hours(client, world):
    code = submit(client)["tracking_code"]
    urgent = act(client, world, "operator", code, "verify", urgency="urgent").json()
    assert urgent["urgency"] == "urgent" and urgent["urgency_label_vi"] == "Khẩn cấp"
