"""Fixtures for indicator tests: a province with two communes, its staff, a revenue indicator."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pytest

from cityops.core.auth.models import User
from cityops.core.auth.passwords import hash_password
from cityops.core.policy import Role


@dataclass
class World:
    """The test province, its two communes and the people who use the indicators."""

    province: Any
    commune_a: Any
    commune_b: Any
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


@lru_cache
def _password_hash() -> str:
    return hash_password("Mật-khẩu-thử-2026")


def _user(factory: Any, role: str, unit: Any, username: str) -> User:
    with factory.db.session() as s:
        user = User(
            username=username,
            full_name=username,
            password_hash=_password_hash(),
            role=Role(role).value,
            unit_id=unit.id if unit else None,
        )
        s.add(user)
    return user


def make_indicator(client: Any, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Create an indicator (default: monthly budget revenue, summed, cumulative)."""
    body = {
        "code": "BUDGET_REVENUE",
        "name_vi": "Thu ngân sách nhà nước",
        "name_en": "State budget revenue",
        "unit_of_measure": "tỷ đồng",
        "group": "Tài chính",
        "frequency": "monthly",
        "aggregation": "sum",
        "cumulative": True,
        "agency_code": "STC",
    } | extra
    response = client.post("/api/indicators", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def put(
    client: Any,
    w: World,
    who: str,
    unit: str,
    period: str,
    value: float,
    code: str = "BUDGET_REVENUE",
) -> Any:
    """Report a value as a user; return the response."""
    body = {"unit_code": unit, "period": period, "value": value}
    return client.put(f"/api/indicators/{code}/values", json=body, headers=w.headers[who])


@pytest.fixture
def world(factory: Any, client: Any) -> World:
    """Lâm Đồng (68) with communes A and B, an admin, operators, a leader, the indicator."""
    province = factory.unit("68", "Lâm Đồng", level="province")
    commune_a = factory.unit("A1", "Xã A", province)
    commune_b = factory.unit("B1", "Xã B", province)
    factory.agency(province, "STC", "Sở Tài chính")
    w = World(province, commune_a, commune_b)
    people = {
        "admin": ("admin", None),
        "operator": ("operator", province),
        "leader": ("leader", province),
        "commune_a": ("unit_operator", commune_a),
        "commune_b": ("unit_operator", commune_b),
    }
    for name, (role, unit) in people.items():
        w.headers[name] = factory.headers(_user(factory, role, unit, name))
    make_indicator(client, w.headers["admin"])
    return w
