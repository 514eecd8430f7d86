"""Helpers shared by the unit tests: principals with and without a unit scope."""

from __future__ import annotations

from cityops.core.policy import Principal, Role
from cityops.core.units.models import Unit

ADMIN = Principal(kind="user", id=1, name="admin", role=Role.admin)


def scoped(role: Role, unit: Unit) -> Principal:
    """Return a principal of this role scoped to `unit`."""
    return Principal(kind="user", id=2, name="u", role=role, unit_id=unit.id, unit_path=unit.path)
