"""Monthly partitions of attribute history on PostgreSQL (SQLite keeps one table).

ctx_attr_instances is RANGE-partitioned on observed_at (migration 0013): one partition per
month in the schema ctx_history, and a DEFAULT partition that takes any reading outside them,
so a write never fails or waits for DDL, however far back or ahead its time lies.

Partitions are made ahead of time, never inside a write: at start-up and on every run of the
rollup job, for the current month and `partition_months_ahead` months after it. A month whose
readings landed in DEFAULT (a back-filled import, or a job that did not run for a while) gets
its partition on the next run when it is still inside the retention horizon: its rows move
out of DEFAULT in the same transaction. Rows older than the horizon stay in DEFAULT until
retention deletes them; rows further ahead than the months made stay there too (a device with
a wrong clock must not make the job create partitions for the year 2099).

Retention drops whole partitions older than its cutoff once every row in them is rolled up;
the boundary month and DEFAULT are still trimmed row by row (rollups.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cityops.core.config import TemporalSettings
from cityops.core.db import Database, utcnow

log = logging.getLogger("cityops.context.partitions")
PARENT = "ctx_attr_instances"
SCHEMA = "ctx_history"
DEFAULT = f"{SCHEMA}.{PARENT}_default"
NAME = re.compile(rf"^{PARENT}_y(\d{{4}})m(\d{{2}})$")
LOCK = 0x43_54_58_48  # pg_advisory_xact_lock key: one maintainer at a time ("CTXH")
DROP_LOCK_TIMEOUT = "5s"  # a drop waits no longer for readers; the next run tries again


@dataclass(frozen=True)
class Partition:
    """A monthly partition: its table name and the month it holds."""

    name: str
    start: datetime  # first instant of the month (UTC)

    @property
    def end(self) -> datetime:
        """Return the first instant after the month."""
        return add_months(self.start, 1)

    @property
    def qualified(self) -> str:
        """Return the schema-qualified table name."""
        return f"{SCHEMA}.{self.name}"


def month_of(moment: datetime) -> datetime:
    """Return the first instant (UTC) of the month holding `moment`."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    """Return the first instant of the month `count` months after `month`."""
    n = month.year * 12 + month.month - 1 + count
    return datetime(n // 12, n % 12 + 1, 1, tzinfo=UTC)


def partition_for(month: datetime) -> Partition:
    """Return the partition that holds `month`."""
    return Partition(f"{PARENT}_y{month.year:04d}m{month.month:02d}", month_of(month))


def is_partitioned(conn: Connection) -> bool:
    """Tell whether the history table is partitioned (PostgreSQL migrated to 0013)."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = :t AND c.relnamespace = to_regnamespace(current_schema())"
        ),
        {"t": PARENT},
    )
    return found.first() is not None


def monthly_partitions(conn: Connection) -> list[Partition]:
    """List the monthly partitions attached to the history table, oldest first."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": PARENT},
    )
    found = [NAME.match(name) for (name,) in rows]
    months = [datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC) for m in found if m]
    return [partition_for(month) for month in sorted(months)]


def _stray_months(conn: Connection) -> set[datetime]:
    """Return the months of the rows sitting in the DEFAULT partition."""
    rows = conn.execute(
        text(f"SELECT DISTINCT date_trunc('month', observed_at AT TIME ZONE 'UTC') FROM {DEFAULT}")
    )
    return {m.replace(tzinfo=UTC) for (m,) in rows}


def _create(conn: Connection, part: Partition) -> int:
    """Create and attach one monthly partition, moving its rows out of DEFAULT; return them."""
    lo, hi = (f"'{moment.isoformat()}'" for moment in (part.start, part.end))
    within = f"observed_at >= {lo} AND observed_at < {hi}"
    conn.execute(text(f"CREATE TABLE {part.qualified} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    # the CHECK spares ATTACH a scan of the new table; DEFAULT stays locked from the move to
    # the attach, so no row of this month can land there in between
    check = f"{part.name}_bounds"
    conn.execute(text(f"ALTER TABLE {part.qualified} ADD CONSTRAINT {check} CHECK ({within})"))
    conn.execute(text(f"LOCK TABLE {DEFAULT} IN EXCLUSIVE MODE"))
    moved = conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {within} RETURNING *) "
            f"INSERT INTO {part.qualified} SELECT * FROM moved"
        )
    ).rowcount
    attach = f"ATTACH PARTITION {part.qualified} FOR VALUES FROM ({lo}) TO ({hi})"
    conn.execute(text(f"ALTER TABLE {PARENT} {attach}"))
    conn.execute(text(f"ALTER TABLE {part.qualified} DROP CONSTRAINT {check}"))
    return int(moved or 0)


def ensure_partitions(
    session: Session, months_ahead: int, now: datetime, keep_from: datetime | None
) -> list[Partition]:
    """Create the partitions of this month, the next `months_ahead`, and of the months
    (from `keep_from` on) whose rows wait in DEFAULT; return those created."""
    conn = session.connection()
    if not is_partitioned(conn):
        return []
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
    first, last = month_of(now), add_months(month_of(now), months_ahead)
    wanted = {add_months(first, k) for k in range(months_ahead + 1)}
    oldest = month_of(keep_from) if keep_from else None
    wanted |= {m for m in _stray_months(conn) if m <= last and (oldest is None or m >= oldest)}
    have = {p.start for p in monthly_partitions(conn)}
    created = []
    for month in sorted(wanted - have):
        part = partition_for(month)
        moved = _create(conn, part)
        log.info("history partition %s created (%d rows moved from DEFAULT)", part.name, moved)
        created.append(part)
    return created


def drop_partitions(session: Session, before: datetime, rolled_until: datetime) -> int:
    """Drop the monthly partitions entirely older than `before` whose rows are all rolled up
    (written no later than `rolled_until`); return how many rows went with them."""
    conn = session.connection()
    if not is_partitioned(conn):
        return 0
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
    gone = 0
    for part in monthly_partitions(conn):
        if part.end > before:
            break
        late = f"SELECT 1 FROM {part.qualified} WHERE modified_at > :until LIMIT 1"
        if conn.execute(text(late), {"until": rolled_until}).first():
            continue  # not all rolled up yet: retention deletes its rolled-up rows one by one
        rows = int(conn.scalar(text(f"SELECT count(*) FROM {part.qualified}")) or 0)
        try:
            with session.begin_nested():
                conn.execute(text(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'"))
                conn.execute(text(f"DROP TABLE {part.qualified}"))
        except OperationalError:  # long readers hold the table: try again on the next run
            log.warning("history partition %s is busy; not dropped this time", part.name)
            continue
        log.info("history partition %s dropped (%d rows)", part.name, rows)
        gone += rows
    conn.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
    return gone


def prepare(db: Database, cfg: TemporalSettings, now: datetime | None = None) -> list[Partition]:
    """Make the partitions history needs now (start-up and every run of the rollup job)."""
    now = now or utcnow()
    days = cfg.raw_retention_days
    keep_from = now - timedelta(days=days) if days else None
    with db.session() as session:
        return ensure_partitions(session, cfg.partition_months_ahead, now, keep_from)
