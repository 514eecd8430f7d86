"""Threshold rules: a condition that holds for a duration raises one alert, then clears."""

from __future__ import annotations

import time

import pytest

from alerts.support import EAST_POINT, World, flood, flood_rule
from cityops.alerts.evaluate import EntityItem

CA_TY = "urn:ngsi-ld:FloodMonitoring:ca-ty"
PHU_HAI = "urn:ngsi-ld:FloodMonitoring:phu-hai"


def test_level_above_alert_level_fires_only_after_ten_minutes(alerting: World) -> None:
    flood_rule(alerting)
    flood(alerting, "ca-ty", 2.4)
    assert alerting.alerts() == []
    alerting.clock.advance(minutes=9, seconds=59)
    alerting.sweep()
    assert alerting.alerts() == []
    alerting.clock.advance(seconds=1)
    alerting.sweep()
    [alert] = alerting.alerts()
    assert alert["severity"] == "major"
    assert alert["status"] == "open"
    assert alert["title_vi"] == "Mực nước tại ca-ty vượt báo động I (2.4 m)"
    assert alert["title_en"] == "Water level at ca-ty above alert level I (2.4 m)"
    assert alert["value"] == {"currentLevel": 2.4, "alertLevel1": 2.0}
    assert (alert["lat"], alert["lon"]) == (10.95, 108.05)
    assert alert["unit_id"] == alerting.west.id


def test_a_dip_below_the_level_restarts_the_duration(alerting: World) -> None:
    flood_rule(alerting)
    flood(alerting, "ca-ty", 2.4)
    alerting.clock.advance(minutes=6)
    flood(alerting, "ca-ty", 1.9)
    alerting.clock.advance(minutes=1)
    flood(alerting, "ca-ty", 2.2)
    alerting.clock.advance(minutes=6)
    alerting.sweep()
    assert alerting.alerts() == []
    alerting.clock.advance(minutes=4)
    flood(alerting, "ca-ty", 2.3)  # a reading after the duration fires without a sweep
    [alert] = alerting.alerts()
    assert alert["value"]["currentLevel"] == 2.3


def test_one_active_alert_per_station_and_a_retrigger_counts(alerting: World) -> None:
    flood_rule(alerting, for_seconds=0, auto_clear=False)
    flood(alerting, "ca-ty", 2.4)
    flood(alerting, "ca-ty", 2.6)  # still above: the same episode, nothing new
    flood(alerting, "ca-ty", 1.5)
    flood(alerting, "ca-ty", 2.8)  # above again: the open alert is re-triggered
    flood(alerting, "phu-hai", 2.1)  # another station: its own alert
    alerts = {a["source_id"]: a for a in alerting.alerts()}
    assert set(alerts) == {CA_TY, PHU_HAI}
    assert alerts[CA_TY]["trigger_count"] == 2
    assert alerts[CA_TY]["value"]["currentLevel"] == 2.8
    assert alerts[PHU_HAI]["trigger_count"] == 1
    url = f"/api/alerts/{alerts[CA_TY]['id']}"
    timeline = alerting.client.get(url, headers=alerting.admin).json()["timeline"]
    assert [e["kind"] for e in timeline] == ["raised", "retriggered"]


def test_alert_clears_itself_when_the_level_falls_back(alerting: World) -> None:
    flood_rule(alerting, for_seconds=0)
    flood(alerting, "ca-ty", 2.4)
    flood(alerting, "ca-ty", 1.8)
    [alert] = alerting.alerts()
    assert alert["status"] == "cleared"
    flood(alerting, "ca-ty", 2.5)  # a new episode: a new alert, the cleared one stays
    assert sorted(a["status"] for a in alerting.alerts()) == ["cleared", "open"]


def test_rule_without_auto_clear_leaves_the_alert_open(alerting: World) -> None:
    flood_rule(alerting, for_seconds=0, auto_clear=False)
    flood(alerting, "ca-ty", 2.4)
    flood(alerting, "ca-ty", 1.8)
    assert [a["status"] for a in alerting.alerts()] == ["open"]


def test_rule_scoped_to_a_commune_ignores_stations_elsewhere(alerting: World) -> None:
    flood_rule(alerting, for_seconds=0, unit_id=alerting.west.id)
    flood(alerting, "east-station", 2.9, at=EAST_POINT)
    assert alerting.alerts() == []
    flood(alerting, "west-station", 2.9)
    sources = [a["source_id"] for a in alerting.alerts()]
    assert sources == ["urn:ngsi-ld:FloodMonitoring:west-station"]


def test_a_q_filter_limits_which_entities_the_rule_watches(alerting: World) -> None:
    air = "AirQualityObserved"
    alerting.read(f"urn:ngsi-ld:{air}:a", air, None, pm25=10, typeOfLocation="urban")
    alerting.rule(
        name="PM2.5",
        kind="threshold",
        severity="warning",
        entity_type=air,
        condition="pm25>55",
        q='typeOfLocation=="urban"',
        title_vi="Bụi mịn PM2.5 cao tại {entity}",
        title_en="High PM2.5 at {entity}",
    )
    alerting.read(f"urn:ngsi-ld:{air}:r", air, None, pm25=80, typeOfLocation="rural")
    assert alerting.alerts() == []
    alerting.read(f"urn:ngsi-ld:{air}:a", air, None, pm25=80, typeOfLocation="urban")
    assert [a["title_en"] for a in alerting.alerts()] == ["High PM2.5 at a"]


def test_readings_that_change_nothing_are_evaluated_while_another_writer_holds_sqlite(
    alerting: World,
) -> None:
    if alerting.engine.db.dialect != "sqlite":
        pytest.skip("PostgreSQL has no single write lock")
    flood_rule(alerting)
    flood(alerting, "ca-ty", 1.0)
    kind = next(t for t in alerting.engine.index.by_type if t.endswith("FloodMonitoring"))
    rule = alerting.engine.index.by_type[kind][0]
    attrs = {iri: {"type": "Property", "value": 1.1} for iri in rule.iris.values()}
    attrs[rule.iris["alertLevel1"]]["value"] = 2.0
    normal = EntityItem(CA_TY, kind, alerting.west.id, attrs, list(attrs))
    with alerting.engine.db.engine.connect() as other:  # a long ingest transaction
        other.exec_driver_sql("BEGIN IMMEDIATE")
        started = time.monotonic()
        assert alerting.engine.process([normal]) == []
        assert time.monotonic() - started < 1.0  # no wait for the write lock
        other.exec_driver_sql("ROLLBACK")
    attrs[rule.iris["currentLevel"]]["value"] = 2.6  # above the level: this one must write
    alerting.engine.process([EntityItem(CA_TY, kind, alerting.west.id, attrs, list(attrs))])
    alerting.clock.advance(minutes=10)
    alerting.sweep()
    assert [a["source_id"] for a in alerting.alerts()] == [CA_TY]
