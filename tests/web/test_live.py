"""GET /api/live: a browser-like client follows bus events over SSE on a real uvicorn server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cityops.context.events import EntityChanged
from cityops.core.bus import Event
from cityops.core.config import WebSettings
from cityops.web.live import LiveFeed, stream
from web.sse import messages, next_event

PASSWORD = "Mật-khẩu-thử-2026"


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    """A square polygon with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def station(n: int, lon: float | None = 108.3, lat: float = 11.0) -> dict[str, Any]:
    """An air-quality station (normalized NGSI-LD), located unless lon is None."""
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:AirQualityObserved:LIVE-{n:03d}",
        "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": 20.0 + n},
    }
    if lon is not None:
        entity["location"] = {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [lon, lat]},
        }
    return entity


@pytest.fixture
def world(factory):
    province = factory.unit("68", "Lâm Đồng", level="province", geometry=square(107.0, 10.5, 2.0))
    muine = factory.unit(
        "22918", "Phường Mũi Né", parent=province, geometry=square(108.2, 10.9, 0.2)
    )
    factory.unit("22924", "Phường Phú Thủy", parent=province, geometry=square(108.0, 10.9, 0.2))
    return {
        "operator": factory.headers(factory.user("operator", province)),
        "muine": factory.headers(factory.user("unit_operator", muine)),
        "key": {"X-API-Key": factory.api_key("integrator", province)},
        "muine_user": factory.user("unit_operator", muine, username="muine"),
    }


def create(base: str, key: dict[str, str], *entities: dict[str, Any]) -> None:
    """Create entities through the NGSI-LD API, as an integrator would."""
    r = httpx.post(f"{base}/ngsi-ld/v1/entityOperations/create", json=list(entities), headers=key)
    assert r.status_code == 201, r.text


def names_within(events: Any, seconds: float) -> list[str]:
    """Collect the event names seen for a while (heartbeats keep the loop turning)."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    for message in events:
        if message.comment is None:
            seen.append(message.event)
        if time.monotonic() > deadline:
            return seen
    return seen


def test_anonymous_visitor_gets_a_structured_401_instead_of_a_stream(live_server):
    r = httpx.get(f"{live_server.url}/api/live")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_a_malformed_event_filter_is_refused_with_a_clear_error(live_server, world):
    r = httpx.get(
        f"{live_server.url}/api/live", params={"events": "alerts.*;drop"}, headers=world["operator"]
    )
    assert r.status_code == 422
    assert r.json()["code"] == "bad_event_pattern"
    assert "alerts.*;drop" in r.json()["detail"]


def test_operator_sees_a_new_station_within_a_second_as_id_event_and_json(live_server, world):
    url = live_server.url
    with (
        httpx.Client(base_url=url, headers=world["operator"], timeout=10) as http,
        http.stream("GET", "/api/live", params={"events": "context.*"}) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in r.headers  # gzip never buffers the stream
        events = messages(r)
        ready = next_event(events, "ready")
        started = time.monotonic()
        create(url, world["key"], station(1))
        message = next_event(events)
        assert time.monotonic() - started < 1.0
    assert message.event == "context.entity_changed"
    assert int(message.id) > int(ready.id)
    assert message.data["event"] == "context.entity_changed"
    assert message.data["data"]["entity_id"] == "urn:ngsi-ld:AirQualityObserved:LIVE-001"


def test_commune_operator_gets_only_their_communes_events_and_unit_less_ones(live_server, world):
    url = live_server.url
    with (
        httpx.Client(base_url=url, headers=world["muine"], timeout=10) as http,
        http.stream("GET", "/api/live") as r,
    ):
        events = messages(r)
        next_event(events, "ready")
        create(url, world["key"], station(2, lon=108.1))  # Phú Thủy: not theirs
        create(url, world["key"], station(3, lon=108.3))  # Mũi Né
        create(url, world["key"], station(4, lon=None))  # no place at all
        first = next_event(events)
        second = next_event(events)
    assert first.data["data"]["entity_id"].endswith("LIVE-003")
    assert second.data["data"]["entity_id"].endswith("LIVE-004")


def test_events_are_filtered_by_name_pattern(live_server, world):
    url = live_server.url
    with (
        httpx.Client(base_url=url, headers=world["operator"], timeout=10) as http,
        http.stream("GET", "/api/live", params={"events": "alerts.*,field_reports.*"}) as r,
    ):
        events = messages(r)
        next_event(events, "ready")
        create(url, world["key"], station(5))
        assert names_within(events, 1.2) == []


def test_reconnecting_with_last_event_id_replays_what_was_missed_in_order(live_server, world):
    url = live_server.url
    with (
        httpx.Client(base_url=url, headers=world["operator"], timeout=10) as http,
        http.stream("GET", "/api/live") as r,
    ):
        last = next_event(messages(r), "ready").id
        create(url, world["key"], station(6), station(7))  # while disconnected
        with http.stream("GET", "/api/live", headers={"Last-Event-ID": last}) as r:
            events = messages(r)
            replayed = [next_event(events), next_event(events)]
            ready = next_event(events)
    assert [m.data["data"]["entity_id"][-3:] for m in replayed] == ["006", "007"]
    assert [int(m.id) for m in replayed] == [int(last) + 1, int(last) + 2]
    assert ready.event == "ready" and ready.id == replayed[-1].id


def test_an_id_older_than_the_buffer_gets_a_reset_event(live_server, world):
    url = live_server.url
    with (
        httpx.Client(base_url=url, headers=world["operator"], timeout=10) as http,
        http.stream("GET", "/api/live") as r,
    ):
        last = next_event(messages(r), "ready").id
        create(url, world["key"], *[station(10 + n) for n in range(12)])  # buffer keeps 10
        with http.stream("GET", "/api/live", headers={"Last-Event-ID": last}) as r:
            events = messages(r)
            reset, ready = next_event(events), next_event(events)
        with http.stream("GET", "/api/live", headers={"Last-Event-ID": "999999"}) as r:
            after_restart = next_event(messages(r))
    assert reset.event == "reset" and reset.data == {"reason": "missed_events_not_kept"}
    assert ready.event == "ready" and int(ready.id) >= int(last) + 12
    assert after_restart.event == "reset"


def test_heartbeat_comments_keep_an_idle_stream_open(live_server, world):
    with (
        httpx.Client(base_url=live_server.url, headers=world["operator"], timeout=10) as http,
        http.stream("GET", "/api/live") as r,
    ):
        events = messages(r)
        next_event(events, "ready")
        started = time.monotonic()
        comment = next(m for m in events if m.comment is not None)
    assert comment.comment.startswith("ping")
    assert time.monotonic() - started < 2.0


def test_logging_out_ends_the_stream_with_session_expired(live_server, world):
    url = live_server.url
    with httpx.Client(base_url=url, timeout=10) as http:
        login = http.post("/api/auth/login", json={"username": "muine", "password": PASSWORD})
        assert login.status_code == 200, login.text
        with http.stream("GET", "/api/live") as r:  # the session cookie authenticates
            events = messages(r)
            next_event(events, "ready")
            assert http.post("/api/auth/logout").status_code == 204
            ended = next_event(events)
            rest = list(events)
    assert ended.event == "session_expired"
    assert all(m.comment is not None for m in rest)  # then the server closed the stream


def test_a_client_that_falls_behind_is_reset_and_never_blocks_the_bus(database):
    async def scenario() -> list[dict[str, Any]]:
        feed = LiveFeed(database, WebSettings(live_queue_size=10, live_buffer_size=100))
        events = stream(feed, ("*",), _admin(), None, check=_always_valid)
        got = [await anext(events)]  # ready: the client is connected
        started = time.monotonic()
        for n in range(50):  # the client reads nothing meanwhile
            feed.on_event(EntityChanged(op="create", tenant="", entity_id=f"e{n}", entity_type="T"))
        assert time.monotonic() - started < 0.5
        got += [m async for m in events]
        return got

    got = asyncio.run(scenario())
    assert [m["event"] for m in got] == ["ready", "reset"]
    assert '"client_too_slow"' in got[1]["data"]


def _admin() -> Any:
    from cityops.core.policy import Role, system_principal

    principal = system_principal("test")
    assert principal.role is Role.admin
    return principal


async def _always_valid() -> Any:
    return _admin()


def test_agency_staff_see_report_steps_of_their_own_agency_only(database):
    from cityops.core.policy import Principal, Role
    from cityops.modules.field_reports.events import StatusChanged

    feed = LiveFeed(database, WebSettings())
    for agency in (7, 8, None):
        feed.on_event(
            StatusChanged(
                report_id=1,
                tracking_code=f"PA-{agency}",
                action="assign",
                from_status="verified",
                to_status="assigned",
                agency_id=agency,
                unit_id=None,
                at=datetime.now(UTC),
            )
        )
    staff = Principal(kind="user", id=3, name="xd", role=Role.agency_staff, agency_id=7)
    operator = Principal(kind="user", id=4, name="op", role=Role.operator)

    def seen(who: Principal) -> list[str]:
        shown = [m for m in feed.buffer if asyncio.run(feed.visible(who, m))]
        return [json.loads(m.data)["data"]["tracking_code"][:4] for m in shown]

    assert seen(staff) == ["PA-7"]
    assert seen(operator) == ["PA-7", "PA-8", "PA-N"]


def test_agency_staff_do_not_see_new_reports_before_they_are_routed_to_them(database):
    from cityops.core.policy import Principal, Role
    from cityops.modules.field_reports.events import ReportCreated

    feed = LiveFeed(database, WebSettings())
    feed.on_event(
        ReportCreated(
            report_id=1,
            tracking_code="PA-2026-000001-K7QX",
            category_code="PA-NGAP",
            unit_id=None,
            urgency="normal",
            source="public",
            at=datetime.now(UTC),
            lat=10.93,
            lon=108.1,
        )
    )
    staff = Principal(kind="user", id=3, name="xd", role=Role.agency_staff, agency_id=7)
    operator = Principal(kind="user", id=4, name="op", role=Role.operator)
    message = feed.buffer[0]
    assert asyncio.run(feed.visible(operator, message))
    assert not asyncio.run(feed.visible(staff, message))


@dataclasses.dataclass(frozen=True, kw_only=True)
class CountedEvent(Event):
    """An event that counts how often it is serialized."""

    name = "tests.counted"
    n: int
    made: list[int] = dataclasses.field(default_factory=list, compare=False)

    def to_dict(self) -> dict[str, Any]:
        self.made.append(self.n)
        return super().to_dict()


def test_an_event_is_serialized_once_for_all_clients_and_never_when_none_watch(database):
    async def scenario() -> tuple[list[int], list[list[str]]]:
        feed = LiveFeed(database, WebSettings())
        made: list[int] = []
        for n in range(100):  # nobody connected: the buffer keeps them, nothing is encoded
            feed.on_event(CountedEvent(n=n, made=made))
        assert made == []
        clients = [stream(feed, ("*",), _admin(), None, check=_always_valid) for _ in range(3)]
        for client in clients:
            assert (await anext(client))["event"] == "ready"
        feed.on_event(CountedEvent(n=100, made=made))
        got = [await anext(client) for client in clients]
        return made, [[m["event"], m["data"]] for m in got]

    made, got = asyncio.run(scenario())
    assert made == [100]
    assert got[0] == got[1] == got[2]
    assert got[0][0] == "tests.counted"
    assert json.loads(got[0][1])["data"]["n"] == 100


def _reading(n: int) -> EntityChanged:
    return EntityChanged(
        op="update",
        tenant="",
        entity_id=f"urn:ngsi-ld:AirQualityObserved:FLOOD-{n:04d}",
        entity_type="https://smartdatamodels.org/dataModel.Environment/AirQualityObserved",
        attrs=["https://smartdatamodels.org/dataModel.Environment/pm25"],
    )


def test_a_flood_of_readings_never_pushes_other_events_out_of_the_catch_up(database):
    """Readings are kept in a ring of their own: after 500 of them an operator reconnecting
    for alerts still gets the alert, one following readings too gets a reset (they are no
    longer all kept), and a short gap of readings is replayed in order with the rest."""
    settings = WebSettings(live_buffer_size=10, live_changes_buffer_size=20)
    feed = LiveFeed(database, settings)
    feed.on_event(CountedEvent(n=1))
    before = feed.seq
    feed.on_event(CountedEvent(n=2))  # e.g. an alert raised while the client was away
    for n in range(500):
        feed.on_event(_reading(n))
    alerts_only = feed.since(before, lambda name: name.startswith("tests."))
    assert alerts_only is not None and [m.event.n for m in alerts_only] == [2]
    assert feed.since(before) is None  # a client of every event missed readings: reset
    assert feed.since(before, lambda name: name == "context.entity_changed") is None

    recent = feed.seq
    feed.on_event(_reading(500))
    feed.on_event(CountedEvent(n=3))
    feed.on_event(_reading(501))
    replay = feed.since(recent)
    assert replay is not None
    assert [m.seq for m in replay] == [recent + 1, recent + 2, recent + 3]
    assert [m.name for m in replay] == ["context.entity_changed", "tests.counted"] + [
        "context.entity_changed"
    ]
    assert len(feed.changes) == 20 and len(feed.buffer) == 3


def test_other_events_past_their_buffer_still_reset_every_client(database):
    feed = LiveFeed(database, WebSettings(live_buffer_size=10, live_changes_buffer_size=20))
    feed.on_event(CountedEvent(n=0))
    before = feed.seq
    for n in range(1, 12):
        feed.on_event(CountedEvent(n=n))
    assert feed.since(before, lambda name: name.startswith("tests.")) is None
    assert feed.since(before, lambda name: name == "context.entity_changed") is None
    assert feed.since(feed.seq - 5) is not None
