"""The incident timeline: every change is a line here and an entry in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.incidents.models import Incident, IncidentEvent
from cityops.core import audit
from cityops.core.policy import Principal


def log_change(
    session: Session,
    principal: Principal,
    incident: Incident,
    kind: str,
    detail: dict[str, Any],
    now: datetime,
) -> IncidentEvent:
    """Add a timeline line and the matching audit entry (they commit with the change)."""
    entry = IncidentEvent(
        incident_id=incident.id, at=now, actor=principal.actor, kind=kind, detail=detail
    )
    session.add(entry)
    incident.updated_at = now
    audit.record(
        session,
        principal,
        f"incident.{kind}",
        "incident",
        incident.code,
        after=detail,
        unit_id=incident.unit_id,
    )
    return entry


def timeline(session: Session, incident: Incident) -> list[IncidentEvent]:
    """Return an incident's timeline, oldest first."""
    query = (
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    return list(session.scalars(query))
