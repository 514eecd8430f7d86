"""The daily statistics rollup (fr_daily_stats), kept in the transaction of every report change.

Each report contributes to three days (receipt, resolution, rating) under its current
category, agency and unit. After every flush the contribution of each new, changed or deleted
report is taken away at its old values and added at its new ones, so the rollup always equals
what stats.py would count from the reports themselves. `rebuild` recomputes it from scratch
(after bulk loads, or a change of CITYOPS_FIELD_REPORTS__UTC_OFFSET_HOURS); models.py listens.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Float,
    Integer,
    cast,
    delete,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy import insert as sa_insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityops.modules.field_reports.models import DailyStat, Report

SATISFIED = 4  # a rating of 4 or 5 counts as satisfied
DIMS = ("category", "agency", "unit")
MEASURES = (
    "received", "processed", "on_time", "hours", "timed", "ratings", "rating_sum", "satisfied",
)  # fmt: skip
FIELDS = (
    "created_at", "resolved_at", "on_time", "handling_hours", "rated_at", "rating",
    "category_id", "agency_id", "unit_id",
)  # fmt: skip
Key = tuple[str, date, int]
# The UTC offset the rollup's days are kept in (set from the settings by the module's setup).
_offset = {"hours": 7.0}


def offset_hours() -> float:
    """Return the UTC offset (hours) of the rollup's local days."""
    return _offset["hours"]


def configure(hours: float) -> None:
    """Keep the rollup's days in this UTC offset (CITYOPS_FIELD_REPORTS__UTC_OFFSET_HOURS)."""
    _offset["hours"] = hours


def local_day(at: datetime, hours: float | None = None) -> date:
    """Return the local calendar day of an instant."""
    shift = timedelta(hours=offset_hours() if hours is None else hours)
    return (at.astimezone(UTC) + shift).date()


def contribution(values: dict[str, Any]) -> dict[Key, list[float]]:
    """Return what one report (given by its FIELDS) adds to each (dim, day, group) row."""
    out: dict[Key, list[float]] = {}
    groups = (values["category_id"], values["agency_id"] or 0, values["unit_id"])

    def add(at: datetime, figures: dict[int, float]) -> None:
        day = local_day(at)
        for dim, group in zip(DIMS, groups, strict=True):
            row = out.setdefault((dim, day, group), [0] * len(MEASURES))
            for index, value in figures.items():
                row[index] += value

    if values["created_at"] is not None:
        add(values["created_at"], {0: 1})
    if values["resolved_at"] is not None:
        hours = values["handling_hours"]
        timed = {3: hours or 0.0, 4: int(hours is not None)}
        add(values["resolved_at"], {1: 1, 2: int(values["on_time"] is True)} | timed)
    if values["rated_at"] is not None:
        rating = values["rating"]
        rated = {5: int(rating is not None), 6: rating or 0}
        add(values["rated_at"], rated | {7: int(rating is not None and rating >= SATISFIED)})
    return out


def _values(report: Report, old: bool) -> dict[str, Any]:
    """Return the report's FIELDS as they are now, or as they were before this flush."""
    state = sa_inspect(report)
    values = {}
    for name in FIELDS:
        history = state.attrs[name].history
        if old and history.deleted:
            values[name] = history.deleted[0]
        elif old and history.added:
            # never loaded nor set before (a new report's empty column); active_history
            # loads every other old value before it is replaced
            values[name] = None
        else:
            values[name] = getattr(report, name)
    return values


def _changed(report: Report) -> bool:
    state = sa_inspect(report)
    return any(state.attrs[name].history.has_changes() for name in FIELDS)


def _merge(total: dict[Key, list[float]], part: dict[Key, list[float]], sign: int) -> None:
    for key, figures in part.items():
        row = total.setdefault(key, [0] * len(MEASURES))
        for i, value in enumerate(figures):
            row[i] += sign * value


def deltas(
    new: Iterable[Any], dirty: Iterable[Any], deleted: Iterable[Any]
) -> dict[Key, list[float]]:
    """Return the rollup changes of a flush: old contributions out, new ones in."""
    total: dict[Key, list[float]] = {}
    for obj in new:
        if isinstance(obj, Report):
            _merge(total, contribution(_values(obj, old=False)), 1)
    for obj in dirty:
        if isinstance(obj, Report) and _changed(obj):
            _merge(total, contribution(_values(obj, old=True)), -1)
            _merge(total, contribution(_values(obj, old=False)), 1)
    for obj in deleted:
        if isinstance(obj, Report):
            _merge(total, contribution(_values(obj, old=True)), -1)
    return {key: row for key, row in total.items() if any(row)}


def apply(conn: Connection, changes: dict[Key, list[float]]) -> None:
    """Add the changes to the rollup rows (an upsert; keys in order, so no deadlocks)."""
    if not changes:
        return
    rows = [
        {"dim": dim, "day": day, "group_id": group} | dict(zip(MEASURES, row, strict=True))
        for (dim, day, group), row in sorted(changes.items())
    ]
    conn.execute(_upsert(conn.dialect.name), rows)


@cache
def _upsert(dialect: str) -> Any:
    """The upsert statement adding figures to rollup rows (built once per dialect)."""
    table = DailyStat.__table__
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return stmt.on_conflict_do_update(
        index_elements=["dim", "day", "group_id"],
        set_={name: table.c[name] + stmt.excluded[name] for name in MEASURES},
    )


def after_flush(session: Session, _context: Any) -> None:
    """Apply the rollup changes of the reports this flush wrote (models.py listens)."""
    changes = deltas(session.new, session.dirty, session.deleted)
    if changes:
        apply(session.connection(), changes)


# --- rebuild ---------------------------------------------------------------------------------


def day_sql(dialect: str, column: Any, hours: float) -> Any:
    """SQL for the local day of a timestamp column, on SQLite and PostgreSQL."""
    if dialect == "postgresql":
        shifted = func.timezone("UTC", column) + func.make_interval(0, 0, 0, 0, 0, 0, hours * 3600)
        return cast(shifted, Date)
    return func.date(column, f"{hours:+g} hours")


def _parts(dialect: str, group: Any, hours: float) -> Any:
    """One select per figure family, each with every measure (zeros where not its own)."""
    r = Report

    def part(column: Any, figures: dict[str, Any]) -> Any:
        cols = [literal(0, Integer) if m not in figures else figures[m] for m in MEASURES]
        day = day_sql(dialect, column, hours).label("day")
        labelled = [c.label(m) for c, m in zip(cols, MEASURES, strict=True)]
        return select(day, group.label("group_id"), *labelled).where(column.is_not(None))

    one = literal(1, Integer)
    return union_all(
        part(r.created_at, {"received": one}),
        part(r.resolved_at, {
            "processed": one,
            "on_time": func.coalesce(cast(r.on_time, Integer), 0),
            "hours": func.coalesce(r.handling_hours, literal(0.0, Float)),
            "timed": func.coalesce(cast(r.handling_hours.is_not(None), Integer), 0),
        }),
        part(r.rated_at, {
            "ratings": cast(r.rating.is_not(None), Integer),
            "rating_sum": func.coalesce(r.rating, 0),
            "satisfied": func.coalesce(cast(r.rating >= SATISFIED, Integer), 0),
        }),
    ).subquery()  # fmt: skip


def rebuild(conn: Connection, hours: float | None = None) -> int:
    """Recompute the whole rollup from the reports; return the number of rows written."""
    hours = offset_hours() if hours is None else hours
    conn.execute(delete(DailyStat.__table__))
    groups = {
        "category": Report.category_id,
        "agency": func.coalesce(Report.agency_id, 0),
        "unit": Report.unit_id,
    }
    for dim, group in groups.items():
        sub = _parts(conn.dialect.name, group, hours)
        sums = [func.sum(sub.c[m]) for m in MEASURES]
        query = select(literal(dim), sub.c.day, sub.c.group_id, *sums)
        query = query.group_by(sub.c.day, sub.c.group_id)
        columns = ["dim", "day", "group_id", *MEASURES]
        conn.execute(sa_insert(DailyStat.__table__).from_select(columns, query))
    return conn.scalar(select(func.count()).select_from(DailyStat.__table__)) or 0
