"""Events the public-services module publishes, and the outbox that holds them until commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cityops.core.bus import Event

OUTBOX = "public_services_outbox"


@dataclass(frozen=True, kw_only=True)
class DossierNearDue(Event):
    """A dossier in progress is due within the near-due window (sent once per due time)."""

    name = "public_services.dossier_near_due"
    source: str
    external_id: str
    procedure_code: str
    agency_code: str
    unit_id: int
    unit_code: str
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class DossierOverdue(Event):
    """A dossier in progress has passed its due time (sent once per due time)."""

    name = "public_services.dossier_overdue"
    source: str
    external_id: str
    procedure_code: str
    agency_code: str
    unit_id: int
    unit_code: str
    due_at: datetime


EVENT_TYPES: tuple[type[Event], ...] = (DossierNearDue, DossierOverdue)


def emit(session: Session, event: Event) -> None:
    """Queue an event; it is published once the session's transaction has committed."""
    session.info.setdefault(OUTBOX, []).append(event)


def take(session: Session) -> list[Event]:
    """Remove and return the queued events of a session."""
    return list(session.info.pop(OUTBOX, []))
