"""Roles, permissions and administrative-unit scope: every access decision goes through here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import ColumnElement, literal, or_

from cityops.core.errors import Forbidden, NotFound, Unauthorized


class Role(StrEnum):
    """What a user or API key is for."""

    admin = "admin"
    operator = "operator"
    leader = "leader"
    agency_staff = "agency_staff"
    unit_operator = "unit_operator"
    integrator = "integrator"


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.admin: ("Quản trị hệ thống", "Administrator"),
    Role.operator: ("Cán bộ vận hành IOC", "IOC operator"),
    Role.leader: ("Lãnh đạo", "Leader"),
    Role.agency_staff: ("Cán bộ cơ quan xử lý", "Agency staff"),
    Role.unit_operator: ("Cán bộ vận hành cấp cơ sở", "Lower-level unit operator"),
    Role.integrator: ("Tích hợp hệ thống (máy)", "Integrator (machine)"),
}


class Perm(StrEnum):
    """An action family; modules check these too."""

    units_read = "units:read"
    units_write = "units:write"
    agencies_read = "agencies:read"
    agencies_write = "agencies:write"
    users_manage = "users:manage"
    apikeys_manage = "apikeys:manage"
    audit_read = "audit:read"
    modules_read = "modules:read"
    data_read = "data:read"
    data_write = "data:write"
    assigned_handle = "assigned:handle"


_READ = {Perm.units_read, Perm.agencies_read, Perm.modules_read, Perm.data_read}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.admin: frozenset(Perm),
    Role.operator: frozenset(_READ | {Perm.data_write, Perm.assigned_handle}),
    Role.leader: frozenset(_READ),
    Role.agency_staff: frozenset(_READ | {Perm.assigned_handle}),
    Role.unit_operator: frozenset(_READ | {Perm.data_write, Perm.assigned_handle}),
    Role.integrator: frozenset({Perm.units_read, Perm.data_read, Perm.data_write}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, an API key, or an anonymous citizen."""

    kind: Literal["user", "api_key", "anonymous", "system"]
    id: int | None = None
    name: str = "anonymous"
    role: Role | None = None
    unit_id: int | None = None
    unit_path: str | None = None
    agency_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        """Say whether the caller proved who they are."""
        return self.kind != "anonymous"

    @property
    def actor(self) -> str:
        """Name the caller for the audit log, e.g. 'user:3:admin'."""
        return f"{self.kind}:{self.id}:{self.name}" if self.id is not None else self.kind


ANONYMOUS = Principal(kind="anonymous")


def system_principal(name: str) -> Principal:
    """The principal of the command line and of scheduled jobs: an unscoped admin."""
    return Principal(kind="system", id=0, name=name, role=Role.admin)


def in_scope(principal: Principal, unit_path: str | None) -> bool:
    """Say whether a unit (by its path) lies in the caller's subtree; None means unit-less data."""
    if principal.unit_path is None:
        return principal.is_authenticated
    if unit_path is None:
        # Data not tied to a unit (e.g. province-wide settings) is visible from the root only.
        return principal.unit_path.count("/") <= 2
    return unit_path.startswith(principal.unit_path)


def can(
    principal: Principal,
    perm: Perm,
    unit_path: str | None = None,
    *,
    agency_id: int | None = None,
    check_unit: bool = True,
) -> bool:
    """Decide whether the caller may do `perm` on something in `unit_path` (the one decision)."""
    if principal.role is None or perm not in ROLE_PERMISSIONS[principal.role]:
        return False
    own_agency_only = principal.role is Role.agency_staff and perm is Perm.assigned_handle
    if own_agency_only and agency_id is not None and agency_id != principal.agency_id:
        return False
    return not check_unit or in_scope(principal, unit_path)


def authorize(
    principal: Principal,
    perm: Perm,
    unit_path: str | None = None,
    *,
    agency_id: int | None = None,
    check_unit: bool = True,
    hide: bool = True,
) -> None:
    """Raise unless `can(...)`: 401 if anonymous, 404 if out of scope (hide=True), else 403."""
    if not principal.is_authenticated:
        raise Unauthorized("Authentication required")
    if can(principal, perm, unit_path, agency_id=agency_id, check_unit=check_unit):
        return
    if principal.role is not None and perm in ROLE_PERMISSIONS[principal.role] and hide:
        raise NotFound("Not found (or outside your administrative scope)")
    raise Forbidden(f"Your role may not do this ({perm.value})", code="forbidden")


def scope_filter(principal: Principal, path_column: Any) -> ColumnElement[bool]:
    """Return a SQL condition keeping only rows whose unit path is in the caller's scope."""
    if not principal.is_authenticated:
        return literal(False)
    if principal.unit_path is None:
        return literal(True)
    cond = path_column.startswith(principal.unit_path, autoescape=True)
    if principal.unit_path.count("/") <= 2:
        cond = or_(cond, path_column.is_(None))
    return cond
