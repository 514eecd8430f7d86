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
