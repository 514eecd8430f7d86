"""Citizens hear of their report's progress: e-mail over real SMTP and an SMS gateway webhook
(a real local HTTP server), for the reporter and for followers; quiet steps send nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from alerts.incident_support import Hook, Mailbox, http_server, smtp_server, wait_until, with_notify
from field_reports.conftest import act, submit

GATEWAY = "Cổng SMS Viettel"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    yield from smtp_server()


@pytest.fixture
def hook() -> Hook:
    return Hook()


@pytest.fixture
def hook_port(hook: Hook) -> Iterator[int]:
    yield from http_server(hook)


@pytest.fixture
def settings(settings: Any, smtp: tuple[int, Mailbox], hook_port: int) -> Any:
    s = with_notify(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp[0],
        smtp_starttls=False,
        webhook_allowlist=["127.0.0.1"],
        base_url="https://ioc.lamdong.example.vn",
        worker_interval_s=0.2,
    )
    reports = s.field_reports.model_copy(update={"notice_webhook": GATEWAY})
    return s.model_copy(update={"field_reports": reports})


def gateway(client: Any, admin: dict[str, str], port: int) -> None:
    body = {"name": GATEWAY, "preset": "sms", "url": f"http://127.0.0.1:{port}/sms/send"}
    response = client.post("/api/notifications/webhooks", headers=admin, json=body)
    assert response.status_code == 201, response.text


def test_the_reporter_gets_an_email_and_an_sms_when_the_report_is_verified(
    client, world, smtp, hook, hook_port
):
    _, box = smtp
    gateway(client, world.headers["admin"], hook_port)
    receipt = submit(client, reporter_email="dan.tran@example.vn", reporter_phone="0912345678")
    code = receipt["tracking_code"]
    assert act(client, world, "operator", code, "verify").status_code == 200
    wait_until(lambda: box.messages and hook.requests)
    mail = box.messages[0]
    assert mail["To"] == "dan.tran@example.vn"
    assert code in mail["Subject"] and "Đã chuyển xử lý" in mail["Subject"]
    text = mail.get_content()
    assert f"https://ioc.lamdong.example.vn/public/track/{code}" in text
    assert "Your report" in text  # English after Vietnamese
    sms = hook.requests[0]["json"]
    assert sms["to"] == "0912345678" and code in sms["message"]


def test_a_follower_hears_too_and_a_return_to_the_operator_sends_nothing(
    client, world, smtp, hook_port, hook
):
    _, box = smtp
    receipt = submit(client, reporter_email="dan.tran@example.vn", reporter_phone=None)
    code = receipt["tracking_code"]
    assert act(client, world, "operator", code, "verify").status_code == 200
    wait_until(lambda: len(box.messages) == 1)
    follow = client.post(
        f"/api/field-reports/public/reports/{code}/follow",
        json={"email": "hang.nguyen@example.vn", "name": "Nguyễn Thu Hằng"},
    )
    assert follow.status_code in (200, 201), follow.text
    returned = act(client, world, "ward_a_staff", code, "return", reason="Không thuộc thẩm quyền")
    assert returned.status_code == 200, returned.text
    assert act(client, world, "operator", code, "assign", agency_code="SXD", reason="Sở xử lý")
    wait_until(lambda: len(box.messages) == 3)
    recipients = sorted(m["To"] for m in box.messages[1:])
    assert recipients == ["dan.tran@example.vn", "hang.nguyen@example.vn"]
    assert not hook.requests  # no SMS gateway is configured as a target here
