"""Where the simulator sends readings: the HTTP intake or the MQTT broker, like real devices."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import httpx
import orjson
import paho.mqtt.client as mqtt

from cityops.core.db import utcnow
from cityops.intake.payloads import as_relationships, stamp_observed
from cityops.intake.simulator import Simulator

log = logging.getLogger("cityops.intake.simulator")


class SinkError(Exception):
    """Readings could not be delivered."""


class Sink(Protocol):
    """Delivers one tick's readings; returns how many were accepted."""

    def send(self, readings: list[dict[str, Any]]) -> int:
        """Deliver readings."""

    def close(self) -> None:
        """Release the connection."""


def key_prefix(api_key: str) -> str:
    """Return the public prefix of an API key (cok_PREFIX_secret): the MQTT user name."""
    parts = api_key.split("_")
    if len(parts) < 3 or parts[0] != "cok":
        raise SinkError("not a CityOps API key (cok_...)")
    return parts[1]


class HttpSink:
    """POSTs readings to /api/intake/readings with an API key."""

    def __init__(
        self, client: httpx.Client, api_key: str, base_url: str = "", tenant: str = ""
    ) -> None:
        self.client = client
        self.url = base_url.rstrip("/") + "/api/intake/readings"
        self.headers = {"X-API-Key": api_key} | ({"NGSILD-Tenant": tenant} if tenant else {})

    def send(self, readings: list[dict[str, Any]]) -> int:
        """Post one batch; log the readings the server refused."""
        response = self.client.post(self.url, json={"readings": readings}, headers=self.headers)
        if response.status_code not in (200, 207):
            raise SinkError(f"HTTP {response.status_code}: {response.text[:300]}")
        body = response.json()
        for error in body.get("errors", []):
            log.warning("reading %s refused: %s", error.get("entity_id"), error.get("detail"))
        return int(body.get("accepted", 0))

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def to_entity(reading: dict[str, Any]) -> dict[str, Any]:
    """Turn a keyValues reading into an NGSI-LD entity with observedAt on every Property."""
    attrs = stamp_observed(as_relationships(reading["attrs"]), reading.get("observed_at"))
    return {"id": reading["entity_id"], "type": reading["type"], **attrs}


class MqttSink:
    """Publishes each reading as an entity (QoS 1) on PREFIX/TENANT/KEY/entities."""

    def __init__(
        self,
        host: str,
        port: int,
        api_key: str,
        *,
        topic_prefix: str = "cityops",
        tenant: str = "",
        tls: bool = False,
    ) -> None:
        prefix = key_prefix(api_key)
        self.topic = f"{topic_prefix}/{tenant or '_'}/{prefix}/entities"
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"cityops-simulator-{prefix}"
        )
        self.client.username_pw_set(prefix, api_key)
        if tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(1, 30)
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def send(self, readings: list[dict[str, Any]]) -> int:
        """Publish every reading and wait for the broker's acknowledgements."""
        infos = [
            self.client.publish(self.topic, orjson.dumps(to_entity(r)), qos=1) for r in readings
        ]
        for info in infos:
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise SinkError(f"MQTT publish failed: {mqtt.error_string(info.rc)}")
            info.wait_for_publish(10)
        return len(infos)

    def close(self) -> None:
        """Disconnect from the broker."""
        self.client.disconnect()
        self.client.loop_stop()


def run(
    sim: Simulator,
    sink: Sink,
    *,
    interval: float,
    ticks: int = 0,
    clock: Callable[[], datetime] = utcnow,
    on_tick: Callable[[int, int], None] | None = None,
) -> int:
    """Tick every `interval` seconds (forever when ticks=0); a failed send is retried next tick."""
    done, next_at = 0, time.monotonic()
    while not ticks or done < ticks:
        readings = sim.tick(clock())
        try:
            sink.send(readings)
        except (SinkError, httpx.HTTPError, OSError, RuntimeError) as err:
            log.warning("simulator: sending %d readings failed: %s", len(readings), err)
        done += 1
        if on_tick is not None:
            on_tick(done, len(readings))
        next_at += interval
        if not ticks or done < ticks:
            time.sleep(max(0.0, next_at - time.monotonic()))
    return done
