"""Who may see and act on which alert, decided through the core policy (can/authorize)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false
from sqlalchemy.orm import Session

from cityops.alerts.models import Alert
from cityops.core.errors import NotFound
from cityops.core.policy import Perm, Principal, Role, authorize, can, scope_filter
from cityops.core.units.models import Unit


def unit_path(session: Session, unit_id: int | None) -> str | None:
    """Return a unit's materialised path (None for unit-less records)."""
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    return unit.path if unit is not None else None


def can_read(principal: Principal, alert: Alert, path: str | None) -> bool:
    """Say whether the caller may read this alert (agency staff: only their agency's)."""
    if principal.role is Role.agency_staff:
        return alert.assignee_agency_id is not None and can(
            principal,
            Perm.assigned_handle,
            agency_id=alert.assignee_agency_id,
            check_unit=False,
        )
    return can(principal, Perm.data_read, path)


def read_filter(principal: Principal) -> ColumnElement[bool]:
    """SQL condition keeping the alerts the caller may read (outer-join Unit on Alert.unit_id)."""
    if not can(principal, Perm.data_read, check_unit=False):
        return false()
    if principal.role is Role.agency_staff:
        if principal.agency_id is None:
            return false()
        return Alert.assignee_agency_id == principal.agency_id
    return scope_filter(principal, Unit.path)


def check_read(principal: Principal, alert: Alert, path: str | None) -> None:
    """Raise 401/404 unless the caller may read the alert."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    if not can_read(principal, alert, path):
        raise NotFound(f"No alert {alert.id} (or outside your scope)")


def check_act(principal: Principal, alert: Alert, path: str | None, *, manage: bool) -> None:
    """Raise unless the caller may act on the alert (manage: operators of its subtree only)."""
    check_read(principal, alert, path)
    if principal.role is Role.agency_staff and not manage:
        authorize(
            principal,
            Perm.assigned_handle,
            agency_id=alert.assignee_agency_id,
            check_unit=False,
            hide=False,
        )
        return
    authorize(principal, Perm.data_write, path, hide=False)
