"""Service levels in working hours: due times, resolution figures, and the deadline check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session

from cityops.core.bus import Event
from cityops.core.config import FieldReportsSettings
from cityops.core.policy import system_principal
from cityops.modules.field_reports.choices import WITH_AGENCY, Status, Urgency
from cityops.modules.field_reports.events import NearDue, Overdue, emit
from cityops.modules.field_reports.models import Category, Report
from cityops.modules.field_reports.runtime import Runtime

CHECKER = system_principal("field_reports.deadlines")


def resolve_hours(settings: FieldReportsSettings, category: Category, urgency: str) -> float:
    """Working hours allowed to resolve a report of this category and urgency."""
    if urgency == Urgency.urgent:
        return settings.urgent_hours
    base = category.sla_hours or settings.default_sla_hours
    return base * settings.complex_factor if urgency == Urgency.complex else base


def due_times(rt: Runtime, category: Category, urgency: str, start: datetime) -> dict[str, Any]:
    """Start the agency's clocks: accept and resolve due times counted from `start`."""
    return {
        "accept_due_at": rt.calendar.add_hours(start, rt.fr.accept_hours),
        "due_at": rt.calendar.add_hours(start, resolve_hours(rt.fr, category, urgency)),
        "alerts_sent": [],
    }


# Stop the agency's clocks (the report went back to the operators).
CLEARED: dict[str, Any] = {"accept_due_at": None, "due_at": None, "alerts_sent": []}


def resolution_figures(rt: Runtime, report: Report) -> dict[str, Any]:
    """Return the handling time in working hours and whether the due time was met."""
    return {
        "handling_hours": round(rt.calendar.hours_between(report.created_at, rt.now), 2),
        "on_time": report.due_at is None or rt.now <= report.due_at,
    }


def is_overdue(report: Report, now: datetime) -> bool:
    """Say whether a report still with an agency is past its due time."""
    return report.status in WITH_AGENCY and report.due_at is not None and now > report.due_at


def _deadlines(report: Report) -> list[tuple[str, datetime]]:
    found = []
    if report.status == Status.assigned and report.accept_due_at is not None:
        found.append(("accept", report.accept_due_at))
    if report.due_at is not None:
        found.append(("resolve", report.due_at))
    return found


def _alert(rt: Runtime, report: Report, deadline: str, due: datetime) -> Event | None:
    """Return the event this deadline calls for now (each is sent once per assignment)."""
    sent = set(report.alerts_sent or [])
    common = {
        "report_id": report.id,
        "tracking_code": report.tracking_code,
        "deadline": deadline,
        "due_at": due,
        "agency_id": report.agency_id,
        "unit_id": report.unit_id,
    }
    if rt.now >= due:
        if f"{deadline}.overdue" in sent:
            return None
        report.alerts_sent = sorted(sent | {f"{deadline}.overdue", f"{deadline}.near_due"})
        return Overdue(**common)
    if f"{deadline}.near_due" in sent:
        return None
    if rt.calendar.hours_between(rt.now, due) <= rt.fr.near_due_hours:
        report.alerts_sent = sorted(sent | {f"{deadline}.near_due"})
        return NearDue(**common)
    return None


def check_deadlines(session: Session, rt: Runtime) -> list[Event]:
    """Send near-due and overdue events, and close reports resolved long ago; return events."""
    from cityops.modules.field_reports.workflow import auto_close

    events: list[Event] = []
    # Only the reports a deadline can fire for now are loaded: due before `horizon` (every
    # near-due one is: fewer than near_due_hours working hours away) and not yet sent overdue.
    # Loading every open report each minute held the server for 2 s at 1M reports.
    horizon = rt.calendar.add_hours(rt.now, rt.fr.near_due_hours + 0.01)
    sent = cast(Report.alerts_sent, String)
    open_rows = session.scalars(
        select(Report).where(
            Report.status.in_(list(WITH_AGENCY)),
            or_(
                and_(Report.due_at < horizon, ~sent.contains('"resolve.overdue"')),
                and_(
                    Report.status == Status.assigned,
                    Report.accept_due_at < horizon,
                    ~sent.contains('"accept.overdue"'),
                ),
            ),
        )
    )
    for report in open_rows.all():
        for deadline, due in _deadlines(report):
            event = _alert(rt, report, deadline, due)
            if event is not None:
                emit(session, event)
                events.append(event)
    cutoff = rt.now - timedelta(days=rt.fr.auto_close_days)
    stale = session.scalars(
        select(Report).where(Report.status == Status.resolved, Report.resolved_at <= cutoff)
    )
    for report in stale.all():
        auto_close(session, rt, CHECKER, report)
    return events
