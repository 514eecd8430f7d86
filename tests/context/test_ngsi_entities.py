"""An integrator uses the NGSI-LD entity API as an NGSI-LD client would."""

from __future__ import annotations

import orjson
import pytest
from ngsi import CORE, ENV_CONTEXT, air_quality, json_headers, link
from sqlalchemy import func, select

from cityops.context.models import ContextAttributeInstance

BASE = "/ngsi-ld/v1"


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


def problem_type(response) -> str:
    return response.json()["type"].rsplit("/", 1)[-1]


def test_integrator_creates_reads_and_deletes_an_air_quality_station(client, key):
    created = client.post(f"{BASE}/entities", json=air_quality(1, 35.5), headers=json_headers(key))
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-001"

    got = client.get(
        f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-001", headers={**key, "Link": link()}
    )
    assert got.status_code == 200
    entity = got.json()
    assert entity["type"] == "AirQualityObserved"
    assert entity["pm25"] == {
        "type": "Property",
        "value": 35.5,
        "unitCode": "GQ",
        "observedAt": "2026-11-24T05:00:00Z",
    }
    assert entity["location"]["value"]["coordinates"] == [108.10, 10.93]
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in got.headers["Link"]

    assert (
        client.delete(
            f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-001", headers=key
        ).status_code
        == 204
    )
    gone = client.get(f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-001", headers=key)
    assert gone.status_code == 404 and problem_type(gone) == "ResourceNotFound"


def test_without_the_context_terms_come_back_expanded_and_with_it_compacted(client, key):
    client.post(f"{BASE}/entities", json=air_quality(2, 12), headers=json_headers(key))
    bare = client.get(f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-002", headers=key).json()
    assert bare["type"] == "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"
    assert "https://smartdatamodels.org/dataModel.Environment/pm25" in bare
    assert "location" in bare  # a core term stays short


def test_ld_json_carries_the_context_in_the_body_both_ways(client, key):
    body = air_quality(3, 20) | {"@context": [ENV_CONTEXT, CORE]}
    response = client.post(
        f"{BASE}/entities",
        content=orjson.dumps(body),
        headers={**key, "Content-Type": "application/ld+json"},
    )
    assert response.status_code == 201, response.text
    got = client.get(
        f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-003",
        headers={**key, "Accept": "application/ld+json", "Link": link()},
    )
    assert got.headers["content-type"].startswith("application/ld+json")
    assert got.json()["@context"] == ENV_CONTEXT and got.json()["pm25"]["value"] == 20


def test_creating_the_same_entity_twice_is_already_exists(client, key):
    assert (
        client.post(
            f"{BASE}/entities", json=air_quality(4, 1), headers=json_headers(key)
        ).status_code
        == 201
    )
    again = client.post(f"{BASE}/entities", json=air_quality(4, 1), headers=json_headers(key))
    assert again.status_code == 409 and problem_type(again) == "AlreadyExists"


@pytest.mark.parametrize(
    "entity, says",
    [
        ({"type": "AirQualityObserved"}, "id"),
        ({"id": "not a uri", "type": "AirQualityObserved"}, "URI"),
        ({"id": "urn:ngsi-ld:X:1"}, "type"),
        (
            {
                "id": "urn:ngsi-ld:X:1",
                "type": "X",
                "location": {
                    "type": "GeoProperty",
                    "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
                },
            },
            "location",
        ),
        (
            {
                "id": "urn:ngsi-ld:X:1",
                "type": "X",
                "pm25": {"type": "Property", "value": 3, "observedAt": "yesterday"},
            },
            "observedAt",
        ),
        ({"id": "urn:ngsi-ld:X:1", "type": "X", "owner": {"type": "Relationship"}}, "object"),
        (
            {"id": "urn:ngsi-ld:X:1", "type": "X", "pm25": {"type": "Propertee", "value": 3}},
            "unknown type",
        ),
    ],
)
def test_bad_entities_get_bad_request_data_that_says_what_is_wrong(client, key, entity, says):
    response = client.post(f"{BASE}/entities", json=entity, headers=json_headers(key))
    assert response.status_code == 400
    assert problem_type(response) == "BadRequestData"
    assert says in response.json()["detail"]


def test_malformed_json_wrong_content_type_and_oversize_bodies_are_refused(client, key):
    bad_json = client.post(f"{BASE}/entities", content=b'{"id": ', headers=json_headers(key))
    assert bad_json.status_code == 400 and problem_type(bad_json) == "InvalidRequest"
    wrong_type = client.post(
        f"{BASE}/entities", content=b"id=1", headers={**key, "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    client.app.state.settings.ngsi_ld.max_body_bytes = 2048
    huge = air_quality(5, 1) | {"note": {"type": "Property", "value": "x" * 5000}}
    too_big = client.post(f"{BASE}/entities", json=huge, headers=json_headers(key))
    assert too_big.status_code == 413


def test_context_in_body_with_plain_json_is_refused(client, key):
    body = air_quality(6, 1) | {"@context": ENV_CONTEXT}
    response = client.post(f"{BASE}/entities", json=body, headers=json_headers(key, context=None))
    assert response.status_code == 400 and "Link" in response.json()["detail"]


def test_unknown_remote_context_is_not_fetched_when_remote_contexts_are_off(client, key):
    headers = json_headers(key, context="https://example.org/unknown-context.jsonld")
    response = client.post(f"{BASE}/entities", json=air_quality(7, 1), headers=headers)
    assert response.status_code == 503 and problem_type(response) == "LdContextNotAvailable"


def test_key_values_sys_attrs_and_attribute_selection(client, key):
    client.post(
        f"{BASE}/entities",
        json=air_quality(8, 40, no2={"type": "Property", "value": 21}),
        headers=json_headers(key),
    )
    url = f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-008"
    kv = client.get(
        url, params={"options": "keyValues", "attrs": "pm25"}, headers={**key, "Link": link()}
    ).json()
    assert kv == {
        "id": "urn:ngsi-ld:AirQualityObserved:PT-008",
        "type": "AirQualityObserved",
        "pm25": 40,
    }
    sys = client.get(url, params={"options": "sysAttrs"}, headers={**key, "Link": link()}).json()
    assert sys["createdAt"].endswith("Z") and "modifiedAt" in sys["pm25"]
    picked = client.get(url, params={"pick": "id,no2"}, headers={**key, "Link": link()}).json()
    assert set(picked) == {"id", "no2"}


def test_append_update_and_partial_update_of_attributes(client, key):
    client.post(f"{BASE}/entities", json=air_quality(9, 10), headers=json_headers(key))
    url = f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-009"
    appended = client.post(
        f"{url}/attrs", json={"no2": {"type": "Property", "value": 30}}, headers=json_headers(key)
    )
    assert appended.status_code == 204
    partial = client.patch(
        f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-009/attrs",
        json={"pm25": {"type": "Property", "value": 11}, "pm10": {"type": "Property", "value": 5}},
        headers=json_headers(key),
    )
    assert partial.status_code == 207
    report = partial.json()
    assert report["updated"] == ["pm25"] and report["notUpdated"][0]["attributeName"] == "pm10"
    # PATCH /attrs replaced pm25 whole; give it a unit again, then patch only its value
    client.post(
        f"{url}/attrs",
        json={"pm25": {"type": "Property", "value": 11, "unitCode": "GQ"}},
        headers=json_headers(key),
    )
    one = client.patch(f"{url}/attrs/pm25", json={"value": 12.5}, headers=json_headers(key))
    assert one.status_code == 204
    entity = client.get(url, headers={**key, "Link": link()}).json()
    assert entity["pm25"]["value"] == 12.5 and entity["pm25"]["unitCode"] == "GQ"
    assert entity["no2"]["value"] == 30 and "pm10" not in entity
    assert client.delete(f"{url}/attrs/no2", headers={**key, "Link": link()}).status_code == 204
    assert "no2" not in client.get(url, headers={**key, "Link": link()}).json()


def test_merge_patch_merges_members_and_null_deletes(client, key):
    client.post(
        f"{BASE}/entities",
        json=air_quality(10, 10, no2={"type": "Property", "value": 3}),
        headers=json_headers(key),
    )
    url = f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-010"
    response = client.patch(
        url,
        json={
            "pm25": {"value": 99},
            "no2": "urn:ngsi-ld:null",
            "so2": {"type": "Property", "value": 4},
        },
        headers=json_headers(key),
    )
    assert response.status_code == 204, response.text
    entity = client.get(url, headers={**key, "Link": link()}).json()
    assert entity["pm25"]["value"] == 99 and entity["pm25"]["unitCode"] == "GQ"
    assert "no2" not in entity and entity["so2"]["value"] == 4


def test_replace_entity_keeps_only_the_new_attributes(client, key):
    client.post(
        f"{BASE}/entities",
        json=air_quality(11, 10, no2={"type": "Property", "value": 3}),
        headers=json_headers(key),
    )
    url = f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-011"
    body = {"type": "AirQualityObserved", "pm25": {"type": "Property", "value": 1}}
    assert client.put(url, json=body, headers=json_headers(key)).status_code == 204
    assert set(client.get(url, headers={**key, "Link": link()}).json()) == {"id", "type", "pm25"}


def test_every_change_of_a_reading_is_kept_in_history(client, key, database):
    client.post(f"{BASE}/entities", json=air_quality(12, 10), headers=json_headers(key))
    url = f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-012/attrs"
    for i, value in enumerate((11, 12, 13)):
        body = {
            "pm25": {"type": "Property", "value": value, "observedAt": f"2026-11-24T06:0{i}:00Z"}
        }
        assert client.patch(url, json=body, headers=json_headers(key)).status_code == 204
    with database.session() as s:
        pm25 = s.scalars(
            select(ContextAttributeInstance.value_num).order_by(
                ContextAttributeInstance.observed_at
            )
        ).all()
    assert [v for v in pm25 if v is not None] == [10, 11, 12, 13]


def test_tenants_do_not_see_each_other(client, key):
    headers = json_headers(key, **{"NGSILD-Tenant": "phanthiet"})
    assert (
        client.post(f"{BASE}/entities", json=air_quality(13, 1), headers=headers).status_code == 201
    )
    url = f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-013"
    assert client.get(url, headers={**key, "NGSILD-Tenant": "phanthiet"}).status_code == 200
    assert client.get(url, headers=key).status_code == 404


def test_without_credentials_the_api_answers_401_problem_details(client):
    response = client.get(f"{BASE}/entities", params={"type": "AirQualityObserved"})
    assert response.status_code == 401 and problem_type(response) == "Unauthorized"


def test_open_access_serves_anonymous_clients_when_the_operator_turns_it_on(settings, database):
    from fastapi.testclient import TestClient

    from cityops.app import create_app

    settings.ngsi_ld.open_access = True
    with TestClient(create_app(settings, db=database)) as anonymous:
        created = anonymous.post(
            f"{BASE}/entities", json=air_quality(14, 1), headers=json_headers({})
        )
        assert created.status_code == 201


def test_leader_may_read_but_not_write_entities(client, factory, key):
    leader = factory.headers(factory.user("leader"))
    client.post(f"{BASE}/entities", json=air_quality(15, 1), headers=json_headers(key))
    assert (
        client.get(
            f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-015", headers=leader
        ).status_code
        == 200
    )
    response = client.post(
        f"{BASE}/entities", json=air_quality(16, 1), headers=json_headers(leader)
    )
    assert response.status_code == 403 and problem_type(response) == "Forbidden"


def test_types_and_attributes_describe_what_is_stored(client, key, database):
    client.post(f"{BASE}/entities", json=air_quality(17, 1), headers=json_headers(key))
    ctx = {**key, "Link": link()}
    types = client.get(f"{BASE}/types", headers=ctx).json()
    assert types["typeList"] == ["AirQualityObserved"]
    info = client.get(f"{BASE}/types/AirQualityObserved", headers=ctx).json()
    assert info["entityCount"] == 1 and {a["attributeName"] for a in info["attributeDetails"]} == {
        "pm25",
        "location",
    }
    attr = client.get(f"{BASE}/attributes/pm25", headers=ctx).json()
    assert attr["attributeCount"] == 1 and attr["typeNames"] == ["AirQualityObserved"]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(ContextAttributeInstance)) == 2
