"""Temporal store: hourly/daily rollups, the rollup job's state, history by write time.

Revision ID: 0004_temporal
Revises: 0003_subscriptions
Create Date: 2026-11-24 06:13:39.267769
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityops.core.db

revision: str = "0004_temporal"
down_revision: str | Sequence[str] | None = "0003_subscriptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ctx_temporal_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rolled_until", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("covered_until", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("raw_kept_from", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ran_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ctx_temporal_state")),
    )
    op.create_table(
        "ctx_attr_rollups",
        sa.Column("entity_pk", sa.Integer(), nullable=False),
        sa.Column("attr_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("bucket_start", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dataset_id", sa.String(length=256), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("count_num", sa.Integer(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=True),
        sa.Column("min", sa.Float(), nullable=True),
        sa.Column("max", sa.Float(), nullable=True),
        sa.Column("sumsq", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["attr_id"],
            ["ctx_attr_names.id"],
            name=op.f("fk_ctx_attr_rollups_attr_id_ctx_attr_names"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_pk"],
            ["ctx_entities.pk"],
            name=op.f("fk_ctx_attr_rollups_entity_pk_ctx_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "entity_pk",
            "attr_id",
            "period",
            "bucket_start",
            "dataset_id",
            name=op.f("pk_ctx_attr_rollups"),
        ),
    )
    with op.batch_alter_table("ctx_attr_instances", schema=None) as batch_op:
        batch_op.create_index("ix_ctx_attr_instances_modified_at", ["modified_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ctx_attr_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_ctx_attr_instances_modified_at")

    op.drop_table("ctx_attr_rollups")
    op.drop_table("ctx_temporal_state")
