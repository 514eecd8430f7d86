"""Helpers shared by the unit tests: principals and a clean-up aid."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from cityops.core.policy import Principal, Role
from cityops.core.units.models import Unit

ADMIN = Principal(kind="user", id=1, name="admin", role=Role.admin)


def scoped(role: Role, unit: Unit) -> Principal:
    """Return a principal of this role scoped to `unit`."""
    return Principal(kind="user", id=2, name="u", role=role, unit_id=unit.id, unit_path=unit.path)


@pytest.fixture(autouse=True)
def _detach_units(request: pytest.FixtureRequest) -> Iterator[None]:
    """Cut parent links before the shared clean-up: SQLite refuses `DELETE FROM units`
    while a child row still points at its parent (ON DELETE RESTRICT is checked per row)."""
    yield
    if "database" in request.fixturenames:
        db = request.getfixturevalue("database")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE units SET parent_id = NULL"))
