"""Notification parameters an NGSI-LD subscriber sets (GS CIM 009 5.2.14) and how a
subscription reads back: sysAttrs, showChanges, pick/omit, the @context of JSON-LD
notifications, members echoed only as given, 405 on the collection."""

from __future__ import annotations

import time

import pytest
from ngsi import air_quality, json_headers, link
from test_subscriptions import (  # noqa: F401  (fixtures: receiver, settings)
    AQ,
    BASE,
    create,
    get_sub,
    receiver,
    set_pm25,
    settings,
    subscribe,
)


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


def notified(receiver, count: int = 1) -> dict:  # noqa: F811
    return receiver.wait_for(count)[count - 1]["body"]["data"][0]


def test_sys_attrs_add_the_system_times_to_the_entity_and_its_attributes(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30))
    endpoint = {"uri": receiver.url}
    subscribe(client, key, receiver.url, notification={"endpoint": endpoint, "sysAttrs": True})
    set_pm25(client, key, 1, 40)
    entity = notified(receiver)
    assert entity["createdAt"] < entity["modifiedAt"]
    assert entity["modifiedAt"] == entity["pm25"]["modifiedAt"]
    assert entity["pm25"]["createdAt"] == entity["createdAt"]


def test_sys_attrs_hold_for_batch_writes_too(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30))
    endpoint = {"uri": receiver.url}
    subscribe(client, key, receiver.url, notification={"endpoint": endpoint, "sysAttrs": True})
    batch = [
        {"id": f"{AQ}001", "type": "AirQualityObserved", "pm25": {"type": "Property", "value": 41}}
    ]
    answer = client.post(
        f"{BASE}/entityOperations/upsert?options=update", json=batch, headers=json_headers(key)
    )
    assert answer.status_code == 204, answer.text
    entity = notified(receiver)
    assert entity["pm25"]["value"] == 41 and entity["createdAt"] < entity["modifiedAt"]


def test_sys_attrs_in_key_values_give_the_entity_times(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30))
    notification = {"endpoint": {"uri": receiver.url}, "sysAttrs": True, "format": "keyValues"}
    subscribe(client, key, receiver.url, notification=notification)
    set_pm25(client, key, 1, 40)
    entity = notified(receiver)
    assert entity["pm25"] == 40 and entity["createdAt"] < entity["modifiedAt"]


def test_without_sys_attrs_no_system_times(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30))
    subscribe(client, key, receiver.url)
    set_pm25(client, key, 1, 40)
    entity = notified(receiver)
    assert "createdAt" not in entity and "modifiedAt" not in entity["pm25"]


def test_show_changes_notifies_the_previous_value(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30))
    endpoint = {"uri": receiver.url}
    subscribe(client, key, receiver.url, notification={"endpoint": endpoint, "showChanges": True})
    set_pm25(client, key, 1, 40)
    assert notified(receiver)["pm25"] == {"type": "Property", "value": 40, "previousValue": 30}
    batch = [
        {"id": f"{AQ}001", "type": "AirQualityObserved", "pm25": {"type": "Property", "value": 55}}
    ]
    client.post(
        f"{BASE}/entityOperations/upsert?options=update", json=batch, headers=json_headers(key)
    )
    assert notified(receiver, 2)["pm25"]["previousValue"] == 40


def test_pick_and_omit_choose_the_members_notified(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30))
    endpoint = {"uri": receiver.url}
    subscribe(
        client, key, receiver.url, notification={"endpoint": endpoint, "pick": ["id", "pm25"]}
    )
    set_pm25(client, key, 1, 40)
    assert set(notified(receiver)) == {"id", "pm25"}
    both = {"endpoint": endpoint, "pick": ["id"], "omit": ["pm25"]}
    body = {
        "type": "Subscription",
        "entities": [{"type": "AirQualityObserved"}],
        "notification": both,
    }
    refused = client.post(f"{BASE}/subscriptions", json=body, headers=json_headers(key))
    assert refused.status_code == 400, refused.text


def test_json_ld_notifications_carry_the_context_in_each_entity(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30))
    endpoint = {"uri": receiver.url, "accept": "application/ld+json"}
    subscribe(client, key, receiver.url, notification={"endpoint": endpoint})
    set_pm25(client, key, 1, 40)
    got = receiver.wait_for(1)[0]
    assert got["headers"]["content-type"] == "application/ld+json"
    assert got["body"]["data"][0]["@context"] == got["body"]["@context"]


def test_a_subscription_reads_back_what_was_set_and_no_status_before_a_notification(
    client,
    key,
    receiver,  # noqa: F811
):
    create(client, key, air_quality(1, 30))
    plain = get_sub(client, key, subscribe(client, key, receiver.url))
    assert "isActive" not in plain and plain["status"] == "active"
    counters = ("status", "timesSent", "timesFailed", "timesDropped", "consecutiveErrors")
    assert not set(counters) & set(plain["notification"])  # nothing counted yet
    paused = get_sub(client, key, subscribe(client, key, receiver.url, isActive=False))
    assert paused["isActive"] is False and paused["status"] == "paused"
    given = subscribe(client, key, receiver.url, isActive=True)
    assert get_sub(client, key, given)["isActive"] is True
    set_pm25(client, key, 1, 40)
    receiver.wait_for(2)
    time.sleep(0.3)
    record = get_sub(client, key, given)["notification"]
    assert record["status"] == "ok" and record["timesSent"] == 1


def test_the_subscription_collection_cannot_be_patched_or_deleted(client, key):
    for method in ("PATCH", "DELETE"):
        answer = client.request(
            method, f"{BASE}/subscriptions/", json={"q": "pm25>1"}, headers=json_headers(key)
        )
        assert answer.status_code == 405, (method, answer.text)
        assert answer.json()["type"].endswith("OperationNotSupported")


def test_a_dataset_id_member_notifies_only_those_instances(client, key, receiver):  # noqa: F811
    names = [
        {"type": "Property", "value": "Tháp Chàm"},
        {"type": "Property", "value": "Tour Cham", "datasetId": "urn:ngsi-ld:Dataset:fr"},
        {"type": "Property", "value": "Cham tower", "datasetId": "urn:ngsi-ld:Dataset:en"},
    ]
    create(client, key, air_quality(1, 30, name=names))
    subscribe(client, key, receiver.url, datasetId=["urn:ngsi-ld:Dataset:fr"])
    shown = get_sub(client, key, subscribe(client, key, receiver.url, datasetId=["@none"]))
    assert shown["datasetId"] == ["@none"]
    fragment = {
        "name": {"type": "Property", "value": "Tours Cham", "datasetId": "urn:ngsi-ld:Dataset:fr"}
    }
    answer = client.patch(
        f"{BASE}/entities/{AQ}001/attrs", json=fragment, headers=json_headers(key)
    )
    assert answer.status_code == 204, answer.text
    got = sorted((g["body"]["data"][0] for g in receiver.wait_for(2)), key=lambda e: "pm25" in e)
    assert got[0]["name"] == {
        "type": "Property",
        "value": "Tours Cham",
        "datasetId": "urn:ngsi-ld:Dataset:fr",
    }
    assert "pm25" not in got[0]  # no instance of that dataset
    assert got[1]["name"]["value"] == "Tháp Chàm" and got[1]["pm25"]["value"] == 30
    bad = {"type": "Subscription", "entities": [{"type": "AirQualityObserved"}]}
    bad |= {"datasetId": ["not a uri"], "notification": {"endpoint": {"uri": receiver.url}}}
    assert (
        client.post(f"{BASE}/subscriptions", json=bad, headers=json_headers(key)).status_code == 400
    )


def test_deletions_notify_previous_values_and_system_times(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30))
    notification = {"endpoint": {"uri": receiver.url}, "showChanges": True, "sysAttrs": True}
    subscribe(
        client,
        key,
        receiver.url,
        notification=notification,
        notificationTrigger=["attributeDeleted", "entityDeleted"],
    )
    gone = client.delete(f"{BASE}/entities/{AQ}001/attrs/pm25", headers={**key, "Link": link()})
    assert gone.status_code == 204, gone.text
    pm25 = notified(receiver)["pm25"]
    assert pm25["value"] == "urn:ngsi-ld:null" and pm25["previousValue"] == 30
    assert pm25["createdAt"] <= pm25["modifiedAt"] < pm25["deletedAt"]
    assert client.delete(f"{BASE}/entities/{AQ}001", headers=key).status_code == 204
    entity = notified(receiver, 2)
    assert entity["createdAt"] < entity["modifiedAt"] < entity["deletedAt"]
    assert entity["location"]["value"] == "urn:ngsi-ld:null"
    assert entity["location"]["previousValue"]["type"] == "Point"


def test_a_q_written_as_in_a_url_is_read_decoded(client, key, receiver):  # noqa: F811
    create(client, key, air_quality(1, 30, name={"type": "Property", "value": "Phú Hài"}))
    subscribe(client, key, receiver.url, q='name=="Ph%C3%BA%20H%C3%A0i"')
    set_pm25(client, key, 1, 40)
    assert notified(receiver)["pm25"]["value"] == 40


def test_simplified_multi_attributes_are_dataset_maps(client, key, receiver):  # noqa: F811
    names = [
        {"type": "Property", "value": "Tháp Chàm"},
        {"type": "Property", "value": "Tour Cham", "datasetId": "urn:ngsi-ld:Dataset:fr"},
    ]
    create(client, key, air_quality(1, 30, name=names))
    read = client.get(
        f"{BASE}/entities/{AQ}001", params={"options": "keyValues"}, headers={**key, "Link": link()}
    ).json()
    assert read["name"] == {
        "dataset": {"@none": "Tháp Chàm", "urn:ngsi-ld:Dataset:fr": "Tour Cham"}
    }
    assert read["pm25"] == 30  # one instance stays a plain value
    notification = {"endpoint": {"uri": receiver.url}, "format": "keyValues"}
    subscribe(
        client,
        key,
        receiver.url,
        notification=notification,
        notificationTrigger=["attributeDeleted"],
    )
    gone = client.delete(
        f"{BASE}/entities/{AQ}001/attrs/name",
        params={"datasetId": "urn:ngsi-ld:Dataset:fr"},
        headers={**key, "Link": link()},
    )
    assert gone.status_code == 204, gone.text
    entity = notified(receiver)
    assert entity["name"] == {
        "dataset": {"@none": "Tháp Chàm", "urn:ngsi-ld:Dataset:fr": "urn:ngsi-ld:null"}
    }
