"""Events of incidents, and the outbox that holds them until the transaction commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cityops.core.bus import Event

OUTBOX = "incidents_outbox"


@dataclass(frozen=True, kw_only=True)
class IncidentOpened(Event):
    """Alerts were promoted to a new incident."""

    name = "incidents.incident_opened"
    incident_id: int
    code: str
    severity: str
    unit_id: int
    title_vi: str
    title_en: str
    alert_ids: tuple[int, ...]
    at: datetime


@dataclass(frozen=True, kw_only=True)
class IncidentStatusChanged(Event):
    """An incident moved from one status to another (closed: the summary is ready)."""

    name = "incidents.status_changed"
    incident_id: int
    code: str
    from_status: str
    to_status: str
    unit_id: int
    at: datetime


@dataclass(frozen=True, kw_only=True)
class TaskChanged(Event):
    """A task of an incident was created, assigned, or changed status."""

    name = "incidents.task_changed"
    incident_id: int
    task_id: int
    status: str
    owner_agency_id: int | None
    owner_user_id: int | None
    due_at: datetime | None
    at: datetime


EVENT_TYPES: tuple[type[Event], ...] = (IncidentOpened, IncidentStatusChanged, TaskChanged)


def emit(session: Session, event: Event) -> None:
    """Queue an event; it is published once the session's transaction has committed."""
    session.info.setdefault(OUTBOX, []).append(event)


def take(session: Session) -> list[Event]:
    """Remove and return the queued events of a session."""
    return list(session.info.pop(OUTBOX, []))
