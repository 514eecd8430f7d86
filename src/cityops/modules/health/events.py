"""Events the health module publishes, and the outbox that holds them until commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cityops.core.bus import Event

OUTBOX = "health_outbox"


@dataclass(frozen=True, kw_only=True)
class OutbreakSuspected(Event):
    """A commune's weekly cases of a disease broke out of their usual range (EARS C1/C2/C3)."""

    name = "health.outbreak_suspected"
    signal_id: int
    disease: str
    disease_vi: str
    disease_en: str
    unit_id: int
    unit_code: str
    unit_name: str
    week: str  # ISO week, e.g. "2026-W45"
    week_start: str
    cases: int
    baseline_mean: float
    c1: float
    c2: float
    c3: float
    methods: str  # e.g. "C1,C3"


EVENT_TYPES: tuple[type[Event], ...] = (OutbreakSuspected,)


def emit(session: Session, event: Event) -> None:
    """Queue an event; it is published once the session's transaction has committed."""
    session.info.setdefault(OUTBOX, []).append(event)


def take(session: Session) -> list[Event]:
    """Remove and return the queued events of a session."""
    return list(session.info.pop(OUTBOX, []))
