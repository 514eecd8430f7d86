"""Events the field-reports module publishes, and the outbox that holds them until commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cityops.core.bus import Event

OUTBOX = "field_reports_outbox"


@dataclass(frozen=True, kw_only=True)
class ReportCreated(Event):
    """A citizen, an operator or an Open311 application submitted a report."""

    name = "field_reports.report_created"
    report_id: int
    tracking_code: str
    category_code: str
    unit_id: int | None
    urgency: str
    source: str
    at: datetime
    # where the report is (alert rules cluster reports by distance)
    lat: float | None = None
    lon: float | None = None
    # not yet routed: the live feed shows agency staff only events of their own agency
    agency_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class StatusChanged(Event):
    """A report moved from one status to another."""

    name = "field_reports.status_changed"
    report_id: int
    tracking_code: str
    action: str
    from_status: str | None
    to_status: str
    agency_id: int | None
    unit_id: int | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class NearDue(Event):
    """A deadline ('accept' or 'resolve') of a report is close."""

    name = "field_reports.near_due"
    report_id: int
    tracking_code: str
    deadline: str
    due_at: datetime
    agency_id: int | None
    unit_id: int | None


@dataclass(frozen=True, kw_only=True)
class Overdue(Event):
    """A deadline ('accept' or 'resolve') of a report has passed."""

    name = "field_reports.overdue"
    report_id: int
    tracking_code: str
    deadline: str
    due_at: datetime
    agency_id: int | None
    unit_id: int | None


EVENT_TYPES: tuple[type[Event], ...] = (ReportCreated, StatusChanged, NearDue, Overdue)


def emit(session: Session, event: Event) -> None:
    """Queue an event; it is published once the session's transaction has committed."""
    session.info.setdefault(OUTBOX, []).append(event)


def take(session: Session) -> list[Event]:
    """Remove and return the queued events of a session."""
    return list(session.info.pop(OUTBOX, []))
