"""The NGSI-LD temporal API: history of readings, lastN, simplified and aggregated forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ngsi import json_headers, link, square

BASE = "/ngsi-ld/v1/temporal/entities"
DAY = datetime(2026, 11, 2, tzinfo=UTC)
SENSOR = "urn:ngsi-ld:WaterLevelSensor:song-cai-01"
RANGE = re.compile(r"date-time (\S+Z)-(\S+Z)/(\*|\d+)")


def at(minutes: float) -> str:
    """The ISO time `minutes` after midnight of the test day."""
    return (DAY + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def sensor(
    values: list[float],
    every: int = 10,
    entity_id: str = SENSOR,
    lon: float | None = None,
    lat: float | None = None,
    start: float = 0,
) -> dict[str, Any]:
    """A water-level sensor with one reading every `every` minutes from `start`."""
    body: dict[str, Any] = {
        "id": entity_id,
        "type": "WaterLevelSensor",
        "waterLevel": [
            {"type": "Property", "value": v, "unitCode": "MTR", "observedAt": at(start + i * every)}
            for i, v in enumerate(values)
        ],
    }
    if lon is not None:
        point = {"type": "Point", "coordinates": [lon, lat]}
        body["location"] = {"type": "GeoProperty", "value": point, "observedAt": at(0)}
    return body


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


def post(client, key, body) -> Any:
    return client.post(BASE, json=body, headers=json_headers(key))


def history(client, key, entity_id: str = SENSOR, **params: Any) -> Any:
    response = client.get(f"{BASE}/{entity_id}", params=params, headers={**key, "Link": link()})
    assert response.status_code in (200, 206), response.text
    return response


def test_history_of_water_level_between_two_times(client, key):
    assert post(client, key, sensor([1.0 + i / 10 for i in range(12)])).status_code == 201
    got = history(client, key, timerel="between", timeAt=at(30), endTimeAt=at(70)).json()
    levels = got["waterLevel"]
    assert [i["value"] for i in levels] == [1.3, 1.4, 1.5, 1.6]
    assert [i["observedAt"] for i in levels] == [at(30), at(40), at(50), at(60)]
    assert all(i["instanceId"].startswith("urn:ngsi-ld:attribute:instance:") for i in levels)
    assert levels[0]["unitCode"] == "MTR" and levels[0]["type"] == "Property"
    before = history(client, key, timerel="before", timeAt=at(20)).json()["waterLevel"]
    assert [i["value"] for i in before] == [1.0, 1.1]
    after = history(client, key, timerel="after", timeAt=at(100)).json()["waterLevel"]
    assert [i["value"] for i in after] == [2.0, 2.1]


def test_creating_from_history_keeps_the_newest_reading_as_current_state(client, key):
    post(client, key, sensor([3.0, 1.0, 2.0]))
    current = client.get(f"/ngsi-ld/v1/entities/{SENSOR}", headers={**key, "Link": link()})
    assert current.json()["waterLevel"]["value"] == 2.0
    assert current.json()["waterLevel"]["observedAt"] == at(20)
    assert len(history(client, key).json()["waterLevel"]) == 3


def test_creating_from_history_keeps_the_scope(client, key):
    body = sensor([1.0]) | {"scope": ["/LamDong/PhanThiet", "/Water/Rivers"]}
    assert post(client, key, body).status_code == 201
    current = client.get(f"/ngsi-ld/v1/entities/{SENSOR}", headers={**key, "Link": link()})
    assert current.json()["scope"] == ["/LamDong/PhanThiet", "/Water/Rivers"]
    more = sensor([2.0], start=10) | {"scope": "/Flood"}  # more history: the scope is added
    assert post(client, key, more).status_code == 204
    current = client.get(f"/ngsi-ld/v1/entities/{SENSOR}", headers={**key, "Link": link()})
    assert current.json()["scope"] == ["/LamDong/PhanThiet", "/Water/Rivers", "/Flood"]
    bad = post(client, key, sensor([1.0], entity_id=f"{SENSOR}-x") | {"scope": "no-slash"})
    assert bad.status_code == 400


def test_deleted_attributes_are_told_with_timeproperty_deleted_at(client, key):
    """Deleting an attribute files the deletion: timeproperty=deletedAt serves it as an
    instance holding NGSI-LD Null, and the readings' history knows nothing of it."""
    body = sensor([1.0, 2.0]) | {
        "label": {"type": "LanguageProperty", "languageMap": {"vi": "Trạm Sông Cái"}},
        "feeds": {"type": "Relationship", "object": "urn:ngsi-ld:River:cai"},
        "scope": "/LamDong",
    }
    assert post(client, key, body).status_code == 201
    entity = f"/ngsi-ld/v1/entities/{SENSOR}/attrs"
    for name in ("waterLevel", "label", "feeds", "scope"):
        assert client.delete(f"{entity}/{name}", headers={**key, "Link": link()}).status_code == 204
    gone = history(client, key, timeproperty="deletedAt").json()
    level = gone["waterLevel"]
    assert len(level) == 1 and level[0]["value"] == "urn:ngsi-ld:null"
    assert level[0]["type"] == "Property" and "deletedAt" in level[0]
    assert gone["label"][0]["languageMap"] == {"@none": "urn:ngsi-ld:null"}
    assert gone["feeds"][0]["object"] == "urn:ngsi-ld:null"
    assert gone["scope"][0]["value"] == [] and "deletedAt" in gone["scope"][0]
    simple = history(client, key, timeproperty="deletedAt", options="temporalValues").json()
    assert simple["waterLevel"]["values"] == [["urn:ngsi-ld:null", level[0]["deletedAt"]]]
    readings = history(client, key).json()  # the readings, as before
    assert [i["value"] for i in readings["waterLevel"]] == [1.0, 2.0]
    counted = history(
        client, key, options="aggregatedValues", aggrMethods="totalCount", aggrPeriodDuration="P1D"
    ).json()
    assert counted["waterLevel"]["totalCount"][0][0] == 2  # deletions are not readings
    refused = client.get(
        f"{BASE}/{SENSOR}",
        params={"timeproperty": "deletedAt", "options": "aggregatedValues", "aggrMethods": "sum"},
        headers={**key, "Link": link()},
    )
    assert refused.status_code == 400


def test_last_n_readings(client, key):
    post(client, key, sensor([float(i) for i in range(10)]))
    got = history(client, key, lastN=3).json()["waterLevel"]
    assert [i["value"] for i in got] == [7.0, 8.0, 9.0]
    inside = history(client, key, lastN=2, timerel="before", timeAt=at(50)).json()["waterLevel"]
    assert [i["value"] for i in inside] == [3.0, 4.0]


def test_temporal_values_format(client, key):
    post(client, key, sensor([1.5, 1.7]))
    for params in ({"options": "temporalValues"}, {"format": "temporalValues"}):
        got = history(client, key, **params).json()
        assert got["waterLevel"] == {"type": "Property", "values": [[1.5, at(0)], [1.7, at(10)]]}
        assert got["id"] == SENSOR and got["type"] == "WaterLevelSensor"


def test_simplified_pairs_of_json_vocab_and_language_properties_name_their_member(client, key):
    """A JSON object, a vocab list or a language map is itself JSON: each simplified pair
    holds it under its member's name, so a client can tell it from the pair's own array."""
    body = {
        "id": SENSOR,
        "type": "WaterLevelSensor",
        "settings": [
            {"type": "JsonProperty", "json": {"gain": g}, "observedAt": at(i)}
            for i, g in enumerate((1, 2))
        ],
        "state": [
            {"type": "VocabProperty", "vocab": v, "observedAt": at(i)}
            for i, v in enumerate(("dry", ["flooded", "rising"]))
        ],
        "label": [
            {"type": "LanguageProperty", "languageMap": m, "observedAt": at(i)}
            for i, m in enumerate(
                ({"vi": "Cầu Sông Cái"}, {"vi": "Cầu Sông Cái", "en": "Cai Bridge"})
            )
        ],
    }
    assert post(client, key, body).status_code == 201
    got = history(client, key, options="temporalValues").json()
    assert got["settings"] == {
        "type": "JsonProperty",
        "jsons": [[{"json": {"gain": 1}}, at(0)], [{"json": {"gain": 2}}, at(1)]],
    }
    assert got["state"] == {
        "type": "VocabProperty",
        "vocabs": [[{"vocab": "dry"}, at(0)], [{"vocab": ["flooded", "rising"]}, at(1)]],
    }
    assert got["label"]["languageMaps"] == [
        [{"languageMap": {"vi": "Cầu Sông Cái"}}, at(0)],
        [{"languageMap": {"vi": "Cầu Sông Cái", "en": "Cai Bridge"}}, at(1)],
    ]


def test_hourly_average_over_a_day(client, key):
    # every 10 minutes: hour h reads h*10 + 0, 1, ... 5 -> avg h*10 + 2.5, min h*10, max h*10 + 5
    values = [float(h * 10 + m) for h in range(24) for m in range(6)]
    assert post(client, key, sensor(values)).status_code == 201
    got = history(
        client,
        key,
        options="aggregatedValues",
        aggrMethods="avg,min,max,totalCount",
        aggrPeriodDuration="PT1H",
        timerel="between",
        timeAt=at(0),
        endTimeAt=at(24 * 60),
    ).json()["waterLevel"]
    assert got["type"] == "Property"
    assert [b[0] for b in got["avg"]] == [h * 10 + 2.5 for h in range(24)]
    assert [b[0] for b in got["min"]] == [h * 10.0 for h in range(24)]
    assert [b[0] for b in got["max"]] == [h * 10 + 5.0 for h in range(24)]
    assert {b[0] for b in got["totalCount"]} == {6}
    assert got["avg"][3][1:] == [at(180), at(240)]


def test_periods_start_at_time_at_or_else_at_the_first_instance(client, key):
    # readings at 00:03, 00:33, 01:03, 01:33: hourly periods from 00:03, not from 00:00
    assert post(client, key, sensor([1.0, 2.0, 3.0, 4.0], every=30, start=3)).status_code == 201
    hourly = {"options": "aggregatedValues", "aggrMethods": "sum", "aggrPeriodDuration": "PT1H"}
    got = history(client, key, **hourly).json()["waterLevel"]["sum"]
    assert got == [[3.0, at(3), at(63)], [7.0, at(63), at(123)]]
    before = history(client, key, timerel="before", timeAt=at(60), **hourly).json()
    assert before["waterLevel"]["sum"] == [[3.0, at(3), at(63)]]
    after = history(client, key, timerel="after", timeAt=at(30), **hourly).json()
    assert after["waterLevel"]["sum"] == [[5.0, at(30), at(90)], [4.0, at(90), at(150)]]


def test_whole_range_aggregation_and_every_method(client, key):
    post(client, key, sensor([1.0, 2.0, 2.0, 3.0]))
    got = history(
        client,
        key,
        options="aggregatedValues",
        aggrMethods="totalCount,distinctCount,sum,avg,min,max,stddev,sumsq",
    ).json()["waterLevel"]
    value = {m: got[m][0][0] for m in got if m != "type"}
    assert value == {
        "totalCount": 4,
        "distinctCount": 3,
        "sum": 8.0,
        "avg": 2.0,
        "min": 1.0,
        "max": 3.0,
        "stddev": pytest.approx(0.5**0.5),
        "sumsq": 18.0,
    }
    assert got["sum"][0][1:] == [at(0), at(30)]


@pytest.mark.parametrize(
    "params",
    [
        {"timerel": "whenever", "timeAt": at(0)},
        {"timerel": "before"},
        {"timerel": "between", "timeAt": at(0)},
        {"timerel": "between", "timeAt": at(60), "endTimeAt": at(0)},
        {"timerel": "after", "timeAt": "yesterday"},
        {"timeAt": at(0)},
        {"lastN": "0"},
        {"lastN": "many"},
        {"timeproperty": "expiredAt"},
        {"options": "aggregatedValues"},
        {"options": "aggregatedValues", "aggrMethods": "median"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "P1M"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "1 hour"},
        {"aggrMethods": "avg"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_bad_timerel_is_bad_request_data(client, key, params):
    post(client, key, sensor([1.0]))
    response = client.get(f"{BASE}/{SENSOR}", params=params, headers=key)
    assert response.status_code == 400
    assert response.json()["type"].endswith("/BadRequestData")


def test_query_temporal_entities_by_type_counts_and_pages(client, key):
    for n in range(3):
        post(client, key, sensor([float(n), float(n + 1)], entity_id=f"{SENSOR}-{n}"))
    response = client.get(
        BASE,
        params={"type": "WaterLevelSensor", "count": "true", "limit": 2, "lastN": 1},
        headers={**key, "Link": link()},
    )
    assert response.status_code == 200
    assert response.headers["NGSILD-Results-Count"] == "3"
    assert [e["waterLevel"][0]["value"] for e in response.json()] == [1.0, 2.0]


def test_too_many_instances_answer_partial_content(client, key, settings):
    settings.temporal.max_instances = 4
    post(client, key, sensor([float(i) for i in range(10)]))
    response = history(client, key)
    assert response.status_code == 206
    assert [i["value"] for i in response.json()["waterLevel"]] == [0.0, 1.0, 2.0, 3.0]
    assert response.headers["Content-Range"] == f"date-time {at(0)}-{at(30)}/*"
    newest = history(client, key, lastN=6)
    assert newest.status_code == 206
    # lastN: the range runs backwards, from the most recent instance to the least recent kept
    assert newest.headers["Content-Range"] == f"date-time {at(90)}-{at(60)}/6"


def test_a_partial_answer_cuts_every_attribute_at_one_time_and_pages_on(client, key, settings):
    """Two attributes reporting at different times: a page holding 10 instances of the
    first cuts the second at the same time (GS CIM 009 6.3.10), and a client that asks on from
    the Content-Range's end gets the rest, none missed."""
    settings.temporal.max_instances = 10
    body = sensor([float(i) for i in range(25)], every=1)  # waterLevel at minutes 0..24
    body["rainfall"] = [
        {"type": "Property", "value": float(i), "observedAt": at(15 + i)} for i in range(10)
    ]  # rainfall at minutes 15..24
    assert post(client, key, body).status_code == 201

    first = history(client, key, timerel="after", timeAt=at(-1))
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"date-time {at(-1)}-{at(9)}/*"
    assert [i["value"] for i in first.json()["waterLevel"]] == [float(i) for i in range(10)]
    assert first.json()["rainfall"] == []  # all after the cut: on the next page
    seen = {("waterLevel", i["observedAt"]) for i in first.json()["waterLevel"]}
    time_at, pages = at(9), 1
    while True:
        page = history(client, key, timerel="after", timeAt=time_at)
        pages += 1
        for name in ("waterLevel", "rainfall"):
            seen |= {(name, i["observedAt"]) for i in page.json().get(name, [])}
        if page.status_code == 200:
            break
        time_at = RANGE.fullmatch(page.headers["Content-Range"])[2]  # the range's end
    assert len(seen) == 35 and pages <= 5

    newest = history(client, key, lastN=100, timerel="before", timeAt=at(60))
    assert newest.status_code == 206
    assert newest.headers["Content-Range"] == f"date-time {at(60)}-{at(15)}/100"
    assert [i["value"] for i in newest.json()["rainfall"]] == [float(i) for i in range(10)]
    assert [i["value"] for i in newest.json()["waterLevel"]] == [float(i) for i in range(15, 25)]
    simple = history(client, key, timerel="after", timeAt=at(-1), options="temporalValues")
    assert simple.json()["rainfall"] == {"type": "Property", "values": []}


def test_commune_operator_cannot_read_history_outside_scope(client, factory, key):
    province = factory.unit("68", "Lâm Đồng", level="province", geometry=square(107.0, 10.5, 2.0))
    muine = factory.unit("22918", "Mũi Né", parent=province, geometry=square(108.2, 10.9, 0.2))
    factory.unit("22924", "Phú Thủy", parent=province, geometry=square(108.0, 10.9, 0.2))
    post(client, key, sensor([1.0], entity_id=f"{SENSOR}-muine", lon=108.3, lat=11.0))
    post(client, key, sensor([2.0], entity_id=f"{SENSOR}-phuthuy", lon=108.1, lat=11.0))
    operator = factory.headers(factory.user("unit_operator", muine))
    mine = client.get(f"{BASE}/{SENSOR}-muine", headers=operator)
    assert mine.status_code == 200
    other = client.get(f"{BASE}/{SENSOR}-phuthuy", headers=operator)
    assert other.status_code == 404
    seen = client.get(
        BASE, params={"type": "WaterLevelSensor"}, headers={**operator, "Link": link()}
    )
    assert [e["id"] for e in seen.json()] == [f"{SENSOR}-muine"]
    scoped_key = {"X-API-Key": factory.api_key("integrator", muine)}
    refused = client.post(
        f"{BASE}/{SENSOR}-phuthuy/attrs",
        json={"waterLevel": {"type": "Property", "value": 9.0, "observedAt": at(5)}},
        headers=json_headers(scoped_key),
    )
    assert refused.status_code in (403, 404)
    assert len(history(client, key, f"{SENSOR}-phuthuy").json()["waterLevel"]) == 1


def test_appending_old_readings_changes_history_but_not_current_state(client, key, app):
    post(client, key, sensor([5.0], start=60))
    published: list[Any] = []

    async def record(event: Any) -> None:
        published.append(event)

    async def record_many(events: Any) -> None:
        published.extend(events)

    app.state.bus.publish, app.state.bus.publish_many = record, record_many
    old = {
        "waterLevel": [
            {"type": "Property", "value": v, "observedAt": at(i)} for i, v in ((0, 1.0), (10, 2.0))
        ]
    }
    assert (
        client.post(f"{BASE}/{SENSOR}/attrs", json=old, headers=json_headers(key)).status_code
        == 204
    )
    assert published == []
    assert [i["value"] for i in history(client, key).json()["waterLevel"]] == [1.0, 2.0, 5.0]
    new = {"waterLevel": {"type": "Property", "value": 7.0, "observedAt": at(90)}}
    assert (
        client.post(f"{BASE}/{SENSOR}/attrs", json=new, headers=json_headers(key)).status_code
        == 204
    )
    assert [e.op for e in published] == ["update"]
    current = client.get(f"/ngsi-ld/v1/entities/{SENSOR}", headers={**key, "Link": link()})
    assert current.json()["waterLevel"]["value"] == 7.0
    again = post(client, key, sensor([8.0], start=120))
    assert again.status_code == 204


def test_delete_one_instance(client, key):
    post(client, key, sensor([1.0, 2.0, 3.0]))
    levels = history(client, key).json()["waterLevel"]
    target = levels[1]["instanceId"]
    url = f"{BASE}/{SENSOR}/attrs/waterLevel/{target}"
    assert client.delete(url, headers={**key, "Link": link()}).status_code == 204
    assert [i["value"] for i in history(client, key).json()["waterLevel"]] == [1.0, 3.0]
    again = client.delete(url, headers={**key, "Link": link()})
    assert again.status_code == 404
    assert again.json()["type"].endswith("/ResourceNotFound")


def test_modify_one_instance(client, key):
    post(client, key, sensor([1.0, 2.0]))
    target = history(client, key).json()["waterLevel"][0]["instanceId"]
    patch = client.patch(
        f"{BASE}/{SENSOR}/attrs/waterLevel/{target}",
        json={"value": 1.25, "observedAt": at(5)},
        headers=json_headers(key),
    )
    assert patch.status_code == 204, patch.text
    levels = history(client, key).json()["waterLevel"]
    assert [(i["value"], i["observedAt"]) for i in levels] == [(1.25, at(5)), (2.0, at(10))]
    assert levels[0]["instanceId"] == target


def test_delete_attribute_history_and_whole_temporal_entity(client, key):
    post(client, key, sensor([1.0, 2.0]))
    attr_url = f"{BASE}/{SENSOR}/attrs/waterLevel"
    assert client.delete(attr_url, headers={**key, "Link": link()}).status_code == 204
    assert "waterLevel" not in history(client, key).json()
    assert client.delete(attr_url, headers={**key, "Link": link()}).status_code == 404
    assert client.delete(f"{BASE}/{SENSOR}", headers=key).status_code == 204
    assert client.get(f"{BASE}/{SENSOR}", headers=key).status_code == 404
    assert client.get(f"/ngsi-ld/v1/entities/{SENSOR}", headers=key).status_code == 404


def test_history_by_modification_time_and_with_system_attributes(client, key):
    post(client, key, sensor([1.0, 2.0]))
    got = history(client, key, timeproperty="modifiedAt", options="sysAttrs").json()
    levels = got["waterLevel"]
    assert len(levels) == 2 and all("modifiedAt" in i and "createdAt" in i for i in levels)
    assert "createdAt" in got
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    after = history(client, key, timeproperty="modifiedAt", timerel="after", timeAt=future)
    assert "waterLevel" not in after.json()


def test_format_wins_over_options_and_unknown_ones_are_invalid_requests(client, key):
    post(client, key, sensor([1.0, 2.0, 3.0]) | {"rainfall": {"type": "Property", "value": 2}})
    both = history(
        client, key, format="temporalValues", options="aggregatedValues", aggrMethods="sum"
    ).json()
    assert [v for v, _ in both["waterLevel"]["values"]] == [1.0, 2.0, 3.0]
    for params in ({"format": "invalid"}, {"options": "invalid"}):
        response = client.get(f"{BASE}/{SENSOR}", params=params, headers={**key, "Link": link()})
        assert response.status_code == 400, response.text
        assert response.json()["type"].endswith("/InvalidRequest")


def test_temporal_pick_and_omit_and_attributes_that_are_not_there(client, key):
    post(client, key, sensor([1.0, 2.0]) | {"rainfall": {"type": "Property", "value": 2}})
    picked = history(client, key, pick="id,waterLevel").json()
    assert set(picked) == {"id", "waterLevel"}
    assert history(client, key, pick="id").json() == {"id": SENSOR}  # core members only
    listed = client.get(
        BASE,
        params={"type": "WaterLevelSensor", "pick": "id", "timerel": "after", "timeAt": at(0)},
        headers={**key, "Link": link()},
    )
    assert listed.json() == [{"id": SENSOR}]
    omitted = history(client, key, omit="waterLevel").json()
    assert "waterLevel" not in omitted and "rainfall" in omitted
    headers = {**key, "Link": link()}
    for params in ({"attrs": "nothing"}, {"pick": "nothing"}):
        response = client.get(f"{BASE}/{SENSOR}", params=params, headers=headers)
        assert response.status_code == 404, (params, response.text)
    clash = client.get(
        f"{BASE}/{SENSOR}", params={"pick": "waterLevel", "attrs": "x"}, headers=headers
    )
    assert clash.status_code == 400


def test_a_time_window_query_leaves_out_entities_without_instances_in_it(client, key):
    post(client, key, sensor([1.0, 2.0], entity_id=f"{SENSOR}-early"))
    post(client, key, sensor([3.0, 4.0], entity_id=f"{SENSOR}-late", start=600))
    response = client.get(
        BASE,
        params={"type": "WaterLevelSensor", "timerel": "after", "timeAt": at(300)},
        headers={**key, "Link": link()},
    )
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()] == [f"{SENSOR}-late"]


def test_history_of_one_dataset_instance(client, key):
    body = {
        "id": "urn:ngsi-ld:Vehicle:V1",
        "type": "Vehicle",
        "speed": [
            {"type": "Property", "value": 50, "observedAt": at(0)},
            {
                "type": "Property",
                "value": 48,
                "observedAt": at(0),
                "datasetId": "urn:ngsi-ld:Dataset:gps",
            },
            {
                "type": "Property",
                "value": 52,
                "observedAt": at(10),
                "datasetId": "urn:ngsi-ld:Dataset:gps",
            },
        ],
    }
    assert post(client, key, body).status_code == 201
    gps = history(client, key, "urn:ngsi-ld:Vehicle:V1", datasetId="urn:ngsi-ld:Dataset:gps").json()
    assert [i["value"] for i in gps["speed"]] == [48, 52]
    default = history(client, key, "urn:ngsi-ld:Vehicle:V1", datasetId="@none").json()
    assert [i["value"] for i in default["speed"]] == [50]
