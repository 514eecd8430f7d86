"""Incidents: promote alerts, find, list, change, move through open -> ... -> closed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.alerts.incidents import access, linked, notices, tasks
from cityops.alerts.incidents.choices import MOVES, Status
from cityops.alerts.incidents.events import IncidentOpened, IncidentStatusChanged, emit
from cityops.alerts.incidents.models import Incident, IncidentAlert
from cityops.alerts.incidents.schemas import IncidentCreate, IncidentUpdate, StatusMove
from cityops.alerts.incidents.sop import find_template
from cityops.alerts.incidents.summary import build_summary
from cityops.alerts.incidents.timeline import log_change
from cityops.alerts.notify.dispatch import LOCAL_TZ
from cityops.core.config import Settings
from cityops.core.errors import Conflict, InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize
from cityops.core.units.models import Unit
from cityops.core.units.service import unit_path


def incident_code(incident: Incident) -> str:
    """Return an incident's code: SC-<local year>-<number> (sự cố)."""
    return f"SC-{incident.opened_at.astimezone(LOCAL_TZ).year}-{incident.id:04d}"


def _common_unit(session: Session, principal: Principal, alerts: list[Any]) -> int:
    """Return the deepest unit containing every alert's unit (the caller's unit if none)."""
    ids = [a.unit_id for a in alerts if a.unit_id is not None]
    paths = [unit_path(session, i) or "" for i in ids]
    if not paths:
        if principal.unit_id is None:
            raise InvalidInput("The alerts have no unit; log in with a unit", code="no_unit")
        return principal.unit_id
    parts = [p.strip("/").split("/") for p in paths]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) > 1:
            break
        common.append(level[0])
    if not common:
        raise InvalidInput("The alerts share no administrative unit", code="no_common_unit")
    return int(common[-1])


def _link(session: Session, incident: Incident, alerts: list[Any], now: datetime) -> None:
    for alert in alerts:
        session.add(IncidentAlert(incident_id=incident.id, alert_id=alert.id, linked_at=now))
    session.flush()


def create_incident(
    session: Session, settings: Settings, principal: Principal, data: IncidentCreate, now: datetime
) -> Incident:
    """Promote alerts to an incident, apply the SOP if one is picked, and tell people."""
    alerts = linked.load_alerts(session, principal, data.alert_ids)
    unit_id = _common_unit(session, principal, alerts)
    authorize(principal, Perm.data_write, unit_path(session, unit_id), hide=False)
    template = _template(session, data.sop_code)
    tasks.check_user(session, data.commander_id)
    first = alerts[0]
    incident = Incident(
        code=f"tmp-{now.timestamp()}-{first.id}",
        title_vi=(data.title_vi or first.title_vi)[:300],
        title_en=(data.title_en or first.title_en or first.title_vi)[:300],
        description=data.description,
        severity=data.severity or linked.worst([a.severity for a in alerts]),
        status=Status.open,
        hazard=data.hazard or (template.hazard if template else None),
        unit_id=unit_id,
        commander_id=data.commander_id,
        detected_at=min(a.raised_at for a in alerts),
        opened_at=now,
        created_by=principal.actor,
        updated_at=now,
    )
    session.add(incident)
    session.flush()
    incident.code = incident_code(incident)
    _link(session, incident, alerts, now)
    detail = {"alert_ids": [a.id for a in alerts], "severity": incident.severity}
    log_change(session, principal, incident, "opened", detail, now)
    if template is not None:
        tasks.tasks_from_sop(session, settings, principal, incident, template, now)
    emit(session, _opened_event(incident, alerts, now))
    notices.incident_opened(session, settings, incident)
    return incident


def _opened_event(incident: Incident, alerts: list[Any], now: datetime) -> IncidentOpened:
    return IncidentOpened(
        incident_id=incident.id,
        code=incident.code,
        severity=incident.severity,
        unit_id=incident.unit_id,
        title_vi=incident.title_vi,
        title_en=incident.title_en,
        alert_ids=tuple(a.id for a in alerts),
        at=now,
    )


def _template(session: Session, code: str | None) -> Any:
    if code is None:
        return None
    template = find_template(session, code)
    if template is None or not template.is_active:
        raise InvalidInput(f"No active SOP template {code}", code="unknown_sop")
    return template


def find_incident(session: Session, code: str) -> Incident | None:
    """Find an incident by code (or numeric id)."""
    if code.isdigit():
        return session.get(Incident, int(code))
    return session.scalar(select(Incident).where(Incident.code == code.upper()))


def get_incident(session: Session, principal: Principal, code: str) -> tuple[Incident, str | None]:
    """Fetch an incident the caller may read, with its unit path (404 otherwise)."""
    incident = find_incident(session, code)
    if incident is None:
        authorize(principal, Perm.data_read, check_unit=False, hide=False)
        raise NotFound(f"No incident {code}")
    path = unit_path(session, incident.unit_id)
    access.check_read(session, principal, incident, path)
    return incident, path


def list_incidents(
    session: Session,
    principal: Principal,
    *,
    status: list[str] | None,
    limit: int,
    offset: int,
) -> tuple[list[Incident], int]:
    """List the incidents the caller may see, newest first."""
    conds = [access.read_filter(principal)]
    if status:
        conds.append(Incident.status.in_(status))
    base = select(Incident).join(Unit, Unit.id == Incident.unit_id).where(*conds)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def update_incident(
    session: Session, principal: Principal, code: str, data: IncidentUpdate, now: datetime
) -> Incident:
    """Change an incident's titles, description, severity or commander."""
    incident, path = get_incident(session, principal, code)
    access.check_manage(session, principal, incident, path)
    _open_only(incident)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "commander_id" in changes:
        tasks.check_user(session, data.commander_id)
    before = {k: getattr(incident, k) for k in changes}
    for key, value in changes.items():
        setattr(incident, key, value)
    log_change(session, principal, incident, "updated", {"before": before, "after": changes}, now)
    return incident


def check_manage_open(
    session: Session, principal: Principal, incident: Incident, path: str | None
) -> None:
    """Raise unless the caller may run the incident and it is not closed."""
    access.check_manage(session, principal, incident, path)
    _open_only(incident)


def _open_only(incident: Incident) -> None:
    if incident.status == Status.closed:
        raise Conflict(f"Incident {incident.code} is closed", code="incident_closed")


def move(
    session: Session,
    settings: Settings,
    principal: Principal,
    code: str,
    data: StatusMove,
    now: datetime,
) -> Incident:
    """Move an incident to a new status (illegal moves 409); closing writes the summary."""
    incident, path = get_incident(session, principal, code)
    access.check_manage(session, principal, incident, path)
    old = incident.status
    if data.status not in MOVES[old]:
        allowed = ", ".join(sorted(MOVES[old])) or "none"
        raise Conflict(
            f"An incident cannot go from {old} to {data.status} (allowed: {allowed})",
            code="illegal_transition",
        )
    incident.status = data.status
    stamp = {"responding": "responding_at", "contained": "contained_at", "closed": "closed_at"}
    if getattr(incident, stamp[data.status]) is None or data.status == Status.closed:
        setattr(incident, stamp[data.status], now)
    detail: dict[str, Any] = {"from": old, "to": data.status, "note": data.note}
    if data.status == Status.closed:
        alerts = linked.linked_alerts(session, incident.id)
        detail["resolved_alerts"] = linked.resolve_linked(
            session, principal, alerts, f"{incident.code}: {data.note}".strip(": "), now
        )
    log_change(session, principal, incident, "status", detail, now)
    if data.status == Status.closed:
        session.flush()
        incident.summary = build_summary(session, incident, data.note, now)
    emit(session, _moved_event(incident, old, now))
    notices.status_changed(session, settings, incident, old)
    return incident


def _moved_event(incident: Incident, old: str, now: datetime) -> IncidentStatusChanged:
    return IncidentStatusChanged(
        incident_id=incident.id,
        code=incident.code,
        from_status=old,
        to_status=incident.status,
        unit_id=incident.unit_id,
        at=now,
    )


def link_alerts(
    session: Session, principal: Principal, code: str, alert_ids: list[int], now: datetime
) -> Incident:
    """Link more alerts to an open incident."""
    incident, path = get_incident(session, principal, code)
    access.check_manage(session, principal, incident, path)
    _open_only(incident)
    alerts = linked.load_alerts(session, principal, alert_ids)
    _link(session, incident, alerts, now)
    incident.detected_at = min([incident.detected_at, *(a.raised_at for a in alerts)])
    log_change(session, principal, incident, "alerts_linked", {"alert_ids": alert_ids}, now)
    return incident


def apply_sop(
    session: Session,
    settings: Settings,
    principal: Principal,
    code: str,
    sop_code: str,
    now: datetime,
) -> Incident:
    """Apply an SOP template to an incident that has none yet."""
    incident, path = get_incident(session, principal, code)
    access.check_manage(session, principal, incident, path)
    _open_only(incident)
    if incident.sop_code is not None:
        raise Conflict(
            f"Incident {incident.code} already follows {incident.sop_code}", code="sop_set"
        )
    template = _template(session, sop_code)
    tasks.tasks_from_sop(session, settings, principal, incident, template, now)
    if incident.hazard is None:
        incident.hazard = template.hazard
    return incident
