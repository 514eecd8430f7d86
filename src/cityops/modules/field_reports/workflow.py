"""The report state machine: legal transitions, who runs each step, history, audit, events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core import audit
from cityops.core.auth.models import Agency
from cityops.core.errors import Conflict, InvalidInput
from cityops.core.policy import Principal
from cityops.core.units.service import unit_path
from cityops.modules.field_reports import duplicates, sla
from cityops.modules.field_reports.access import check_handler, check_operator
from cityops.modules.field_reports.choices import STATUSES, Status
from cityops.modules.field_reports.events import StatusChanged, emit
from cityops.modules.field_reports.models import Category, Report, StatusChange
from cityops.modules.field_reports.projection import project
from cityops.modules.field_reports.routing import route
from cityops.modules.field_reports.runtime import Runtime

S = Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.received: frozenset({S.verified, S.invalid, S.duplicate, S.spam}),
    S.verified: frozenset({S.assigned}),
    S.assigned: frozenset({S.assigned, S.accepted, S.returned}),
    S.returned: frozenset({S.assigned}),
    S.accepted: frozenset({S.assigned, S.in_progress}),
    S.in_progress: frozenset({S.assigned, S.resolved}),
    S.resolved: frozenset({S.closed, S.assigned}),
    S.closed: frozenset({S.assigned}),
    S.invalid: frozenset(),
    S.duplicate: frozenset(),
    S.spam: frozenset(),
}
AUTO_ROUTE_NOTE = "Tự động chuyển theo lĩnh vực và địa bàn (automatic routing)"
SNAPSHOT_EXCLUDE = ("secret_hash",)


def check_transition(report: Report, to: str, action: str) -> None:
    """Raise 409 naming the current state when `to` cannot follow it."""
    allowed = TRANSITIONS[report.status]
    if to in allowed:
        return
    label = STATUSES[report.status]
    raise Conflict(
        f"Report {report.tracking_code} is '{report.status}' ({label.label_vi} / "
        f"{label.label_en}); '{action}' is not possible from this state",
        code="illegal_transition",
        extra={"status": report.status, "allowed": sorted(allowed)},
    )


def move(
    session: Session,
    rt: Runtime,
    principal: Principal,
    report: Report,
    to: str,
    action: str,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Apply a checked transition: changes, history row, audit entry, projection, event."""
    check_transition(report, to, action)
    before = audit.snapshot(report, exclude=SNAPSHOT_EXCLUDE)
    previous, handler = report.status, report.agency_id
    for key, value in (changes or {}).items():
        setattr(report, key, value)
    report.status = to
    report.updated_at = rt.now
    if note:
        report.status_note = note
    session.add(
        StatusChange(
            report_id=report.id,
            action=action,
            from_status=previous,
            to_status=to,
            at=rt.now,
            actor=principal.actor,
            actor_role=principal.role.value if principal.role else None,
            agency_id=report.agency_id or handler,
            note=note,
        )
    )
    session.flush()
    after = audit.snapshot(report, exclude=SNAPSHOT_EXCLUDE)
    audit.record(
        session,
        principal,
        f"field_report.{action}",
        "field_report",
        report.tracking_code,
        before=before,
        after=after,
        unit_id=report.unit_id,
    )
    project(session, report)
    emit(session, _changed(report, action, previous, handler, rt))


def _changed(
    report: Report, action: str, previous: str, handler: int | None, rt: Runtime
) -> StatusChanged:
    return StatusChanged(
        report_id=report.id,
        tracking_code=report.tracking_code,
        action=action,
        from_status=previous,
        to_status=report.status,
        agency_id=report.agency_id or handler,
        unit_id=report.unit_id,
        at=rt.now,
    )


def _category(session: Session, report: Report) -> Category:
    category = session.get(Category, report.category_id)
    assert category is not None
    return category


def _agency(session: Session, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None or not agency.is_active:
        raise InvalidInput(f"Unknown or inactive agency {code!r}", code="unknown_agency")
    return agency


# --- operator steps ------------------------------------------------------------------------


def verify(
    session: Session,
    rt: Runtime,
    principal: Principal,
    report: Report,
    *,
    urgency: str | None = None,
    category: Category | None = None,
    note: str | None = None,
) -> None:
    """Verify a new report, then send it to the agency routing picks (if any)."""
    check_operator(principal, report, unit_path(session, report.unit_id))
    changes: dict[str, Any] = {"verified_at": rt.now}
    if urgency:
        changes["urgency"] = urgency
    if category is not None:
        changes["category_id"] = category.id
    move(session, rt, principal, report, S.verified, "verify", note, changes)
    agency = route(session, report, _category(session, report))
    if agency is not None:
        _assign(session, rt, principal, report, agency, "route", AUTO_ROUTE_NOTE)


def reject(
    session: Session,
    rt: Runtime,
    principal: Principal,
    report: Report,
    status: str,
    reason: str,
    duplicate_of: Report | None = None,
) -> None:
    """Close a new report as invalid, duplicate (of another report) or spam."""
    check_operator(principal, report, unit_path(session, report.unit_id))
    check_transition(report, status, f"mark_{status}")
    changes: dict[str, Any] = {"closed_at": rt.now}
    if status == S.duplicate:
        if duplicate_of is None:
            raise InvalidInput("Name the main report (duplicate_of)", code="duplicate_of")
        duplicates.check_mergeable(report, duplicate_of)
        changes["duplicate_of_id"] = duplicate_of.id
    move(session, rt, principal, report, status, f"mark_{status}", reason, changes)
    if status == S.duplicate and duplicate_of is not None:
        duplicates.record_merge(session, rt, principal, report, duplicate_of)


def _assign(
    session: Session,
    rt: Runtime,
    principal: Principal,
    report: Report,
    agency: Agency,
    action: str,
    note: str,
) -> None:
    changes = {"agency_id": agency.id, "assigned_at": rt.now, "accepted_at": None}
    changes |= sla.due_times(rt, _category(session, report), report.urgency, rt.now)
    move(session, rt, principal, report, S.assigned, action, note, changes)


def assign(
    session: Session,
    rt: Runtime,
    principal: Principal,
    report: Report,
    agency_code: str,
    reason: str,
) -> None:
    """Send a report to an agency by hand (first assignment or reassignment), with a reason."""
    check_operator(principal, report, unit_path(session, report.unit_id))
    action = "assign" if report.status in (S.verified, S.returned) else "reassign"
    check_transition(report, S.assigned, action)
    _assign(session, rt, principal, report, _agency(session, agency_code), action, reason)


def close(
    session: Session, rt: Runtime, principal: Principal, report: Report, note: str | None
) -> None:
    """Close a resolved report (operator)."""
    check_operator(principal, report, unit_path(session, report.unit_id))
    move(session, rt, principal, report, S.closed, "close", note, {"closed_at": rt.now})


def auto_close(session: Session, rt: Runtime, principal: Principal, report: Report) -> None:
    """Close a report resolved long enough ago without a rating (the deadline check)."""
    note = f"Tự động đóng sau {rt.fr.auto_close_days} ngày (closed automatically)"
    move(session, rt, principal, report, S.closed, "auto_close", note, {"closed_at": rt.now})


def rate(
    session: Session,
    rt: Runtime,
    principal: Principal,
    report: Report,
    rating: int,
    comment: str | None,
) -> None:
    """Record the reporter's rating; a rated resolved report is closed (caller checked)."""
    if report.status not in (S.resolved, S.closed):
        check_transition(report, S.closed, "rate")
    if report.rating is not None:
        raise Conflict(f"Report {report.tracking_code} is already rated", code="already_rated")
    changes = {"rating": rating, "rating_comment": comment, "rated_at": rt.now}
    if report.status == S.resolved:
        changes["closed_at"] = rt.now
        move(session, rt, principal, report, S.closed, "rate", comment, changes)
        return
    before = audit.snapshot(report, exclude=SNAPSHOT_EXCLUDE)
    for key, value in changes.items():
        setattr(report, key, value)
    after = audit.snapshot(report, exclude=SNAPSHOT_EXCLUDE)
    audit.record(
        session,
        principal,
        "field_report.rate",
        "field_report",
        report.tracking_code,
        before=before,
        after=after,
        unit_id=report.unit_id,
    )


def reopen(
    session: Session, rt: Runtime, principal: Principal, report: Report, reason: str
) -> None:
    """Send a resolved or closed report back to its agency (the caller is already checked)."""
    check_transition(report, S.assigned, "reopen")
    changes: dict[str, Any] = dict.fromkeys(
        ("resolved_at", "closed_at", "handling_hours", "on_time", "accepted_at"), None
    )
    changes |= dict.fromkeys(("rating", "rating_comment", "rated_at"), None)
    changes |= {"reopen_count": report.reopen_count + 1, "assigned_at": rt.now}
    changes |= sla.due_times(rt, _category(session, report), report.urgency, rt.now)
    move(session, rt, principal, report, S.assigned, "reopen", reason, changes)


def reopen_by_staff(
    session: Session, rt: Runtime, principal: Principal, report: Report, reason: str
) -> None:
    """Reopen a report as an operator."""
    check_operator(principal, report, unit_path(session, report.unit_id))
    reopen(session, rt, principal, report, reason)


# --- agency steps --------------------------------------------------------------------------


def accept(
    session: Session, rt: Runtime, principal: Principal, report: Report, note: str | None
) -> None:
    """The agency takes the report on."""
    check_handler(principal, report, unit_path(session, report.unit_id))
    move(session, rt, principal, report, S.accepted, "accept", note, {"accepted_at": rt.now})


def give_back(
    session: Session, rt: Runtime, principal: Principal, report: Report, reason: str
) -> None:
    """The agency says the report is not theirs: back to the operators' queue, with a reason."""
    check_handler(principal, report, unit_path(session, report.unit_id))
    changes = {"agency_id": None, "assigned_at": None} | sla.CLEARED
    move(session, rt, principal, report, S.returned, "return", reason, changes)


def start(
    session: Session, rt: Runtime, principal: Principal, report: Report, note: str | None
) -> None:
    """The agency starts work on the report."""
    check_handler(principal, report, unit_path(session, report.unit_id))
    move(session, rt, principal, report, S.in_progress, "start", note)


def resolve(
    session: Session, rt: Runtime, principal: Principal, report: Report, resolution: str
) -> None:
    """The agency reports what it did; the handling time is recorded in working hours."""
    check_handler(principal, report, unit_path(session, report.unit_id))
    changes = {"resolution": resolution, "resolved_at": rt.now}
    changes |= sla.resolution_figures(rt, report)
    move(session, rt, principal, report, S.resolved, "resolve", resolution, changes)
