"""NGSI-LD subscriptions: subscribers get real HTTP notifications, and ingestion never waits."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ngsi import ENV_CONTEXT, air_quality, json_headers, link, square
from sqlalchemy import select

from cityops.context.jsonld import ContextResolver
from cityops.context.models import ContextEntity
from cityops.context.qlang import parse_q
from cityops.context.qlang_eval import evaluate_q
from cityops.core.units.locate import invalidate_all

BASE = "/ngsi-ld/v1"
AQ = "urn:ngsi-ld:AirQualityObserved:PT-"


class Receiver:
    """A real HTTP endpoint on loopback that records the notifications it gets."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.statuses: deque[int] = deque()  # answers to give first; then 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                    receiver.got.append(
                        {
                            "at": time.monotonic(),
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": json.loads(body),
                            "status": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `count` requests have come, then return all of them."""
        wait_until(lambda: len(self.got) >= count, timeout, f"{count} notifications")
        return list(self.got)

    def bodies(self) -> list[dict[str, Any]]:
        """Return the notification bodies that were answered 2xx."""
        return [g["body"] for g in self.got if g["status"] < 300]


def wait_until(check: Callable[[], Any], timeout: float = 5.0, what: str = "it") -> Any:
    """Poll until `check()` is truthy (or fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.02)
    raise AssertionError(f"waited {timeout} s for {what}")


@pytest.fixture
def settings(settings):
    """Quick retries and timeouts, so that failure paths run in a fraction of a second."""
    ngsi = settings.ngsi_ld.model_copy(
        update={"notification_backoff_s": 0.05, "notification_timeout_s": 1.0}
    )
    return settings.model_copy(update={"ngsi_ld": ngsi})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


def subscribe(client, auth: dict[str, str], uri: str, **members: Any) -> str:
    """Create a subscription (the Environment @context in a Link) and return its id."""
    body = {"type": "Subscription", "entities": [{"type": "AirQualityObserved"}]}
    body |= {"notification": {"endpoint": {"uri": uri}}} | members
    created = client.post(f"{BASE}/subscriptions", json=body, headers=json_headers(auth))
    assert created.status_code == 201, created.text
    return created.headers["Location"].rsplit("/", 1)[-1]


def set_pm25(client, auth: dict[str, str], n: int, value: float) -> None:
    patch = {"pm25": {"type": "Property", "value": value}}
    answer = client.patch(
        f"{BASE}/entities/{AQ}{n:03d}/attrs", json=patch, headers=json_headers(auth)
    )
    assert answer.status_code == 204, answer.text


def create(client, auth: dict[str, str], entity: dict[str, Any]) -> None:
    answer = client.post(f"{BASE}/entities", json=entity, headers=json_headers(auth))
    assert answer.status_code == 201, answer.text


def get_sub(client, auth: dict[str, str], sub_id: str) -> dict[str, Any]:
    answer = client.get(f"{BASE}/subscriptions/{sub_id}", headers={**auth, "Link": link()})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def problem(response) -> str:
    return response.json()["type"].rsplit("/", 1)[-1]


# ------------------------------------------------------------------------------ notifying


def test_subscriber_is_notified_when_pm25_rises_above_threshold(client, key, receiver):
    create(client, key, air_quality(1, 30))
    sub_id = subscribe(
        client,
        key,
        receiver.url,
        watchedAttributes=["pm25"],
        q="pm25>50",
        notification={"attributes": ["pm25"], "endpoint": {"uri": receiver.url}},
    )
    set_pm25(client, key, 1, 40)
    set_pm25(client, key, 1, 75)
    no2 = {"NO2": {"type": "Property", "value": 9}}  # not watched
    client.post(f"{BASE}/entities/{AQ}001/attrs", json=no2, headers=json_headers(key))
    got = receiver.wait_for(1)
    time.sleep(0.3)  # nothing else is coming
    assert len(receiver.got) == 1
    body, headers = got[0]["body"], got[0]["headers"]
    assert body["type"] == "Notification" and body["subscriptionId"] == sub_id
    assert body["id"].startswith("urn:ngsi-ld:Notification:") and body["notifiedAt"]
    assert body["data"] == [
        {
            "id": f"{AQ}001",
            "type": "AirQualityObserved",
            "pm25": {
                "type": "Property",
                "value": 75,
            },
        }
    ]
    assert headers["content-type"] == "application/json"
    assert f"<{ENV_CONTEXT}>" in headers["link"] and "json-ld#context" in headers["link"]
    status = wait_until(lambda: get_sub(client, key, sub_id)["notification"].get("lastSuccess"))
    assert status
    record = get_sub(client, key, sub_id)["notification"]
    assert record["timesSent"] == 1 and record["status"] == "ok"
    metrics = client.get("/metrics").text
    assert 'cityops_ngsi_notifications_total{result="sent"} 1.0' in metrics


def test_throttling_coalesces_bursts(client, key, receiver):
    create(client, key, air_quality(1, 10))
    subscribe(client, key, receiver.url, throttling=1)
    for value in range(11, 21):
        set_pm25(client, key, 1, value)
    got = receiver.wait_for(2, timeout=4)
    time.sleep(0.5)
    assert len(receiver.got) == 2, "the burst after the first change comes as one notification"
    assert got[1]["at"] - got[0]["at"] >= 0.9
    assert [e["pm25"]["value"] for e in got[1]["body"]["data"]] == [20]


def test_time_interval_subscription_notifies_periodically(client, key, receiver):
    create(client, key, air_quality(1, 10))
    create(client, key, air_quality(2, 80))
    subscribe(client, key, receiver.url, timeInterval=1, q="pm25>50")
    got = receiver.wait_for(2, timeout=4)
    assert 0.8 <= got[1]["at"] - got[0]["at"] <= 2.0
    for g in got:
        assert [e["id"] for e in g["body"]["data"]] == [f"{AQ}002"]
    set_pm25(client, key, 1, 20)  # no change triggers a periodic subscription
    assert all(len(g["body"]["data"]) == 1 for g in receiver.got)


def test_notification_in_ld_json_carries_context(client, key, receiver):
    create(client, key, air_quality(1, 10))
    body = {
        "type": "Subscription",
        "entities": [{"type": "AirQualityObserved", "idPattern": "PT-00[1-3]$"}],
        "notification": {
            "format": "keyValues",
            "endpoint": {"uri": receiver.url, "accept": "application/ld+json"},
        },
        "@context": ENV_CONTEXT,
    }
    headers = {**key, "Content-Type": "application/ld+json"}
    assert client.post(f"{BASE}/subscriptions", json=body, headers=headers).status_code == 201
    set_pm25(client, key, 1, 12.5)
    got = receiver.wait_for(1)[0]
    assert got["headers"]["content-type"] == "application/ld+json"
    assert "link" not in got["headers"]
    assert got["body"]["@context"] == ENV_CONTEXT
    entity = got["body"]["data"][0]
    assert entity["type"] == "AirQualityObserved" and entity["pm25"] == 12.5


def test_entity_deleted_trigger(client, key, receiver):
    subscribe(client, key, receiver.url, notificationTrigger=["entityDeleted"])
    create(client, key, air_quality(1, 10))
    set_pm25(client, key, 1, 11)
    assert client.delete(f"{BASE}/entities/{AQ}001", headers=key).status_code == 204
    got = receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.got) == 1, "creation and updates are not among the triggers"
    (gone,) = got[0]["body"]["data"]
    assert gone["id"] == f"{AQ}001" and gone["type"] == "AirQualityObserved"
    assert gone["deletedAt"].endswith("Z")


def test_attribute_deleted_notifies_the_deleted_attribute_as_ngsi_ld_null(client, key, receiver):
    subscribe(
        client,
        key,
        receiver.url,
        notificationTrigger=["attributeDeleted"],
        watchedAttributes=["no2"],
    )
    station = air_quality(1, 10) | {
        "no2": [
            {"type": "Property", "value": 4, "datasetId": "urn:ngsi-ld:Dataset:a"},
            {"type": "Property", "value": 5, "datasetId": "urn:ngsi-ld:Dataset:b"},
        ]
    }
    create(client, key, station)
    set_pm25(client, key, 1, 11)  # neither a deletion nor watched: no notification
    gone = client.delete(
        f"{BASE}/entities/{AQ}001/attrs/no2",
        params={"datasetId": "urn:ngsi-ld:Dataset:a"},
        headers={**key, "Link": link()},
    )
    assert gone.status_code == 204, gone.text
    (got,) = receiver.wait_for(1)
    no2 = got["body"]["data"][0]["no2"]
    assert {
        "type": "Property",
        "value": "urn:ngsi-ld:null",
        "datasetId": "urn:ngsi-ld:Dataset:a",
    } in (no2 if isinstance(no2, list) else [no2])
    # the entity's deletion deletes the watched attribute too
    assert client.delete(f"{BASE}/entities/{AQ}001", headers=key).status_code == 204
    last = receiver.wait_for(2)[-1]["body"]["data"][0]
    assert last["deletedAt"].endswith("Z")
    assert last["no2"] == {
        "type": "Property",
        "value": "urn:ngsi-ld:null",
        "datasetId": "urn:ngsi-ld:Dataset:b",
    }
    assert "pm25" not in last  # not watched


def test_receiver_info_becomes_headers_and_tenants_stay_apart(client, key, receiver):
    endpoint = {"uri": receiver.url, "receiverInfo": [{"key": "X-Auth-Token", "value": "s3"}]}
    body = {
        "entities": [{"type": "AirQualityObserved"}],
        "notification": {"endpoint": endpoint},
    }
    tenant = {"NGSILD-Tenant": "lamdong"}
    answer = client.post(f"{BASE}/subscriptions", json=body, headers=json_headers(key, **tenant))
    assert answer.status_code == 201, answer.text
    create(client, key, air_quality(1, 10))  # the default tenant: not for this subscription
    client.post(f"{BASE}/entities", json=air_quality(1, 10), headers=json_headers(key, **tenant))
    got = receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.got) == 1
    assert got[0]["headers"]["x-auth-token"] == "s3"
    assert got[0]["headers"]["ngsild-tenant"] == "lamdong"


def test_paused_and_expired_subscriptions_do_not_notify(client, key, receiver):
    create(client, key, air_quality(1, 10))
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    expiring = subscribe(client, key, receiver.url, expiresAt=soon)
    paused = subscribe(client, key, receiver.url, isActive=False)
    wait_until(lambda: datetime.now(UTC).isoformat() > soon, 2)
    set_pm25(client, key, 1, 11)
    time.sleep(0.3)
    assert receiver.got == []
    assert get_sub(client, key, expiring)["status"] == "expired"
    assert get_sub(client, key, paused)["status"] == "paused"
    resume = client.patch(
        f"{BASE}/subscriptions/{paused}", json={"isActive": True}, headers=json_headers(key)
    )
    assert resume.status_code == 204
    set_pm25(client, key, 1, 12)
    assert [g["body"]["subscriptionId"] for g in receiver.wait_for(1)] == [paused]


# ------------------------------------------------------------------------------ failures


def test_failed_notifications_are_retried_then_reported_in_status(client, key, receiver):
    create(client, key, air_quality(1, 10))
    sub_id = subscribe(client, key, receiver.url)
    receiver.statuses.extend([500, 500])
    set_pm25(client, key, 1, 11)
    got = receiver.wait_for(3)
    assert [g["status"] for g in got] == [500, 500, 200]
    assert len({g["body"]["id"] for g in got}) == 1, "a retry resends the same notification"
    record = wait_until(
        lambda: (r := get_sub(client, key, sub_id)["notification"]).get("lastSuccess") and r
    )
    assert record["status"] == "ok" and record["timesSent"] == 1 and "timesFailed" not in record

    receiver.statuses.extend([503] * 4)  # 1 try + 3 retries, all failing
    set_pm25(client, key, 1, 12)
    receiver.wait_for(7)
    record = wait_until(
        lambda: (r := get_sub(client, key, sub_id)["notification"]).get("lastFailure") and r
    )
    assert record["status"] == "failed" and record["consecutiveErrors"] == 1
    assert record["timesSent"] == 2 and record["timesFailed"] == 1
    assert "503" in record["lastErrorReason"]
    metrics = client.get("/metrics").text
    assert 'cityops_ngsi_notifications_total{result="failed"} 1.0' in metrics


def _patch_run(client, key, count: int) -> float:
    """Time `count` updates, best of two runs (the machine may be busy with other work)."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        for i in range(count):
            set_pm25(client, key, 1, i)
        times.append(time.perf_counter() - start)
    return min(times)


def test_dead_endpoint_does_not_slow_ingestion(client, key, receiver, capsys):
    create(client, key, air_quality(1, 10))
    _patch_run(client, key, 10)  # warm up
    baseline = _patch_run(client, key, 200)
    with socket.socket() as refused:
        refused.bind(("127.0.0.1", 0))
        refused_port = refused.getsockname()[1]
    silent = socket.socket()  # accepts connections and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(256)
    try:
        dead = subscribe(client, key, f"http://127.0.0.1:{refused_port}/never")
        subscribe(client, key, f"http://127.0.0.1:{silent.getsockname()[1]}/silent")
        subscribe(client, key, receiver.url, q="pm25==199")
        loaded = _patch_run(client, key, 200)
        got = receiver.wait_for(1)  # a healthy subscriber is still served
        failed = wait_until(lambda: get_sub(client, key, dead)["notification"].get("timesFailed"))
    finally:
        silent.close()
    with capsys.disabled():
        print(
            f"\n200 updates: {baseline:.2f} s alone, {loaded:.2f} s with 2 dead subscribers "
            f"(refused endpoint: {failed} notifications failed after retries by then)"
        )
    assert got[0]["body"]["data"][0]["pm25"]["value"] == 199
    assert loaded < baseline * 2 + 0.5


# ------------------------------------------------------------------------------ the API


def test_subscriptions_are_created_listed_changed_and_deleted(client, key, receiver):
    body = {
        "id": "urn:ngsi-ld:Subscription:pm25-alert",
        "type": "Subscription",
        "subscriptionName": "PM2.5 alert",
        "entities": [{"type": "AirQualityObserved"}],
        "watchedAttributes": ["pm25"],
        "q": "pm25>50",
        "geoQ": {
            "geometry": "Point",
            "coordinates": [108.1, 10.93],
            "georel": "near;maxDistance==2000",
        },
        "notification": {"endpoint": {"uri": receiver.url}},
    }
    created = client.post(f"{BASE}/subscriptions", json=body, headers=json_headers(key))
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{BASE}/subscriptions/{body['id']}"
    again = client.post(f"{BASE}/subscriptions", json=body, headers=json_headers(key))
    assert again.status_code == 409 and problem(again) == "AlreadyExists"
    other = subscribe(client, key, receiver.url)
    assert other.startswith("urn:ngsi-ld:Subscription:")

    listed = client.get(f"{BASE}/subscriptions", params={"count": "true", "limit": 1}, headers=key)
    assert listed.headers["NGSILD-Results-Count"] == "2" and len(listed.json()) == 1
    got = get_sub(client, key, body["id"])
    assert (
        got["watchedAttributes"] == ["pm25"] and got["entities"][0]["type"] == "AirQualityObserved"
    )
    assert got["status"] == "active" and got["notification"]["format"] == "normalized"
    assert got["notification"]["endpoint"]["accept"] == "application/json"

    change = {"throttling": 5, "description": "Cảnh báo bụi mịn", "q": None}
    patched = client.patch(
        f"{BASE}/subscriptions/{body['id']}", json=change, headers=json_headers(key)
    )
    assert patched.status_code == 204, patched.text
    got = get_sub(client, key, body["id"])
    assert got["throttling"] == 5 and got["description"] == "Cảnh báo bụi mịn" and "q" not in got
    clash = client.patch(
        f"{BASE}/subscriptions/{body['id']}", json={"timeInterval": 10}, headers=json_headers(key)
    )
    assert clash.status_code == 400 and problem(clash) == "BadRequestData"

    assert client.delete(f"{BASE}/subscriptions/{body['id']}", headers=key).status_code == 204
    gone = client.get(f"{BASE}/subscriptions/{body['id']}", headers=key)
    assert gone.status_code == 404 and problem(gone) == "ResourceNotFound"


GOOD = {
    "entities": [{"type": "AirQualityObserved"}],
    "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}},
}


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"entities": None}, "entities"),
        ({"entities": [{"id": "urn:x:1"}]}, "type"),
        ({"entities": [{"type": "T", "idPattern": "("}]}, "idPattern"),
        ({"notification": {"endpoint": {"uri": "ftp://example.org/x"}}}, "http(s) URL"),
        ({"notification": {"endpoint": {"uri": "not a url"}}}, "http(s) URL"),
        ({"notification": {"format": "xml", "endpoint": {"uri": "http://a/"}}}, "format"),
        ({"notification": {"endpoint": {"uri": "http://a/", "accept": "text/csv"}}}, "accept"),
        ({"q": "pm25>>3"}, "q: expected"),
        ({"geoQ": {"geometry": "Point", "coordinates": [1, 2], "georel": "nearby"}}, "geoQ"),
        ({"geoQ": {"geometry": "Point", "georel": "within"}}, "geoQ"),
        ({"throttling": 5, "timeInterval": 10}, "together"),
        ({"throttling": -1}, "throttling"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "future"),
        ({"notificationTrigger": ["entityExploded"]}, "notificationTrigger"),
        ({"temporalQ": {"timerel": "after"}}, "unsupported"),
        ({"isActive": "yes"}, "isActive"),
    ],
)
def test_bad_subscription_is_bad_request_data(client, key, change, detail):
    body = {k: v for k, v in (GOOD | change).items() if v is not None}
    answer = client.post(f"{BASE}/subscriptions", json=body, headers=json_headers(key))
    assert answer.status_code == 400, answer.text
    assert problem(answer) == "BadRequestData" and detail in answer.json()["detail"]


def test_a_leader_may_subscribe_but_a_citizen_may_not(client, factory, receiver):
    leader = factory.headers(factory.user("leader"))
    assert subscribe(client, leader, receiver.url)
    anonymous = client.post(f"{BASE}/subscriptions", json=GOOD, headers=json_headers({}))
    assert anonymous.status_code == 401


@pytest.fixture
def communes(factory):
    province = factory.unit("68", "Lâm Đồng", level="province", geometry=square(107.0, 10.5, 2.0))
    muine = factory.unit("22918", "Mũi Né", parent=province, geometry=square(108.2, 10.9, 0.2))
    phuthuy = factory.unit("22924", "Phú Thủy", parent=province, geometry=square(108.0, 10.9, 0.2))
    yield province, muine, phuthuy
    invalidate_all()  # the tables are emptied behind the ORM's back: forget these units


def test_commune_operator_cannot_see_province_subscriptions(client, factory, communes, receiver):
    province, muine, _ = communes
    province_key = {"X-API-Key": factory.api_key("integrator", province)}
    operator = factory.headers(factory.user("unit_operator", muine))
    provincial = subscribe(client, province_key, receiver.url)
    local = subscribe(client, operator, receiver.url)
    seen = client.get(f"{BASE}/subscriptions", headers=operator).json()
    assert [s["id"] for s in seen] == [local]
    for call in (client.get, client.delete):
        assert call(f"{BASE}/subscriptions/{provincial}", headers=operator).status_code == 404
    hidden = client.patch(
        f"{BASE}/subscriptions/{provincial}",
        json={"isActive": False},
        headers=json_headers(operator),
    )
    assert hidden.status_code == 404
    above = client.get(f"{BASE}/subscriptions", headers=province_key).json()
    assert {s["id"] for s in above} == {provincial, local}
    admin = factory.headers(factory.user("admin"))
    assert len(client.get(f"{BASE}/subscriptions", headers=admin).json()) == 2


def test_commune_subscription_hears_only_of_its_commune(client, factory, communes, receiver):
    province, muine, _ = communes
    province_key = {"X-API-Key": factory.api_key("integrator", province)}
    operator = factory.headers(factory.user("unit_operator", muine))
    local = subscribe(client, operator, receiver.url)
    create(client, province_key, air_quality(2, 20, lon=108.1, lat=11.0))  # Phú Thủy
    create(client, province_key, air_quality(1, 10, lon=108.3, lat=11.0))  # Mũi Né
    got = receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.got) == 1 and got[0]["body"]["subscriptionId"] == local
    assert [e["id"] for e in got[0]["body"]["data"]] == [f"{AQ}001"]


@pytest.mark.parametrize(
    "q",
    ["pm25>50", "pm25==10..40", "pm25!=75", "!NO2", 'pm25.unitCode=="GQ";pm25<20', "name~=(?i)mũi"],
)
def test_q_on_a_change_agrees_with_the_query_api(client, key, database, q):
    create(client, key, air_quality(1, 12, name={"type": "Property", "value": "Mũi Né"}))
    create(client, key, air_quality(2, 75, NO2={"type": "Property", "value": 3}))
    create(client, key, air_quality(3, 30))
    params = {"type": "AirQualityObserved", "q": q}
    by_api = client.get(f"{BASE}/entities", params=params, headers={**key, "Link": link()}).json()
    expand = ContextResolver().resolve(ENV_CONTEXT).expand
    with database.session() as s:
        rows = s.scalars(select(ContextEntity)).all()
        by_snapshot = [r.entity_id for r in rows if evaluate_q(parse_q(q), r.attrs, expand)]
    assert sorted(by_snapshot) == sorted(e["id"] for e in by_api)


def test_subscription_list_pages_link_to_each_other(client, key, receiver):
    made = [subscribe(client, key, receiver.url, description=f"s{i}") for i in range(3)]
    url, seen = f"{BASE}/subscriptions?limit=2", []
    while url:
        page = client.get(url, headers=key)
        assert page.status_code == 200, page.text
        seen.append([s["id"] for s in page.json()])
        url = page.links.get("next", {}).get("url")
    assert seen == [made[:2], made[2:]]
    assert "prev" in page.links and "offset=0" in page.links["prev"]["url"]
