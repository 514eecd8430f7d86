"""Monthly partitions of attribute history on PostgreSQL: readings land in their month,
far ones in DEFAULT, and retention drops whole months once they are rolled up."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ngsi import json_headers, link
from sqlalchemy import text

from cityops.app import create_app
from cityops.context import partitions
from cityops.context.partitions import add_months, month_of
from cityops.context.rollups import run_once

on_postgresql = pytest.mark.skipif(
    os.environ.get("CITYOPS_TEST_DB") != "postgresql",
    reason="history is partitioned on PostgreSQL only (CITYOPS_TEST_DB=postgresql)",
)
BASE = "/ngsi-ld/v1/temporal/entities"
SENSOR = "urn:ngsi-ld:WaterLevelSensor:song-dinh-01"
DEFAULT = "ctx_history.ctx_attr_instances_default"
NOW = datetime.now(UTC)


@pytest.fixture
def key(factory) -> dict[str, str]:
    return {"X-API-Key": factory.api_key("integrator")}


@pytest.fixture
def temporal(settings):
    settings.temporal.rollup_lag_s = 0
    return settings.temporal


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def reading(value: float, moment: datetime) -> dict[str, Any]:
    return {"type": "Property", "value": value, "observedAt": iso(moment)}


def record(client, key, *readings: dict[str, Any]) -> None:
    """Post readings of the sensor's water level (created on the first call)."""
    body = {"id": SENSOR, "type": "WaterLevelSensor", "waterLevel": list(readings)}
    response = client.post(BASE, json=body, headers=json_headers(key))
    assert response.status_code in (201, 204), response.text


def history(client, key, start: datetime, end: datetime) -> list[dict[str, Any]]:
    params = {"timerel": "between", "timeAt": iso(start), "endTimeAt": iso(end)}
    response = client.get(f"{BASE}/{SENSOR}", params=params, headers={**key, "Link": link()})
    assert response.status_code == 200, response.text
    found = response.json().get("waterLevel", [])
    return found if isinstance(found, list) else [found]


def where_rows_are(database) -> dict[str, int]:
    """Count history rows by the partition holding them."""
    sql = "SELECT tableoid::regclass::text, count(*) FROM ctx_attr_instances GROUP BY 1"
    with database.engine.connect() as conn:
        return dict(conn.execute(text(sql)).all())


def part(moment: datetime) -> str:
    return f"ctx_history.{partitions.partition_for(month_of(moment)).name}"


def partition_names(database) -> set[str]:
    with database.engine.connect() as conn:
        return {p.qualified for p in partitions.monthly_partitions(conn)}


@on_postgresql
def test_history_table_is_range_partitioned_by_observation_time(database, settings):
    settings.temporal.partition_months_ahead = 5  # the migration made three months ahead
    with TestClient(create_app(settings, db=database)):
        pass  # start-up makes the partitions
    sql = (
        "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
        "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
        "WHERE p.partrelid = 'ctx_attr_instances'::regclass"
    )
    with database.engine.connect() as conn:
        assert conn.execute(text(sql)).one() == ("r", "observed_at")
        children = conn.execute(
            text(
                "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c "
                "ON c.oid = i.inhrelid WHERE i.inhparent = 'ctx_attr_instances'::regclass"
            )
        ).scalars()
        children = set(children)
    assert DEFAULT in children
    for k in range(6):
        assert part(add_months(month_of(NOW), k)) in children


@on_postgresql
def test_readings_land_in_the_partition_of_their_month(client, key, database):
    this_month, next_month = month_of(NOW), add_months(month_of(NOW), 1)
    record(client, key, reading(1.5, this_month + timedelta(hours=3)))
    record(client, key, reading(2.5, next_month + timedelta(days=4)))
    record(client, key, reading(3.5, next_month + timedelta(days=5)))
    assert where_rows_are(database) == {part(this_month): 1, part(next_month): 2}


@on_postgresql
def test_reading_years_back_lands_in_default_and_reads_back(client, key, database, temporal):
    old = datetime(2019, 3, 5, 7, 30, tzinfo=UTC)
    record(client, key, reading(4.2, old), reading(4.4, old + timedelta(minutes=10)))
    assert where_rows_are(database) == {DEFAULT: 2}
    # the job leaves it there: 2019 is far older than the 90 days of raw history kept
    assert partitions.prepare(database, temporal) == []
    found = history(client, key, old - timedelta(hours=1), old + timedelta(hours=1))
    assert [(r["value"], r["observedAt"]) for r in found] == [
        (4.2, "2019-03-05T07:30:00Z"),
        (4.4, "2019-03-05T07:40:00Z"),
    ]


@on_postgresql
def test_reading_far_ahead_stays_in_default(client, key, database, temporal):
    wrong_clock = datetime(2099, 1, 1, tzinfo=UTC)
    record(client, key, reading(9.9, wrong_clock))
    assert partitions.prepare(database, temporal) == []
    assert where_rows_are(database) == {DEFAULT: 1}
    assert part(wrong_clock) not in partition_names(database)


@on_postgresql
def test_repeated_reading_replaces_the_stored_one_in_every_partition(client, key, database):
    here = month_of(NOW) + timedelta(hours=1)
    far = datetime(2018, 6, 1, 12, tzinfo=UTC)
    record(client, key, reading(1.0, here), reading(2.0, far))
    record(client, key, reading(1.1, here), reading(2.2, far))  # a corrected resend
    assert where_rows_are(database) == {part(here): 1, DEFAULT: 1}
    assert [r["value"] for r in history(client, key, here, here + timedelta(minutes=1))] == [1.1]
    assert [r["value"] for r in history(client, key, far, far + timedelta(minutes=1))] == [2.2]


@on_postgresql
def test_job_moves_a_backfilled_month_out_of_default(client, key, database, temporal):
    month = add_months(month_of(NOW), -7)
    assert part(month) not in partition_names(database)
    day = month + timedelta(days=10)
    record(client, key, *(reading(i / 10, day + timedelta(minutes=10 * i)) for i in range(30)))
    assert where_rows_are(database) == {DEFAULT: 30}
    temporal.raw_retention_days = 0  # raw history kept forever: the month deserves a partition
    created = partitions.prepare(database, temporal)
    assert [p.qualified for p in created] == [part(month)]
    assert where_rows_are(database) == {part(month): 30}
    assert len(history(client, key, day, day + timedelta(days=1))) == 30


@on_postgresql
def test_retention_drops_an_old_partition_and_keeps_its_rollups(client, key, database, temporal):
    month = add_months(month_of(NOW), -6)
    day = month + timedelta(days=12)
    record(client, key, *(reading(i % 7, day + timedelta(minutes=10 * i)) for i in range(288)))
    temporal.raw_retention_days = 0
    partitions.prepare(database, temporal)
    assert where_rows_are(database) == {part(month): 288}
    run_once(database, temporal)  # roll up, keep everything
    params = {
        "options": "aggregatedValues",
        "aggrMethods": "totalCount,sum,max",
        "aggrPeriodDuration": "P1D",
        "timerel": "between",
        "timeAt": iso(day),
        "endTimeAt": iso(day + timedelta(days=2)),
    }
    url, headers = f"{BASE}/{SENSOR}", {**key, "Link": link()}
    before = client.get(url, params=params, headers=headers).json()["waterLevel"]
    assert [c[0] for c in before["totalCount"]] == [144, 144]
    temporal.raw_retention_days = 90
    assert run_once(database, temporal).deleted == 288
    assert part(month) not in partition_names(database)
    assert where_rows_are(database) == {}
    assert client.get(url, params=params, headers=headers).json()["waterLevel"] == before


@on_postgresql
def test_retention_keeps_a_partition_with_rows_not_rolled_up(client, key, database, temporal):
    month = add_months(month_of(NOW), -5)
    record(client, key, reading(1.0, month + timedelta(days=3)))
    temporal.raw_retention_days = 0
    partitions.prepare(database, temporal)
    with database.session() as session:
        # rolled up until before the row was written: it must not go with the partition
        assert partitions.drop_partitions(session, NOW, NOW - timedelta(days=1)) == 0
    assert where_rows_are(database) == {part(month): 1}


def test_on_sqlite_history_stays_one_table(database, temporal):
    if database.dialect != "sqlite":
        pytest.skip("the SQLite case")
    assert partitions.prepare(database, temporal) == []
    with database.session() as session:
        assert partitions.drop_partitions(session, NOW, NOW) == 0
        assert not partitions.is_partitioned(session.connection())
