"""Aggregation up the unit tree, drill-down, and status against the pro-rata target."""

from __future__ import annotations

from cityops.modules.indicators.aggregate import status_of
from cityops.modules.indicators.choices import Status

from .conftest import make_indicator, put


def _series(client, world, unit, code="BUDGET_REVENUE", span="from=2026-09&to=2026-10"):
    url = f"/api/indicators/{code}/series?unit={unit}&{span}"
    response = client.get(url, headers=world.headers["leader"])
    assert response.status_code == 200, response.text
    return [(p["period"], p["value"], p["computed"]) for p in response.json()["points"]]


def test_province_value_is_the_sum_of_its_communes(client, world):
    put(client, world, "commune_a", "A1", "2026-10", 100)
    put(client, world, "commune_b", "B1", "2026-10", 50)
    assert _series(client, world, "68") == [("2026-09", None, False), ("2026-10", 150, True)]


def test_a_units_own_value_wins_over_its_children(client, world):
    put(client, world, "commune_a", "A1", "2026-10", 100)
    put(client, world, "operator", "68", "2026-10", 175)
    assert _series(client, world, "68")[-1] == ("2026-10", 175, False)


def test_average_and_weighted_rules_combine_the_children(client, world):
    admin = world.headers["admin"]
    make_indicator(client, admin, code="DOSSIERS", cumulative=False)
    common = {"unit_of_measure": "%", "cumulative": False}
    make_indicator(client, admin, code="CPI", aggregation="average", **common)
    make_indicator(
        client, admin, code="ONLINE", aggregation="weighted", weight_code="DOSSIERS", **common
    )
    for code, a, b in (("DOSSIERS", 300, 100), ("CPI", 3.0, 4.0), ("ONLINE", 80, 40)):
        put(client, world, "operator", "A1", "2026-10", a, code)
        put(client, world, "operator", "B1", "2026-10", b, code)
    assert _series(client, world, "68", "CPI")[-1] == ("2026-10", 3.5, True)
    assert _series(client, world, "68", "ONLINE")[-1] == ("2026-10", 70.0, True)


def test_a_none_rule_leaves_the_parent_without_a_value(client, world):
    make_indicator(client, world.headers["admin"], code="GROWTH", aggregation="none")
    put(client, world, "operator", "A1", "2026-10", 7.5, "GROWTH")
    assert _series(client, world, "68", "GROWTH")[-1] == ("2026-10", None, False)


def test_drill_down_shows_each_commune_against_its_target(client, world):
    url = "/api/indicators/BUDGET_REVENUE/targets"
    for unit in ("A1", "B1"):
        body = {"unit_code": unit, "year": 2026, "value": 1200}
        client.put(url, json=body, headers=world.headers["operator"])
    put(client, world, "commune_a", "A1", "2026-01", 100)  # 100 of a 100 pro-rata: green
    put(client, world, "commune_b", "B1", "2026-01", 92)  # 92%: amber
    response = client.get(
        "/api/indicators/BUDGET_REVENUE/children?unit=68&period=2026-01",
        headers=world.headers["leader"],
    )
    assert response.status_code == 200, response.text
    rows = [(r["unit_code"], r["percent"], r["status"]) for r in response.json()["items"]]
    assert rows == [("A1", 100.0, "green"), ("B1", 92.0, "amber")]


def test_dashboard_compares_year_to_date_with_the_pro_rata_target(client, world):
    body = {"unit_code": "68", "year": 2026, "value": 1200}
    client.put("/api/indicators/BUDGET_REVENUE/targets", json=body, headers=world.headers["admin"])
    put(client, world, "commune_a", "A1", "2026-01", 60)
    put(client, world, "commune_b", "B1", "2026-02", 100)
    response = client.get(
        "/api/indicators/dashboard?period=2026-02", headers=world.headers["leader"]
    )
    assert response.status_code == 200, response.text
    row = response.json()["items"][0]
    assert (row["value"], row["year_to_date"], row["pro_rata_target"]) == (100, 160, 200)
    assert (row["percent"], row["status"], row["colour"]) == (80.0, "red", "#dc3545")
    assert row["status_label_vi"] == "Không đạt (dưới 90%)"


def test_lower_is_better_turns_red_above_the_target():
    assert status_of(3.8, 4.0, higher_is_better=False)[1] is Status.green
    assert status_of(4.3, 4.0, higher_is_better=False)[1] is Status.amber
    assert status_of(5.0, 4.0, higher_is_better=False)[1] is Status.red
    assert status_of(None, 4.0, True)[1] is Status.no_value
    assert status_of(3.0, None, True)[1] is Status.no_target


def test_a_series_defaults_to_the_year_so_far(client, world):
    put(client, world, "commune_a", "A1", "2026-03", 10)
    points = _series(client, world, "68", span="")
    assert [p[0] for p in points] == ["2026-01", "2026-02", "2026-03"]
    assert points[-1] == ("2026-03", 10, True)
