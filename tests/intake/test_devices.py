"""The device registry: readings keep Device entities' lastSeen, state and battery current."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cityops.core.db import utcnow
from cityops.intake.devices import sweep_offline

DEVICE = "urn:ngsi-ld:Device:lamdong-rain-phanthiet"
GAUGE = "urn:ngsi-ld:WeatherObserved:lamdong-rain-phanthiet"
DEV = "https://smartdatamodels.org/dataModel.Device/"
CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Device/master/context.jsonld"
)


def post(client, key: str, *readings: dict[str, Any]) -> None:
    """Post readings and insist that all of them landed."""
    response = client.post(
        "/api/intake/readings", json={"readings": list(readings)}, headers={"X-API-Key": key}
    )
    assert response.status_code == 200, response.text


def device(client, key: str) -> dict[str, Any]:
    """The Device entity (expanded attribute names)."""
    return client.get(f"/ngsi-ld/v1/entities/{DEVICE}", headers={"X-API-Key": key}).json()


def rain(mm: float, **attrs: Any) -> dict[str, Any]:
    """A rain-gauge reading in Phan Thiết."""
    return {"entity_id": GAUGE, "type": "WeatherObserved", "attrs": {"precipitation": mm, **attrs}}


def register(client, key: str, **attrs: Any) -> None:
    """Register the rain gauge's Device entity through the NGSI-LD API."""
    body = {"id": DEVICE, "type": "Device", "name": "Trạm đo mưa Phan Thiết", **attrs}
    body |= {"category": ["sensor"], "@context": CONTEXT}
    response = client.post(
        "/ngsi-ld/v1/entities",
        json=body,
        headers={"X-API-Key": key, "Content-Type": "application/ld+json"},
    )
    assert response.status_code == 201, response.text


def test_a_reading_with_refdevice_marks_its_device_online_with_battery(client, factory):
    key = factory.api_key("integrator")
    register(client, key)
    post(client, key, rain(2.5, refDevice=DEVICE, batteryLevel=0.82))
    found = device(client, key)
    assert found[DEV + "deviceState"]["value"] == "online"
    assert found[DEV + "batteryLevel"]["value"] == 0.82
    assert found[DEV + "dateLastValueReported"]["value"].startswith(str(utcnow().year))


def test_a_silent_device_is_marked_offline_and_back_online_when_it_reports(client, factory, app):
    key = factory.api_key("integrator")
    register(client, key)
    post(client, key, rain(0, refDevice=DEVICE))
    resolver = app.state.intake.resolver
    assert sweep_offline(app.state.db, resolver, timedelta(minutes=15)) == []
    later = utcnow() + timedelta(minutes=20)
    [event] = sweep_offline(app.state.db, resolver, timedelta(minutes=15), now=later)
    assert event.entity_id == DEVICE
    assert device(client, key)[DEV + "deviceState"]["value"] == "offline"
    post(client, key, rain(1.0, refDevice=DEVICE))
    assert device(client, key)[DEV + "deviceState"]["value"] == "online"


def test_a_device_bound_to_a_key_takes_liveness_from_that_key_only(client, factory):
    key, other = factory.api_key("integrator"), factory.api_key("integrator")
    register(client, key, apiKeyPrefix=key.split("_")[1])
    post(client, other, rain(0, refDevice=DEVICE))
    assert DEV + "deviceState" not in device(client, key)
    post(client, key, rain(3.0))  # no refDevice: the key's own device
    assert device(client, key)[DEV + "deviceState"]["value"] == "online"
