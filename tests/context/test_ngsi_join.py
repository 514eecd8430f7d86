"""Linked entity retrieval (GS CIM 009 4.5.23): a client reads a station and, in the same
answer, the river it measures and the district that river runs through."""

from __future__ import annotations

import pytest
from ngsi import json_headers
from test_subscriptions import receiver  # noqa: F401  (a fixture)

BASE = "/ngsi-ld/v1"
STATION = "urn:ngsi-ld:WaterObserved:PT-W1"
RIVER = "urn:ngsi-ld:River:CaTy"
DISTRICT = "urn:ngsi-ld:District:PhanThiet"
HIDDEN = "urn:ngsi-ld:Sensor:elsewhere"


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


def rel(obj) -> dict:
    return {"type": "Relationship", "object": obj}


@pytest.fixture
def linked(client, key) -> None:
    entities = [
        {
            "id": STATION,
            "type": "WaterObserved",
            "height": {"type": "Property", "value": 2.4},
            "refRiver": rel(RIVER),
            "refSensors": {"type": "ListRelationship", "objectList": [{"object": HIDDEN}]},
        },
        {"id": RIVER, "type": "River", "name": {"type": "Property", "value": "Cà Ty"}}
        | {"crosses": rel(DISTRICT), "refStation": rel(STATION)},
        {"id": DISTRICT, "type": "District", "name": {"type": "Property", "value": "Phan Thiết"}},
    ]
    answer = client.post(
        f"{BASE}/entityOperations/create", json=entities, headers=json_headers(key, context=None)
    )
    assert answer.status_code == 201, answer.text


def get(client, key, path: str, **params):
    answer = client.get(f"{BASE}{path}", params=params, headers=key)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_inline_puts_the_linked_entity_inside_the_relationship(client, key, linked):
    station = get(client, key, f"/entities/{STATION}", join="inline")
    river = station["refRiver"]["entity"]
    assert river["id"] == RIVER and river["name"]["value"] == "Cà Ty"
    assert "entity" not in river["crosses"]  # one hop by default
    assert "entityList" not in station["refSensors"]  # a link to no entity stays a link
    deeper = get(client, key, f"/entities/{STATION}", join="inline", joinLevel="2")
    assert deeper["refRiver"]["entity"]["crosses"]["entity"]["name"]["value"] == "Phan Thiết"
    # the river links back to the station: the answer stays finite
    assert deeper["refRiver"]["entity"]["refStation"]["entity"]["id"] == STATION


def test_flat_answers_each_entity_once_beside_the_one_asked_for(client, key, linked):
    flat = get(client, key, f"/entities/{STATION}", join="flat", joinLevel="2")
    assert [e["id"] for e in flat] == [STATION, RIVER, DISTRICT]
    assert "entity" not in flat[0]["refRiver"]


def test_queries_join_too_and_system_times_follow_the_options(client, key, linked):
    rows = get(client, key, "/entities", type="WaterObserved", join="inline", options="sysAttrs")
    assert "createdAt" in rows[0]["refRiver"]["entity"]
    flat = get(client, key, "/entities", type="WaterObserved,River", join="flat")
    assert sorted(e["id"] for e in flat) == sorted([STATION, RIVER, DISTRICT])


def test_a_bad_join_is_a_bad_request(client, key, linked):
    for params in ({"join": "sideways"}, {"join": "inline", "joinLevel": "0"}):
        answer = client.get(f"{BASE}/entities/{STATION}", params=params, headers=key)
        assert answer.status_code == 400, params


def test_a_subscription_notifies_the_linked_entities(client, key, linked, receiver):  # noqa: F811
    notification = {"endpoint": {"uri": receiver.url}, "join": "inline", "joinLevel": 2}
    body = {"type": "Subscription", "entities": [{"type": "WaterObserved"}]}
    made = client.post(
        f"{BASE}/subscriptions",
        json=body | {"notification": notification},
        headers=json_headers(key, context=None),
    )
    assert made.status_code == 201, made.text
    shown = client.get(made.headers["Location"].replace("/ngsi-ld/v1", BASE), headers=key).json()
    assert shown["notification"]["join"] == "inline" and shown["notification"]["joinLevel"] == 2
    patch = {"height": {"type": "Property", "value": 3.1}}
    answer = client.patch(
        f"{BASE}/entities/{STATION}/attrs", json=patch, headers=json_headers(key, context=None)
    )
    assert answer.status_code == 204, answer.text
    station = receiver.wait_for(1)[0]["body"]["data"][0]
    river = station["refRiver"]["entity"]
    assert river["id"] == RIVER and river["crosses"]["entity"]["id"] == DISTRICT
