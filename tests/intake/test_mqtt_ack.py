"""MQTT QoS 1 messages are acknowledged only once stored: a database outage or a crash
between receipt and commit loses nothing (the broker delivers the message again)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from cityops.app import create_app
from intake.support import mqtt_settings, publish, wait_until
from intake.test_mqtt import PM25, prefix_of, station, stored


def failing(times: int | None, calls: list[int]) -> Any:
    """A stand-in for MqttIntake.process that fails like an unreachable database."""

    def process(batch: Any) -> Any:
        calls.append(len(batch))
        if times is None or len(calls) <= times:
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        raise AssertionError("not reached")

    return process


def test_a_batch_that_fails_to_commit_is_retried_until_it_lands(mqtt_client_app, broker, factory):
    client, app = mqtt_client_app
    key = factory.api_key("integrator")
    intake = app.state.mqtt_intake
    real, calls = intake.process, []
    broken = failing(2, calls)
    intake.process = lambda batch: broken(batch) if len(calls) < 2 else real(batch)
    publish(broker.port, f"cityops/_/{prefix_of(key)}/entities", station(61.0))
    entity = wait_until(lambda: stored(client, key), timeout=8, what="the reading after retries")
    assert len(calls) == 2  # two failed attempts, then the real write
    assert entity[PM25]["value"] == 61.0


def test_a_message_not_yet_stored_when_the_server_stops_arrives_after_the_restart(
    settings, database, broker, factory
):
    key = factory.api_key("integrator")
    cfg = mqtt_settings(settings, broker.port)
    calls: list[int] = []
    first = create_app(cfg, db=database)
    with TestClient(first):
        intake = first.state.mqtt_intake
        wait_until(intake.connected.is_set, what="MQTT subscription")
        intake.process = failing(None, calls)  # the database is down for good
        publish(broker.port, f"cityops/_/{prefix_of(key)}/entities", station(73.5))
        wait_until(lambda: calls, what="the message to reach the intake")
    # the server stopped without storing it; a new one with the same session gets it again
    second = create_app(cfg, db=database)
    with TestClient(second) as client:
        wait_until(second.state.mqtt_intake.connected.is_set, what="MQTT subscription")
        assert wait_until(lambda: stored(client, key), timeout=8, what="the redelivered reading")
