"""Fixtures for field-report tests: a small province with two wards, agencies, staff, a category."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pytest

from cityops.core.auth.models import User
from cityops.core.auth.passwords import hash_password
from cityops.core.policy import Principal, Role
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.schemas import ReportCreate

# A Monday morning, 09:00 in Vietnam (UTC+7).
MONDAY_0900 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
MUI_NE = (10.95, 108.28)  # inside ward A
PHU_THUY = (10.93, 108.10)  # inside ward B
DA_LAT = (11.94, 108.44)  # in the province, in no ward polygon
HA_NOI = (21.03, 105.85)  # outside the territory


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    """A square polygon with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class World:
    """The test province, its people and the roads category."""

    province: Any
    ward_a: Any
    ward_b: Any
    dept: Any
    ward_a_office: Any
    ward_b_office: Any
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    def principal(self, who: str) -> Principal:
        """The principal of a named user (as the API would build it)."""
        user = self.users[who]
        unit_path = {
            self.province.id: self.province.path,
            self.ward_a.id: self.ward_a.path,
            self.ward_b.id: self.ward_b.path,
        }.get(user.unit_id)
        return Principal(
            kind="user",
            id=user.id,
            name=user.username,
            role=Role(user.role),
            unit_id=user.unit_id,
            unit_path=unit_path,
            agency_id=user.agency_id,
        )


def roads_category(client: Any, admin: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Create the roads category (default: the department; wards handle their own)."""
    body = {
        "code": "PA-DUONG",
        "name": "Hư hỏng đường sá",
        "name_en": "Damaged roads",
        "group": "Giao thông",
        "keywords": "ổ gà, sụt lún",
        "sla_hours": 15,
        "default_agency_code": "SXD",
        "agency_codes": ["UBND-MUINE", "UBND-PHUTHUY"],
        "attributes": [
            {
                "code": "SIZE",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "Kích thước ổ gà",
                "values": [{"key": "small", "name": "Nhỏ"}, {"key": "large", "name": "Lớn"}],
            }
        ],
    } | extra
    response = client.post("/api/field-reports/categories", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


@lru_cache
def _password_hash() -> str:
    return hash_password("Mật-khẩu-thử-2026")


def quick_user(factory: Any, role: str, unit: Any, agency: Any, username: str) -> User:
    """Make a user like factory.user, hashing the password once per run (argon2 is slow)."""
    with factory.db.session() as s:
        user = User(
            username=username,
            full_name=username,
            password_hash=_password_hash(),
            role=Role(role).value,
            unit_id=unit.id if unit else None,
            agency_id=agency.id if agency else None,
        )
        s.add(user)
    return user


@pytest.fixture
def world(factory: Any, client: Any) -> World:
    """Lâm Đồng with wards Mũi Né (A) and Phú Thủy (B), agencies, users, the roads category."""
    province = factory.unit("68", "Lâm Đồng", level="province", geometry=square(107.0, 10.5, 2.0))
    ward_a = factory.unit("22918", "Phường Mũi Né", province, geometry=square(108.2, 10.9, 0.15))
    ward_b = factory.unit("22924", "Phường Phú Thủy", province, geometry=square(108.05, 10.9, 0.1))
    dept = factory.agency(province, "SXD", "Sở Xây dựng")
    office_a = factory.agency(ward_a, "UBND-MUINE", "UBND phường Mũi Né")
    office_b = factory.agency(ward_b, "UBND-PHUTHUY", "UBND phường Phú Thủy")
    w = World(province, ward_a, ward_b, dept, office_a, office_b)
    people = {
        "admin": ("admin", None, None),
        "operator": ("operator", province, None),
        "ward_operator": ("unit_operator", ward_a, None),
        "ward_b_operator": ("unit_operator", ward_b, None),
        "leader": ("leader", province, None),
        "dept_staff": ("agency_staff", province, dept),
        "ward_a_staff": ("agency_staff", ward_a, office_a),
        "ward_b_staff": ("agency_staff", ward_b, office_b),
    }
    for name, (role, unit, agency) in people.items():
        w.users[name] = quick_user(factory, role, unit, agency, name)
        w.headers[name] = factory.headers(w.users[name])
    w.headers["anonymous"] = {}
    roads_category(client, w.headers["admin"])
    return w


def submit(
    client: Any,
    point: tuple[float, float] = MUI_NE,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Submit a roads report as a citizen; return the receipt."""
    body = {
        "category_code": "PA-DUONG",
        "description": "Ổ gà lớn trước số 12 đường Nguyễn Đình Chiểu",
        "lat": point[0],
        "lon": point[1],
        "address": "12 Nguyễn Đình Chiểu, Mũi Né",
        "attributes": {"SIZE": "large"},
        "reporter_name": "Trần Văn Dân",
        "reporter_phone": "0912345678",
    } | extra
    response = client.post("/api/field-reports/public/reports", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()


def act(client: Any, w: World, who: str, code: str, action: str, **body: Any) -> Any:
    """Run a workflow step as a user; return the response."""
    return client.post(
        f"/api/field-reports/reports/{code}/{action}", json=body, headers=w.headers[who]
    )


def report_input(point: tuple[float, float] = MUI_NE, **extra: Any) -> ReportCreate:
    """A roads report as the service layer takes it."""
    body = {
        "category_code": "PA-DUONG",
        "description": "Ổ gà lớn",
        "lat": point[0],
        "lon": point[1],
        "attributes": {"SIZE": "small"},
    } | extra
    return ReportCreate(**body)


@pytest.fixture
def rt(settings: Any) -> Runtime:
    """The module runtime with a frozen clock at Monday 2 March 2026, 09:00 local time."""
    return Runtime.of(settings, MONDAY_0900)
