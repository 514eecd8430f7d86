"""Field reports: the daily statistics rollup (backfilled), a covering index for the queue

Revision ID: 0014_fr_daily_stats
Revises: 0013_history_partitions
Create Date: 2026-11-24 11:30:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_fr_daily_stats"
down_revision: str | Sequence[str] | None = "0013_history_partitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the rollup table, fill it from the reports stored, widen the created_at index."""
    op.create_table(
        "fr_daily_stats",
        sa.Column("dim", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("group_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "day", "group_id", name=op.f("pk_fr_daily_stats")),
        sqlite_with_rowid=False,
    )
    op.drop_index("ix_fr_reports_created_at", table_name="fr_reports")
    columns = ["created_at", "status", "due_at"]
    op.create_index("ix_fr_reports_created_status_due", "fr_reports", columns)
    from cityops.modules.field_reports.rollup import rebuild

    hours = float(os.environ.get("CITYOPS_FIELD_REPORTS__UTC_OFFSET_HOURS", "7"))
    rebuild(op.get_bind(), hours)


def downgrade() -> None:
    """Drop the rollup table and restore the plain created_at index."""
    op.drop_table("fr_daily_stats")
    op.drop_index("ix_fr_reports_created_status_due", table_name="fr_reports")
    op.create_index("ix_fr_reports_created_at", "fr_reports", ["created_at"])
