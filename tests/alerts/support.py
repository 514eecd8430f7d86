"""Helpers of the alerts tests: a province with two communes, readings, a settable clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from cityops.alerts.engine import AlertEngine

# Two communes side by side: west is lon 108.0-108.1, east is lon 108.1-108.2 (lat 10.9-11.0).
WEST_POINT = (10.95, 108.05)
EAST_POINT = (10.95, 108.15)


def box(lon0: float, lon1: float) -> dict[str, Any]:
    """A square-ish commune boundary between two longitudes."""
    ring = [[lon0, 10.9], [lon1, 10.9], [lon1, 11.0], [lon0, 11.0], [lon0, 10.9]]
    return {"type": "Polygon", "coordinates": [ring]}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        # starts at the real time: the hub stamps entities with it
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@dataclass
class World:
    """The test's province, people and tools."""

    client: TestClient
    engine: AlertEngine
    clock: Clock
    province: Any
    west: Any
    east: Any
    admin: dict[str, str]
    key: str

    def settle(self) -> None:
        """Let the engine evaluate everything published so far."""
        self.client.portal.call(self.engine.flush)

    def sweep(self) -> None:
        """Run the engine's periodic sweep now (at the clock's time)."""
        self.client.portal.call(self.engine.run_sweep)
        self.client.portal.call(self.engine.flush)

    def read(
        self, entity_id: str, type_: str, at: tuple[float, float] | None, **attrs: Any
    ) -> None:
        """Post one keyValues reading and let the engine see it."""
        body: dict[str, Any] = {"entity_id": entity_id, "type": type_, "attrs": dict(attrs)}
        if at is not None:
            body["attrs"]["location"] = {"type": "Point", "coordinates": [at[1], at[0]]}
        r = self.client.post(
            "/api/intake/readings", json={"readings": [body]}, headers={"X-API-Key": self.key}
        )
        assert r.status_code == 200, r.text
        self.settle()

    def rule(self, **body: Any) -> dict[str, Any]:
        """Create a rule as the admin and return it."""
        r = self.client.post("/api/alerts/rules", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        return r.json()

    def alerts(self, headers: dict[str, str] | None = None, **params: Any) -> list[dict[str, Any]]:
        """List alerts (as the admin unless told)."""
        r = self.client.get("/api/alerts", params=params, headers=headers or self.admin)
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def act(self, alert_id: int, action: str, headers: dict[str, str] | None = None, **body: Any):  # noqa: ANN201
        """Run a lifecycle action and return the response."""
        return self.client.post(
            f"/api/alerts/{alert_id}/{action}", json=body or None, headers=headers or self.admin
        )


FLOOD_RULE = {
    "name": "Mực nước vượt báo động I",
    "kind": "threshold",
    "severity": "major",
    "entity_type": "FloodMonitoring",
    "condition": "currentLevel>alertLevel1",
    "for_seconds": 600,
    "auto_clear": True,
    "title_vi": "Mực nước tại {entity} vượt báo động I ({currentLevel} m)",
    "title_en": "Water level at {entity} above alert level I ({currentLevel} m)",
}


def flood_rule(world: World, **changes: Any) -> dict[str, Any]:
    """Make the flood rule (after a first, normal reading: rules name attributes the hub knows)."""
    flood(world, "seed", 1.0)
    return world.rule(**{**FLOOD_RULE, **changes})


def flood(world: World, station: str, level: float, at: tuple[float, float] = WEST_POINT) -> None:
    """Post a water-level reading of a FloodMonitoring station (alert level I is 2.0 m)."""
    world.read(
        f"urn:ngsi-ld:FloodMonitoring:{station}",
        "FloodMonitoring",
        at,
        currentLevel=level,
        alertLevel1=2.0,
        alertLevel2=2.5,
        alertLevel3=3.0,
    )
