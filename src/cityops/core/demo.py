"""Demo data for `cityops demo`: the Lâm Đồng unit tree, agencies, users, a demo API key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.auth import people
from cityops.core.auth import schemas as s
from cityops.core.auth.models import User
from cityops.core.modules import ModuleManifest
from cityops.core.policy import Principal, Role
from cityops.core.units.loaders import load_demo_units
from cityops.core.units.models import Unit

DEMO_PASSWORD = "cityops-demo-2026"

DEMO_AGENCIES = (
    ("SXD-LD", "Sở Xây dựng tỉnh Lâm Đồng", "Lâm Đồng Department of Construction", "68"),
    (
        "SNNMT-LD",
        "Sở Nông nghiệp và Môi trường tỉnh Lâm Đồng",
        "Lâm Đồng Department of Agriculture and Environment",
        "68",
    ),
    ("SYT-LD", "Sở Y tế tỉnh Lâm Đồng", "Lâm Đồng Department of Health", "68"),
    ("CA-LD", "Công an tỉnh Lâm Đồng", "Lâm Đồng Provincial Police", "68"),
    ("UBND-MUINE", "Ủy ban nhân dân phường Mũi Né", "Mũi Né Ward People's Committee", "22918"),
)


@dataclass(frozen=True)
class DemoUser:
    """A demo login printed by `cityops demo`."""

    username: str
    full_name: str
    role: Role
    unit_code: str | None
    agency_code: str | None = None


DEMO_USERS = (
    DemoUser("admin", "Quản trị hệ thống", Role.admin, None),
    DemoUser("vanhanh", "Nguyễn Văn An (trực IOC)", Role.operator, "68"),
    DemoUser("lanhdao", "Trần Thị Bình (lãnh đạo tỉnh)", Role.leader, "68"),
    DemoUser("xaydung", "Lê Văn Cường (Sở Xây dựng)", Role.agency_staff, "68", "SXD-LD"),
    DemoUser("muine", "Phạm Thị Dung (phường Mũi Né)", Role.unit_operator, "22918"),
)


def seed(session: Session, principal: Principal, modules: dict[str, ModuleManifest]) -> bool:
    """Load the demo data once (core, then each enabled module's); False if already there."""
    if session.scalar(select(func.count()).select_from(Unit)):
        return False
    _seed_core(session, principal)
    for manifest in modules.values():
        if manifest.seed_demo is not None:
            session.flush()
            manifest.seed_demo(session)
    return True


def _seed_core(session: Session, principal: Principal) -> None:
    """Load the unit tree, the demo agencies and the demo users."""
    load_demo_units(session, principal)
    session.flush()
    for code, name, name_en, unit_code in DEMO_AGENCIES:
        people.create_agency(
            session,
            principal,
            s.AgencyCreate(code=code, name=name, name_en=name_en, unit_code=unit_code),
        )
    session.flush()
    for u in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == u.username)):
            continue
        people.create_user(
            session,
            principal,
            s.UserCreate(
                username=u.username,
                full_name=u.full_name,
                role=u.role,
                unit_code=u.unit_code,
                agency_code=u.agency_code,
                password=DEMO_PASSWORD,
            ),
        )


def login_help(base_url: str) -> str:
    """Say how to log in to the demo."""
    lines = [
        f"CityOps demo: {base_url}   (API docs: {base_url}/docs)",
        f"Đăng nhập / log in — mật khẩu / password: {DEMO_PASSWORD}",
    ]
    for u in DEMO_USERS:
        lines.append(f"  {u.username:<9} {u.role.value:<14} {u.full_name}")
    return "\n".join(lines)
