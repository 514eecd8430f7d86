"""Fixtures for intake tests: a real Mosquitto broker on a free port, an app subscribed to it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.app import create_app
from cityops.core.config import Settings
from cityops.core.db import Database
from cityops.core.units.locate import invalidate_all
from intake.support import mqtt_settings, wait_until
from pgcluster import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    """A Mosquitto process on 127.0.0.1:port; stop() and start() keep the port."""

    def __init__(self, folder: Path, users: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.users = users
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = folder / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "user root"]
        lines.append("max_queued_messages 100000")  # as docs/mqtt.md advises
        if users is None:
            lines.append("allow_anonymous true")
        else:
            lines += self._auth_files(users)
        self.config.write_text("\n".join(lines) + "\n")

    def _auth_files(self, users: dict[str, str]) -> list[str]:
        passwd, acl = self.folder / "passwd", self.folder / "acl"
        passwd.touch()
        for user, password in users.items():
            subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
        # CityOps reads every device topic; a device writes under its own user name only.
        acl.write_text("user cityops\ntopic read cityops/#\n\npattern write cityops/+/%u/#\n")
        return ["allow_anonymous false", f"password_file {passwd}", f"acl_file {acl}"]

    def start(self) -> Broker:
        """Start the broker and wait until it accepts connections."""
        log = (self.folder / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        log_text = (self.folder / "mosquitto.log").read_text()
        raise RuntimeError(f"mosquitto did not start: {log_text}")

    def stop(self) -> None:
        """Stop the broker (its clients see the connection drop)."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture(autouse=True)
def _fresh_unit_locator() -> None:
    """Forget units cached by earlier tests (their tables are emptied by raw deletes)."""
    invalidate_all()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """An anonymous Mosquitto broker for one test."""
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def mqtt_client_app(
    settings: Settings, database: Database, broker: Broker
) -> Iterator[tuple[TestClient, Any]]:
    """A running app whose MQTT intake is subscribed to the test broker."""
    app = create_app(mqtt_settings(settings, broker.port), db=database)
    with TestClient(app) as client:
        wait_until(lambda: app.state.mqtt_intake.connected.is_set(), what="MQTT subscription")
        yield client, app
