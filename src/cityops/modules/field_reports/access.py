"""Who may see and do what with a report, decided through the core policy (can/authorize)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false

from cityops.core.errors import Forbidden, NotFound
from cityops.core.policy import Perm, Principal, Role, authorize, can, scope_filter
from cityops.core.units.models import Unit
from cityops.modules.field_reports.models import Report

# Roles that see a reporter's identity even when the report is anonymous (they call back).
SEES_ANONYMOUS = frozenset({Role.admin, Role.operator, Role.unit_operator})
# Roles that see the identity of reporters who did not ask for anonymity.
SEES_NAMED = SEES_ANONYMOUS | {Role.leader, Role.agency_staff}


def is_agency_staff(principal: Principal) -> bool:
    """Say whether the caller works for an agency and sees only its assigned reports."""
    return principal.role is Role.agency_staff


def can_read(principal: Principal, report: Report, path: str | None) -> bool:
    """Say whether the caller may read this report."""
    if is_agency_staff(principal):
        return report.agency_id is not None and can(
            principal, Perm.assigned_handle, path, agency_id=report.agency_id, check_unit=False
        )
    return can(principal, Perm.data_read, path)


def read_filter(principal: Principal) -> ColumnElement[bool]:
    """SQL condition keeping the reports the caller may read (join Unit on Report.unit_id)."""
    if not can(principal, Perm.data_read, check_unit=False):
        return false()
    if is_agency_staff(principal):
        if principal.agency_id is None:
            return false()
        return Report.agency_id == principal.agency_id
    return scope_filter(principal, Unit.path)


def readable(query: Select[Any], principal: Principal) -> Select[Any]:
    """Keep the reports the caller may read; join units only when the scope needs their paths."""
    cond = read_filter(principal)
    needs_path = principal.is_authenticated and principal.unit_path is not None
    if needs_path and not is_agency_staff(principal):
        query = query.join(Unit, Unit.id == Report.unit_id)
    return query.where(cond)


def check_read(principal: Principal, report: Report, path: str | None) -> None:
    """Raise 401/404 unless the caller may read the report."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    if not can_read(principal, report, path):
        raise NotFound(f"No report {report.tracking_code} (or outside your scope)")


def check_operator(principal: Principal, report: Report, path: str | None) -> None:
    """Raise unless the caller may run the operator's steps (verify, assign, close...)."""
    check_read(principal, report, path)
    authorize(principal, Perm.data_write, path, hide=False)
    authorize(principal, Perm.assigned_handle, path, hide=False)


def check_handler(principal: Principal, report: Report, path: str | None) -> None:
    """Raise unless the caller may run the agency's steps (accept, start, resolve, return)."""
    check_read(principal, report, path)
    if is_agency_staff(principal):
        if report.agency_id != principal.agency_id:
            raise Forbidden("The report is not assigned to your agency", code="not_your_agency")
        return
    authorize(principal, Perm.assigned_handle, path, hide=False)
    authorize(principal, Perm.data_write, path, hide=False)


def check_contributor(principal: Principal, report: Report, path: str | None) -> None:
    """Raise unless the caller may add comments or photos (operators, the handling agency)."""
    if is_agency_staff(principal):
        check_handler(principal, report, path)
    else:
        check_operator(principal, report, path)


def sees_reporter(principal: Principal, report: Report) -> bool:
    """Say whether the caller may see who sent the report."""
    if principal.role in SEES_ANONYMOUS:
        return True
    return principal.role in SEES_NAMED and not report.anonymous
