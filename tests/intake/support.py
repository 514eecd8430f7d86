"""Helpers for intake tests: MQTT settings, publishing as a device, polling, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from fastapi.testclient import TestClient

from cityops.core.config import Settings


def mqtt_settings(settings: Settings, port: int, **extra: Any) -> Settings:
    """Test settings with the MQTT intake on, quick to reconnect."""
    mqtt_cfg = settings.mqtt.model_copy(
        update={"enabled": True, "port": port, "reconnect_max_s": 0.5, "key_cache_s": 0, **extra}
    )
    return settings.model_copy(update={"mqtt": mqtt_cfg})


def publish(
    port: int,
    topic: str,
    payload: Any,
    *,
    username: str | None = None,
    password: str | None = None,
) -> None:
    """Publish one QoS 1 message as a device would (paho, blocking until acknowledged)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    if username is not None:
        client.username_pw_set(username, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        client.publish(topic, raw, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def wait_until(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def metric(client: TestClient, result: str) -> float:
    """Read cityops_mqtt_messages_total{result=...} from /metrics."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'cityops_mqtt_messages_total{{result="{result}"}}'):
            return float(line.split()[-1])
    return 0.0
