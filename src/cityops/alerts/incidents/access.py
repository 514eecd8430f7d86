"""Who may see and change an incident, decided through the core policy (can/authorize)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, select
from sqlalchemy.orm import Session

from cityops.alerts.incidents.models import Incident, IncidentTask
from cityops.core.errors import Forbidden, NotFound
from cityops.core.policy import Perm, Principal, Role, authorize, can, scope_filter
from cityops.core.units.models import Unit


def _owns_a_task(session: Session, principal: Principal, incident_id: int) -> bool:
    if principal.agency_id is None:
        return False
    query = select(IncidentTask.id).where(
        IncidentTask.incident_id == incident_id,
        IncidentTask.owner_agency_id == principal.agency_id,
    )
    return session.scalar(query.limit(1)) is not None


def can_read(session: Session, principal: Principal, incident: Incident, path: str | None) -> bool:
    """Say whether the caller may read the incident (agency staff: where they own a task)."""
    if principal.role is Role.agency_staff:
        return can(principal, Perm.data_read, check_unit=False) and _owns_a_task(
            session, principal, incident.id
        )
    return can(principal, Perm.data_read, path)


def read_filter(principal: Principal) -> ColumnElement[bool]:
    """SQL condition keeping the incidents the caller may read (join Unit on Incident.unit_id)."""
    if not can(principal, Perm.data_read, check_unit=False):
        return false()
    if principal.role is Role.agency_staff:
        if principal.agency_id is None:
            return false()
        return exists().where(
            IncidentTask.incident_id == Incident.id,
            IncidentTask.owner_agency_id == principal.agency_id,
        )
    return scope_filter(principal, Unit.path)


def check_read(
    session: Session, principal: Principal, incident: Incident, path: str | None
) -> None:
    """Raise 401/404 unless the caller may read the incident."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    if not can_read(session, principal, incident, path):
        raise NotFound(f"No incident {incident.code} (or outside your scope)")


def check_manage(
    session: Session, principal: Principal, incident: Incident, path: str | None
) -> None:
    """Raise unless the caller may run the incident (operators of its unit's subtree)."""
    check_read(session, principal, incident, path)
    authorize(principal, Perm.data_write, path, hide=False)


def check_task(
    session: Session,
    principal: Principal,
    incident: Incident,
    task: IncidentTask,
    path: str | None,
) -> None:
    """Raise unless the caller may work on this task (its owner, its agency, or a manager)."""
    check_read(session, principal, incident, path)
    if principal.id is not None and task.owner_user_id == principal.id:
        return
    if principal.role is Role.agency_staff:
        if task.owner_agency_id is None or task.owner_agency_id != principal.agency_id:
            raise Forbidden("The task is not your agency's", code="not_your_agency")
        return
    authorize(principal, Perm.data_write, path, hide=False)


def check_contribute(
    session: Session, principal: Principal, incident: Incident, path: str | None
) -> None:
    """Raise unless the caller may comment or attach files (managers, agencies with a task)."""
    check_read(session, principal, incident, path)
    if principal.role is Role.agency_staff:
        return  # check_read proved the agency owns a task
    authorize(principal, Perm.data_write, path, hide=False)
