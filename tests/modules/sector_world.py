"""The world of the sector-module tests (health, education, tourism): a province with a
polygon, two wards without one, and people scoped to each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from field_reports.conftest import quick_user, square


@dataclass
class World:
    """The test province, two wards, and people scoped to each."""

    province: Any
    ward_a: Any
    ward_b: Any
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


@pytest.fixture
def world(factory: Any, client: Any) -> World:
    """Lâm Đồng (68) with wards Mũi Né (A) and Lâm Viên - Đà Lạt (B); admin, operators, leader."""
    province = factory.unit("68", "Lâm Đồng", level="province", geometry=square(107.0, 10.5, 2.0))
    ward_a = factory.unit("22918", "Phường Mũi Né", province)
    ward_b = factory.unit("24778", "Phường Lâm Viên - Đà Lạt", province)
    w = World(province, ward_a, ward_b)
    people = {
        "admin": ("admin", None),
        "operator": ("operator", province),
        "leader": ("leader", province),
        "ward_a": ("unit_operator", ward_a),
        "ward_b": ("unit_operator", ward_b),
    }
    for name, (role, unit) in people.items():
        w.headers[name] = factory.headers(quick_user(factory, role, unit, None, name))
    w.headers["anonymous"] = {}
    return w
