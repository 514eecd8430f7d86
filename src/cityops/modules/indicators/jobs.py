"""The periodic late-report check, as an intake job the core's scheduler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.bus import Event, EventBus
from cityops.core.db import Database
from cityops.core.units.models import Unit
from cityops.modules.indicators.aggregate import Aggregator, Tree
from cityops.modules.indicators.catalogue import list_indicators
from cityops.modules.indicators.events import ReportLate, emit, take
from cityops.modules.indicators.models import LateNotice, Target
from cityops.modules.indicators.periods import last_due

CHECK_INTERVAL_S = 3600.0


def check_late(session: Session, today: date) -> int:
    """Queue report_late once per indicator, unit and period missing after its deadline."""
    sent = 0
    for indicator in list_indicators(session):
        period = last_due(indicator.frequency, today, indicator.deadline_day)
        # Units with a target for the year must report; otherwise the root of the tree.
        units = list(
            session.scalars(
                select(Unit)
                .join(Target, Target.unit_id == Unit.id)
                .where(Target.indicator_id == indicator.id, Target.year == period.year)
            )
        ) or list(session.scalars(select(Unit).where(Unit.parent_id.is_(None))))
        for unit in units:
            agg = Aggregator(session, indicator, Tree.load(session, unit), [str(period)])
            if agg.value(unit.id, str(period))[0] is not None:
                continue
            key = (indicator.id, unit.id, str(period))
            if session.get(LateNotice, key) is not None:
                continue
            session.add(LateNotice(indicator_id=indicator.id, unit_id=unit.id, period=str(period)))
            emit(
                session,
                ReportLate(
                    indicator=indicator.code,
                    unit_id=unit.id,
                    unit_code=unit.code,
                    period=str(period),
                    deadline=period.deadline(indicator.deadline_day).isoformat(),
                    agency_code=indicator.agency_code,
                ),
            )
            sent += 1
    return sent


def run_check(db: Database, today: date | None = None) -> list[Event]:
    """Run the late check now in one transaction; return every event it queued."""
    with db.session() as session:
        check_late(session, today or date.today())
        return take(session)


def late_job(db: Database, bus: EventBus) -> Callable[[], Awaitable[None]]:
    """Make the job: check for late reports in a worker thread, then publish the events."""

    async def job() -> None:
        for event in await run_in_threadpool(run_check, db):
            await bus.publish(event)

    return job
