"""Delivery: real SMTP and HTTP servers, retries with backoff, dead letters, the SSRF guard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerts.incident_support import (
    Hook,
    Mailbox,
    http_server,
    insert_alert,
    make_world,
    publish_raised,
    smtp_server,
    wait_until,
    with_notify,
)
from cityops.alerts.notify.dispatch import notify
from cityops.alerts.notify.models import Delivery
from cityops.alerts.notify.worker import DeliveryWorker
from cityops.app import create_app


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    yield from smtp_server()


@pytest.fixture
def hook() -> Hook:
    return Hook()


@pytest.fixture
def hook_port(hook: Hook) -> Iterator[int]:
    yield from http_server(hook)


def app_client(settings: Any, database: Any, **notify_values: Any) -> TestClient:
    """A client for an app with changed notification settings (the caller enters it)."""
    return TestClient(create_app(with_notify(settings, **notify_values), db=database))


def add_webhook(client: TestClient, admin: dict[str, str], port: int, **extra: Any) -> dict:
    body = {
        "name": "Bot Telegram trực ban",
        "preset": "telegram",
        "url": f"http://127.0.0.1:{port}/bot/sendMessage",
    }
    r = client.post("/api/notifications/webhooks", headers=admin, json={**body, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_an_alert_is_mailed_over_smtp_in_the_users_language(settings, database, factory, smtp):
    port, box = smtp
    with app_client(
        settings,
        database,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_from="ioc@lamdong.example.vn",
        base_url="https://ioc.example.vn",
    ) as client:
        w = make_world(factory)
        r = client.put(
            "/api/notifications/preferences",
            headers=w.headers["ward_a"],
            json={"channels": ["in_app", "email"], "email": "truc.ban@phanthiet.example.vn"},
        )
        assert r.status_code == 200, r.text
        alert = insert_alert(database, w.ward_a, severity="critical")
        publish_raised(client, alert)
        wait_until(lambda: box.messages)
        mail = box.messages[0]
        assert mail["To"] == "truc.ban@phanthiet.example.vn"
        assert mail["From"] == "ioc@lamdong.example.vn"
        assert (
            mail["Subject"]
            == "[Khẩn cấp] Cảnh báo mới: Ngập lụt: mực nước sông Cà Ty vượt báo động 2"
        )
        assert f"https://ioc.example.vn/alerts/{alert.id}" in mail.get_content()
        delivered = wait_until(lambda: _statuses(database) == ["sent"] and _statuses(database))
        assert delivered == ["sent"]


def _statuses(database: Any) -> list[str]:
    with database.session() as s:
        return [d.status for d in s.scalars(select(Delivery).order_by(Delivery.id))]


def test_a_telegram_webhook_gets_the_rendered_json(settings, database, factory, hook, hook_port):
    with app_client(settings, database, webhook_allowlist=["127.0.0.1"]) as client:
        w = make_world(factory)
        target = add_webhook(
            client, w.headers["admin"], hook_port, headers={"X-Token": "s3cret-token"}
        )
        assert target["header_names"] == ["X-Token"]  # values never come back
        r = client.put(
            "/api/notifications/preferences",
            headers=w.headers["operator"],
            json={
                "channels": ["webhook"],
                "webhook_id": target["id"],
                "webhook_recipient": "-100123",
            },
        )
        assert r.status_code == 200, r.text
        publish_raised(client, insert_alert(database, w.ward_a, severity="major"))
        wait_until(lambda: hook.requests)
        got = hook.requests[0]
        assert got["path"] == "/bot/sendMessage"
        assert got["headers"]["X-Token"] == "s3cret-token"
        assert got["json"]["chat_id"] == "-100123"
        assert got["json"]["text"].startswith("[Nghiêm trọng] Cảnh báo mới: Ngập lụt")
        assert got["json"]["disable_web_page_preview"] is True


def test_a_webhook_to_an_internal_address_is_refused_unless_allowlisted(
    settings, database, factory
):
    with app_client(settings, database) as client:
        w = make_world(factory)
        for url in (
            "http://127.0.0.1:9/x",
            "http://10.0.0.5/hook",
            "http://[::1]/x",
            "http://169.254.169.254/",
        ):
            r = client.post(
                "/api/notifications/webhooks",
                headers=w.headers["admin"],
                json={"name": url, "url": url},
            )
            assert r.status_code == 422, url
            assert r.json()["code"] == "webhook_target_refused"
        assert (
            client.get("/api/notifications/webhooks", headers=w.headers["admin"]).json()["total"]
            == 0
        )
    with app_client(settings, database, webhook_allowlist=["10.0.0.0/8"]) as client:
        r = client.post(
            "/api/notifications/webhooks",
            headers=w.headers["admin"],
            json={"name": "SMS nội bộ", "preset": "sms", "url": "http://10.0.0.5/hook"},
        )
        assert r.status_code == 201, r.text


def test_a_template_that_does_not_render_json_is_refused(settings, database, factory):
    with app_client(settings, database, webhook_allowlist=["127.0.0.1"]) as client:
        w = make_world(factory)
        for template, code in (
            ('{"text": {{ subject }}}', "invalid_template"),
            ("{{ x.__class__ }", "invalid_template"),
        ):
            r = client.post(
                "/api/notifications/webhooks",
                headers=w.headers["admin"],
                json={"name": "hỏng", "url": "http://127.0.0.1:9/", "template": template},
            )
            assert r.status_code == 422, template
            assert r.json()["code"] == code


def test_only_admins_manage_webhooks_and_dead_letters(client, factory):
    w = make_world(factory)
    for path in (
        "/api/notifications/webhooks",
        "/api/notifications/dead-letters",
        "/api/notifications/deliveries",
    ):
        assert client.get(path, headers=w.headers["operator"]).status_code == 403
        assert client.get(path, headers=w.headers["admin"]).status_code == 200


def _queue_webhooks(database: Any, settings: Any, w: Any, *targets: dict) -> None:
    """Queue one delivery per target for the operator, as notify() does."""
    from cityops.alerts.notify.models import NotificationPreference

    for target in targets:
        with database.session() as s:
            pref = s.scalar(select(NotificationPreference))
            if pref is None:
                pref = NotificationPreference(user_id=w.users["operator"].id, severities=["major"])
                s.add(pref)
            pref.channels = ["webhook"]
            pref.webhook_id = target["id"]
            pref.webhook_recipient = "0900000000"
        with database.session() as s:
            notify(
                s,
                settings.notify,
                topic="test.delivery",
                severity="major",
                unit_id=w.ward_a.id,
                subject_vi=f"Thử {target['name']}",
                subject_en=f"Test {target['name']}",
                recipients=[w.users["operator"].id],
            )


def test_a_failing_target_is_retried_then_dead_lettered_and_can_be_retried(
    settings, database, factory, hook, hook_port
):
    hook.status = 503
    with app_client(
        settings,
        database,
        webhook_allowlist=["127.0.0.1"],
        worker_enabled=False,
        max_attempts=3,
        backoff_s=0.0,
    ) as client:
        w = make_world(factory)
        target = add_webhook(client, w.headers["admin"], hook_port, preset="sms")
        _queue_webhooks(database, client.app.state.settings, w, target)
        worker: DeliveryWorker = client.app.state.notify_worker

        assert asyncio.run(worker.run_once()) == 1
        with database.session() as s:
            d = s.scalar(select(Delivery))
            assert (d.status, d.attempts) == ("failed", 1)
            assert d.last_error.startswith("HTTP 503")
        asyncio.run(worker.run_once())
        asyncio.run(worker.run_once())
        assert len(hook.requests) == 3
        assert hook.requests[0]["json"] == {
            "to": "0900000000",
            "message": "Thử Bot Telegram trực ban",
        }

        dead = client.get("/api/notifications/dead-letters", headers=w.headers["admin"]).json()
        assert dead["total"] == 1
        assert dead["items"][0]["attempts"] == 3 and dead["items"][0]["status"] == "dead"
        assert asyncio.run(worker.run_once()) == 0  # the dead stay dead

        hook.status = 200
        r = client.post(
            f"/api/notifications/dead-letters/{dead['items'][0]['id']}/retry",
            headers=w.headers["admin"],
        )
        assert r.status_code == 200 and r.json()["status"] == "pending"
        assert asyncio.run(worker.run_once()) == 1
        assert _statuses(database) == ["sent"]
        assert (
            client.get("/api/notifications/dead-letters", headers=w.headers["admin"]).json()[
                "total"
            ]
            == 0
        )


def test_retries_back_off_exponentially(settings, database, factory, hook, hook_port):
    hook.status = 500
    with app_client(
        settings,
        database,
        webhook_allowlist=["127.0.0.1"],
        worker_enabled=False,
        max_attempts=5,
        backoff_s=60.0,
        backoff_max_s=150.0,
    ) as client:
        w = make_world(factory)
        _queue_webhooks(
            database,
            client.app.state.settings,
            w,
            add_webhook(client, w.headers["admin"], hook_port),
        )
        worker: DeliveryWorker = client.app.state.notify_worker
        waits = []
        for _ in range(3):
            with database.session() as s:
                due = s.scalar(select(Delivery)).next_attempt_at
            asyncio.run(worker.run_once(now=due))
            with database.session() as s:
                d = s.scalar(select(Delivery))
                waits.append(round((d.next_attempt_at - due).total_seconds() / 10) * 10)
        assert waits == [60, 120, 150]  # doubling, capped by BACKOFF_MAX_S


def test_a_slow_target_never_holds_up_the_others(settings, database, factory):
    slow, fast = Hook(), Hook()
    slow.delay = 6.0
    slow_gen, fast_gen = http_server(slow), http_server(fast)
    slow_port, fast_port = next(slow_gen), next(fast_gen)
    try:
        with app_client(
            settings,
            database,
            webhook_allowlist=["127.0.0.1"],
            worker_enabled=False,
            webhook_timeout_s=0.5,
            backoff_s=0.0,
        ) as client:
            w = make_world(factory)
            a = add_webhook(client, w.headers["admin"], slow_port, name="chậm")
            b = add_webhook(client, w.headers["admin"], fast_port, name="nhanh")
            _queue_webhooks(database, client.app.state.settings, w, a, b)
            started = time.monotonic()
            assert asyncio.run(client.app.state.notify_worker.run_once()) == 2
            elapsed = time.monotonic() - started
        assert elapsed < 4.0  # the slow one gave up at its timeout, the fast one did not wait
        assert len(fast.requests) == 1
        with database.session() as s:
            rows = {d.webhook_id: d for d in s.scalars(select(Delivery))}
        assert rows[b["id"]].status == "sent"
        assert rows[a["id"]].status == "failed"
        assert "Timeout" in rows[a["id"]].last_error or "timed out" in rows[a["id"]].last_error
    finally:
        for gen in (slow_gen, fast_gen):
            gen.close()
