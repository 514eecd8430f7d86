"""MQTT intake against a real Mosquitto: readings land, bad or foreign messages are dropped."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from cityops.app import create_app
from cityops.context.events import EntityChanged
from cityops.core.auth.models import ApiKey
from cityops.core.db import utcnow
from intake.conftest import Broker
from intake.support import metric, mqtt_settings, publish, wait_until

ENV = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"
PM25 = "https://smartdatamodels.org/dataModel.Environment/pm25"
STATION = "urn:ngsi-ld:AirQualityObserved:lamdong-aq-muine"


def station(pm25: float, entity_id: str = STATION) -> dict[str, Any]:
    """A normalized air-quality reading from Mũi Né."""
    return {
        "id": entity_id,
        "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": pm25, "observedAt": "2026-11-24T05:00:00Z"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [108.28, 10.95]},
        },
        "@context": ENV,
    }


def prefix_of(key: str) -> str:
    """The public prefix of an API key (cok_PREFIX_secret): the device's MQTT user name."""
    return key.split("_")[1]


def stored(client: TestClient, key: str, entity_id: str = STATION) -> dict[str, Any] | None:
    """The entity as the NGSI-LD API returns it (None while it is not there)."""
    response = client.get(f"/ngsi-ld/v1/entities/{entity_id}", headers={"X-API-Key": key})
    return response.json() if response.status_code == 200 else None


def test_a_published_reading_is_in_the_store_and_on_the_bus_within_a_second(
    mqtt_client_app, broker, factory
):
    client, app = mqtt_client_app
    key = factory.api_key("integrator")
    seen: list[EntityChanged] = []
    app.state.bus.subscribe(EntityChanged, seen.append)
    publish(broker.port, f"cityops/_/{prefix_of(key)}/entities", station(35.2))
    start = time.monotonic()
    entity = wait_until(lambda: stored(client, key), timeout=1.0, what="the reading")
    assert time.monotonic() - start < 1.0
    assert entity[PM25]["value"] == 35.2
    wait_until(lambda: [e for e in seen if e.entity_id == STATION], timeout=1.0, what="event")
    assert metric(client, "ok") == 1


def test_keyvalues_arrays_and_attribute_updates_land(mqtt_client_app, broker, factory):
    client, _ = mqtt_client_app
    key = factory.api_key("integrator")
    prefix = prefix_of(key)
    concise = [
        {
            "id": STATION,
            "type": "AirQualityObserved",
            "pm25": 12.5,
            "refDevice": "urn:ngsi-ld:Device:aq-1",
        },
        {"id": STATION + "-2", "type": "AirQualityObserved", "pm25": 8},
    ]
    publish(broker.port, f"cityops/_/{prefix}/entities", concise)
    wait_until(lambda: stored(client, key, STATION + "-2"), what="the array")
    publish(broker.port, f"cityops/_/{prefix}/attrs/{STATION}", {"pm25": 40.1})
    wait_until(lambda: stored(client, key)[PM25]["value"] == 40.1, what="the attribute update")
    ref = stored(client, key)["https://smartdatamodels.org/dataModel.Environment/refDevice"]
    assert ref == {"type": "Relationship", "object": "urn:ngsi-ld:Device:aq-1"}


def test_bad_payloads_are_counted_and_the_connection_stays_up(mqtt_client_app, broker, factory):
    client, app = mqtt_client_app
    key = factory.api_key("integrator")
    topic = f"cityops/_/{prefix_of(key)}/entities"
    publish(broker.port, topic, b"{not json")
    publish(broker.port, topic, {"id": "not-a-uri", "type": "AirQualityObserved"})
    publish(broker.port, f"cityops/_/{prefix_of(key)}/attrs/{STATION}", {"pm25": 1})  # no entity
    wait_until(lambda: metric(client, "invalid") == 3, what="three invalid messages")
    assert app.state.mqtt_intake.connected.is_set()
    publish(broker.port, topic, station(20))
    wait_until(lambda: stored(client, key), what="the good message after the bad ones")
    assert metric(client, "ok") == 1


def test_messages_from_unknown_or_revoked_keys_are_dropped(mqtt_client_app, broker, factory):
    client, _ = mqtt_client_app
    key = factory.api_key("integrator")
    publish(broker.port, "cityops/_/deadbeef/entities", station(99))
    wait_until(lambda: metric(client, "unauthorized") == 1, what="the unknown key")
    with factory.db.session() as s:
        s.execute(update(ApiKey).where(ApiKey.key_hash.is_not(None)).values(revoked_at=utcnow()))
    publish(broker.port, f"cityops/_/{prefix_of(key)}/entities", station(99))
    wait_until(lambda: metric(client, "unauthorized") == 2, what="the revoked key")
    reader = factory.api_key("integrator")
    assert stored(client, reader) is None
    leader_key = factory.api_key("leader")
    publish(broker.port, f"cityops/_/{prefix_of(leader_key)}/entities", station(99))
    wait_until(lambda: metric(client, "unauthorized") == 3, what="a key that may not write")


def test_the_client_reconnects_after_a_broker_restart(mqtt_client_app, broker, factory):
    client, app = mqtt_client_app
    key = factory.api_key("integrator")
    intake = app.state.mqtt_intake
    broker.stop()
    wait_until(lambda: not intake.connected.is_set(), what="the client to notice")
    broker.start()
    wait_until(intake.connected.is_set, timeout=10, what="the client to reconnect")
    publish(broker.port, f"cityops/_/{prefix_of(key)}/entities", station(42))
    assert wait_until(lambda: stored(client, key), what="a reading after the restart")


def test_a_broker_with_device_passwords_keeps_each_device_on_its_own_topic(
    settings, database, factory, tmp_path
):
    key, other = factory.api_key("integrator"), factory.api_key("integrator")
    users = {"cityops": "intake-secret", prefix_of(key): key, prefix_of(other): other}
    broker = Broker(tmp_path, users).start()
    try:
        cfg = mqtt_settings(settings, broker.port, username="cityops", password="intake-secret")
        app = create_app(cfg, db=database)
        with TestClient(app) as client:
            wait_until(app.state.mqtt_intake.connected.is_set, what="the intake to connect")
            own, foreign = f"cityops/_/{prefix_of(key)}", f"cityops/_/{prefix_of(other)}"
            device = {"username": prefix_of(key), "password": key}
            publish(broker.port, f"{foreign}/entities", station(1, STATION + "-x"), **device)
            publish(broker.port, f"{own}/entities", station(2), **device)
            wait_until(lambda: stored(client, key), what="the device's own topic")
            assert stored(client, key, STATION + "-x") is None
    finally:
        broker.stop()
