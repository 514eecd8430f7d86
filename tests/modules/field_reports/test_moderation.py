"""Spam protection and blocking: rate limits, the hidden field, spam scores, blocked reporters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.app import create_app
from cityops.core.audit import AuditEntry
from cityops.modules.field_reports.spam import score

from .conftest import MUI_NE
from .test_open311 import post_request

API = "/api/field-reports"
BODY = {
    "category_code": "PA-DUONG",
    "description": "Ổ gà lớn trước số 12 đường Nguyễn Đình Chiểu",
    "lat": MUI_NE[0],
    "lon": MUI_NE[1],
    "attributes": {"SIZE": "large"},
    "reporter_phone": "0912345678",
}


def _limits(app, **changes):
    """Change the field-report settings of a running app (read on each request)."""
    settings = app.state.settings
    section = settings.field_reports.model_copy(update=changes)
    app.state.settings = settings.model_copy(update={"field_reports": section})


def _send(client, device=None, **extra):
    headers = {"X-Device-Id": device} if device else {}
    return client.post(f"{API}/public/reports", json=BODY | extra, headers=headers)


def test_one_device_sending_too_many_reports_gets_429_others_still_can(app, client, world):
    _limits(app, submit_max=2)
    assert [_send(client, "phone-A").status_code for _ in range(2)] == [201, 201]
    refused = _send(client, "phone-A")
    assert refused.status_code == 429
    assert refused.json()["code"] == "submission_rate_limited"
    assert (
        "Too many reports" in refused.json()["detail"] and "quá nhiều" in refused.json()["detail"]
    )
    assert _send(client, "phone-B").status_code == 201
    staff = client.post(f"{API}/reports", json=BODY, headers=world.headers["operator"])
    assert staff.status_code == 201  # staff entering reports are not rate-limited


def test_one_ip_address_is_limited_across_devices_and_cookies(app, client, world):
    _limits(app, submit_max=5, submit_max_per_ip=3)
    codes = [_send(client, f"phone-{i}").status_code for i in range(3)]
    client.cookies.set("cityops_device", "cookie-device")
    assert codes + [_send(client).status_code] == [201, 201, 201, 429]


def test_the_rate_limit_holds_across_server_processes(app, client, world, settings, database):
    _limits(app, submit_max=1)
    assert _send(client, "phone-A").status_code == 201
    other = create_app(settings, db=database)  # a second worker on the same database
    _limits(other, submit_max=1)
    with TestClient(other) as second:
        assert _send(second, "phone-A").status_code == 429


def test_a_filled_hidden_field_flags_the_report_as_spam_in_the_queue(client, world):
    bot = _send(client, website="http://spam.example").json()["tracking_code"]
    human = _send(client).json()["tracking_code"]
    queue = client.get(
        f"{API}/reports", params={"spam_flagged": True}, headers=world.headers["operator"]
    )
    assert [(r["tracking_code"], r["spam_score"]) for r in queue.json()["items"]] == [(bot, 100)]
    assert queue.json()["items"][0]["status"] == "received"
    clean = client.get(
        f"{API}/reports", params={"spam_flagged": False}, headers=world.headers["operator"]
    )
    assert [r["tracking_code"] for r in clean.json()["items"]] == [human]


def test_links_banned_words_and_shouting_raise_the_spam_score(client, world):
    ad = "Vay tiền nhanh lãi thấp, xem tại http://vay.example và www.vay.example"
    flagged = _send(client, description=ad).json()["tracking_code"]
    report = client.get(f"{API}/reports/{flagged}", headers=world.headers["operator"]).json()
    assert report["spam_flagged"] is True and report["spam_score"] >= 50
    assert score("Ổ gà lớn trước nhà số 12 đường Trần Phú", ["cá độ"]) == (0, [])
    assert score("ĐƯỜNG NÀY HỎNG QUÁ RỒI AI SỬA ĐI", []) == (20, ["all_caps"])
    assert score("rác rác rác rác rác rác rác rác", [])[1] == ["repeated_text"]
    assert score("Cá độ bóng đá online", ["cá độ"]) == (40, ["banned_words:cá độ"])


def _block(client, world, who="admin", **body):
    data = {"kind": "phone", "value": "+84 912 345 678", "reason": "Lời lẽ xúc phạm"} | body
    return client.post(f"{API}/blocked", json=data, headers=world.headers[who])


def test_admin_blocks_a_phone_number_and_its_reports_get_a_clear_403(client, world, database):
    made = _block(client, world)
    assert made.status_code == 201, made.text
    assert made.json()["value"] == "0912345678" and made.json()["active"] is True
    refused = _send(client)
    assert refused.status_code == 403 and refused.json()["code"] == "reporter_blocked"
    assert "tạm khóa" in refused.json()["detail"] and "blocked" in refused.json()["detail"]
    assert _send(client, reporter_phone="0988000111").status_code == 201
    with database.session() as s:
        audited = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_type.like("%block")))
        assert list(audited) == ["field_report.block"]


def test_only_admins_manage_blocks(client, world):
    assert _block(client, world, who="operator").status_code == 403
    assert client.get(f"{API}/blocked", headers=world.headers["operator"]).status_code == 403
    assert client.get(f"{API}/blocked").status_code == 401


def test_an_expired_or_lifted_block_no_longer_refuses_reports(client, world):
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    expired = _block(client, world, expires_at=past).json()
    assert expired["active"] is False and _send(client).status_code == 201
    live = _block(client, world, kind="device", value="phone-X").json()
    assert _send(client, "phone-X").status_code == 403
    admin = world.headers["admin"]
    listed = client.get(f"{API}/blocked", headers=admin).json()
    assert [b["id"] for b in listed["items"]] == [live["id"], expired["id"]]
    patched = client.patch(
        f"{API}/blocked/{live['id']}", json={"reason": "Đã xác minh lại"}, headers=admin
    )
    assert patched.json()["reason"] == "Đã xác minh lại"
    assert client.delete(f"{API}/blocked/{live['id']}", headers=admin).status_code == 204
    assert _send(client, "phone-X").status_code == 201
    assert client.get(f"{API}/blocked/{live['id']}", headers=admin).status_code == 404


def test_open311_submissions_from_a_blocked_reporter_get_an_open311_403(client, world, factory):
    key = factory.api_key("integrator", world.province)
    _block(client, world, kind="email", value="Spam@Example.vn")
    refused = post_request(client, key, email="spam@example.vn")
    assert refused.status_code == 403
    assert refused.json()[0]["code"] == 403 and "blocked" in refused.json()[0]["description"]
    _block(client, world, kind="device", value="app-123")
    assert post_request(client, key, phone="", device_id="app-123").status_code == 403
    assert post_request(client, key, phone="0933000222").status_code == 200  # as Open311 says
