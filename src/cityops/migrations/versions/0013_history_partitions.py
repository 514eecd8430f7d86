"""Context hub: attribute history partitioned by month on PostgreSQL (SQLite unchanged)

ctx_attr_instances becomes a declaratively RANGE-partitioned table on observed_at: one
partition per month in the schema ctx_history (so the public schema lists only the tables
the models describe) and a DEFAULT partition for readings outside the monthly ones. The
primary key becomes (id, observed_at), as PostgreSQL wants the partition key in every unique
constraint; ids still come from the same sequence. Rows are copied into a partition for each
month that holds data (months more than MONTHS_AHEAD ahead go to DEFAULT); the app creates
the next months' partitions from then on (context/partitions.py).

Revision ID: 0013_history_partitions
Revises: 0012_ctx_attr_values
Create Date: 2026-11-24 09:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op

revision: str = "0013_history_partitions"
down_revision: str | Sequence[str] | None = "0012_ctx_attr_values"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

T = "ctx_attr_instances"
SCHEMA = "ctx_history"
MONTHS_AHEAD = 3  # the default of CITYOPS_TEMPORAL__PARTITION_MONTHS_AHEAD
FKS = (
    f"ADD CONSTRAINT fk_{T}_attr_id_ctx_attr_names FOREIGN KEY (attr_id) "
    "REFERENCES ctx_attr_names (id)",
    f"ADD CONSTRAINT fk_{T}_entity_pk_ctx_entities FOREIGN KEY (entity_pk) "
    "REFERENCES ctx_entities (pk) ON DELETE CASCADE",
)


def _month(year: int, month: int, plus: int = 0) -> datetime:
    n = year * 12 + month - 1 + plus
    return datetime(n // 12, n % 12 + 1, 1, tzinfo=UTC)


def _set_aside(suffix: str) -> None:
    """Rename the current table, its constraints and index out of the way."""
    op.execute(f"ALTER TABLE {T} RENAME TO {T}_{suffix}")
    for name in (f"pk_{T}", f"uq_{T}_reading"):
        op.execute(f"ALTER TABLE {T}_{suffix} RENAME CONSTRAINT {name} TO {name}_{suffix}")
    op.execute(f"ALTER INDEX ix_{T}_modified_at RENAME TO ix_{T}_modified_at_{suffix}")


def _constrain(primary_key: str) -> None:
    """Add the keys, foreign keys and index of the history table; hand it the id sequence."""
    op.execute(f"ALTER TABLE {T} ADD CONSTRAINT pk_{T} PRIMARY KEY ({primary_key})")
    op.execute(
        f"ALTER TABLE {T} ADD CONSTRAINT uq_{T}_reading "
        "UNIQUE (entity_pk, attr_id, observed_at, dataset_id)"
    )
    for fk in FKS:
        op.execute(f"ALTER TABLE {T} {fk}")
    op.execute(f"CREATE INDEX ix_{T}_modified_at ON {T} (modified_at)")
    op.execute(f"ALTER SEQUENCE {T}_id_seq OWNED BY {T}.id")


def _monthly_partitions(old: str) -> None:
    """Create a partition for each month holding data (up to MONTHS_AHEAD ahead) and now."""
    now = datetime.now(UTC)
    last = _month(now.year, now.month, MONTHS_AHEAD)
    found = op.get_bind().exec_driver_sql(
        f"SELECT DISTINCT date_trunc('month', observed_at AT TIME ZONE 'UTC') FROM {old}"
    )
    months = {_month(m.year, m.month) for (m,) in found}
    months |= {_month(now.year, now.month, k) for k in range(MONTHS_AHEAD + 1)}
    for start in sorted(m for m in months if m <= last):
        end = _month(start.year, start.month, 1)
        op.execute(
            f"CREATE TABLE {SCHEMA}.{T}_y{start.year:04d}m{start.month:02d} PARTITION OF {T} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps one table (its indexes serve the series queries)
    _set_aside("unpartitioned")
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute(
        f"CREATE TABLE {T} (LIKE {T}_unpartitioned INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (observed_at)"
    )
    op.execute(f"CREATE TABLE {SCHEMA}.{T}_default PARTITION OF {T} DEFAULT")
    _monthly_partitions(f"{T}_unpartitioned")
    op.execute(f"INSERT INTO {T} SELECT * FROM {T}_unpartitioned")
    _constrain("id, observed_at")  # indexes built once, after the copy
    op.execute(f"DROP TABLE {T}_unpartitioned")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_aside("partitioned")
    op.execute(f"CREATE TABLE {T} (LIKE {T}_partitioned INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO {T} SELECT * FROM {T}_partitioned")
    _constrain("id")
    op.execute(f"DROP TABLE {T}_partitioned")  # and every partition with it
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")
