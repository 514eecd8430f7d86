"""Statistics: received, processed, on time, overdue, handling time, satisfaction, by group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cityops.core.policy import Perm, Principal, authorize
from cityops.modules.field_reports.access import readable
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


def _label(lookup: Lookup, by: GroupBy, key: str) -> str:
    if by == "month" or not key:
        return key or "(chưa giao / unassigned)"
    item = {"category": lookup.category, "agency": lookup.agency, "unit": lookup.unit}[by](int(key))
    return item.name if item is not None else key


def _month(session: Session, rt: Runtime, column: Any) -> Any:
    """SQL for the local month (YYYY-MM) of a timestamp column, on SQLite and PostgreSQL."""
    hours = rt.fr.utc_offset_hours
    if session.get_bind().dialect.name == "postgresql":
        shifted = func.timezone("UTC", column) + func.make_interval(0, 0, 0, 0, 0, 0, hours * 3600)
        return func.to_char(shifted, "YYYY-MM")
    return func.strftime("%Y-%m", column, f"{hours:+g} hours")


def _group(session: Session, rt: Runtime, by: GroupBy, column: Any) -> Any:
    if by == "month":
        return _month(session, rt, column)
    return {"category": Report.category_id, "agency": Report.agency_id, "unit": Report.unit_id}[by]


def _sum(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _figures(
    session: Session, rt: Runtime, principal: Principal, by: GroupBy, start: datetime, end: datetime
) -> dict[str, _Tally]:
    """Count each figure in SQL, grouped, at the time it happened (filed under that month)."""
    late = Report.status.in_(list(WITH_AGENCY)) & (Report.due_at < rt.now)
    queries = (
        (Report.created_at, (func.count(), _sum(late)), ("received", "overdue")),
        (
            Report.resolved_at,
            (func.count(), _sum(Report.on_time.is_(True)), func.sum(Report.handling_hours),
             func.count(Report.handling_hours)),
            ("processed", "on_time", "hours", "timed"),
        ),
        (
            Report.rated_at,
            (func.count(Report.rating), func.sum(Report.rating), _sum(Report.rating >= SATISFIED)),
            ("ratings", "rating_sum", "satisfied"),
        ),
    )  # fmt: skip
    groups: dict[str, _Tally] = {}
    for column, figures, names in queries:
        key = _group(session, rt, by, column)
        query = readable(select(key, *figures), principal)
        query = query.where(column >= start, column < end).group_by(key)
        for value, *counts in session.execute(query):
            tally = groups.setdefault("" if value is None else str(value), _Tally())
            for name, count in zip(names, counts, strict=True):
                setattr(tally, name, getattr(tally, name) + (count or 0))
    return groups


def _total(groups: dict[str, _Tally]) -> _Tally:
    total = _Tally()
    for tally in groups.values():
        for name in total.__dataclass_fields__:
            setattr(total, name, getattr(total, name) + getattr(tally, name))
    return total


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
    groups = _figures(session, rt, principal, by, start, end)
    total = _total(groups)
    lookup = Lookup(session)
    rows = [tally.row(key, _label(lookup, by, key)) for key, tally in sorted(groups.items())]
    rows = [r for r in rows if r.received or r.processed or r.ratings]
    return StatsTable(by=by, start=start, end=end, total=total.row("", "Tổng / Total"), rows=rows)
