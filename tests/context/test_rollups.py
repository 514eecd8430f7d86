"""Rollups and retention of attribute history: same answers as raw history, kept after it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ngsi import json_headers, link
from sqlalchemy import func, select

from cityops.app import create_app
from cityops.context.models import ContextAttributeInstance, ContextEntity
from cityops.context.rollups import run_once
from cityops.context.temporal_aggregate import aggregate
from cityops.context.temporal_models import ContextAttributeRollup, TemporalJobState
from cityops.context.temporal_params import TemporalQuery

BASE = "/ngsi-ld/v1/temporal/entities"
SENSOR = "urn:ngsi-ld:WaterLevelSensor:song-cai-02"
# two whole days, three weeks back, so that the rollup job (which runs on the real clock)
# sees them as complete and retention of 10 days retires them
DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=21)
METHODS = "totalCount,sum,avg,min,max,stddev,sumsq"


def at(minutes: float) -> str:
    """The ISO time `minutes` after the first test midnight."""
    return (DAY + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def level(i: int) -> float:
    """A made-up but irregular water level for reading i."""
    return (i * 37 % 101) / 10


def two_days() -> dict[str, Any]:
    """A sensor with a reading every 10 minutes for two days."""
    readings = [
        {"type": "Property", "value": level(i), "observedAt": at(i * 10)} for i in range(288)
    ]
    return {"id": SENSOR, "type": "WaterLevelSensor", "waterLevel": readings}


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


@pytest.fixture
def temporal(settings):
    settings.temporal.rollup_lag_s = 0
    return settings.temporal


def aggregated(client, key, period: str, **params: Any) -> dict[str, Any]:
    query = {
        "options": "aggregatedValues",
        "aggrMethods": METHODS,
        "aggrPeriodDuration": period,
        "timerel": "between",
        "timeAt": at(0),
        "endTimeAt": at(2 * 24 * 60),
        **params,
    }
    response = client.get(f"{BASE}/{SENSOR}", params=query, headers={**key, "Link": link()})
    assert response.status_code == 200, response.text
    return response.json()["waterLevel"]


def same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for method in METHODS.split(","):
        assert [x[1:] for x in a[method]] == [y[1:] for y in b[method]]
        assert [x[0] for x in a[method]] == pytest.approx([y[0] for y in b[method]])


def rollup_count(database, period: str) -> int:
    with database.session() as s:
        roll = ContextAttributeRollup
        return s.scalar(select(func.count()).select_from(roll).where(roll.period == period))


def test_rollups_give_the_same_answer_as_raw(client, key, database, temporal):
    assert client.post(BASE, json=two_days(), headers=json_headers(key)).status_code == 201
    raw_hourly, raw_daily = aggregated(client, key, "PT1H"), aggregated(client, key, "P1D")
    assert len(raw_hourly["avg"]) == 48 and len(raw_daily["avg"]) == 2
    run_once(database, temporal)
    assert rollup_count(database, "PT1H") == 48 and rollup_count(database, "P1D") == 2
    with database.session() as s:
        pk = s.scalar(select(ContextEntity.pk).where(ContextEntity.entity_id == SENSOR))
        asked = TemporalQuery("after", DAY, mode="aggregatedValues", methods=("avg",), period=3600)
        assert aggregate(s, [pk], None, asked)[1].rollup_period == "PT1H"
    same(aggregated(client, key, "PT1H"), raw_hourly)
    same(aggregated(client, key, "P1D"), raw_daily)
    # not aligned on the hour: answered from raw history, still right
    shifted = aggregated(client, key, "PT1H", timeAt=at(30))
    assert shifted["totalCount"][0] == [6, at(30), at(90)]


def test_retention_deletes_old_raw_instances_but_keeps_rollups(client, key, database, temporal):
    temporal.raw_retention_days = 10
    client.post(BASE, json=two_days(), headers=json_headers(key))
    before_hourly, before_daily = aggregated(client, key, "PT1H"), aggregated(client, key, "P1D")
    report = run_once(database, temporal)
    assert report.deleted == 288
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(ContextAttributeInstance)) == 0
        assert s.get(TemporalJobState, 1).raw_kept_from <= datetime.now(UTC) - timedelta(days=10)
    history = client.get(f"{BASE}/{SENSOR}", headers={**key, "Link": link()}).json()
    assert "waterLevel" not in history
    same(aggregated(client, key, "PT1H"), before_hourly)
    same(aggregated(client, key, "P1D"), before_daily)
    # a late reading for a retired hour is added to its rollups on the next run
    late = {"waterLevel": {"type": "Property", "value": 100.0, "observedAt": at(5)}}
    client.post(f"{BASE}/{SENSOR}/attrs", json=late, headers=json_headers(key))
    run_once(database, temporal)
    hourly = aggregated(client, key, "PT1H")
    assert hourly["totalCount"][0][0] == 7 and hourly["max"][0][0] == 100.0
    assert aggregated(client, key, "P1D")["totalCount"][0][0] == 145


def test_keeping_raw_history_forever(client, key, database, temporal):
    temporal.raw_retention_days = 0
    client.post(BASE, json=two_days(), headers=json_headers(key))
    assert run_once(database, temporal).deleted == 0
    history = client.get(f"{BASE}/{SENSOR}", params={"lastN": 2}, headers={**key, "Link": link()})
    assert len(history.json()["waterLevel"]) == 2


def test_recent_raw_history_completes_the_rollups(client, key, database, temporal):
    client.post(BASE, json=two_days(), headers=json_headers(key))
    run_once(database, temporal)
    now = datetime.now(UTC)
    recent = {"waterLevel": {"type": "Property", "value": 42.0, "observedAt": now.isoformat()}}
    client.post(f"{BASE}/{SENSOR}/attrs", json=recent, headers=json_headers(key))
    got = aggregated(client, key, "PT1H", endTimeAt=(now + timedelta(hours=1)).isoformat())
    assert len(got["totalCount"]) == 49
    assert got["max"][-1][0] == 42.0


def test_changing_an_instance_updates_its_rollup(client, key, database, temporal):
    client.post(BASE, json=two_days(), headers=json_headers(key))
    run_once(database, temporal)
    levels = client.get(
        f"{BASE}/{SENSOR}",
        params={"timerel": "before", "timeAt": at(60)},
        headers={**key, "Link": link()},
    ).json()["waterLevel"]
    first, second = levels[0]["instanceId"], levels[1]["instanceId"]
    url = f"{BASE}/{SENSOR}/attrs/waterLevel"
    patched = client.patch(f"{url}/{first}", json={"value": 99.5}, headers=json_headers(key))
    assert patched.status_code == 204
    assert client.delete(f"{url}/{second}", headers={**key, "Link": link()}).status_code == 204
    hourly = aggregated(client, key, "PT1H")
    assert hourly["max"][0][0] == 99.5 and hourly["totalCount"][0][0] == 5
    assert aggregated(client, key, "P1D")["totalCount"][0][0] == 143


def test_deleting_an_attribute_history_deletes_its_rollups(client, key, database, temporal):
    client.post(BASE, json=two_days(), headers=json_headers(key))
    run_once(database, temporal)
    url = f"{BASE}/{SENSOR}/attrs/waterLevel"
    assert client.delete(url, headers={**key, "Link": link()}).status_code == 204
    assert rollup_count(database, "PT1H") == 0 and rollup_count(database, "P1D") == 0


def test_rollup_job_runs_in_the_background(settings, database, factory):
    settings.temporal.job_interval_s = 0.05
    settings.temporal.rollup_lag_s = 0.5  # writes committed within the lag are never missed
    key = {"X-API-Key": factory.api_key("integrator")}
    with TestClient(create_app(settings, db=database)) as client:
        client.post(BASE, json=two_days(), headers=json_headers(key))
        deadline = time.monotonic() + 10
        while rollup_count(database, "P1D") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert rollup_count(database, "P1D") == 2
