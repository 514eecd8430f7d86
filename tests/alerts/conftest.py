"""Fixtures of the alerts tests: a running app whose engine uses a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from alerts.support import Clock, World, box
from cityops.core.policy import Role


@pytest.fixture
def alerting(app, factory) -> Iterator[World]:  # noqa: ANN001
    """A province with a west and an east commune, an admin, an intake key, a frozen clock."""
    province = factory.unit(code="P", name="Tỉnh thử")
    west = factory.unit(code="W", name="Phường Tây", parent=province, geometry=box(108.0, 108.1))
    east = factory.unit(code="E", name="Phường Đông", parent=province, geometry=box(108.1, 108.2))
    admin = factory.headers(factory.user(Role.admin))
    key = factory.api_key(Role.integrator)
    clock = Clock()
    engine = app.state.alert_engine
    engine.clock = clock
    with TestClient(app) as client:
        yield World(client, engine, clock, province, west, east, admin, key)
