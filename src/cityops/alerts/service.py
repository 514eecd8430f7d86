"""Alerts: read them within the caller's scope, raise manual ones, and move them along."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.alerts import writer
from cityops.alerts.access import check_act, check_read, read_filter, unit_path
from cityops.alerts.choices import TRANSITIONS
from cityops.alerts.models import Alert, AlertEvent
from cityops.alerts.schemas import AlertActionBody, AlertCreate
from cityops.core.audit import record, snapshot
from cityops.core.auth.models import Agency, User
from cityops.core.bus import Event
from cityops.core.db import utcnow
from cityops.core.errors import Conflict, InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize
from cityops.core.units.models import Unit

# actions an agency's staff may take on alerts assigned to their agency
HANDLER_ACTIONS = frozenset({"acknowledge", "start", "comment", "resolve"})


def get_alert(session: Session, principal: Principal, alert_id: int) -> Alert:
    """Return an alert the caller may read; 404 when missing or outside their scope."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"No alert {alert_id} (or outside your scope)")
    check_read(principal, alert, unit_path(session, alert.unit_id))
    return alert


def authorize_read(principal: Principal) -> None:
    """Raise unless the caller may read alerts at all."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)


def list_alerts(
    session: Session,
    principal: Principal,
    *,
    status: list[str] | None = None,
    severity: list[str] | None = None,
    unit_id: int | None = None,
    rule_id: int | None = None,
    since: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Alert], int]:
    """List the alerts the caller may see, newest first, with the filters given."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    stmt = select(Alert).outerjoin(Unit, Unit.id == Alert.unit_id).where(read_filter(principal))
    if status:
        stmt = stmt.where(Alert.status.in_(status))
    if severity:
        stmt = stmt.where(Alert.severity.in_(severity))
    if unit_id is not None:
        path = unit_path(session, unit_id)
        if path is None:
            raise InvalidInput(f"No unit {unit_id}", code="unknown_unit")
        stmt = stmt.where(Unit.path.startswith(path, autoescape=True))
    if rule_id is not None:
        stmt = stmt.where(Alert.rule_id == rule_id)
    if since is not None:
        stmt = stmt.where(Alert.last_triggered_at >= since)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Alert.raised_at.desc(), Alert.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), total


def get_timeline(session: Session, alert: Alert) -> list[AlertEvent]:
    """Return an alert's timeline, oldest first."""
    stmt = select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
    return list(session.scalars(stmt))


def raise_manual(
    session: Session, principal: Principal, body: AlertCreate, now: datetime | None = None
) -> tuple[Alert, Event]:
    """Raise an alert by hand (operators, in their subtree)."""
    now = now or utcnow()
    if body.unit_id is not None and unit_path(session, body.unit_id) is None:
        raise InvalidInput(f"No unit {body.unit_id}", code="unknown_unit")
    authorize(principal, Perm.data_write, unit_path(session, body.unit_id), hide=False)
    authorize(principal, Perm.assigned_handle, check_unit=False, hide=False)
    alert = Alert(
        source_kind="manual",
        source_id=principal.actor,
        dedup_key=f"manual:{now.isoformat()}",
        severity=body.severity,
        status="open",
        title_vi=body.title_vi,
        title_en=body.title_en or body.title_vi,
        description=body.description,
        unit_id=body.unit_id,
        lat=body.lat,
        lon=body.lon,
        public=body.public,
        raised_at=now,
        last_triggered_at=now,
        updated_at=now,
        trigger_count=1,
        escalation_level=0,
    )
    session.add(alert)
    session.flush()
    alert.dedup_key = alert.active_key = f"manual:{alert.id}"
    writer.timeline(session, alert, principal, "raised", now, note=body.description)
    record(
        session,
        principal,
        "alerts.alert_raised",
        "alert",
        alert.id,
        after=snapshot(alert),
        unit_id=alert.unit_id,
    )
    return alert, writer.raised_event(alert, now)


def _assign(session: Session, alert: Alert, body: AlertActionBody) -> None:
    if body.user_id is None and body.agency_id is None:
        raise InvalidInput("assign needs user_id or agency_id", code="assignee_required")
    if body.user_id is not None and session.get(User, body.user_id) is None:
        raise InvalidInput(f"No user {body.user_id}", code="unknown_user")
    if body.agency_id is not None and session.get(Agency, body.agency_id) is None:
        raise InvalidInput(f"No agency {body.agency_id}", code="unknown_agency")
    alert.assignee_user_id = body.user_id
    alert.assignee_agency_id = body.agency_id


def _check_transition(session: Session, alert: Alert, action: str) -> str | None:
    """Return the status an action leads to; 409 naming the current one when not allowed."""
    allowed_from, to_status = TRANSITIONS[action]
    if alert.status not in allowed_from:
        raise Conflict(
            f"Cannot {action} an alert that is {alert.status}",
            code="illegal_transition",
            extra={"status": alert.status, "action": action},
        )
    active = select(Alert.id).where(Alert.active_key == alert.dedup_key)
    if action == "reopen" and session.scalar(active):
        raise Conflict("Another alert of the same source is active", code="already_active")
    return to_status


def act(
    session: Session,
    principal: Principal,
    alert_id: int,
    action: str,
    body: AlertActionBody,
    now: datetime | None = None,
) -> tuple[Alert, Event]:
    """Apply a lifecycle action; 409 naming the current status when it is not allowed now."""
    now = now or utcnow()
    alert = get_alert(session, principal, alert_id)
    check_act(
        principal, alert, unit_path(session, alert.unit_id), manage=action not in HANDLER_ACTIONS
    )
    to_status = _check_transition(session, alert, action)
    before, from_status = snapshot(alert), alert.status
    if action == "assign":
        _assign(session, alert, body)
    if action == "escalate":
        alert.escalation_level += 1
        alert.escalated_at = now
    if to_status is not None:
        writer.set_status(alert, to_status, now)
    alert.updated_at = now
    session.flush()
    data = {"user_id": body.user_id, "agency_id": body.agency_id} if action == "assign" else None
    writer.timeline(
        session, alert, principal, action, now, note=body.note, from_status=from_status, data=data
    )
    record(
        session,
        principal,
        f"alerts.{action}",
        "alert",
        alert.id,
        before=before,
        after=snapshot(alert),
        unit_id=alert.unit_id,
    )
    if action == "escalate":
        return alert, writer.escalated_event(alert, now)
    return alert, writer.updated_event(alert, now, action, from_status)
