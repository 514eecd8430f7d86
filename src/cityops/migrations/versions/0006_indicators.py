"""Indicators: catalogue, yearly targets, values with revisions, late-report notices

Revision ID: 0006_indicators
Revises: 0005_field_reports
Create Date: 2026-11-24 07:09:35.914920
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityops.core.db

revision: str = "0006_indicators"
down_revision: str | Sequence[str] | None = "0005_field_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ind_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_vi", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=True),
        sa.Column("unit_of_measure", sa.String(length=60), nullable=False),
        sa.Column("group", sa.String(length=100), nullable=True),
        sa.Column("frequency", sa.String(length=20), nullable=False),
        sa.Column("aggregation", sa.String(length=20), nullable=False),
        sa.Column("weight_code", sa.String(length=40), nullable=True),
        sa.Column("cumulative", sa.Boolean(), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=True),
        sa.Column("deadline_day", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ind_indicators")),
    )
    with op.batch_alter_table("ind_indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ind_indicators_agency_code"), ["agency_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ind_indicators_code"), ["code"], unique=True)

    op.create_table(
        "ind_late_notices",
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("sent_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["ind_indicators.id"],
            name=op.f("fk_ind_late_notices_indicator_id_ind_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_ind_late_notices_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "indicator_id", "unit_id", "period", name=op.f("pk_ind_late_notices")
        ),
    )
    op.create_table(
        "ind_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["ind_indicators.id"],
            name=op.f("fk_ind_targets_indicator_id_ind_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_ind_targets_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ind_targets")),
        sa.UniqueConstraint(
            "indicator_id", "unit_id", "year", name=op.f("uq_ind_targets_indicator_id")
        ),
    )
    with op.batch_alter_table("ind_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ind_targets_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ind_targets_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "ind_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("entered_by", sa.String(length=250), nullable=False),
        sa.Column("entered_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["ind_indicators.id"],
            name=op.f("fk_ind_values_indicator_id_ind_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_ind_values_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ind_values")),
        sa.UniqueConstraint(
            "indicator_id", "unit_id", "period", "revision", name=op.f("uq_ind_values_indicator_id")
        ),
    )
    with op.batch_alter_table("ind_values", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ind_values_current", ["indicator_id", "period", "is_current"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ind_values_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ind_values_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ind_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ind_values_unit_id"))
        batch_op.drop_index(batch_op.f("ix_ind_values_indicator_id"))
        batch_op.drop_index("ix_ind_values_current")

    op.drop_table("ind_values")
    with op.batch_alter_table("ind_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ind_targets_unit_id"))
        batch_op.drop_index(batch_op.f("ix_ind_targets_indicator_id"))

    op.drop_table("ind_targets")
    op.drop_table("ind_late_notices")
    with op.batch_alter_table("ind_indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ind_indicators_code"))
        batch_op.drop_index(batch_op.f("ix_ind_indicators_agency_code"))

    op.drop_table("ind_indicators")
