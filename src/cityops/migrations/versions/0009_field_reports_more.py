"""Field reports: duplicates and merges, blocked reporters, tracking-code secrets

Revision ID: 0009_field_reports_more
Revises: 0008b_incidents
Create Date: 2026-11-24 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityops.core.db  # noqa: F401

revision: str = "0009_field_reports_more"
down_revision: str | Sequence[str] | None = "0008b_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fr_reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("spam_score", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("spam_flagged", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("device_id", sa.String(length=64), nullable=True))
        batch_op.drop_index("ix_fr_reports_status")
        batch_op.create_index("ix_fr_reports_rated_at", ["rated_at"], unique=False)
        batch_op.create_index(
            "ix_fr_reports_status_created", ["status", "created_at", "due_at"], unique=False
        )
        batch_op.create_index(
            "ix_fr_reports_unit_status_created", ["unit_id", "status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_fr_reports_spam_flagged_created", ["spam_flagged", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_fr_reports_category_status_created",
            ["category_id", "status", "created_at"],
            unique=False,
        )
        batch_op.create_index("ix_fr_reports_lat_lon", ["lat", "lon"], unique=False)
    op.create_table(
        "fr_followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("from_report_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["fr_reports.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["from_report_id"], ["fr_reports.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fr_followers_report_id", "fr_followers", ["report_id"], unique=False)
    op.create_table(
        "fr_blocked_reporters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=250), nullable=False),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_fr_blocked_reporters_kind_value",
        "fr_blocked_reporters",
        ["kind", "value"],
        unique=False,
    )
    op.create_table(
        "fr_submission_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fr_submission_hits_ip_at", "fr_submission_hits", ["ip", "at"])
    op.create_index("ix_fr_submission_hits_device_at", "fr_submission_hits", ["device_id", "at"])


def downgrade() -> None:
    op.drop_table("fr_submission_hits")
    op.drop_table("fr_blocked_reporters")
    op.drop_table("fr_followers")
    with op.batch_alter_table("fr_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_fr_reports_lat_lon")
        batch_op.drop_index("ix_fr_reports_category_status_created")
        batch_op.drop_index("ix_fr_reports_spam_flagged_created")
        batch_op.drop_index("ix_fr_reports_status_created")
        batch_op.drop_index("ix_fr_reports_unit_status_created")
        batch_op.drop_index("ix_fr_reports_rated_at")
        batch_op.create_index("ix_fr_reports_status", ["status"], unique=False)
        batch_op.drop_column("device_id")
        batch_op.drop_column("spam_flagged")
        batch_op.drop_column("spam_score")
