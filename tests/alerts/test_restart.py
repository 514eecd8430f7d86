"""A restart loses no pending duration and raises nothing twice: rule state is in the database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from alerts.support import World, flood, flood_rule
from cityops.app import create_app


def restarted(world: World, settings, database) -> World:  # noqa: ANN001
    """Stop the world's server and start a fresh one on the same database (same clock)."""
    world.client.__exit__(None, None, None)
    app = create_app(settings, db=database)
    app.state.alert_engine.clock = world.clock
    client = TestClient(app)
    client.__enter__()
    return World(
        client,
        app.state.alert_engine,
        world.clock,
        world.province,
        world.west,
        world.east,
        world.admin,
        world.key,
    )


def test_pending_duration_survives_a_restart_and_fires_once(
    alerting: World,
    settings,
    database,  # noqa: ANN001
) -> None:
    flood_rule(alerting)
    flood(alerting, "ca-ty", 2.4)
    alerting.clock.advance(minutes=6)
    second = restarted(alerting, settings, database)
    try:
        second.clock.advance(minutes=3)
        second.sweep()
        assert second.alerts() == []
        second.clock.advance(minutes=1)
        second.sweep()
        second.sweep()
        [alert] = second.alerts()
        assert alert["trigger_count"] == 1
        flood(second, "ca-ty", 2.5)  # the same episode after the restart: nothing new
        [alert] = second.alerts()
        assert alert["trigger_count"] == 1
    finally:
        second.client.__exit__(None, None, None)
        alerting.client.__enter__()  # the fixture closes it again


def test_a_firing_condition_is_not_raised_again_by_a_second_server(
    alerting: World,
    settings,
    database,  # noqa: ANN001
) -> None:
    flood_rule(alerting, for_seconds=0)
    flood(alerting, "ca-ty", 2.4)
    second = restarted(alerting, settings, database)
    try:
        flood(second, "ca-ty", 2.6)
        flood(second, "ca-ty", 1.2)  # back to normal: the alert clears (auto_clear)
        [alert] = second.alerts()
        assert (alert["status"], alert["trigger_count"]) == ("cleared", 1)
    finally:
        second.client.__exit__(None, None, None)
        alerting.client.__enter__()
