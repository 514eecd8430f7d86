"""Hourly and daily rollups of attribute history, and retention of raw history.

A background job (an app lifespan hook) rolls up, every `job_interval_s`, the history rows
written since its watermark (rows are found by modified_at, so corrected readings count too):
it recomputes from raw history each hour bucket those rows touch, then each day from its
hours. Buckets older than the retention horizon have no raw rows left, so late rows are added
to them instead. Retention then deletes raw rows observed before the horizon, but only rows
already rolled up; on PostgreSQL it first drops the monthly partitions wholly before the
horizon (context/partitions.py), and each run makes the partitions of the months ahead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from cityops.context import partitions
from cityops.context.models import ContextAttributeInstance as Inst
from cityops.context.temporal_aggregate import (
    EPOCH,
    Agg,
    Key,
    agg_columns,
    bucket_expr,
    epoch_of,
    floor_time,
)
from cityops.context.temporal_models import (
    DAILY,
    HOURLY,
    PERIOD_SECONDS,
    ContextAttributeRollup,
    TemporalJobState,
)
from cityops.core.config import TemporalSettings
from cityops.core.db import Database, utcnow

log = logging.getLogger("cityops.context.rollups")
HOUR, DAY = PERIOD_SECONDS[HOURLY], PERIOD_SECONDS[DAILY]
WINDOW = timedelta(days=1)  # history rolled up per transaction, by write time
BATCH = 200  # series ranges per SQL statement
Run = tuple[int, int, str, int, int]  # entity_pk, attr_id, datasetId, first bucket, end bucket
Roll = ContextAttributeRollup


class SeriesPoint(NamedTuple):
    """A moment in one attribute series (whose buckets need recomputing)."""

    entity_pk: int
    attr_id: int
    dataset_id: str  # '' = default instance
    at: datetime


@dataclass
class JobReport:
    """What one run of the job did."""

    rolled: int = 0  # hour buckets recomputed
    deleted: int = 0  # raw rows deleted by retention


def _start(number: int, step: int) -> datetime:
    return EPOCH + timedelta(seconds=number * step)


def _runs(keys: Iterable[Key]) -> list[Run]:
    """Merge bucket numbers of each series into ranges of consecutive buckets."""
    by_series: dict[tuple[int, int, str], list[int]] = {}
    for pk, aid, ds, number in keys:
        by_series.setdefault((pk, aid, ds), []).append(number)
    runs: list[Run] = []
    for (pk, aid, ds), numbers in by_series.items():
        numbers = sorted(set(numbers))
        first = prev = numbers[0]
        for n in numbers[1:]:
            if n != prev + 1:
                runs.append((pk, aid, ds, first, prev + 1))
                first = n
            prev = n
        runs.append((pk, aid, ds, first, prev + 1))
    return runs


def _in_runs(runs: list[Run], pk: Any, aid: Any, ds: Any, time: Any, step: int) -> Any:
    return or_(
        *[
            and_(
                pk == r[0],
                aid == r[1],
                ds == r[2],
                time >= _start(r[3], step),
                time < _start(r[4], step),
            )
            for r in runs
        ]
    )


def _batches(runs: list[Run]) -> Iterator[list[Run]]:
    for i in range(0, len(runs), BATCH):
        yield runs[i : i + BATCH]


def _raw_in(runs: list[Run]) -> Any:
    return _in_runs(runs, Inst.entity_pk, Inst.attr_id, Inst.dataset_id, Inst.observed_at, HOUR)


def _rollups_in(runs: list[Run], period: str, step: int | None = None) -> Any:
    """Select the `period` rollups in bucket ranges counted in `step` seconds (the period's)."""
    step = step or PERIOD_SECONDS[period]
    where = _in_runs(runs, Roll.entity_pk, Roll.attr_id, Roll.dataset_id, Roll.bucket_start, step)
    return and_(Roll.period == period, where)


def _hours_from_raw(
    session: Session, runs: list[Run], written: tuple[datetime, datetime] | None = None
) -> dict[Key, Agg]:
    """Aggregate raw history per hour over bucket ranges (only rows written in a window)."""
    bucket = bucket_expr(Inst.observed_at, session.get_bind().dialect.name, 0, HOUR)
    columns = [Inst.entity_pk, Inst.attr_id, Inst.dataset_id, bucket]
    out: dict[Key, Agg] = {}
    for batch in _batches(runs):
        stmt = select(*columns, *agg_columns(Inst.value_num)).where(_raw_in(batch))
        if written is not None:
            stmt = stmt.where(Inst.modified_at > written[0], Inst.modified_at <= written[1])
        for pk, aid, ds, n, *values in session.execute(stmt.group_by(*columns)):
            out[(pk, aid, ds, int(n))] = Agg(*values)
    return out


def _days_from_hours(session: Session, runs: list[Run]) -> dict[Key, Agg]:
    """Aggregate hourly rollups per day over day ranges."""
    bucket = bucket_expr(Roll.bucket_start, session.get_bind().dialect.name, 0, DAY)
    columns = [Roll.entity_pk, Roll.attr_id, Roll.dataset_id, bucket]
    sums = [func.sum(Roll.count), func.sum(Roll.count_num), func.sum(Roll.sum)]
    sums += [func.min(Roll.min), func.max(Roll.max), func.sum(Roll.sumsq)]
    out: dict[Key, Agg] = {}
    for batch in _batches(runs):
        stmt = select(*columns, *sums).where(_rollups_in(batch, HOURLY, DAY)).group_by(*columns)
        for pk, aid, ds, n, *values in session.execute(stmt):
            out[(pk, aid, ds, int(n))] = Agg(*values)
    return out


def _existing(session: Session, period: str, runs: list[Run]) -> dict[Key, Agg]:
    """Read the stored rollups of some bucket ranges."""
    step = PERIOD_SECONDS[period]
    out: dict[Key, Agg] = {}
    for batch in _batches(runs):
        for r in session.scalars(select(Roll).where(_rollups_in(batch, period))):
            key = (r.entity_pk, r.attr_id, r.dataset_id, epoch_of(r.bucket_start) // step)
            out[key] = Agg(r.count, r.count_num, r.sum, r.min, r.max, r.sumsq)
    return out


def _write(session: Session, period: str, runs: list[Run], computed: dict[Key, Agg]) -> None:
    """Replace the rollups of some bucket ranges with freshly computed ones."""
    step = PERIOD_SECONDS[period]
    for batch in _batches(runs):
        session.execute(delete(Roll).where(_rollups_in(batch, period)))
    rows = [
        {
            "entity_pk": pk,
            "attr_id": aid,
            "dataset_id": ds,
            "period": period,
            "bucket_start": _start(number, step),
            "count": agg.count,
            "count_num": agg.count_num,
            "sum": agg.sum,
            "min": agg.min,
            "max": agg.max,
            "sumsq": agg.sumsq,
        }
        for (pk, aid, ds, number), agg in computed.items()
        if agg.count
    ]
    for i in range(0, len(rows), 5000):
        session.execute(insert(Roll), rows[i : i + 5000])


def _roll_hours(
    session: Session,
    hours: set[Key],
    kept_from: datetime | None,
    written: tuple[datetime, datetime] | None,
) -> None:
    """Recompute hour buckets from raw history (add to them where raw history is gone)."""
    limit = epoch_of(kept_from) // HOUR if kept_from else None
    fresh = [h for h in hours if limit is None or h[3] >= limit]
    if fresh:
        runs = _runs(fresh)
        _write(session, HOURLY, runs, _hours_from_raw(session, runs))
    old = [h for h in hours if limit is not None and h[3] < limit]
    if old and written is not None:
        runs = _runs(old)
        merged = _existing(session, HOURLY, runs)
        for key, agg in _hours_from_raw(session, runs, written).items():
            merged.setdefault(key, Agg()).add(agg)
        _write(session, HOURLY, runs, merged)
    days = {(pk, aid, ds, n * HOUR // DAY) for pk, aid, ds, n in hours}
    if days:
        runs = _runs(days)
        _write(session, DAILY, runs, _days_from_hours(session, runs))


def refresh(session: Session, points: list[SeriesPoint]) -> None:
    """Recompute the rollups around changed or deleted instances (after the job has run once)."""
    state = session.get(TemporalJobState, 1)
    if state is None or state.covered_until is None:
        return
    hours = {(p.entity_pk, p.attr_id, p.dataset_id, epoch_of(p.at) // HOUR) for p in points}
    _roll_hours(session, hours, state.raw_kept_from, None)


def _state(session: Session) -> TemporalJobState:
    stmt = select(TemporalJobState).where(TemporalJobState.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    state = session.scalar(stmt)
    if state is None:
        state = TemporalJobState(id=1)
        session.add(state)
        session.flush()
    return state


def _roll_window(session: Session, since: datetime, until: datetime) -> int:
    """Roll up the hours touched by history rows written in (since, until]; return how many."""
    state = _state(session)
    bucket = bucket_expr(Inst.observed_at, session.get_bind().dialect.name, 0, HOUR)
    touched = session.execute(
        select(Inst.entity_pk, Inst.attr_id, Inst.dataset_id, bucket)
        .where(Inst.modified_at > since, Inst.modified_at <= until)
        .distinct()
    )
    hours = {(pk, aid, ds, int(n)) for pk, aid, ds, n in touched}
    _roll_hours(session, hours, state.raw_kept_from, (since, until))
    state.rolled_until = until
    return len(hours)


def _retain(session: Session, cfg: TemporalSettings, now: datetime) -> int:
    state = _state(session)
    if not cfg.raw_retention_days or state.covered_until is None:
        return 0
    cutoff = floor_time(min(now - timedelta(days=cfg.raw_retention_days), state.covered_until), DAY)
    if state.raw_kept_from is not None and cutoff <= state.raw_kept_from:
        return 0
    assert state.rolled_until is not None
    gone = partitions.drop_partitions(session, cutoff, state.rolled_until)
    session.commit()  # a dropped partition locks the whole history table until the commit
    state = _state(session)
    gone += int(
        session.execute(
            delete(Inst).where(Inst.observed_at < cutoff, Inst.modified_at <= state.rolled_until)
        ).rowcount
        or 0
    )
    if state.raw_kept_from is None or state.raw_kept_from < cutoff:  # not behind another process
        state.raw_kept_from = cutoff
    return gone


def run_once(db: Database, cfg: TemporalSettings, now: datetime | None = None) -> JobReport:
    """Roll up history written since the last run, mark complete hours, apply retention."""
    now = now or utcnow()
    ripe = now - timedelta(seconds=cfg.rollup_lag_s)
    report = JobReport()
    while True:
        with db.session() as session:
            state = _state(session)
            since = state.rolled_until
            if since is None:
                first = session.scalar(select(func.min(Inst.modified_at)))
                since = first - timedelta(microseconds=1) if first else ripe
            if since >= ripe:
                state.rolled_until = since
                break
            report.rolled += _roll_window(session, since, min(ripe, since + WINDOW))
    with db.session() as session:
        state = _state(session)
        state.covered_until = floor_time(ripe, HOUR)
        state.ran_at = now
    partitions.prepare(db, cfg, now)
    with db.session() as session:
        report.deleted = _retain(session, cfg, now)
    return report


async def _loop(db: Database, cfg: TemporalSettings) -> None:
    while True:
        await asyncio.sleep(cfg.job_interval_s)
        try:
            report = await run_in_threadpool(run_once, db, cfg)
            level = logging.INFO if report.rolled or report.deleted else logging.DEBUG
            done = (report.rolled, report.deleted)
            log.log(level, "rollups: %d hours rolled up, %d raw rows retired", *done)
        except Exception:  # the job must survive a bad run; the next run retries
            log.exception("rollup job failed")


def rollup_job(app: Any) -> AbstractAsyncContextManager[None]:
    """Return the lifespan hook that runs the rollup and retention job while the app serves."""
    return _job(app)


@asynccontextmanager
async def _job(app: Any) -> AsyncIterator[None]:
    cfg: TemporalSettings = app.state.settings.temporal
    try:
        await run_in_threadpool(partitions.prepare, app.state.db, cfg)
    except Exception:  # a database not migrated yet, or no right to create tables
        log.exception("history partitions could not be prepared at start-up")
    if not cfg.rollups_enabled:
        yield
        return
    task = asyncio.create_task(_loop(app.state.db, cfg))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
