"""Reminders to late agencies: when a unit's figure is past its reporting deadline, the staff of
the responsible agency (and the unit's operators) get a notice in the app and, by their
preferences, by e-mail or webhook; the alert engine may also turn the event into an alert."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool

from cityops.alerts.notify import notify
from cityops.core.auth.models import Agency, User
from cityops.core.config import Settings
from cityops.core.db import Database
from cityops.core.policy import Role
from cityops.modules.indicators.catalogue import get_indicator
from cityops.modules.indicators.events import ReportLate


def recipients(session: object, event: ReportLate) -> list[int]:
    """The active staff of the responsible agency and the operators of the late unit."""
    agency = select(Agency.id).where(Agency.code == event.agency_code)
    query = select(User.id).where(
        User.is_active.is_(True),
        or_(
            User.agency_id.in_(agency) if event.agency_code else False,
            (User.unit_id == event.unit_id) & (User.role == Role.unit_operator.value),
        ),
    )
    return list(session.scalars(query))  # type: ignore[attr-defined]


def send_reminder(db: Database, settings: Settings, event: ReportLate) -> int:
    """Notify the people who owe the figure; return how many were told."""
    with db.session() as session:
        people = recipients(session, event)
        if not people:
            return 0
        indicator = get_indicator(session, event.indicator)
        outcome = notify(
            session,
            settings.notify,
            topic="indicators.report_late",
            severity="warning",
            unit_id=event.unit_id,
            subject_vi=f"Nhắc báo cáo: {indicator.name_vi} kỳ {event.period} ({event.unit_code})",
            subject_en=(
                f"Reminder: {indicator.name_en or indicator.name_vi}, {event.period} "
                f"({event.unit_code})"
            ),
            body_vi=f"Hạn báo cáo {event.deadline} đã qua mà chưa có số liệu. Vui lòng cập nhật.",
            body_en=f"The deadline {event.deadline} has passed with no figure. Please report it.",
            link=f"/sectors/socioeconomic?indicator={event.indicator}",
            recipients=people,
        )
        return len(outcome.recipients)


def reminder_handler(db: Database, settings: Settings) -> Callable[[ReportLate], Awaitable[None]]:
    """The bus handler (the database work runs in a worker thread)."""

    async def handle(event: ReportLate) -> None:
        await run_in_threadpool(send_reminder, db, settings, event)

    return handle
