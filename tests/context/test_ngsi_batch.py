"""Batch operations: bad entities are reported one by one and the good ones land."""

from __future__ import annotations

import pytest
from ngsi import air_quality, json_headers, link

BASE = "/ngsi-ld/v1"


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


def ids(client, key) -> list[str]:
    response = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "limit": 100},
        headers={**key, "Link": link()},
    )
    return sorted(e["id"] for e in response.json())


def test_batch_create_lands_the_good_entities_and_reports_the_bad_ones(client, key):
    body = [
        air_quality(1, 10),
        {"id": "urn:ngsi-ld:X:bad", "type": "X", "pm25": {"type": "Property"}},
        air_quality(2, 20),
        air_quality(1, 10),
    ]
    response = client.post(f"{BASE}/entityOperations/create", json=body, headers=json_headers(key))
    assert response.status_code == 207
    report = response.json()
    assert report["success"] == [
        "urn:ngsi-ld:AirQualityObserved:PT-001",
        "urn:ngsi-ld:AirQualityObserved:PT-002",
    ]
    errors = {e["entityId"]: e["error"]["type"].rsplit("/", 1)[-1] for e in report["errors"]}
    assert errors == {
        "urn:ngsi-ld:X:bad": "BadRequestData",
        "urn:ngsi-ld:AirQualityObserved:PT-001": "AlreadyExists",
    }
    assert ids(client, key) == [
        "urn:ngsi-ld:AirQualityObserved:PT-001",
        "urn:ngsi-ld:AirQualityObserved:PT-002",
    ]


def test_a_batch_reports_its_entities_in_the_order_it_sent_them(client, key):
    """The entities are written in id order (the lock order on PostgreSQL); the report keeps
    the request's order, and a repeated id is refused after its first creation."""
    body = [air_quality(7, 1), air_quality(5, 2), {"id": "bad id", "type": "X"}, air_quality(6, 3)]
    body.append(air_quality(5, 4))
    response = client.post(f"{BASE}/entityOperations/create", json=body, headers=json_headers(key))
    assert response.status_code == 207
    report = response.json()
    assert report["success"] == [f"urn:ngsi-ld:AirQualityObserved:PT-00{n}" for n in (7, 5, 6)]
    assert [e["entityId"] for e in report["errors"]] == [
        "bad id",
        "urn:ngsi-ld:AirQualityObserved:PT-005",
    ]
    got = client.get(
        f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-005", headers=json_headers(key)
    )
    assert got.json()["pm25"]["value"] == 2  # the first of the two


def test_batch_create_of_only_good_entities_answers_201_with_their_ids(client, key):
    response = client.post(
        f"{BASE}/entityOperations/create",
        json=[air_quality(3, 1), air_quality(4, 2)],
        headers=json_headers(key),
    )
    assert response.status_code == 201
    assert response.json() == [
        "urn:ngsi-ld:AirQualityObserved:PT-003",
        "urn:ngsi-ld:AirQualityObserved:PT-004",
    ]


def test_a_retried_upsert_batch_creates_no_duplicates(client, key):
    batch = [air_quality(n, n) for n in range(5, 15)]
    first = client.post(f"{BASE}/entityOperations/upsert", json=batch, headers=json_headers(key))
    assert first.status_code == 201 and len(first.json()) == 10
    retry = client.post(f"{BASE}/entityOperations/upsert", json=batch, headers=json_headers(key))
    assert retry.status_code == 204
    assert len(ids(client, key)) == 10


def test_upsert_with_update_keeps_the_other_attributes(client, key):
    client.post(
        f"{BASE}/entities",
        json=air_quality(20, 5, no2={"type": "Property", "value": 9}),
        headers=json_headers(key),
    )
    change = {
        "id": "urn:ngsi-ld:AirQualityObserved:PT-020",
        "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": 6},
    }
    response = client.post(
        f"{BASE}/entityOperations/upsert?options=update", json=[change], headers=json_headers(key)
    )
    assert response.status_code == 204
    entity = client.get(
        f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-020", headers={**key, "Link": link()}
    ).json()
    assert entity["pm25"]["value"] == 6 and entity["no2"]["value"] == 9


def test_batch_update_of_a_missing_entity_is_reported(client, key):
    client.post(f"{BASE}/entities", json=air_quality(21, 5), headers=json_headers(key))
    body = [
        {"id": "urn:ngsi-ld:AirQualityObserved:PT-021", "pm25": {"type": "Property", "value": 7}},
        {"id": "urn:ngsi-ld:AirQualityObserved:PT-999", "pm25": {"type": "Property", "value": 7}},
    ]
    response = client.post(f"{BASE}/entityOperations/update", json=body, headers=json_headers(key))
    assert response.status_code == 207
    assert response.json()["success"] == ["urn:ngsi-ld:AirQualityObserved:PT-021"]
    assert response.json()["errors"][0]["entityId"] == "urn:ngsi-ld:AirQualityObserved:PT-999"


def test_batch_delete_and_merge(client, key):
    client.post(
        f"{BASE}/entityOperations/create",
        json=[air_quality(30, 1), air_quality(31, 2)],
        headers=json_headers(key),
    )
    merged = client.post(
        f"{BASE}/entityOperations/merge",
        json=[{"id": "urn:ngsi-ld:AirQualityObserved:PT-031", "pm25": {"value": 3}}],
        headers=json_headers(key),
    )
    assert merged.status_code == 204
    deleted = client.post(
        f"{BASE}/entityOperations/delete",
        json=["urn:ngsi-ld:AirQualityObserved:PT-030", "urn:ngsi-ld:AirQualityObserved:PT-404"],
        headers=json_headers(key),
    )
    assert deleted.status_code == 207
    assert ids(client, key) == ["urn:ngsi-ld:AirQualityObserved:PT-031"]


def test_a_batch_that_is_not_an_array_is_bad_request(client, key):
    response = client.post(
        f"{BASE}/entityOperations/create", json=air_quality(1, 1), headers=json_headers(key)
    )
    assert response.status_code == 400


def test_every_created_entity_is_published_on_the_bus(client, key):
    seen = []
    client.app.state.bus.subscribe("context.entity_changed", seen.append)
    client.post(
        f"{BASE}/entityOperations/upsert",
        json=[air_quality(40, 1), air_quality(41, 2)],
        headers=json_headers(key),
    )
    client.portal.call(client.app.state.bus.drain)  # handlers run on the app's loop
    assert sorted(e.entity_id for e in seen) == [
        "urn:ngsi-ld:AirQualityObserved:PT-040",
        "urn:ngsi-ld:AirQualityObserved:PT-041",
    ]
    assert all(e.op == "create" and e.entity["type"].endswith("AirQualityObserved") for e in seen)


def test_batch_readings_fill_the_history_once_per_time_and_a_resent_time_replaces_its_value(
    client, key
):
    """Readings sent in batches are each kept once per observedAt (a batch sent again adds
    nothing), a reading resent for the same time with another value replaces it, and the
    entity's value index follows the last reading."""

    def readings(hour: int, bump: float) -> list[dict]:
        return [
            {
                "id": f"urn:ngsi-ld:AirQualityObserved:PT-{n:03d}",
                "type": "AirQualityObserved",
                "pm25": {
                    "type": "Property",
                    "value": n + bump,
                    "observedAt": f"2026-11-24T{hour:02d}:00:00Z",
                },
            }
            for n in range(40, 44)
        ]

    url = f"{BASE}/entityOperations/upsert?options=update"
    create = client.post(
        f"{BASE}/entityOperations/create", json=readings(1, 0), headers=json_headers(key)
    )
    assert create.status_code == 201
    for batch in (readings(2, 0.5), readings(2, 0.5), readings(3, 0.25), readings(2, 0.75)):
        assert client.post(url, json=batch, headers=json_headers(key)).status_code == 204
    for n in range(40, 44):
        history = client.get(
            f"{BASE}/temporal/entities/urn:ngsi-ld:AirQualityObserved:PT-{n:03d}",
            params={"attrs": "pm25", "options": "temporalValues"},
            headers={**key, "Link": link()},
        )
        assert history.status_code == 200, history.text
        got = sorted((t, v) for v, t in history.json()["pm25"]["values"])
        assert got == [
            ("2026-11-24T01:00:00Z", n),
            ("2026-11-24T02:00:00Z", n + 0.75),
            ("2026-11-24T03:00:00Z", n + 0.25),
        ]
    found = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "q": "pm25==42.75"},
        headers={**key, "Link": link()},
    )
    assert [e["id"] for e in found.json()] == ["urn:ngsi-ld:AirQualityObserved:PT-042"]


@pytest.mark.parametrize("twice", [False, True])  # True: a duplicate id takes the per-entity path
def test_batch_update_no_overwrite_reports_the_attributes_it_kept(client, key, twice):
    created = client.post(
        f"{BASE}/entityOperations/create",
        json=[air_quality(1, 10), air_quality(2, 20)],
        headers=json_headers(key),
    )
    assert created.status_code == 201
    no2 = {"type": "Property", "value": 7}
    body = [
        {"id": air_quality(1, 0)["id"], "type": "AirQualityObserved", "no2": no2}
        | {"pm25": {"type": "Property", "value": 99}},
        {"id": air_quality(2, 0)["id"], "type": "AirQualityObserved", "no2": no2},
    ]
    if twice:
        body.append(body[1])
    response = client.post(
        f"{BASE}/entityOperations/update",
        params={"options": "noOverwrite"},
        json=body,
        headers=json_headers(key),
    )
    assert response.status_code == 207, response.text
    report = response.json()
    assert report["success"][0] == air_quality(2, 0)["id"]
    error, *more = report["errors"]
    assert error["entityId"] == air_quality(1, 0)["id"]
    # sent twice, the second no2 of PT-002 finds the first one written: kept, and said so
    assert [e["entityId"] for e in more] == ([air_quality(2, 0)["id"]] if twice else [])
    assert error["error"]["type"].endswith("/AlreadyExists") and "pm25" in error["error"]["detail"]
    got = client.get(f"{BASE}/entities/{body[0]['id']}", headers={**key, "Link": link()}).json()
    assert got["pm25"]["value"] == 10 and got["no2"]["value"] == 7  # kept, and added
