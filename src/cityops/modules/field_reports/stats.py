"""Statistics: received, processed, on time, overdue, handling time, satisfaction, by group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityops.core.policy import Perm, Principal, authorize
from cityops.core.units.models import Unit
from cityops.modules.field_reports.access import read_filter
from cityops.modules.field_reports.choices import WITH_AGENCY
from cityops.modules.field_reports.models import Report
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.views import Lookup

GroupBy = Literal["category", "agency", "unit", "month"]
GROUPS: tuple[GroupBy, ...] = ("category", "agency", "unit", "month")
SATISFIED = 4  # a rating of 4 or 5 counts as satisfied


class StatsRow(BaseModel):
    """The figures of one group (or of everything)."""

    key: str
    label: str
    received: int
    processed: int
    on_time: int
    on_time_rate: float | None
    overdue: int
    avg_handling_hours: float | None
    ratings: int
    avg_rating: float | None
    satisfied_rate: float | None


class StatsTable(BaseModel):
    """Figures for a period, in total and by group."""

    by: str
    start: datetime
    end: datetime
    total: StatsRow
    rows: list[StatsRow]


@dataclass
class _Tally:
    received: int = 0
    processed: int = 0
    on_time: int = 0
    overdue: int = 0
    hours: float = 0.0
    timed: int = 0
    ratings: int = 0
    rating_sum: int = 0
    satisfied: int = 0

    def row(self, key: str, label: str) -> StatsRow:
        """Turn the counts into a row of figures and rates."""

        def pct(n: int, d: int) -> float | None:
            return round(100 * n / d, 1) if d else None

        return StatsRow(
            key=key,
            label=label,
            received=self.received,
            processed=self.processed,
            on_time=self.on_time,
            on_time_rate=pct(self.on_time, self.processed),
            overdue=self.overdue,
            avg_handling_hours=round(self.hours / self.timed, 1) if self.timed else None,
            ratings=self.ratings,
            avg_rating=round(self.rating_sum / self.ratings, 2) if self.ratings else None,
            satisfied_rate=pct(self.satisfied, self.ratings),
        )


def _key(row: Any, by: GroupBy, at: datetime, rt: Runtime) -> str:
    if by == "month":
        return at.astimezone(rt.calendar.tz).strftime("%Y-%m")
    value = {"category": row.category_id, "agency": row.agency_id, "unit": row.unit_id}[by]
    return "" if value is None else str(value)


def _label(lookup: Lookup, by: GroupBy, key: str) -> str:
    if by == "month" or not key:
        return key or "(chưa giao / unassigned)"
    item = {"category": lookup.category, "agency": lookup.agency, "unit": lookup.unit}[by](int(key))
    return item.name if item is not None else key


def _received(tally: _Tally, row: Any, now: datetime) -> None:
    tally.received += 1
    if row.status in WITH_AGENCY and row.due_at is not None and row.due_at < now:
        tally.overdue += 1


def _processed(tally: _Tally, row: Any, _now: datetime) -> None:
    tally.processed += 1
    tally.on_time += 1 if row.on_time else 0
    if row.handling_hours is not None:
        tally.hours += row.handling_hours
        tally.timed += 1


def _rated(tally: _Tally, row: Any, _now: datetime) -> None:
    tally.ratings += 1
    tally.rating_sum += row.rating
    tally.satisfied += 1 if row.rating >= SATISFIED else 0


# each figure is counted at the time it happened (and filed under that month)
FIGURES = (("created_at", _received), ("resolved_at", _processed), ("rated_at", _rated))


def _rows(session: Session, principal: Principal, start: datetime, end: datetime) -> list[Any]:
    cols = (
        Report.category_id,
        Report.agency_id,
        Report.unit_id,
        Report.status,
        Report.created_at,
        Report.resolved_at,
        Report.due_at,
        Report.on_time,
        Report.handling_hours,
        Report.rating,
        Report.rated_at,
    )
    in_period = [c.between(start, end) for c in (Report.created_at, Report.resolved_at)]
    query = (
        select(*cols)
        .join(Unit, Unit.id == Report.unit_id)
        .where(read_filter(principal), or_(*in_period, Report.rated_at.between(start, end)))
    )
    return list(session.execute(query))


def compute(
    session: Session,
    rt: Runtime,
    principal: Principal,
    by: GroupBy = "category",
    start: datetime | None = None,
    end: datetime | None = None,
) -> StatsTable:
    """Compute the figures of the caller's scope for [start, end) (default: the last 90 days)."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    end = end or rt.now
    start = start or end - timedelta(days=90)
    total, groups = _Tally(), {}
    for row in _rows(session, principal, start, end):
        for field, add in FIGURES:
            at = getattr(row, field)
            if at is None or not start <= at < end or (field == "rated_at" and row.rating is None):
                continue
            add(total, row, rt.now)
            add(groups.setdefault(_key(row, by, at, rt), _Tally()), row, rt.now)
    lookup = Lookup(session)
    rows = [tally.row(key, _label(lookup, by, key)) for key, tally in sorted(groups.items())]
    rows = [r for r in rows if r.received or r.processed or r.ratings]
    return StatsTable(by=by, start=start, end=end, total=total.row("", "Tổng / Total"), rows=rows)
