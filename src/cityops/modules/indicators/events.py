"""Events the indicators module publishes, and the outbox that holds them until commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cityops.core.bus import Event

OUTBOX = "indicators_outbox"


@dataclass(frozen=True, kw_only=True)
class TargetMissed(Event):
    """A value landed red: below 90% of its (pro-rata) target."""

    name = "indicators.target_missed"
    indicator: str
    unit_id: int
    unit_code: str
    period: str
    value: float | None
    target: float | None
    percent: float | None


@dataclass(frozen=True, kw_only=True)
class ReportLate(Event):
    """A unit has no value for a period whose reporting deadline has passed."""

    name = "indicators.report_late"
    indicator: str
    unit_id: int
    unit_code: str
    period: str
    deadline: str
    agency_code: str | None


EVENT_TYPES: tuple[type[Event], ...] = (TargetMissed, ReportLate)


def emit(session: Session, event: Event) -> None:
    """Queue an event; it is published once the session's transaction has committed."""
    session.info.setdefault(OUTBOX, []).append(event)


def take(session: Session) -> list[Event]:
    """Remove and return the queued events of a session."""
    return list(session.info.pop(OUTBOX, []))
