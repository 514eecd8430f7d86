"""Entities with several types (GS CIM 009 4.16) and the type selection language (4.17),
as an NGSI-LD client uses them: create, read, query, add types, replace, /types, batches
and subscriptions."""

from __future__ import annotations

import time

import pytest
from ngsi import json_headers
from test_subscriptions import receiver  # noqa: F401  (a fixture)

BASE = "/ngsi-ld/v1"
B1 = "urn:ngsi-ld:Building:B1"
B2 = "urn:ngsi-ld:Building:B2"
V1 = "urn:ngsi-ld:Vehicle:V1"


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


def headers(key: dict[str, str]) -> dict[str, str]:
    return json_headers(key, context=None)


def create(client, key, entity_id: str, kind, **attrs) -> None:
    body = {"id": entity_id, "type": kind, "name": {"type": "Property", "value": entity_id}}
    answer = client.post(f"{BASE}/entities", json=body | attrs, headers=headers(key))
    assert answer.status_code == 201, answer.text


def types_of(client, key, entity_id: str):
    answer = client.get(f"{BASE}/entities/{entity_id}", headers=key)
    assert answer.status_code == 200, answer.text
    return answer.json()["type"]


def ids(client, key, selection: str) -> list[str]:
    answer = client.get(f"{BASE}/entities", params={"type": selection}, headers=key)
    assert answer.status_code == 200, answer.text
    return sorted(e["id"] for e in answer.json())


def test_an_entity_created_with_two_types_answers_both_and_is_found_by_either(client, key):
    create(client, key, B1, ["Building", "Vehicle"])
    create(client, key, B2, "Building")
    create(client, key, V1, "Vehicle")
    assert types_of(client, key, B1) == ["Building", "Vehicle"]
    assert types_of(client, key, B2) == "Building"  # one type stays a string
    assert ids(client, key, "Building") == [B1, B2]
    assert ids(client, key, "Vehicle") == [B1, V1]
    assert ids(client, key, "Building;Vehicle") == [B1]  # and
    assert ids(client, key, "Building,Vehicle") == [B1, B2, V1]  # or
    assert ids(client, key, "Building|Vehicle") == [B1, B2, V1]
    assert ids(client, key, "(Building;Vehicle)|Car") == [B1]
    assert ids(client, key, "Building;Car") == []
    bad = client.get(f"{BASE}/entities", params={"type": "(Building"}, headers=key)
    assert bad.status_code == 400 and "parenthesis" in bad.json()["detail"]


def test_a_single_typed_tenant_queries_as_before_and_a_second_type_shows_at_once(client, key):
    create(client, key, B2, "Building")
    assert ids(client, key, "Building;Vehicle") == []
    assert ids(client, key, "Vehicle") == []
    # the first entity with two types: the very next query looks past `type`
    create(client, key, B1, ["Building", "Vehicle"])
    assert ids(client, key, "Vehicle") == [B1]


def test_updates_add_types_and_a_replace_sets_them(client, key):
    create(client, key, B1, "Building")
    patch = client.patch(
        f"{BASE}/entities/{B1}/attrs", json={"type": "Vehicle"}, headers=headers(key)
    )
    assert patch.status_code == 204, patch.text
    assert types_of(client, key, B1) == ["Building", "Vehicle"]
    append = client.post(
        f"{BASE}/entities/{B1}/attrs", json={"type": ["Car", "Building"]}, headers=headers(key)
    )
    assert append.status_code == 204, append.text
    assert types_of(client, key, B1) == ["Building", "Vehicle", "Car"]
    merge = client.patch(f"{BASE}/entities/{B1}", json={"type": "Vehicle"}, headers=headers(key))
    assert merge.status_code == 204, merge.text
    assert types_of(client, key, B1) == ["Building", "Vehicle", "Car"]  # nothing removed
    body = {"type": "Car", "name": {"type": "Property", "value": "a car now"}}
    replaced = client.put(f"{BASE}/entities/{B1}", json=body, headers=headers(key))
    assert replaced.status_code == 204, replaced.text
    assert types_of(client, key, B1) == "Car"
    assert ids(client, key, "Building") == []


def test_batches_create_and_add_types(client, key):
    batch = [
        {"id": B1, "type": ["Building", "Vehicle"]},
        {"id": B2, "type": "Building"},
    ]
    created = client.post(f"{BASE}/entityOperations/create", json=batch, headers=headers(key))
    assert created.status_code == 201, created.text
    upsert = [{"id": B2, "type": ["Vehicle"], "name": {"type": "Property", "value": "x"}}]
    answer = client.post(
        f"{BASE}/entityOperations/upsert?options=update", json=upsert, headers=headers(key)
    )
    assert answer.status_code == 204, answer.text
    assert types_of(client, key, B2) == ["Building", "Vehicle"]
    update = [{"id": B1, "type": "Car"}]
    answer = client.post(f"{BASE}/entityOperations/update", json=update, headers=headers(key))
    assert answer.status_code == 204, answer.text
    assert types_of(client, key, B1) == ["Building", "Vehicle", "Car"]
    replace = [{"id": B1, "type": "Building"}]
    answer = client.post(f"{BASE}/entityOperations/upsert", json=replace, headers=headers(key))
    assert answer.status_code == 204, answer.text
    assert types_of(client, key, B1) == "Building"
    bad = [{"id": V1, "type": ["Vehicle", 3]}]
    answer = client.post(f"{BASE}/entityOperations/create", json=bad, headers=headers(key))
    assert answer.status_code == 400 or answer.json()["errors"][0]["entityId"] == V1


def test_types_list_each_type_of_an_entity(client, key):
    create(client, key, B1, ["Building", "Vehicle"])
    create(client, key, B2, "Building")
    listed = client.get(f"{BASE}/types", headers=key).json()
    assert listed["typeList"] == ["Building", "Vehicle"]
    vehicle = client.get(f"{BASE}/types/Vehicle", headers=key).json()
    assert vehicle["entityCount"] == 1
    assert client.get(f"{BASE}/types/Building", headers=key).json()["entityCount"] == 2


def test_a_subscription_to_the_second_type_is_notified(client, key, receiver):  # noqa: F811
    create(client, key, B1, ["Building", "Vehicle"])
    body = {"type": "Subscription", "entities": [{"type": "Vehicle"}]}
    body |= {"notification": {"endpoint": {"uri": receiver.url}}}
    made = client.post(f"{BASE}/subscriptions", json=body, headers=headers(key))
    assert made.status_code == 201, made.text
    patch = {"name": {"type": "Property", "value": "renamed"}}
    answer = client.patch(f"{BASE}/entities/{B1}/attrs", json=patch, headers=headers(key))
    assert answer.status_code == 204, answer.text
    got = receiver.wait_for(1)
    entity = got[0]["body"]["data"][0]
    assert entity["id"] == B1 and entity["type"] == ["Building", "Vehicle"]


def test_a_subscription_selects_types_with_the_selection_language(client, key, receiver):  # noqa: F811
    create(client, key, B1, ["Building", "Vehicle"])
    create(client, key, B2, "Building")
    made = []
    for selection in ("(Building|Tower)", "Building;Vehicle"):
        body = {"type": "Subscription", "entities": [{"type": selection}]}
        body |= {"notification": {"endpoint": {"uri": receiver.url}}}
        answer = client.post(f"{BASE}/subscriptions", json=body, headers=headers(key))
        assert answer.status_code == 201, answer.text
        made.append(answer.headers["Location"].rsplit("/", 1)[-1])
    shown = [client.get(f"{BASE}/subscriptions/{s}", headers=key).json() for s in made]
    assert [s["entities"][0]["type"] for s in shown] == ["Building,Tower", "Building;Vehicle"]
    patch = {"name": {"type": "Property", "value": "renamed"}}
    for entity_id in (B2, B1):
        answer = client.patch(
            f"{BASE}/entities/{entity_id}/attrs", json=patch, headers=headers(key)
        )
        assert answer.status_code == 204, answer.text
    got = receiver.wait_for(3)
    time.sleep(0.3)  # nothing else is coming
    by_sub = sorted((g["body"]["subscriptionId"], g["body"]["data"][0]["id"]) for g in receiver.got)
    assert by_sub == sorted([(made[0], B2), (made[0], B1), (made[1], B1)]), got
