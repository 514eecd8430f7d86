"""Statistics: received, processed, on time, overdue, handling time, satisfaction, by group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cityops.core import audit
from cityops.core.errors import Forbidden
from cityops.core.policy import Perm, Principal, Role, authorize, scope_filter
from cityops.core.units.models import Unit
from cityops.modules.field_reports import rollup
from cityops.modules.field_reports.access import is_agency_staff, readable
from cityops.modules.field_reports.choices import WITH_AGENCY
from cityops.modules.field_reports.models import DailyStat, Report
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.views import Lookup

GroupBy = Literal["category", "agency", "unit", "month"]
GROUPS: tuple[GroupBy, ...] = ("category", "agency", "unit", "month")
SATISFIED = rollup.SATISFIED  # a rating of 4 or 5 counts as satisfied


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


def _label(lookup: Lookup, by: GroupBy, key: str, units: dict[str, str]) -> str:
    if by == "month" or not key:
        return key or "(chưa giao / unassigned)"
    if by == "unit":
        return units.get(key, key)
    item = {"category": lookup.category, "agency": lookup.agency}[by](int(key))
    return item.name if item is not None else key


def _unit_names(session: Session, by: GroupBy, keys: list[str]) -> dict[str, str]:
    """Return the names of the units grouped by, in one query (without their geometry)."""
    ids = [int(key) for key in keys if key] if by == "unit" else []
    if not ids:
        return {}
    return {
        str(i): n for i, n in session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids)))
    }


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


def _families(rt: Runtime) -> dict[str, tuple[Any, tuple[Any, ...], tuple[str, ...]]]:
    """The figure families: the timestamp each is filed under, its SQL sums, their names."""
    late = Report.status.in_(list(WITH_AGENCY)) & (Report.due_at < rt.now)
    return {
        "overdue": (Report.created_at, (_sum(late),), ("overdue",)),
        "received": (Report.created_at, (func.count(),), ("received",)),
        "processed": (
            Report.resolved_at,
            (func.count(), _sum(Report.on_time.is_(True)), func.sum(Report.handling_hours),
             func.count(Report.handling_hours)),
            ("processed", "on_time", "hours", "timed"),
        ),
        "ratings": (
            Report.rated_at,
            (func.count(Report.rating), func.sum(Report.rating), _sum(Report.rating >= SATISFIED)),
            ("ratings", "rating_sum", "satisfied"),
        ),
    }  # fmt: skip


def _add(groups: dict[str, _Tally], key: str, names: tuple[str, ...], counts: Any) -> None:
    tally = groups.setdefault(key, _Tally())
    for name, count in zip(names, counts, strict=True):
        setattr(tally, name, getattr(tally, name) + (count or 0))


def _figures(
    session: Session,
    rt: Runtime,
    principal: Principal,
    by: GroupBy,
    span: tuple[datetime, datetime],
    families: tuple[str, ...],
    groups: dict[str, _Tally],
) -> None:
    """Count figures from the reports in SQL, grouped, at the time each happened."""
    known = _families(rt)
    for family in families:
        column, figures, names = known[family]
        key = _group(session, rt, by, column)
        query = readable(select(key, *figures), principal)
        query = query.where(column >= span[0], column < span[1]).group_by(key)
        if family == "overdue":  # only open reports can be overdue: read them through the index
            query = query.where(Report.status.in_(list(WITH_AGENCY)))
        for value, *counts in session.execute(query):
            _add(groups, "" if value is None else str(value), names, counts)


def _whole_days(rt: Runtime, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """Return the first and last local midnight inside [start, end), if a whole day fits."""
    tz = timezone(timedelta(hours=rt.fr.utc_offset_hours))
    local = start.astimezone(tz)
    first = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if first < local:
        first += timedelta(days=1)
    last = end.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return (first, last) if first < last else None


def _sees_everything(session: Session, principal: Principal) -> bool:
    """Say whether the caller's scope holds every unit (the rollup has no finer scope)."""
    if is_agency_staff(principal):
        return False
    outside = select(Unit.id).where(~scope_filter(principal, Unit.path)).limit(1)
    return session.scalar(outside) is None


def _from_rollup(
    session: Session, by: GroupBy, days: tuple[datetime, datetime], groups: dict[str, _Tally]
) -> None:
    """Add the figures of whole local days from the daily rollup."""
    d = DailyStat
    dim, key = ("category", d.day) if by == "month" else (by, d.group_id)
    sums = [func.sum(getattr(d, name)) for name in rollup.MEASURES]
    query = select(key, *sums).where(d.dim == dim, d.day >= days[0].date(), d.day < days[1].date())
    for value, *counts in session.execute(query.group_by(key)):
        if by == "month":
            label = value.strftime("%Y-%m") if isinstance(value, date) else str(value)[:7]
        else:
            label = str(value) if value else ""
        _add(groups, label, rollup.MEASURES, counts)


def _all_figures(
    session: Session, rt: Runtime, principal: Principal, by: GroupBy, start: datetime, end: datetime
) -> dict[str, _Tally]:
    """Count every figure: whole days from the rollup where it can answer, the rest raw."""
    groups: dict[str, _Tally] = {}
    _figures(session, rt, principal, by, (start, end), ("overdue",), groups)
    rest = ("received", "processed", "ratings")
    days = _whole_days(rt, start, end)
    usable = rt.fr.utc_offset_hours == rollup.offset_hours() and _sees_everything(
        session, principal
    )
    if days is None or not usable:
        _figures(session, rt, principal, by, (start, end), rest, groups)
        return groups
    _from_rollup(session, by, days, groups)
    for edge in ((start, days[0]), (days[1], end)):
        if edge[0] < edge[1]:
            _figures(session, rt, principal, by, edge, rest, groups)
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
    groups = _all_figures(session, rt, principal, by, start, end)
    total = _total(groups)
    lookup, units = Lookup(session), _unit_names(session, by, list(groups))
    rows = [tally.row(k, _label(lookup, by, k, units)) for k, tally in sorted(groups.items())]
    rows = [r for r in rows if r.received or r.processed or r.ratings]
    return StatsTable(by=by, start=start, end=end, total=total.row("", "Tổng / Total"), rows=rows)


class StatsRebuilt(BaseModel):
    """The outcome of rebuilding the daily statistics rollup."""

    rows: int
    utc_offset_hours: float


def rebuild(session: Session, rt: Runtime, principal: Principal) -> StatsRebuilt:
    """Recompute the daily rollup from the reports (admins: after bulk loads, offset changes)."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    if principal.role is not Role.admin:
        raise Forbidden("Only an administrator may rebuild the statistics", code="admin_only")
    rollup.configure(rt.fr.utc_offset_hours)
    rows = rollup.rebuild(session.connection(), rt.fr.utc_offset_hours)
    done = StatsRebuilt(rows=rows, utc_offset_hours=rt.fr.utc_offset_hours)
    audit.record(
        session, principal, "field_report.stats_rebuild", "fr_daily_stats", after=done.model_dump()
    )
    return done
