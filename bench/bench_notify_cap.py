"""Benchmark notifications and CAP on a throwaway SQLite database; print JSON.

1. notify() fan-out: one alert resolved against N users (preferences, scope, quiet hours),
   writing their in-app rows and e-mail deliveries in one transaction.
2. The delivery worker against a real local HTTP server: webhook deliveries per second with
   one target that never answers in time (its timeouts must not slow the others down).
3. CAP: build + validate (OASIS XSD) one two-language message with a unit polygon.

    python bench/bench_notify_cap.py [--users 2000] [--deliveries 1000]

Exits 1 when a figure misses its target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from cityops.alerts.cap.builder import Area, CapInput, build, polygon_text
from cityops.alerts.cap.validate import validate
from cityops.alerts.notify.dispatch import notify
from cityops.alerts.notify.models import Delivery, NotificationPreference, WebhookTarget
from cityops.alerts.notify.webhooks import PRESET_TEMPLATES
from cityops.alerts.notify.worker import DeliveryWorker
from cityops.core.auth.models import User
from cityops.core.config import NotifySettings
from cityops.core.db import Database
from cityops.core.schema import import_all_models, migrate
from cityops.core.units.models import Unit

TARGETS = {"notify_ms_per_1000_users": 250.0, "webhooks_per_s": 50.0, "cap_ms": 20.0}


def seed(db: Database, users: int) -> tuple[int, list[int]]:
    """A province with 20 wards and `users` operators spread over them, half with preferences."""
    with db.session() as s:
        root = Unit(code="68", name="Lâm Đồng", level="province", path="/", depth=0)
        s.add(root)
        s.flush()
        root.path = f"/{root.id}/"
        wards = []
        for i in range(20):
            ward = Unit(code=f"W{i}", name=f"Phường {i}", level="commune", parent_id=root.id)
            ward.path, ward.depth = "/", 1
            s.add(ward)
            s.flush()
            ward.path = f"{root.path}{ward.id}/"
            wards.append(ward.id)
        rows = [
            {
                "username": f"u{n}",
                "password_hash": "x",
                "role": "operator" if n % 10 else "unit_operator",
                "unit_id": root.id if n % 10 else wards[n % 20],
                "email": f"u{n}@example.vn",
            }
            for n in range(users)
        ]
        s.execute(insert(User), rows)
        ids = list(s.scalars(select(User.id)))
        prefs = [
            {
                "user_id": uid,
                "severities": ["critical", "major"],
                "channels": ["in_app", "email"],
                "quiet_start": "22:00",
                "quiet_end": "06:00",
                "language": "vi",
            }
            for uid in ids[::2]
        ]
        s.execute(insert(NotificationPreference), prefs)
        return wards[3], ids


def bench_notify(db: Database, unit_id: int, rounds: int) -> dict[str, Any]:
    """Time notify() for one alert, `rounds` times."""
    cfg = NotifySettings(smtp_host="127.0.0.1")
    times, outcome = [], None
    for n in range(rounds):
        started = time.perf_counter()
        with db.session() as s:
            outcome = notify(
                s,
                cfg,
                topic="alerts.alert_raised",
                severity="major",
                unit_id=unit_id,
                subject_vi=f"Cảnh báo {n}",
                subject_en=f"Alert {n}",
                now=datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
            )
        times.append((time.perf_counter() - started) * 1000)
    assert outcome is not None
    times.sort()
    return {"recipients": len(outcome.recipients), "median_ms": round(times[len(times) // 2], 1)}


class _Quiet(BaseHTTPRequestHandler):
    delay = 0.0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.delay:
            time.sleep(self.delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def _serve(port: int, delay: float) -> None:
    handler = type("H", (_Quiet,), {"delay": delay})
    server_class = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 256})
    server = server_class(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.serve_forever()


def _server(delay: float) -> tuple[multiprocessing.Process, int]:
    """Start a webhook receiver in its own process (its threads must not share our GIL)."""
    port = free_port()
    proc = multiprocessing.Process(target=_serve, args=(port, delay), daemon=True)
    proc.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    raise RuntimeError("the webhook receiver did not start")


def free_port() -> int:
    """Ask the OS for a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_worker(db: Database, count: int) -> dict[str, Any]:
    """Send `count` webhook deliveries (plus 16 to a target that times out) with the worker."""
    (fast, fast_port), (slow, slow_port) = _server(0.0), _server(5.0)
    cfg = NotifySettings(
        webhook_allowlist=["127.0.0.1"], webhook_timeout_s=1.0, concurrency=16, backoff_s=60
    )
    with db.session() as s:
        targets = []
        for name, port in (("fast", fast_port), ("slow", slow_port)):
            t = WebhookTarget(
                name=name, url=f"http://127.0.0.1:{port}/", template=PRESET_TEMPLATES["sms"]
            )
            s.add(t)
            s.flush()
            targets.append(t.id)
        common = {"channel": "webhook", "topic": "bench", "subject": "Cảnh báo", "recipient": "09"}
        rows = [{"webhook_id": targets[0], **common} for _ in range(count)]
        rows += [{"webhook_id": targets[1], **common} for _ in range(16)]
        s.execute(insert(Delivery), rows)
    worker = DeliveryWorker(db, cfg)

    async def drain() -> None:
        while await worker.run_once():
            pass

    started = time.perf_counter()
    asyncio.run(drain())
    elapsed = time.perf_counter() - started
    with db.session() as s:
        sent = len(s.scalars(select(Delivery.id).where(Delivery.status == "sent")).all())
        failed = len(s.scalars(select(Delivery.id).where(Delivery.status == "failed")).all())
    fast.terminate()
    slow.terminate()
    return {
        "sent": sent,
        "timed_out": failed,
        "seconds": round(elapsed, 2),
        "per_s": round(sent / elapsed),
    }


def bench_cap(rounds: int) -> float:
    """Return the median time to build and validate one CAP message, in ms."""
    steps = [2 * math.pi * i / 400 for i in range(400)]
    ring = [[108.1 + 0.05 * math.cos(t), 10.93 + 0.03 * math.sin(t)] for t in steps]
    geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}  # 400 points, simplified
    times = []
    for n in range(rounds):
        started = time.perf_counter()
        c = CapInput(
            identifier=f"cityops-68-alert-{n}-1",
            sender="ioc@lamdong.example.vn",
            sent=datetime.now(UTC),
            status="Actual",
            msg_type="Alert",
            severity="major",
            title_vi="Ngập lụt: mực nước sông Cà Ty vượt báo động 2",
            title_en="Flood: Ca Ty river above alarm level 2",
            description_vi="Mực nước 4,2 m",
            description_en="Water level 4.2 m",
            area=Area("Phường Phan Thiết", "Phan Thiet ward", polygon_text(geometry), None),
        )
        validate(build(c))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return round(times[len(times) // 2], 2)


def main() -> int:
    """Run the three benchmarks and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--deliveries", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(db)
        import_all_models()
        unit_id, _ = seed(db, args.users)
        fan_out = bench_notify(db, unit_id, rounds=5)
        with db.session() as s:  # the fan-out's e-mails would go to a server that is not there
            s.execute(delete(Delivery))
        worker = bench_worker(db, args.deliveries)
        db.dispose()
    cap_ms = bench_cap(200)
    per_1000 = fan_out["median_ms"] * 1000 / max(args.users, 1)
    result = {
        "benchmark": "notify_cap",
        "users": args.users,
        "notify_recipients": fan_out["recipients"],
        "notify_median_ms": fan_out["median_ms"],
        "notify_ms_per_1000_users": round(per_1000, 1),
        "webhooks_sent": worker["sent"],
        "webhooks_timed_out": worker["timed_out"],
        "webhooks_per_s": worker["per_s"],
        "cap_build_validate_median_ms": cap_ms,
        "targets": TARGETS,
    }
    ok = (
        per_1000 <= TARGETS["notify_ms_per_1000_users"]
        and worker["per_s"] >= TARGETS["webhooks_per_s"]
        and worker["timed_out"] == 16
        and cap_ms <= TARGETS["cap_ms"]
    )
    result["ok"] = ok
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
