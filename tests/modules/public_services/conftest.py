"""Fixtures for public-services tests: a province, two communes, one-stop offices, staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import pytest

from cityops.core.auth.models import User
from cityops.core.auth.passwords import hash_password
from cityops.core.auth.service import principal_for_user
from cityops.core.policy import Principal, Role, system_principal
from cityops.modules.public_services.service import upsert

VN = timezone(timedelta(hours=7))
# Monday 16 March 2026, 09:00 in Vietnam: the frozen "now" of the counter tests.
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=VN).astimezone(UTC)


def local(*args: int) -> datetime:
    """A Vietnam local time as an aware datetime."""
    return datetime(*args, tzinfo=VN)


@dataclass
class World:
    """Lâm Đồng with communes A and B, their one-stop offices and the people who use them."""

    province: Any
    commune_a: Any
    commune_b: Any
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def principal(self, database: Any, who: str) -> Principal:
        """The principal of a named user (as the API builds it)."""
        with database.session() as s:
            return principal_for_user(s, s.get(User, self.users[who].id))


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


@pytest.fixture
def world(factory: Any, client: Any) -> World:
    """The province 68, communes A1 and B1, offices MC-A, MC-B and SXD, and their staff."""
    province = factory.unit("68", "Lâm Đồng", level="province")
    commune_a = factory.unit("A1", "Xã A", province)
    commune_b = factory.unit("B1", "Xã B", province)
    factory.agency(province, "SXD", "Sở Xây dựng")
    factory.agency(commune_a, "MC-A", "Bộ phận một cửa xã A")
    factory.agency(commune_b, "MC-B", "Bộ phận một cửa xã B")
    w = World(province, commune_a, commune_b)
    people = {
        "admin": ("admin", None),
        "operator": ("operator", province),
        "leader": ("leader", province),
        "commune_a": ("unit_operator", commune_a),
        "commune_b": ("unit_operator", commune_b),
    }
    for name, (role, unit) in people.items():
        w.users[name] = _user(factory, role, unit, name)
        w.headers[name] = factory.headers(w.users[name])
    return w


def dossier(
    external_id: str,
    received: datetime,
    due: datetime | None,
    finished: datetime | None = None,
    unit: str = "A1",
    agency: str = "MC-A",
    **extra: Any,
) -> dict[str, Any]:
    """A dossier as the one-stop system sends it (finished ones are 'finished')."""
    body = {
        "external_id": external_id,
        "procedure_code": "1.001234",
        "procedure_name": "Đăng ký khai sinh",
        "procedure_field": "Hộ tịch",
        "procedure_level": "commune",
        "agency_code": agency,
        "unit_code": unit,
        "received_at": received.isoformat(),
        "due_at": due.isoformat() if due else None,
        "finished_at": finished.isoformat() if finished else None,
        "channel": "online",
        "status": "finished" if finished else "processing",
    }
    return body | extra


def load(database: Any, items: list[dict[str, Any]], now: datetime = NOW) -> Any:
    """Store dossiers as the system would, at a frozen time; return the intake result."""
    with database.session() as s:
        return upsert(s, system_principal("test"), list(enumerate(items, 1)), VN, now)


# The hand-made month of March 2026 (see test_counters): D1 finished in February, D2 and D3
# carried over, D4-D8 received in March in commune A, D9 in commune B.
MARCH = [
    dossier("D1", local(2026, 2, 20, 8), local(2026, 2, 27, 17), local(2026, 2, 25, 10)),
    dossier("D2", local(2026, 2, 25, 8), local(2026, 3, 5, 17), local(2026, 3, 4, 15)),
    dossier("D3", local(2026, 2, 27, 8), local(2026, 3, 6, 17)),
    dossier("D4", local(2026, 3, 2, 8), local(2026, 3, 9, 17), local(2026, 3, 9, 10)),
    dossier("D5", local(2026, 3, 3, 8), local(2026, 3, 10, 17), local(2026, 3, 12, 9)),
    dossier("D6", local(2026, 3, 10, 8), local(2026, 3, 16, 17)),
    dossier("D7", local(2026, 3, 11, 8), local(2026, 3, 17, 8, 30), channel="offline"),
    dossier("D8", local(2026, 3, 12, 8), local(2026, 3, 25, 17), channel="postal"),
    dossier("D9", local(2026, 3, 5, 8), local(2026, 3, 6, 17), unit="B1", agency="MC-B"),
]
