"""Behaviours the ETSI NGSI-LD conformance suite (GS CIM 009) checks, as an NGSI-LD client
sends them: trailing-slash resource paths, NGSI-LD Null deleting attributes, datasetId on
single-attribute operations, ids checked before any lookup, per-entity @context in batches."""

from __future__ import annotations

from urllib.parse import quote

import orjson
import pytest
from ngsi import CORE, ENV_CONTEXT, air_quality, json_headers, link

BASE = "/ngsi-ld/v1"
PT1 = "urn:ngsi-ld:AirQualityObserved:PT-001"
NULL = "urn:ngsi-ld:null"


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


def kind(response) -> str:
    return response.json()["type"].rsplit("/", 1)[-1]


def entity(client, key, entity_id: str = PT1) -> dict:
    response = client.get(f"{BASE}/entities/{entity_id}", headers={**key, "Link": link()})
    assert response.status_code == 200, response.text
    return response.json()


def station(client, key, **attrs) -> None:
    body = air_quality(1, 35.5, **attrs)
    response = client.post(f"{BASE}/entities", json=body, headers=json_headers(key))
    assert response.status_code == 201, response.text


def test_collections_answer_with_the_trailing_slash_the_spec_writes(client, key):
    created = client.post(f"{BASE}/entities/", json=air_quality(1, 3), headers=json_headers(key))
    assert created.status_code == 201, created.text
    listed = client.get(
        f"{BASE}/entities/", params={"type": "AirQualityObserved"}, headers={**key, "Link": link()}
    )
    assert [e["id"] for e in listed.json()] == [PT1]
    appended = client.post(
        f"{BASE}/entities/{PT1}/attrs/",
        json={"no2": {"type": "Property", "value": 9}},
        headers=json_headers(key),
    )
    assert appended.status_code == 204, appended.text
    assert entity(client, key)["no2"]["value"] == 9
    assert client.get(f"{BASE}/types/", headers=key).status_code == 200
    # PUT of /entities/ names an entity with an empty id: refused, nothing replaced
    empty = client.put(f"{BASE}/entities/", json={"type": "X"}, headers=json_headers(key))
    assert empty.status_code == 400 and kind(empty) == "BadRequestData"


def test_an_id_that_is_not_a_uri_is_bad_request_data_not_not_found(client, key):
    for method, path in [
        ("GET", f"{BASE}/entities/notauri"),
        ("DELETE", f"{BASE}/entities/notauri"),
        ("PATCH", f"{BASE}/entities/notauri/attrs"),
        ("DELETE", f"{BASE}/entities/notauri/attrs/pm25"),
        ("GET", f"{BASE}/subscriptions/notauri"),
        ("DELETE", f"{BASE}/temporal/entities/notauri"),
    ]:
        body = orjson.dumps({"pm25": {"type": "Property", "value": 1}})
        headers = json_headers(key) if method == "PATCH" else key
        response = client.request(method, path, content=body, headers=headers)
        assert response.status_code == 400, (method, path, response.text)
        assert kind(response) == "BadRequestData"


@pytest.mark.parametrize(
    ("name", "stored", "null"),
    [
        ("name", {"type": "Property", "value": "Trạm A"}, {"type": "Property", "value": NULL}),
        (
            "refDevice",
            {"type": "Relationship", "object": "urn:ngsi-ld:Device:1"},
            {"type": "Relationship", "object": NULL},
        ),
        (
            "location",
            {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [108.1, 10.9]}},
            {"type": "GeoProperty", "value": NULL},
        ),
        (
            "street",
            {"type": "LanguageProperty", "languageMap": {"vi": "Trần Hưng Đạo"}},
            {"type": "LanguageProperty", "languageMap": {"@none": NULL}},
        ),
    ],
)
def test_ngsi_ld_null_deletes_the_attribute_in_every_update_form(client, key, name, stored, null):
    for form in ("attrs", "attr", "merge"):
        client.delete(f"{BASE}/entities/{PT1}", headers=key)
        station(client, key, **{name: stored})
        assert name in entity(client, key)
        if form == "attrs":
            url, body = f"{BASE}/entities/{PT1}/attrs", {name: null}
        elif form == "attr":
            url, body = f"{BASE}/entities/{PT1}/attrs/{name}", null
        else:
            url, body = f"{BASE}/entities/{PT1}", {name: null}
        response = client.patch(url, json=body, headers=json_headers(key))
        assert response.status_code == 204, (form, response.text)
        after = entity(client, key)
        assert name not in after, (form, after.get(name))
        assert after["pm25"]["value"] == 35.5  # the rest stays


def test_a_null_for_an_attribute_the_entity_lacks_is_reported_not_updated(client, key):
    station(client, key)
    response = client.patch(
        f"{BASE}/entities/{PT1}/attrs",
        json={"no2": {"type": "Property", "value": NULL}, "pm25": {"type": "Property", "value": 7}},
        headers=json_headers(key),
    )
    assert response.status_code == 207, response.text
    assert [n["attributeName"] for n in response.json()["notUpdated"]] == ["no2"]
    assert entity(client, key)["pm25"]["value"] == 7


def test_single_attribute_operations_address_the_instance_of_their_dataset_id(client, key):
    gps, radar = "urn:ngsi-ld:Dataset:gps", "urn:ngsi-ld:Dataset:radar"
    body = {
        "id": "urn:ngsi-ld:Vehicle:V1",
        "type": "Vehicle",
        "speed": [
            {"type": "Property", "value": 50, "datasetId": gps},
            {"type": "Property", "value": 48, "datasetId": radar},
        ],
    }
    assert client.post(f"{BASE}/entities", json=body, headers=json_headers(key)).status_code == 201
    url = f"{BASE}/entities/urn:ngsi-ld:Vehicle:V1/attrs/speed"

    patched = client.patch(url, json={"value": 56, "datasetId": gps}, headers=json_headers(key))
    assert patched.status_code == 204, patched.text
    replaced = client.put(
        url, json={"type": "Property", "value": 40, "datasetId": radar}, headers=json_headers(key)
    )
    assert replaced.status_code == 204, replaced.text
    speeds = {
        i["datasetId"]: i["value"] for i in entity(client, key, "urn:ngsi-ld:Vehicle:V1")["speed"]
    }
    assert speeds == {gps: 56, radar: 40}

    missing = client.patch(
        url, json={"value": 1, "datasetId": "urn:ngsi-ld:Dataset:none"}, headers=json_headers(key)
    )
    assert missing.status_code == 404
    deleted = client.patch(
        url, json={"type": "Property", "value": NULL, "datasetId": gps}, headers=json_headers(key)
    )
    assert deleted.status_code == 204
    left = entity(client, key, "urn:ngsi-ld:Vehicle:V1")["speed"]
    assert [i["datasetId"] for i in (left if isinstance(left, list) else [left])] == [radar]


def test_merge_of_a_dataset_instance_changes_that_instance_only(client, key):
    fr, de = "urn:ngsi-ld:Dataset:fr", "urn:ngsi-ld:Dataset:de"
    body = {
        "id": "urn:ngsi-ld:Building:B1",
        "type": "Building",
        "name": [
            {"type": "Property", "value": "Tour", "datasetId": fr},
            {"type": "Property", "value": "Turm", "datasetId": de},
        ],
    }
    assert client.post(f"{BASE}/entities", json=body, headers=json_headers(key)).status_code == 201
    merge = {"name": {"type": "Property", "value": NULL, "datasetId": fr}}
    url = f"{BASE}/entities/urn:ngsi-ld:Building:B1"
    assert client.patch(url, json=merge, headers=json_headers(key)).status_code == 204
    name = entity(client, key, "urn:ngsi-ld:Building:B1")["name"]
    assert (name if isinstance(name, list) else [name]) == [
        {"type": "Property", "value": "Turm", "datasetId": de}
    ]


def test_partial_update_cannot_turn_a_property_into_a_relationship(client, key):
    station(client, key)
    response = client.patch(
        f"{BASE}/entities/{PT1}/attrs/pm25",
        json={"type": "Relationship", "object": "urn:ngsi-ld:Device:1"},
        headers=json_headers(key),
    )
    assert response.status_code == 400 and kind(response) == "BadRequestData"
    assert entity(client, key)["pm25"]["type"] == "Property"


def test_replacing_an_attribute_the_entity_lacks_is_not_found(client, key):
    station(client, key)
    response = client.put(
        f"{BASE}/entities/{PT1}/attrs/no2",
        json={"type": "Property", "value": 3},
        headers=json_headers(key),
    )
    assert response.status_code == 404 and kind(response) == "ResourceNotFound"


def test_a_location_that_is_not_geometry_is_refused_not_a_server_error(client, key):
    body = air_quality(1, 1) | {"location": {"type": "Property", "value": 7}}
    response = client.post(f"{BASE}/entities", json=body, headers=json_headers(key))
    assert response.status_code == 400 and kind(response) == "BadRequestData"
    # a Property holding GeoJSON (as Smart Data Models' examples write it) is a GeoProperty
    ok = client.post(f"{BASE}/entities", json=air_quality(2, 1), headers=json_headers(key))
    assert ok.status_code == 201


def test_batch_items_carry_their_own_context_and_fail_alone(client, key):
    ld = {**key, "Content-Type": "application/ld+json"}
    good = air_quality(1, 10) | {"@context": [ENV_CONTEXT, CORE]}
    bare = air_quality(2, 20)  # ld+json without an @context: this one alone is refused
    other = {
        "id": "urn:ngsi-ld:Building:B9",
        "type": "Building",
        "@context": CORE,
        "name": {"type": "Property", "value": "Nhà văn hoá"},
    }
    response = client.post(
        f"{BASE}/entityOperations/create", content=orjson.dumps([good, bare, other]), headers=ld
    )
    assert response.status_code == 207, response.text
    assert sorted(response.json()["success"]) == [PT1, "urn:ngsi-ld:Building:B9"]
    assert [e["entityId"] for e in response.json()["errors"]] == [bare["id"]]
    assert entity(client, key)["pm25"]["value"] == 10  # expanded with its own context
    # a delete batch in application/ld+json is an array of ids: no @context to carry
    deleted = client.post(
        f"{BASE}/entityOperations/delete",
        content=orjson.dumps([PT1, "urn:ngsi-ld:Building:B9"]),
        headers=ld,
    )
    assert deleted.status_code == 204, deleted.text


def test_a_query_body_of_the_wrong_shape_is_refused_not_a_server_error(client, key):
    for body in (
        {"type": "Query", "entities": [{"type": "Building", "id": ["urn:a:1", "urn:a:2"]}]},
        {"type": "Query", "entities": [{"type": "Building"}], "q": 42},
        {"type": "Query", "entities": []},
        {"type": "Query", "entities": [{"type": "Building"}], "attrs": []},
    ):
        response = client.post(
            f"{BASE}/entityOperations/query", json=body, headers=json_headers(key)
        )
        assert response.status_code == 400, (body, response.text)


def test_attrs_keeps_only_the_entities_holding_one_of_them(client, key):
    station(client, key, no2={"type": "Property", "value": 4})
    other = air_quality(2, 20)
    assert client.post(f"{BASE}/entities", json=other, headers=json_headers(key)).status_code == 201
    response = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "attrs": "no2"},
        headers={**key, "Link": link()},
    )
    assert [e["id"] for e in response.json()] == [PT1]


def test_retrieving_only_attributes_the_entity_lacks_is_not_found(client, key):
    station(client, key)
    url = f"{BASE}/entities/{PT1}"
    missing = client.get(url, params={"attrs": "no2"}, headers={**key, "Link": link()})
    assert missing.status_code == 404 and kind(missing) == "ResourceNotFound"
    found = client.get(url, params={"attrs": "no2,pm25"}, headers={**key, "Link": link()})
    assert found.status_code == 200 and "pm25" in found.json() and "location" not in found.json()


def test_attribute_patches_accept_merge_patch_json(client, key):
    station(client, key)
    headers = {**key, "Content-Type": "application/merge-patch+json", "Link": link()}
    response = client.patch(
        f"{BASE}/entities/{PT1}/attrs/pm25", content=orjson.dumps({"value": 8}), headers=headers
    )
    assert response.status_code == 204, response.text
    assert entity(client, key)["pm25"]["value"] == 8


def test_a_default_vocab_name_the_client_context_binds_elsewhere_stays_unambiguous(client, key):
    # created without a context: almostFull is the default vocabulary's
    body = {"id": "urn:ngsi-ld:Parking:P1", "type": "Parking", "almostFull": False}
    assert (
        client.post(f"{BASE}/entities", json=body, headers=json_headers(key, None)).status_code
        == 201
    )
    # read with an inline context where almostFull means another IRI
    response = client.post(
        f"{BASE}/entityOperations/query",
        content=orjson.dumps(
            {
                "type": "Query",
                "entities": [{"type": "Parking"}],
                "@context": [{"almostFull": "https://example.org/parking#almostFull"}, CORE],
            }
        ),
        headers={**key, "Content-Type": "application/ld+json"},
    )
    assert response.status_code == 200, response.text
    (got,) = response.json()
    assert "almostFull" not in got
    assert got["ngsi-ld:default-context/almostFull"]["value"] is False


def test_a_type_named_by_its_encoded_iri_is_found(client, key):
    station(client, key)
    iri = "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"
    response = client.get(f"{BASE}/types/{quote(iri, safe='')}", headers=key)
    assert response.status_code == 200, response.text
    assert response.json()["typeName"] in (iri, "AirQualityObserved")


def test_unknown_query_parameters_and_options_are_invalid_requests(client, key):
    station(client, key)
    headers = {**key, "Link": link()}
    for path, params in [
        (f"{BASE}/entities", {"type": "AirQualityObserved", "invalidParams": "x"}),
        (f"{BASE}/entities", {"type": "AirQualityObserved", "options": "keyValues,invalid"}),
        (f"{BASE}/entities/{PT1}", {"format": "invalidFormat"}),
        (f"{BASE}/entities/urn:ngsi-ld:X:missing", {"options": "invalidOptions"}),
    ]:
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 400, (params, response.text)
        assert kind(response) == "InvalidRequest"
    fine = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "options": "keyValues,sysAttrs", "count": "true"},
        headers=headers,
    )
    assert fine.status_code == 200 and fine.headers["NGSILD-Results-Count"] == "1"


def test_pick_and_omit_follow_the_projection_grammar(client, key):
    station(client, key, no2={"type": "Property", "value": 4})
    url, headers = f"{BASE}/entities/{PT1}", {**key, "Link": link()}
    either = client.get(url, params={"pick": "id,pm25|no2"}, headers=headers)
    assert either.status_code == 200 and set(either.json()) == {"id", "pm25", "no2"}
    both = client.get(url, params={"pick": "id,pm25,no2", "omit": "no2"}, headers=headers)
    assert both.status_code == 400
    for params in (
        {"pick": "pm25", "attrs": "pm25"},
        {"omit": "pm25", "attrs": "no2"},
        {"pick": "id;pm25"},
        {"pick": "id,,pm25"},
        {"pick": "id,refDevice{name}"},
        {"pick": "id,refDevice{"},
    ):
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 400, (params, response.text)
        assert kind(response) == "BadRequestData"


def test_upsert_replace_replaces_scope_and_drops_old_dataset_instances(client, key):
    first = air_quality(1, 10) | {
        "scope": "/PhanThiet/Old",
        "no2": [
            {"type": "Property", "value": 4, "datasetId": "urn:ngsi-ld:Dataset:a"},
            {"type": "Property", "value": 5, "datasetId": "urn:ngsi-ld:Dataset:b"},
        ],
    }
    assert client.post(f"{BASE}/entities", json=first, headers=json_headers(key)).status_code == 201
    again = [air_quality(1, 11) | {"scope": "/PhanThiet/New"}, air_quality(2, 12)]
    response = client.post(f"{BASE}/entityOperations/upsert", json=again, headers=json_headers(key))
    assert response.status_code == 201, response.text  # PT-002 was created
    got = entity(client, key)
    assert got["scope"] == "/PhanThiet/New" and "no2" not in got
    assert got["pm25"]["value"] == 11


def test_scope_is_appended_updated_and_deleted_with_the_attributes(client, key):
    station(client, key)
    attrs_url = f"{BASE}/entities/{PT1}/attrs"
    untouched = client.patch(attrs_url, json={"scope": "/PhanThiet/A"}, headers=json_headers(key))
    assert untouched.status_code == 207  # update: the entity has no scope to update
    assert [n["attributeName"] for n in untouched.json()["notUpdated"]] == ["scope"]
    assert "scope" not in entity(client, key)

    set_ = client.post(attrs_url, json={"scope": "/PhanThiet/A"}, headers=json_headers(key))
    assert set_.status_code == 204 and entity(client, key)["scope"] == "/PhanThiet/A"
    kept = client.post(
        attrs_url,
        params={"options": "noOverwrite"},
        json={"scope": "/PhanThiet/B"},
        headers=json_headers(key),
    )
    assert kept.status_code == 204
    assert entity(client, key)["scope"] == ["/PhanThiet/A", "/PhanThiet/B"]
    replaced = client.patch(attrs_url, json={"scope": "/MuiNe"}, headers=json_headers(key))
    assert replaced.status_code == 204 and entity(client, key)["scope"] == "/MuiNe"

    bad = client.post(attrs_url, json={"scope": "/a//b"}, headers=json_headers(key))
    assert bad.status_code == 400
    assert client.delete(f"{attrs_url}/scope", headers=key).status_code == 204
    assert "scope" not in entity(client, key)
    assert client.delete(f"{attrs_url}/scope", headers=key).status_code == 404


def test_writes_and_other_reads_refuse_unknown_query_parameters_before_the_body(client, key):
    for method, path in [
        ("POST", f"{BASE}/entities"),
        ("POST", f"{BASE}/subscriptions"),
        ("POST", f"{BASE}/temporal/entities"),
        ("GET", f"{BASE}/subscriptions"),
        ("GET", f"{BASE}/temporal/entities"),
    ]:
        response = client.request(
            method,
            path,
            params={"invalidParams": "invalidValue"},
            content=b"{}",
            headers={**key, "Content-Type": "application/ld+json"},
        )
        assert response.status_code == 400, (method, path, response.text)
        assert kind(response) == "InvalidRequest", (method, path)


def test_a_projection_that_keeps_nothing_is_not_found_and_invalid_names_are_refused(client, key):
    station(client, key)
    url, headers = f"{BASE}/entities/{PT1}", {**key, "Link": link()}
    assert client.get(url, params={"pick": "no2"}, headers=headers).status_code == 404
    listed = client.get(
        f"{BASE}/entities", params={"type": "AirQualityObserved", "pick": "no2"}, headers=headers
    )
    assert listed.status_code == 200 and listed.json() == []
    for name in ("@invalid", "scope"):
        response = client.put(
            f"{url}/attrs/{name}", json={"type": "Property", "value": 1}, headers=json_headers(key)
        )
        assert response.status_code == 400, (name, response.text)


def test_geojson_only_clients_are_told_not_acceptable_where_there_is_no_geojson(client, key):
    station(client, key)
    only_geo = {**key, "Accept": "application/geo+json"}
    for path in (
        f"{BASE}/subscriptions/urn:ngsi-ld:Subscription:none",
        f"{BASE}/temporal/entities/{PT1}",
    ):
        response = client.get(path, headers=only_geo)
        assert response.status_code == 406, (path, response.text)
    either = client.get(
        f"{BASE}/temporal/entities/{PT1}",
        headers={**key, "Accept": "application/geo+json, application/json"},
    )
    assert either.status_code == 200 and either.headers["content-type"].startswith(
        "application/json"
    )
    geo = client.get(f"{BASE}/entities/{PT1}", headers=only_geo)
    assert geo.status_code == 200 and geo.json()["type"] == "Feature"


def test_query_ids_must_be_uris_and_attrs_cannot_name_id_or_type(client, key):
    station(client, key)
    headers = {**key, "Link": link()}
    for params in (
        {"type": "AirQualityObserved", "id": f"{PT1},notauri"},
        {"type": "AirQualityObserved", "attrs": "id,type"},
    ):
        response = client.get(f"{BASE}/entities", params=params, headers=headers)
        assert response.status_code == 400 and kind(response) == "BadRequestData", params
    ok = client.get(f"{BASE}/entities", params={"id": PT1}, headers=headers)
    assert [e["id"] for e in ok.json()] == [PT1]


def test_dataset_id_selects_the_instances_a_read_shows(client, key):
    gps = "urn:ngsi-ld:Dataset:gps"
    body = {
        "id": "urn:ngsi-ld:Vehicle:V2",
        "type": "Vehicle",
        "speed": [
            {"type": "Property", "value": 50},
            {"type": "Property", "value": 48, "datasetId": gps},
        ],
        "name": {"type": "Property", "value": "Xe buýt 09"},
    }
    assert client.post(f"{BASE}/entities", json=body, headers=json_headers(key)).status_code == 201
    url = f"{BASE}/entities/urn:ngsi-ld:Vehicle:V2"
    headers = {**key, "Link": link()}
    only_gps = client.get(url, params={"datasetId": gps}, headers=headers).json()
    assert only_gps["speed"] == {"type": "Property", "value": 48, "datasetId": gps}
    assert "name" not in only_gps
    default = client.get(url, params={"datasetId": "@none"}, headers=headers).json()
    assert default["speed"] == {"type": "Property", "value": 50}
    assert default["name"]["value"] == "Xe buýt 09"


def test_older_core_context_versions_are_served_offline(client, key):
    """A client naming the v1.6 core @context (as the ETSI suite's data files do) is served
    from what ships with CityOps, not refused for want of internet."""
    core16 = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld"
    body = air_quality(1, 3.0) | {"@context": [ENV_CONTEXT, core16]}
    headers = {**key, "Content-Type": "application/ld+json"}
    created = client.post(f"{BASE}/entities", content=orjson.dumps(body), headers=headers)
    assert created.status_code == 201, created.text
    assert entity(client, key)["pm25"]["value"] == 3.0


@pytest.mark.parametrize("name", ["type", "id", "@type"])
def test_a_keyword_is_not_an_entity_type(client, key, name):
    body = {"id": PT1, "type": name}
    response = client.post(f"{BASE}/entities", json=body, headers=json_headers(key))
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("BadRequestData")


def test_paths_naming_no_item_answer_as_the_suite_expects(client, key):
    station(client, key)
    fragment = {"no2": {"type": "Property", "value": 9}}
    empty_id = client.post(f"{BASE}/entities//attrs/", json=fragment, headers=json_headers(key))
    assert empty_id.status_code == 400 and kind(empty_id) == "BadRequestData"
    no_name = client.delete(f"{BASE}/entities/{PT1}/attrs/", headers=key)
    assert no_name.status_code == 405 and kind(no_name) == "OperationNotSupported"
    assert "pm25" in entity(client, key)  # nothing was deleted
    collection = client.delete(f"{BASE}/temporal/entities/", headers=key)
    assert collection.status_code == 405 and kind(collection) == "OperationNotSupported"


def test_a_temporal_query_needs_a_type_attrs_q_geo_query_or_local(client, key):
    station(client, key)
    window = {"timerel": "after", "timeAt": "2026-11-24T00:00:00Z"}
    for params in ({}, {"id": PT1}):
        wide = client.get(f"{BASE}/temporal/entities", params=window | params, headers=key)
        assert wide.status_code == 400 and kind(wide) == "BadRequestData", params
    for params in ({"local": "true"}, {"type": "AirQualityObserved"}, {"attrs": "pm25"}):
        answer = client.get(
            f"{BASE}/temporal/entities", params=window | params, headers={**key, "Link": link()}
        )
        assert answer.status_code == 200, (params, answer.text)
        assert [e["id"] for e in answer.json()] == [PT1], params
