"""What the module's logic needs besides the session: settings, calendar, files and 'now'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cityops.core.bus import Event
from cityops.core.config import FieldReportsSettings, Settings
from cityops.core.db import utcnow
from cityops.core.files import FileStore
from cityops.modules.field_reports.calendar import WorkingCalendar, calendar_for
from cityops.modules.field_reports.events import take

T = TypeVar("T")


@dataclass(frozen=True)
class Runtime:
    """The instance's settings, its working calendar and file store, and the current time."""

    settings: Settings
    calendar: WorkingCalendar
    files: FileStore
    now: datetime

    @property
    def fr(self) -> FieldReportsSettings:
        """The field-reports section of the settings."""
        return self.settings.field_reports

    @classmethod
    def of(cls, settings: Settings, now: datetime | None = None) -> Runtime:
        """Build the runtime of an instance (now: the current time unless given)."""
        return cls(
            settings,
            calendar_for(settings.field_reports),
            FileStore.for_data_dir(settings.data_dir),
            now or utcnow(),
        )

    def at(self, now: datetime) -> Runtime:
        """Return the same runtime at another instant (a frozen clock for tests and seeds)."""
        return replace(self, now=now)


def runtime(request: Request) -> Runtime:
    """Return the runtime of the app serving this request."""
    return Runtime.of(request.app.state.settings)


async def run(
    request: Request,
    work: Callable[[Session, Runtime], T],
    before: Callable[[], object] | None = None,
) -> T:
    """Run a write in one worker thread and one transaction, then publish its events.

    `before` runs first in the same thread, outside the transaction (checks and image work
    that need not hold the write lock), so a request costs one thread-pool hop.
    """
    db = request.app.state.db
    rt = runtime(request)

    def job() -> tuple[T, list[Event]]:
        if before is not None:
            before()
        with db.session(immediate=True) as session:
            result = work(session, rt)
            events = take(session)
        return result, events

    result, events = await run_in_threadpool(job)
    for event in events:
        await request.app.state.bus.publish(event)
    return result
