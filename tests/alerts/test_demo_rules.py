"""The demo rules load once and fire on what the station simulator sends."""

from __future__ import annotations

from datetime import timedelta

from alerts.support import World
from cityops.alerts.demo import DEMO_RULES, seed_demo_rules
from cityops.intake.simulator import Simulator


def seed(world: World) -> int:
    """Seed the demo rules into the world's database."""
    with world.engine.db.session() as session:
        added = seed_demo_rules(session, world.engine.resolver)
    world.engine.invalidate()
    return added


def test_demo_rules_load_once(alerting: World) -> None:
    assert seed(alerting) == len(DEMO_RULES)
    assert seed(alerting) == 0
    rules = alerting.client.get("/api/alerts/rules", headers=alerting.admin).json()
    assert rules["total"] == len(DEMO_RULES)
    kinds = sorted({r["kind"] for r in rules["items"]})
    assert kinds == ["absence", "count_window", "event", "threshold"]


def test_simulated_flood_on_the_ca_ty_river_raises_the_flood_alerts(alerting: World) -> None:
    seed(alerting)
    sim = Simulator(seed=7, anomaly_rate=0, scenarios=("flood",))
    start = alerting.clock.now
    for minute in range(0, 50):
        now = start + timedelta(minutes=minute)
        readings = [r for r in sim.tick(now) if r["type"] == "FloodMonitoring"]
        alerting.clock.now = now
        r = alerting.client.post(
            "/api/intake/readings",
            json={"readings": readings},
            headers={"X-API-Key": alerting.key},
        )
        assert r.status_code == 200, r.text
        alerting.settle()
    alerting.sweep()
    titles = [a["title_en"] for a in alerting.alerts()]
    assert any(t.startswith("Water level at ") and "above alert level I" in t for t in titles)
    for alert in alerting.alerts():
        if alert["title_en"].startswith("Flood emergency"):
            assert alert["severity"] == "critical"
            assert alert["value"]["currentLevel"] > alert["value"]["alertLevel3"]
    flood = [a for a in alerting.alerts() if "alert level I " in a["title_en"]]
    assert all(a["public"] and a["severity"] == "major" for a in flood)


def test_module_events_raise_the_demo_alerts_an_operator_expects(alerting: World) -> None:
    from cityops.modules.health.events import OutbreakSuspected
    from cityops.modules.indicators.events import ReportLate

    seed(alerting)
    ward = alerting.west
    events = [
        OutbreakSuspected(
            signal_id=1,
            disease="dengue",
            disease_vi="sốt xuất huyết",
            disease_en="dengue",
            unit_id=ward.id,
            unit_code=ward.code,
            unit_name=ward.name,
            week="2026-W46",
            week_start="2026-11-09",
            cases=31,
            baseline_mean=6.0,
            c1=4.1,
            c2=3.8,
            c3=5.2,
            methods="C1,C2,C3",
        ),
        ReportLate(
            indicator="BUDGET_REVENUE",
            unit_id=ward.id,
            unit_code=ward.code,
            period="2026-10",
            deadline="2026-11-10",
            agency_code=None,
        ),
    ]
    for event in events:
        alerting.client.portal.call(alerting.client.app.state.bus.publish, event)
    alerting.client.portal.call(alerting.client.app.state.bus.drain)
    alerting.settle()
    by_title = {a["title_vi"]: a for a in alerting.alerts()}
    outbreak = by_title[f"Nghi bùng phát sốt xuất huyết tại {ward.name} tuần 2026-W46 (31 ca)"]
    assert outbreak["severity"] == "major"
    assert (
        f"{ward.code} chưa báo cáo chỉ tiêu BUDGET_REVENUE kỳ 2026-10 (hạn 2026-11-10)" in by_title
    )
