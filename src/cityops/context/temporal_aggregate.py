"""Aggregated temporal representation (NGSI-LD 4.5.19): GROUP BY time bucket, in SQL.

Buckets are numbered in SQL from the seconds since an origin: on SQLite (where UTCDateTime is
ISO text) with integer arithmetic on strftime('%s', t), on PostgreSQL with
floor((extract(epoch from t) - origin) / step). Hourly and daily aggregations read the rollups
for the buckets the rollup job has completed and raw history for the rest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, distinct, extract, func, select
from sqlalchemy import literal_column as lit
from sqlalchemy.orm import Session

from cityops.context.entities import iso
from cityops.context.models import ContextAttributeInstance as Inst
from cityops.context.temporal_models import (
    PERIOD_SECONDS,
    ContextAttributeRollup,
    TemporalJobState,
)
from cityops.context.temporal_params import TemporalQuery

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ROLLUP_METHODS = frozenset({"totalCount", "sum", "avg", "min", "max", "stddev", "sumsq"})
Key = tuple[int, int, str, int]  # entity_pk, attr_id, datasetId ('' = default), bucket number


def epoch_of(dt: datetime) -> int:
    """Return whole seconds since 1970 (UTC), floored."""
    return math.floor((dt - EPOCH).total_seconds())


def floor_time(dt: datetime, step: int) -> datetime:
    """Round a time down to a multiple of `step` seconds since 1970 (UTC)."""
    return EPOCH + timedelta(seconds=epoch_of(dt) // step * step)


def bucket_expr(column: Any, dialect: str, origin: int, step: int) -> ColumnElement[Any]:
    """Return SQL numbering the `step`-second bucket (from `origin`) a time column falls in."""
    if dialect == "sqlite":
        seconds = cast(func.strftime("%s", column), Integer)
        return (seconds - lit(str(origin))).self_group().op("/")(lit(str(step)))  # integer division
    seconds = extract("epoch", column)
    offset = (seconds - lit(str(origin))).self_group()
    return cast(func.floor(offset.op("/")(lit(str(step)))), BigInteger)


@dataclass
class Agg:
    """Running aggregates of one bucket (raw rows and rollups combine the same way)."""

    count: int = 0
    count_num: int = 0
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    sumsq: float | None = None
    distinct: int | None = None
    first: datetime | None = None
    last: datetime | None = None

    def add(self, other: Agg) -> None:
        """Fold another bucket's aggregates into this one."""
        self.count += other.count
        self.count_num += other.count_num
        self.sum = _plus(self.sum, other.sum)
        self.sumsq = _plus(self.sumsq, other.sumsq)
        self.min = other.min if self.min is None else _pick(min, self.min, other.min)
        self.max = other.max if self.max is None else _pick(max, self.max, other.max)
        self.distinct = other.distinct if self.distinct is None else self.distinct
        self.first = other.first if self.first is None else _pick(min, self.first, other.first)
        self.last = other.last if self.last is None else _pick(max, self.last, other.last)

    def value(self, method: str) -> float | int | None:
        """Return one aggregation method's result (None when it has no numeric input)."""
        if method == "totalCount":
            return self.count
        if method == "distinctCount":
            return self.distinct
        if not self.count_num:
            return None
        mean = (self.sum or 0.0) / self.count_num
        if method == "avg":
            return mean
        if method == "stddev":  # population standard deviation
            return math.sqrt(max(0.0, (self.sumsq or 0.0) / self.count_num - mean * mean))
        return {"sum": self.sum, "min": self.min, "max": self.max, "sumsq": self.sumsq}[method]


def _plus(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else a + b


def _pick(fn: Any, a: Any, b: Any) -> Any:
    return a if b is None else fn(a, b)


def agg_columns(value: Any) -> list[Any]:
    """Return the SQL aggregates of a raw value column, in Agg's order."""
    return [
        func.count(),
        func.count(value),
        func.sum(value),
        func.min(value),
        func.max(value),
        func.sum(value * value),
    ]


def _value_key(dialect: str) -> Any:
    if dialect == "sqlite":
        return func.coalesce(
            func.json_extract(Inst.instance, "$.value"),
            func.json_extract(Inst.instance, "$.object"),
        )
    return func.coalesce(Inst.instance.op("->")("value"), Inst.instance.op("->")("object"))


@dataclass(frozen=True)
class Plan:
    """How one aggregation is answered: its buckets and the part read from rollups."""

    origin: int
    step: int | None
    rollup_period: str | None = None
    rollup_lo: datetime | None = None
    rollup_hi: datetime | None = None  # raw history answers from here on


def plan(
    session: Session, tq: TemporalQuery, use_rollups: bool = True, first: datetime | None = None
) -> Plan:
    """Decide bucket origin and whether (and up to when) rollups can answer. Periods start
    at timeAt (after, between), else at the first instance (`first`), as GS CIM 009 4.5.19
    and the ETSI suite's 020_11 have them; rollups answer when that falls on their grid."""
    start = tq.lower or first
    origin = epoch_of(start) if start else 0
    step = tq.period
    period = next((p for p, s in PERIOD_SECONDS.items() if s == step), None)
    if (
        not use_rollups
        or period is None
        or step is None
        or tq.timeproperty != "observedAt"
        or not set(tq.methods) <= ROLLUP_METHODS
        or origin % step
    ):
        return Plan(origin, step)
    state = session.get(TemporalJobState, 1)
    if state is None or state.covered_until is None:
        return Plan(origin, step)
    hi = floor_time(state.covered_until, step)
    if tq.upper is not None:
        hi = min(hi, floor_time(tq.upper, step))
    if tq.lower is not None and hi <= tq.lower:
        return Plan(origin, step)
    return Plan(origin, step, period, tq.lower, hi)


def _raw(
    session: Session,
    pks: list[int],
    attr_ids: list[int] | None,
    tq: TemporalQuery,
    pl: Plan,
) -> Iterable[tuple[Key, Agg]]:
    dialect = session.get_bind().dialect.name
    time = Inst.observed_at if tq.timeproperty == "observedAt" else Inst.modified_at
    bucket = lit("0") if pl.step is None else bucket_expr(time, dialect, pl.origin, pl.step)
    columns = [Inst.entity_pk, Inst.attr_id, Inst.dataset_id, bucket, *agg_columns(Inst.value_num)]
    columns += [func.min(time), func.max(time)]
    want_distinct = "distinctCount" in tq.methods
    if want_distinct:
        columns.append(func.count(distinct(_value_key(dialect))))
    stmt = select(*columns).where(Inst.entity_pk.in_(pks))
    if attr_ids is not None:
        stmt = stmt.where(Inst.attr_id.in_(attr_ids))
    lower = pl.rollup_hi if pl.rollup_hi is not None else tq.lower
    if lower is not None:
        stmt = stmt.where(time >= lower)
    if tq.upper is not None:
        stmt = stmt.where(time < tq.upper)
    groups = [Inst.entity_pk, Inst.attr_id, Inst.dataset_id]
    stmt = stmt.group_by(*groups, *([bucket] if pl.step is not None else []))
    for row in session.execute(stmt):
        pk, aid, ds, number, n, n_num, total, low, high, sq, first, last = row[:12]
        agg = Agg(n, n_num, total, low, high, sq, row[12] if want_distinct else None, first, last)
        yield (pk, aid, ds or "", int(number)), agg


def _rollups(
    session: Session, pks: list[int], attr_ids: list[int] | None, pl: Plan
) -> Iterable[tuple[Key, Agg]]:
    roll = ContextAttributeRollup
    columns = [roll.entity_pk, roll.attr_id, roll.dataset_id, roll.bucket_start]
    sums = [roll.count, roll.count_num, roll.sum, roll.min, roll.max, roll.sumsq]
    stmt = select(*columns, *sums).where(
        roll.period == pl.rollup_period,
        roll.entity_pk.in_(pks),
        roll.bucket_start < pl.rollup_hi,
    )
    if attr_ids is not None:
        stmt = stmt.where(roll.attr_id.in_(attr_ids))
    if pl.rollup_lo is not None:
        stmt = stmt.where(roll.bucket_start >= pl.rollup_lo)
    assert pl.step is not None
    for pk, aid, ds, start, *values in session.execute(stmt):
        yield (pk, aid, ds, (epoch_of(start) - pl.origin) // pl.step), Agg(*values)


def aggregate(
    session: Session,
    pks: list[int],
    attr_ids: list[int] | None,
    tq: TemporalQuery,
    *,
    use_rollups: bool = True,
) -> tuple[dict[Key, Agg], Plan]:
    """Aggregate the history of some entities per attribute, datasetId and bucket."""
    first = None if tq.lower or tq.period is None or not pks else _first(session, pks, attr_ids, tq)
    pl = plan(session, tq, use_rollups, first)
    out: dict[Key, Agg] = {}
    if not pks:
        return out, pl
    parts = [_raw(session, pks, attr_ids, tq, pl)]
    if pl.rollup_period is not None:
        parts.append(_rollups(session, pks, attr_ids, pl))
    for part in parts:
        for key, agg in part:
            out.setdefault(key, Agg()).add(agg)
    return out, pl


def _first(
    session: Session, pks: list[int], attr_ids: list[int] | None, tq: TemporalQuery
) -> datetime | None:
    """When the first instance aggregated was observed (or modified)."""
    time = Inst.observed_at if tq.timeproperty == "observedAt" else Inst.modified_at
    stmt = select(func.min(time)).where(Inst.entity_pk.in_(pks))
    if attr_ids is not None:
        stmt = stmt.where(Inst.attr_id.in_(attr_ids))
    if tq.upper is not None:
        stmt = stmt.where(time < tq.upper)
    return session.scalar(stmt)


def bucket_bounds(number: int, agg: Agg, tq: TemporalQuery, pl: Plan) -> tuple[str, str]:
    """Return the start and end (ISO) of a bucket, or of the whole range when unbucketed."""
    if pl.step is None:
        start = tq.lower or agg.first or EPOCH
        end = tq.upper or agg.last or start
        return iso(start), iso(end)
    start = EPOCH + timedelta(seconds=pl.origin + number * pl.step)
    return iso(start), iso(start + timedelta(seconds=pl.step))


def render_aggregated(
    kind: str,
    dataset_id: str,
    buckets: list[tuple[int, Agg]],
    tq: TemporalQuery,
    pl: Plan,
) -> dict[str, Any]:
    """Render one attribute (one datasetId) as {"type", method: [[value, start, end], ...]}."""
    out: dict[str, Any] = {"type": kind}
    for method in tq.methods:
        series = []
        for number, agg in sorted(buckets, key=lambda b: b[0]):
            value = agg.value(method)
            if value is not None:
                series.append([value, *bucket_bounds(number, agg, tq, pl)])
        out[method] = series
    if dataset_id:
        out["datasetId"] = dataset_id
    return out
