"""An acknowledged write survives `kill -9` of the server; a retried batch adds no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from cityops.context.models import ContextAttributeInstance, ContextEntity
from conftest import TEST_SECRET
from pgcluster import free_port

CITYOPS = str(Path(sys.executable).with_name("cityops"))
LINK = (
    "<https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/"
    'context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)


class Served:
    """A real `cityops serve` process on the test database."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "CITYOPS_DATABASE_URL": url,
            "CITYOPS_SECRET_KEY": TEST_SECRET,
            "CITYOPS_ENV": "test",
            "CITYOPS_LOG_LEVEL": "WARNING",
            "CITYOPS_DATA_DIR": str(tmp),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [CITYOPS, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("server did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def readings(tick: int) -> bytes:
    return orjson.dumps(
        [
            {
                "id": f"urn:ngsi-ld:WaterObserved:CaTy-{i:02d}",
                "type": "WaterObserved",
                "height": {
                    "type": "Property",
                    "value": tick + i / 100,
                    "observedAt": f"2026-11-24T06:{tick // 60:02d}:{tick % 60:02d}Z",
                },
            }
            for i in range(50)
        ]
    )


@pytest.fixture
def served(database, factory, tmp_path):
    server = Served(database.url, tmp_path)
    key = factory.api_key("integrator")
    server.start()
    yield server, key
    if server.proc and server.proc.poll() is None:
        server.proc.terminate()
        server.proc.wait(timeout=30)


def test_acknowledged_readings_survive_kill_9_and_retries_add_no_duplicates(served, database):
    server, key = served
    headers = {"X-API-Key": key, "Content-Type": "application/json", "Link": LINK}
    url = f"{server.base}/ngsi-ld/v1/entityOperations/upsert?options=update"
    acknowledged: list[int] = []
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(headers=headers, timeout=10) as client:
            for tick in range(1, 10_000):
                if stop.is_set():
                    return
                try:
                    response = client.post(url, content=readings(tick))
                except httpx.TransportError:
                    return  # the server died under us: this batch was not acknowledged
                if response.status_code in (201, 204):
                    acknowledged.append(tick)

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(1.5)
    server.kill9()  # mid-stream, with requests in flight
    stop.set()
    sender.join(timeout=30)
    assert len(acknowledged) >= 3, "the server should have acknowledged some batches first"

    server.start()
    with database.session() as s:
        entities = s.scalar(select(func.count()).select_from(ContextEntity))
        stored = s.scalar(select(func.count()).select_from(ContextAttributeInstance))
    assert entities == 50
    assert stored >= 50 * len(acknowledged)  # every acknowledged reading is there

    # the client retries the batches it is unsure of (the last acknowledged and the next)
    last = acknowledged[-1]
    with httpx.Client(headers=headers, timeout=10) as client:
        for tick in (last, last + 1):
            assert client.post(url, content=readings(tick)).status_code in (201, 204)
        before = stored
        assert client.post(url, content=readings(last)).status_code in (201, 204)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(ContextEntity)) == 50
        after = s.scalar(select(func.count()).select_from(ContextAttributeInstance))
    # a reading is identified by entity, attribute and observedAt: retries add nothing new
    assert after <= before + 50


def test_acknowledged_single_updates_from_concurrent_clients_survive_kill_9(served, database):
    """Single-attribute PATCHes from several clients share transactions (group commit); each
    acknowledged one is still there after kill -9."""
    server, key = served
    headers = {"X-API-Key": key, "Content-Type": "application/json", "Link": LINK}
    with httpx.Client(headers=headers, timeout=10) as client:
        created = client.post(
            f"{server.base}/ngsi-ld/v1/entityOperations/upsert", content=readings(0)
        )
        assert created.status_code in (201, 204), created.text
    acknowledged: list[tuple[int, int]] = []  # (station, tick)
    stop = threading.Event()

    def patch(station: int) -> None:
        eid = f"urn:ngsi-ld:WaterObserved:CaTy-{station:02d}"
        url = f"{server.base}/ngsi-ld/v1/entities/{eid}/attrs/height"
        with httpx.Client(headers=headers, timeout=10) as client:
            for tick in range(1, 100_000):
                if stop.is_set():
                    return
                at = f"2026-11-25T{tick // 3600:02d}:{tick // 60 % 60:02d}:{tick % 60:02d}Z"
                try:
                    response = client.patch(
                        url, content=orjson.dumps({"value": tick, "observedAt": at})
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 204:
                    acknowledged.append((station, tick))

    clients = [threading.Thread(target=patch, args=(s,)) for s in range(6)]
    for c in clients:
        c.start()
    time.sleep(1.5)
    server.kill9()
    stop.set()
    for c in clients:
        c.join(timeout=30)
    assert len(acknowledged) >= 30, "the server should have acknowledged updates first"

    with database.session() as s:
        rows = s.execute(
            select(ContextEntity.entity_id, ContextAttributeInstance.value_num)
            .join(ContextEntity, ContextEntity.pk == ContextAttributeInstance.entity_pk)
            .where(ContextAttributeInstance.observed_at >= datetime(2026, 11, 25, tzinfo=UTC))
        ).all()
    stored = {(int(eid.rsplit("-", 1)[1]), int(v)) for eid, v in rows}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged updates lost, e.g. {sorted(missing)[:5]}"
