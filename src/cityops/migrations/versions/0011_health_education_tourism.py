"""Health, education and tourism: case counts, facility figures, school and tourism statistics

Health: weekly notifiable-disease case counts and the outbreak signals raised on them.
Education: yearly figures per school. Facilities, schools and tourism places are context-hub
entities and tourism statistics live in the indicator engine, so they need no table here.

Revision ID: 0011_health_education_tourism
Revises: 0010_public_services
Create Date: 2026-11-24 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityops.core.db

revision: str = "0011_health_education_tourism"
down_revision: str | Sequence[str] | None = "0010_public_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "edu_school_years",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_code", sa.String(length=60), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("teachers", sa.Integer(), nullable=False),
        sa.Column("classes", sa.Integer(), nullable=False),
        sa.Column("new_entrants", sa.Integer(), nullable=True),
        sa.Column("attendance_rate", sa.Float(), nullable=True),
        sa.Column("exam_candidates", sa.Integer(), nullable=True),
        sa.Column("exam_passed", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("entered_by", sa.String(length=250), nullable=False),
        sa.Column("entered_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_edu_school_years_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edu_school_years")),
        sa.UniqueConstraint("school_code", "year", name=op.f("uq_edu_school_years_school_code")),
    )
    with op.batch_alter_table("edu_school_years", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_edu_school_years_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_edu_school_years_year"), ["year"], unique=False)

    op.create_table(
        "health_case_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disease", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("deaths", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("entered_by", sa.String(length=250), nullable=False),
        sa.Column("entered_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_health_case_counts_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_case_counts")),
        sa.UniqueConstraint(
            "disease", "unit_id", "week_start", name=op.f("uq_health_case_counts_disease")
        ),
    )
    with op.batch_alter_table("health_case_counts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_health_case_counts_unit_id"), ["unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_health_case_counts_week_start"), ["week_start"], unique=False
        )

    op.create_table(
        "health_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disease", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("baseline_mean", sa.Float(), nullable=False),
        sa.Column("c1", sa.Float(), nullable=False),
        sa.Column("c2", sa.Float(), nullable=False),
        sa.Column("c3", sa.Float(), nullable=False),
        sa.Column("methods", sa.String(length=20), nullable=False),
        sa.Column("raised_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_health_signals_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_signals")),
        sa.UniqueConstraint(
            "disease", "unit_id", "week_start", name=op.f("uq_health_signals_disease")
        ),
    )
    with op.batch_alter_table("health_signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_signals_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_health_signals_week_start"), ["week_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("health_signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_signals_week_start"))
        batch_op.drop_index(batch_op.f("ix_health_signals_unit_id"))
    op.drop_table("health_signals")
    with op.batch_alter_table("health_case_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_case_counts_week_start"))
        batch_op.drop_index(batch_op.f("ix_health_case_counts_unit_id"))
    op.drop_table("health_case_counts")
    with op.batch_alter_table("edu_school_years", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edu_school_years_year"))
        batch_op.drop_index(batch_op.f("ix_edu_school_years_unit_id"))
    op.drop_table("edu_school_years")
