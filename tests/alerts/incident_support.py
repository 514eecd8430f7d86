"""Support for incident, notification and CAP tests: a small province, alerts, and real
outbound servers (an aiosmtpd SMTP server, a local HTTP server for webhooks)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from cityops.alerts.models import Alert
from cityops.alerts.writer import raised_event, updated_event
from cityops.core.config import Settings
from cityops.core.db import Database, utcnow
from cityops.core.policy import Role
from pgcluster import free_port

PHAN_THIET = (10.93, 108.10)  # inside ward A (the square below)


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    """A square polygon with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class World:
    """A province (root code 68) with two wards, two agencies and one user per role."""

    province: Any
    ward_a: Any
    ward_b: Any
    police: Any
    health: Any
    users: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def make_world(factory: Any) -> World:
    """Build the province, its wards and agencies, and log every user in."""
    province = factory.unit(code="68", name="Lâm Đồng", level="province")
    ward_a = factory.unit(
        code="22945", name="Phường Phan Thiết", parent=province, geometry=square(108.05, 10.90, 0.1)
    )
    ward_b = factory.unit(code="22918", name="Phường Mũi Né", parent=province)
    police = factory.agency(province, code="CA-LD", name="Công an tỉnh Lâm Đồng")
    health = factory.agency(province, code="SYT-LD", name="Sở Y tế tỉnh Lâm Đồng")
    w = World(province, ward_a, ward_b, police, health)
    people = {
        "admin": (Role.admin, None, None),
        "operator": (Role.operator, province, None),
        "leader": (Role.leader, province, None),
        "ward_a": (Role.unit_operator, ward_a, None),
        "ward_b": (Role.unit_operator, ward_b, None),
        "police": (Role.agency_staff, province, police),
        "medic": (Role.agency_staff, province, health),
    }
    for name, (role, unit, agency) in people.items():
        w.users[name] = factory.user(role, unit=unit, agency=agency, username=name)
        w.headers[name] = factory.headers(w.users[name])
    return w


def insert_alert(
    db: Database,
    unit: Any,
    *,
    severity: str = "major",
    title_vi: str = "Ngập lụt: mực nước sông Cà Ty vượt báo động 2",
    title_en: str = "Flood: Ca Ty river above alarm level 2",
    point: tuple[float, float] | None = PHAN_THIET,
    public: bool = False,
    raised_at: datetime | None = None,
    source_id: str | None = None,
) -> Alert:
    """Write an alert row as the rule engine would leave it (status open)."""
    at = raised_at or utcnow()
    key = f"test:{source_id or id(object())}:{at.timestamp()}"
    with db.session() as s:
        alert = Alert(
            source_kind="entity",
            source_id=source_id or "urn:ngsi-ld:FloodMonitoring:caty-1",
            dedup_key=key,
            active_key=key,
            severity=severity,
            status="open",
            title_vi=title_vi,
            title_en=title_en,
            description=None,
            unit_id=unit.id if unit is not None else None,
            lat=point[0] if point else None,
            lon=point[1] if point else None,
            value={"waterLevel": 4.2},
            public=public,
            raised_at=at,
            last_triggered_at=at,
            updated_at=at,
        )
        s.add(alert)
    return alert


def publish_raised(client: Any, alert: Alert) -> None:
    """Publish the alert's AlertRaised event on the app's bus and wait for the handlers."""
    bus = client.app.state.bus
    client.portal.call(bus.publish, raised_event(alert, utcnow()))
    client.portal.call(bus.drain)


def change_alert(client: Any, alert_id: int, action: str, **values: Any) -> Alert:
    """Change an alert row, then publish AlertUpdated as the alert service would."""
    db: Database = client.app.state.db
    with db.session() as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None
        before = alert.status
        for key, value in values.items():
            setattr(alert, key, value)
        if alert.status != "open":
            alert.active_key = None
        event = updated_event(alert, utcnow(), action, before)
    bus = client.app.state.bus
    client.portal.call(bus.publish, event)
    client.portal.call(bus.drain)
    return alert


def with_notify(settings: Settings, **values: Any) -> Settings:
    """Return the settings with some CITYOPS_NOTIFY__* values changed."""
    return settings.model_copy(update={"notify": settings.notify.model_copy(update=values)})


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `check()` is truthy; return its value (AssertionError after the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


# --- a real SMTP server ----------------------------------------------------------------------


class Mailbox:
    """Collects what a real aiosmtpd server receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message (aiosmtpd handler hook)."""
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """Run an SMTP server on a free local port while the generator is open."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


# --- a real HTTP server for webhooks ---------------------------------------------------------


class Hook:
    """What a local webhook server received, and how it answers (status, delay)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0


def http_server(hook: Hook) -> Iterator[int]:
    """Serve POSTs on a free local port, recording them in `hook`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            hook.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(body or b"null"),
                }
            )
            if hook.delay:
                time.sleep(hook.delay)
            self.send_response(hook.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args: Any) -> None:
            return

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()


def minutes_ago(n: float) -> datetime:
    """Return the time n minutes ago."""
    return utcnow() - timedelta(minutes=n)
