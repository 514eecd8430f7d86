"""Bus handlers: alert events become notifications (rows only; the worker sends).

Incidents call notify() inside their own transactions (see incidents/notices.py).

Handlers subscribe by event name and read the event's fields by name, so they stay valid
whatever module publishes the event; each runs its database work in a thread and never
blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.notify.dispatch import Outcome, notify
from cityops.core.auth.models import User
from cityops.core.bus import Event

SEVERITY_VI = {
    "critical": "Khẩn cấp",
    "major": "Nghiêm trọng",
    "minor": "Trung bình",
    "warning": "Cảnh báo",
    "info": "Thông tin",
}


def _alert_message(event: Event, verb_vi: str, verb_en: str) -> dict[str, Any]:
    sev = str(getattr(event, "severity", "") or "info")
    title_vi = getattr(event, "title_vi", "") or ""
    title_en = getattr(event, "title_en", "") or title_vi
    return {
        "severity": sev,
        "unit_id": getattr(event, "unit_id", None),
        "subject_vi": f"[{SEVERITY_VI.get(sev, sev)}] {verb_vi}: {title_vi}",
        "subject_en": f"[{sev.capitalize()}] {verb_en}: {title_en}",
        "body_vi": title_vi,
        "body_en": title_en,
        "link": f"/alerts/{event.alert_id}",  # type: ignore[attr-defined]
    }


def alert_raised(event: Event) -> dict[str, Any] | None:
    """Tell people in scope about a new alert."""
    return _alert_message(event, "Cảnh báo mới", "New alert")


def alert_escalated(event: Event) -> dict[str, Any] | None:
    """Tell people in scope that an alert was escalated (nobody acknowledged it in time)."""
    return _alert_message(event, "Cảnh báo chưa được xử lý, đã nâng cấp", "Alert escalated")


def alert_updated(event: Event) -> dict[str, Any] | None:
    """Tell the people an alert was just assigned to (other updates notify nobody)."""
    user_id = getattr(event, "assignee_user_id", None)
    agency_id = getattr(event, "assignee_agency_id", None)
    if "assign" not in str(getattr(event, "action", "")) or (user_id is None and agency_id is None):
        return None
    message = _alert_message(event, "Bạn được giao xử lý cảnh báo", "Alert assigned to you")
    message["assignees"] = (user_id, agency_id)
    return message


MESSAGES: dict[str, Callable[[Event], dict[str, Any] | None]] = {
    "alerts.alert_raised": alert_raised,
    "alerts.alert_escalated": alert_escalated,
    "alerts.alert_updated": alert_updated,
}


def subscribe_all(app: FastAPI) -> None:
    """Subscribe the notification handlers to the app's bus."""
    for pattern, build in MESSAGES.items():
        app.state.bus.subscribe(pattern, _handler(app, build))


def _handler(app: FastAPI, build: Callable[[Event], dict[str, Any] | None]) -> Any:
    async def handle(event: Event) -> None:
        message = build(event)
        if message is None:
            return
        outcome = await run_in_threadpool(_write, app, event.name, message)
        if outcome.deliveries:
            app.state.notify_worker.wake()

    return handle


def _write(app: FastAPI, topic: str, message: dict[str, Any]) -> Outcome:
    with app.state.db.session() as session:
        assignees = message.pop("assignees", None)
        if assignees is not None:
            message["recipients"] = assignee_users(session, *assignees)
        return notify(session, app.state.settings.notify, topic=topic, **message)


def assignee_users(session: Session, user_id: int | None, agency_id: int | None) -> list[int]:
    """Return the assigned user, or the active staff of the assigned agency."""
    if user_id is not None:
        return [user_id]
    query = select(User.id).where(User.agency_id == agency_id, User.is_active.is_(True))
    return list(session.scalars(query))
