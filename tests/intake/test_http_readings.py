"""POST /api/intake/readings: device-friendly readings land in the hub, bad ones by index."""

from __future__ import annotations

from typing import Any

import pytest

ENTITY = "urn:ngsi-ld:AirQualityObserved:lamdong-aq-phanthiet"
SDM_PM25 = "https://smartdatamodels.org/dataModel.Environment/pm25"


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    """A square polygon with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def reading(entity_id: str = ENTITY, pm25: float = 35.2, at: str | None = None) -> dict[str, Any]:
    """A keyValues air-quality reading in Phan Thiết."""
    attrs = {"pm25": pm25, "location": {"type": "Point", "coordinates": [108.10, 10.93]}}
    one = {"entity_id": entity_id, "type": "AirQualityObserved", "attrs": attrs}
    return one | {"observed_at": at} if at else one


def test_good_readings_land_and_bad_ones_are_reported_by_index(client, factory):
    key = {"X-API-Key": factory.api_key("integrator")}
    body = {
        "readings": [
            reading(at="2026-11-24T05:00:00Z"),
            {"entity_id": "not a uri", "type": "AirQualityObserved", "attrs": {"pm25": 1}},
            {"entity_id": ENTITY + "-2", "type": "AirQualityObserved"},
            reading(ENTITY + "-3", at="yesterday"),
        ]
    }
    response = client.post("/api/intake/readings", json=body, headers=key)
    assert response.status_code == 207, response.text
    result = response.json()
    assert result["accepted"] == 1
    assert result["created"] == [ENTITY]
    assert [e["index"] for e in result["errors"]] == [1, 2, 3]
    assert "entity_id" in result["errors"][0]["detail"]
    assert "attrs" in result["errors"][1]["detail"]
    assert "observed_at" in result["errors"][2]["detail"]
    stored = client.get(f"/ngsi-ld/v1/entities/{ENTITY}", headers=key).json()
    assert stored[SDM_PM25]["value"] == 35.2
    assert stored[SDM_PM25]["observedAt"] == "2026-11-24T05:00:00Z"


def test_readings_update_existing_entities_and_late_ones_only_go_to_history(client, factory):
    key = {"X-API-Key": factory.api_key("integrator")}
    for pm25, at in ((10, "2026-11-24T05:00:00Z"), (30, "2026-11-24T05:10:00Z")):
        _post_ok(client, key, reading(pm25=pm25, at=at))
    _post_ok(client, key, reading(pm25=20, at="2026-11-24T05:05:00Z"))  # late: history only
    _post_ok(client, key, reading(pm25=30, at="2026-11-24T05:10:00Z"))  # a repeat: dropped
    stored = client.get(f"/ngsi-ld/v1/entities/{ENTITY}", headers=key).json()
    assert stored[SDM_PM25]["value"] == 30
    assert _history_values(factory) == [10.0, 20.0, 30.0]


def _post_ok(client, key: dict[str, str], one: dict[str, Any]) -> None:
    response = client.post("/api/intake/readings", json={"readings": [one]}, headers=key)
    assert response.status_code == 200, response.text


def _history_values(factory) -> list[float]:
    from sqlalchemy import select

    from cityops.context.models import ContextAttributeInstance as H
    from cityops.context.models import ContextAttributeName as N

    with factory.db.session() as s:
        rows = s.execute(
            select(H.value_num)
            .join(N, N.id == H.attr_id)
            .where(N.iri == SDM_PM25)
            .order_by(H.observed_at)
        )
        return [v for (v,) in rows]


def test_a_commune_scoped_key_cannot_write_outside_its_commune(client, factory):
    province = factory.unit("68", "Lâm Đồng", level="province", geometry=square(107.0, 10.5, 2.0))
    phuthuy = factory.unit(
        "22924", "Phường Phú Thủy", parent=province, geometry=square(108.0, 10.9, 0.2)
    )
    key = {"X-API-Key": factory.api_key("integrator", phuthuy)}
    inside = reading(ENTITY)
    outside = reading(ENTITY + "-muine")
    outside["attrs"]["location"] = {"type": "Point", "coordinates": [108.28, 10.95]}
    response = client.post(
        "/api/intake/readings", json={"readings": [inside, outside]}, headers=key
    )
    assert response.status_code == 207, response.text
    assert response.json()["created"] == [ENTITY]
    [error] = response.json()["errors"]
    assert (error["index"], error["code"]) == (1, "Forbidden")


def test_readings_need_a_caller_who_may_write_data(client, factory):
    body = {"readings": [reading()]}
    assert client.post("/api/intake/readings", json=body).status_code == 401
    leader = factory.headers(factory.user("leader"))
    assert client.post("/api/intake/readings", json=body, headers=leader).status_code == 403


@pytest.mark.parametrize("body", [{"readings": "nope"}, {"data": []}, []])
def test_a_malformed_envelope_is_refused_whole(client, factory, body):
    key = {"X-API-Key": factory.api_key("integrator")}
    response = client.post("/api/intake/readings", json=body, headers=key)
    assert response.status_code == 422
    assert "detail" in response.json()
