"""The alerts API: /api/alerts (list, detail, manual alerts, lifecycle actions, choices)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityops.alerts import schemas as s
from cityops.alerts import service
from cityops.alerts.choices import RULE_KINDS, SEVERITIES, STATUSES
from cityops.alerts.kpis import open_by_severity
from cityops.core.bus import Event
from cityops.core.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
T = TypeVar("T")


async def write(request: Request, work: Callable[[Session], tuple[T, list[Event]]]) -> T:
    """Run a write in a worker thread and one transaction, then publish its events."""

    def job() -> tuple[T, list[Event]]:
        with request.app.state.db.session() as session:
            return work(session)

    result, events = await run_in_threadpool(job)
    for event in events:
        await request.app.state.bus.publish(event)
    return result


def detail(session: Session, alert: Any) -> s.AlertDetail:
    """Shape an alert with its timeline."""
    timeline = [s.AlertEventPublic.model_validate(e) for e in service.get_timeline(session, alert)]
    return s.AlertDetail(**s.AlertPublic.model_validate(alert).model_dump(), timeline=timeline)


@router.get("/choices")
def choices() -> dict[str, list[dict[str, str]]]:
    """List severities, statuses and rule kinds with their labels and colours."""
    return {
        name: [c.__dict__ for c in values.values()]
        for name, values in (
            ("severities", SEVERITIES),
            ("statuses", STATUSES),
            ("rule_kinds", RULE_KINDS),
        )
    }


@router.get("/summary")
def summary(session: SessionDep, principal: CurrentUser) -> s.AlertSummary:
    """Count the alerts still being handled, by severity, in your scope."""
    service.authorize_read(principal)
    counts = open_by_severity(session, principal)
    return s.AlertSummary(
        by_severity=[s.SeverityCount(**SEVERITIES[k].__dict__, count=n) for k, n in counts.items()],
        total=sum(counts.values()),
    )


@router.get("")
def list_alerts(
    session: SessionDep,
    principal: CurrentUser,
    status: Annotated[list[str] | None, Query()] = None,
    severity: Annotated[list[str] | None, Query()] = None,
    unit_id: int | None = None,
    rule_id: int | None = None,
    since: datetime | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> s.AlertList:
    """List the alerts you may see, newest first (filters: status, severity, unit, rule, since)."""
    rows, total = service.list_alerts(
        session,
        principal,
        status=status,
        severity=severity,
        unit_id=unit_id,
        rule_id=rule_id,
        since=since,
        offset=offset,
        limit=limit,
    )
    return s.AlertList(items=[s.AlertPublic.model_validate(a) for a in rows], total=total)


@router.post("", status_code=201)
async def raise_alert(
    request: Request, body: s.AlertCreate, principal: CurrentUser
) -> s.AlertDetail:
    """Raise an alert by hand."""

    def work(session: Session) -> tuple[s.AlertDetail, list[Event]]:
        alert, event = service.raise_manual(session, principal, body)
        return detail(session, alert), [event]

    return await write(request, work)


@router.get("/{alert_id:int}")
def get_alert(alert_id: int, session: SessionDep, principal: CurrentUser) -> s.AlertDetail:
    """Show an alert with its timeline."""
    return detail(session, service.get_alert(session, principal, alert_id))


@router.post("/{alert_id:int}/{action}")
async def act(
    request: Request,
    alert_id: int,
    action: s.Action,
    principal: CurrentUser,
    body: s.AlertActionBody | None = None,
) -> s.AlertDetail:
    """Acknowledge, assign, start, comment, escalate, resolve, clear, close or reopen an alert."""
    args = body or s.AlertActionBody()

    def work(session: Session) -> tuple[s.AlertDetail, list[Event]]:
        alert, event = service.act(session, principal, alert_id, action, args)
        return detail(session, alert), [event]

    return await write(request, work)
