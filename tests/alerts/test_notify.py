"""Notifications: who hears about an alert, the in-app feed, preferences and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.incident_support import insert_alert, make_world, publish_raised
from cityops.alerts.notify.dispatch import notify, quiet_until
from cityops.alerts.notify.models import Delivery
from cityops.core.audit import AuditEntry


@pytest.fixture
def world(factory, client):
    return make_world(factory)


def feed(client, headers, **params):
    r = client.get("/api/notifications", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_new_alert_reaches_the_feed_of_operators_whose_scope_holds_it(client, world, database):
    alert = insert_alert(database, world.ward_a, severity="critical")
    publish_raised(client, alert)

    for who in ("operator", "leader", "ward_a", "admin"):
        items = feed(client, world.headers[who])["items"]
        assert [i["subject_en"] for i in items] == [
            "[Critical] New alert: Flood: Ca Ty river above alarm level 2"
        ], who
        assert items[0]["subject_vi"].startswith("[Khẩn cấp] Cảnh báo mới: Ngập lụt")
        assert items[0]["link"] == f"/alerts/{alert.id}"
    assert feed(client, world.headers["ward_b"])["items"] == []
    # agency staff only hear about what they are named for
    assert feed(client, world.headers["police"])["items"] == []


def test_minor_alerts_stay_quiet_by_default_and_come_once_asked_for(client, world, database):
    publish_raised(client, insert_alert(database, world.ward_a, severity="minor"))
    assert feed(client, world.headers["ward_a"])["total"] == 0

    r = client.put(
        "/api/notifications/preferences",
        headers=world.headers["ward_a"],
        json={"severities": ["critical", "major", "minor"]},
    )
    assert r.status_code == 200, r.text
    publish_raised(client, insert_alert(database, world.ward_a, severity="minor", source_id="b"))
    assert feed(client, world.headers["ward_a"])["total"] == 1


def test_unread_count_goes_down_as_messages_are_read(client, world, database):
    for n in range(3):
        publish_raised(client, insert_alert(database, world.ward_a, source_id=f"s{n}"))
    h = world.headers["ward_a"]
    body = feed(client, h)
    assert (body["total"], body["unread"]) == (3, 3)

    first = body["items"][0]["id"]
    r = client.post(f"/api/notifications/{first}/read", headers=h)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    assert client.get("/api/notifications/unread-count", headers=h).json() == {"unread": 2}
    assert feed(client, h, unread_only=True)["total"] == 2

    assert client.post("/api/notifications/read-all", headers=h).json() == {"unread": 0}
    assert feed(client, h)["unread"] == 0


def test_nobody_can_read_or_mark_someone_elses_notification(client, world, database):
    publish_raised(client, insert_alert(database, world.ward_a))
    mine = feed(client, world.headers["ward_a"])["items"][0]["id"]
    r = client.post(f"/api/notifications/{mine}/read", headers=world.headers["operator"])
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert feed(client, world.headers["ward_a"])["unread"] == 1


def test_preferences_start_at_defaults_and_are_saved(client, world):
    h = world.headers["ward_a"]
    r = client.get("/api/notifications/preferences", headers=h)
    assert r.json()["saved"] is False
    assert r.json()["severities"] == ["critical", "major"]
    assert r.json()["channels"] == ["in_app"]

    body = {
        "severities": ["critical"],
        "unit_code": "22945",
        "channels": ["in_app", "email"],
        "quiet_start": "22:00",
        "quiet_end": "06:00",
        "email": "truc.ban@phanthiet.example.vn",
        "language": "en",
    }
    r = client.put("/api/notifications/preferences", headers=h, json=body)
    assert r.status_code == 200, r.text
    saved = client.get("/api/notifications/preferences", headers=h).json()
    assert saved["saved"] is True
    assert {k: saved[k] for k in body} == body


def test_a_preference_never_reaches_beyond_the_users_scope(client, world, database):
    r = client.put(
        "/api/notifications/preferences",
        headers=world.headers["ward_a"],
        json={"unit_code": "22918"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "unit_outside_scope"
    with database.session() as s:
        assert (
            s.scalars(select(AuditEntry).where(AuditEntry.action.like("notification.%"))).all()
            == []
        )


def test_a_unit_preference_narrows_what_a_province_operator_hears(client, world, database):
    r = client.put(
        "/api/notifications/preferences",
        headers=world.headers["operator"],
        json={"unit_code": "22918"},
    )
    assert r.status_code == 200
    publish_raised(client, insert_alert(database, world.ward_a))
    publish_raised(client, insert_alert(database, world.ward_b, source_id="mui-ne", point=None))
    items = feed(client, world.headers["operator"])["items"]
    assert [i["unit_id"] for i in items] == [world.ward_b.id]


def test_half_given_quiet_hours_are_refused(client, world):
    r = client.put(
        "/api/notifications/preferences",
        headers=world.headers["ward_a"],
        json={"quiet_start": "22:00"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "quiet_hours"


def test_api_keys_have_no_notification_feed(client, world, factory):
    key = factory.api_key()
    r = client.get("/api/notifications", headers={"X-API-Key": key})
    assert r.status_code == 401


def test_quiet_hours_are_local_time_and_wrap_past_midnight():
    # 23:30 in Hồ Chí Minh City is 16:30 UTC
    late = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    end = quiet_until(late, "22:00", "06:00")
    assert end == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 06:00 local the next morning
    noon = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert quiet_until(noon, "22:00", "06:00") is None
    assert quiet_until(noon, "11:00", "13:00") == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def test_quiet_hours_hold_back_email_but_critical_goes_through(world, database, settings):
    cfg = settings.notify.model_copy(update={"smtp_host": "127.0.0.1"})
    with database.session() as s:
        from cityops.alerts.notify.models import NotificationPreference

        s.add(
            NotificationPreference(
                user_id=world.users["ward_a"].id,
                severities=["critical", "major"],
                channels=["in_app", "email"],
                quiet_start="22:00",
                quiet_end="06:00",
                email="a@example.vn",
                language="vi",
            )
        )
    at_night = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)  # 23:30 local
    morning = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 06:00 local
    with database.session() as s:
        for severity in ("major", "critical"):
            out = notify(
                s,
                cfg,
                topic="test.quiet",
                severity=severity,
                unit_id=world.ward_a.id,
                subject_vi=f"Thử {severity}",
                subject_en=f"Test {severity}",
                recipients=[world.users["ward_a"].id],
                now=at_night,
            )
            assert (out.in_app, out.deliveries) == (1, 1)
    with database.session() as s:
        due = {d.subject: d.next_attempt_at for d in s.scalars(select(Delivery))}
    assert due == {"Thử major": morning, "Thử critical": at_night}


def test_no_email_is_queued_until_an_smtp_server_is_configured(world, database, settings):
    from cityops.alerts.notify.models import NotificationPreference

    with database.session() as s:
        s.add(
            NotificationPreference(
                user_id=world.users["ward_a"].id,
                severities=["major"],
                channels=["email"],
                email="a@example.vn",
            )
        )
    with database.session() as s:
        out = notify(
            s,
            settings.notify,
            topic="test",
            severity="major",
            unit_id=world.ward_a.id,
            subject_vi="x",
            subject_en="x",
            now=datetime.now(UTC) - timedelta(seconds=1),
        )
    assert world.users["ward_a"].id in out.recipients
    assert out.deliveries == 0
    assert out.in_app == len(out.recipients) - 1  # everyone else has the default in-app feed


def test_assignment_and_escalation_through_the_alert_api_notify(client, world):
    h = world.headers["operator"]
    body = {"severity": "major", "title_vi": "Cây đổ chắn đường", "unit_id": world.ward_a.id}
    alert_id = client.post("/api/alerts", headers=h, json=body).json()["id"]
    r = client.post(
        f"/api/alerts/{alert_id}/assign", headers=h, json={"agency_id": world.police.id}
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/api/alerts/{alert_id}/escalate", headers=h, json={})
    assert r.status_code == 200, r.text
    client.portal.call(client.app.state.bus.drain)

    police = [i["subject_en"] for i in feed(client, world.headers["police"])["items"]]
    assert police == ["[Major] Alert assigned to you: Cây đổ chắn đường"]
    ward_a = [i["subject_en"] for i in feed(client, world.headers["ward_a"])["items"]]
    assert ward_a[0] == "[Major] Alert escalated: Cây đổ chắn đường"
    assert "[Major] New alert: Cây đổ chắn đường" in ward_a
