"""The periodic deadline check, as an intake job the core's scheduler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.concurrency import run_in_threadpool

from cityops.core.bus import Event, EventBus
from cityops.core.config import Settings
from cityops.core.db import Database
from cityops.modules.field_reports.events import take
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.sla import check_deadlines


def run_check(db: Database, settings: Settings) -> list[Event]:
    """Run the deadline check now in one transaction; return every event it queued."""
    with db.session() as session:
        check_deadlines(session, Runtime.of(settings))
        return take(session)


def deadline_job(db: Database, bus: EventBus, settings: Settings) -> Callable[[], Awaitable[None]]:
    """Make the job: check deadlines in a worker thread, then publish the events."""

    async def job() -> None:
        for event in await run_in_threadpool(run_check, db, settings):
            await bus.publish(event)

    return job
