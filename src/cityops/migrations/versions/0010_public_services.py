"""Public services: dossiers from the one-stop system, procedures, Decision 766 figures

Revision ID: 0010_public_services
Revises: 0009_field_reports_more
Create Date: 2026-11-24 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityops.core.db

revision: str = "0010_public_services"
down_revision: str | Sequence[str] | None = "0009_field_reports_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = cityops.core.db.UTCDateTime(timezone=True)
OPEN, DONE = "finished_at IS NULL", "finished_at IS NOT NULL"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "ps_procedures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ps_procedures")),
    )
    op.create_index(op.f("ix_ps_procedures_code"), "ps_procedures", ["code"], unique=True)
    op.create_table(
        "ps_dossiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("fee_vnd", sa.BigInteger(), nullable=True),
        sa.Column("online_payment", sa.Boolean(), nullable=False),
        sa.Column("returned", sa.Boolean(), nullable=False),
        sa.Column("additional_request", sa.Boolean(), nullable=False),
        sa.Column("digitised", sa.Boolean(), nullable=False),
        sa.Column("near_due_sent", sa.Boolean(), nullable=False),
        sa.Column("overdue_sent", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        _fk("ps_dossiers", "agency_id", "agencies", "RESTRICT"),
        _fk("ps_dossiers", "procedure_id", "ps_procedures", "RESTRICT"),
        _fk("ps_dossiers", "unit_id", "units", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ps_dossiers")),
        sa.UniqueConstraint("source", "external_id", name="uq_ps_dossiers_source_external_id"),
    )
    op.create_index(op.f("ix_ps_dossiers_agency_id"), "ps_dossiers", ["agency_id"])
    op.create_index(
        "ix_ps_dossiers_finished",
        "ps_dossiers",
        ["finished_at", "received_at", "due_at", "unit_id"],
        sqlite_where=sa.text(DONE),
        postgresql_where=sa.text(DONE),
    )
    op.create_index(
        "ix_ps_dossiers_open",
        "ps_dossiers",
        ["unit_id", "due_at", "received_at"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(op.f("ix_ps_dossiers_procedure_id"), "ps_dossiers", ["procedure_id"])
    op.create_index("ix_ps_dossiers_received_at", "ps_dossiers", ["received_at"])
    op.create_table(
        "ps_month_counts",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        *[
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "received",
                "received_online",
                "with_fee",
                "paid_online",
                "returned",
                "additional",
                "digitised",
                "finished",
                "finished_early",
                "finished_on_time",
                "finished_late",
            )
        ],
        sa.Column("processing_s", sa.BigInteger(), nullable=False),
        _fk("ps_month_counts", "agency_id", "agencies", "CASCADE"),
        _fk("ps_month_counts", "unit_id", "units", "CASCADE"),
        sa.PrimaryKeyConstraint("month", "unit_id", "agency_id", name=op.f("pk_ps_month_counts")),
    )
    op.create_index(op.f("ix_ps_month_counts_agency_id"), "ps_month_counts", ["agency_id"])
    op.create_index(op.f("ix_ps_month_counts_unit_id"), "ps_month_counts", ["unit_id"])
    op.create_table(
        "ps_procedure_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        sa.Column("finished_late", sa.Integer(), nullable=False),
        sa.Column("processing_s", sa.BigInteger(), nullable=False),
        _fk("ps_procedure_months", "agency_id", "agencies", "CASCADE"),
        _fk("ps_procedure_months", "procedure_id", "ps_procedures", "CASCADE"),
        _fk("ps_procedure_months", "unit_id", "units", "CASCADE"),
        sa.PrimaryKeyConstraint(
            "month", "unit_id", "agency_id", "procedure_id", name=op.f("pk_ps_procedure_months")
        ),
    )
    op.create_index(
        op.f("ix_ps_procedure_months_procedure_id"), "ps_procedure_months", ["procedure_id"]
    )


def downgrade() -> None:
    op.drop_table("ps_procedure_months")
    op.drop_table("ps_month_counts")
    op.drop_table("ps_dossiers")
    op.drop_table("ps_procedures")
