"""Events on the bus: a red value, a late report; and the module's KPIs."""

from __future__ import annotations

from datetime import date

from cityops.modules.indicators.events import take
from cityops.modules.indicators.jobs import check_late

from .conftest import put


def _target(client, world, unit="A1", value=1200.0, code="BUDGET_REVENUE"):
    body = {"unit_code": unit, "year": 2026, "value": value}
    response = client.put(
        f"/api/indicators/{code}/targets", json=body, headers=world.headers["admin"]
    )
    assert response.status_code == 200, response.text


def test_red_value_publishes_target_missed(client, world):
    _target(client, world)
    seen = []
    client.app.state.bus.subscribe("indicators.*", seen.append)
    put(client, world, "commune_a", "A1", "2026-01", 100)  # on target: no event
    put(client, world, "commune_a", "A1", "2026-02", 10)  # 110 of 200: red
    client.portal.call(client.app.state.bus.drain)
    assert [(e.name, e.unit_code, e.period, e.percent) for e in seen] == [
        ("indicators.target_missed", "A1", "2026-02", 55.0)
    ]


def test_missing_value_after_the_deadline_is_reported_late_once(client, world, database):
    _target(client, world, "A1")
    _target(client, world, "B1")
    put(client, world, "commune_a", "A1", "2026-09", 100)
    put(client, world, "commune_b", "B1", "2026-09", 100)
    put(client, world, "commune_a", "A1", "2026-10", 100)
    with database.session() as s:
        assert check_late(s, date(2026, 11, 9)) == 0  # October is due on 10 November
        take(s)
    with database.session() as s:
        assert check_late(s, date(2026, 11, 10)) == 1
        events = take(s)
    assert [(e.name, e.unit_code, e.period, e.deadline) for e in events] == [
        ("indicators.report_late", "B1", "2026-10", "2026-11-10")
    ]
    with database.session() as s:
        assert check_late(s, date(2026, 11, 12)) == 0


def test_kpis_count_indicators_on_and_off_target(client, world):
    _target(client, world, "68")
    put(client, world, "operator", "68", "2026-10", 50)
    response = client.get("/api/kpis", headers=world.headers["leader"])
    assert response.status_code == 200, response.text
    kpis = {k["key"]: k["value"] for k in response.json()}
    assert kpis["indicators.on_target_share"] == 0.0
    assert kpis["indicators.off_target"] == 1


def test_the_late_check_is_registered_for_the_scheduler(client, world):
    registry = client.app.state.registry
    assert "indicators.late_reports" in registry.intake_jobs
    assert {"indicators.target_missed", "indicators.report_late"} <= set(registry.events)
