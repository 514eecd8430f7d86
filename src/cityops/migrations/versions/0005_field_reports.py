"""Field reports: categories, reports, history, comments, photos

Revision ID: 0005_field_reports
Revises: 0004_temporal
Create Date: 2026-11-24 06:32:21.778867
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401  (autogenerate writes Text() for JSONB)
from sqlalchemy.dialects import postgresql

import cityops.core.db

revision: str = "0005_field_reports"
down_revision: str | Sequence[str] | None = "0004_temporal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fr_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("description_en", sa.Text(), nullable=True),
        sa.Column("group", sa.String(length=100), nullable=True),
        sa.Column("group_en", sa.String(length=100), nullable=True),
        sa.Column("keywords", sa.String(length=300), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("default_agency_id", sa.Integer(), nullable=True),
        sa.Column("sla_hours", sa.Float(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["default_agency_id"],
            ["agencies.id"],
            name=op.f("fk_fr_categories_default_agency_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fr_categories")),
    )
    with op.batch_alter_table("fr_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fr_categories_code"), ["code"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_fr_categories_default_agency_id"), ["default_agency_id"], unique=False
        )

    op.create_table(
        "fr_category_agencies",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_fr_category_agencies_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["fr_categories.id"],
            name=op.f("fk_fr_category_agencies_category_id_fr_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("category_id", "agency_id", name=op.f("pk_fr_category_agencies")),
    )
    with op.batch_alter_table("fr_category_agencies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fr_category_agencies_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "fr_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_code", sa.String(length=32), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("reporter_name", sa.String(length=200), nullable=True),
        sa.Column("reporter_phone", sa.String(length=50), nullable=True),
        sa.Column("reporter_email", sa.String(length=200), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.Column("open311_token", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accept_due_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handling_hours", sa.Float(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column(
            "alerts_sent",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_fr_reports_agency_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["fr_categories.id"],
            name=op.f("fk_fr_reports_category_id_fr_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["fr_reports.id"],
            name=op.f("fk_fr_reports_duplicate_of_id_fr_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_fr_reports_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fr_reports")),
        sa.UniqueConstraint("open311_token", name=op.f("uq_fr_reports_open311_token")),
    )
    with op.batch_alter_table("fr_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fr_reports_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fr_reports_category_id"), ["category_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fr_reports_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fr_reports_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fr_reports_resolved_at"), ["resolved_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fr_reports_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fr_reports_tracking_code"), ["tracking_code"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_fr_reports_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "fr_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(length=250), nullable=False),
        sa.Column("author_role", sa.String(length=32), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_fr_comments_agency_id_agencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["fr_reports.id"],
            name=op.f("fk_fr_comments_report_id_fr_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fr_comments")),
    )
    with op.batch_alter_table("fr_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fr_comments_report_id"), ["report_id"], unique=False)

    op.create_table(
        "fr_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("file_key", sa.String(length=64), nullable=False),
        sa.Column("thumb_key", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=250), nullable=False),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["fr_reports.id"],
            name=op.f("fk_fr_photos_report_id_fr_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fr_photos")),
    )
    with op.batch_alter_table("fr_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fr_photos_report_id"), ["report_id"], unique=False)

    op.create_table(
        "fr_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=250), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_fr_status_changes_agency_id_agencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["fr_reports.id"],
            name=op.f("fk_fr_status_changes_report_id_fr_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fr_status_changes")),
    )
    with op.batch_alter_table("fr_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fr_status_changes_report_id"), ["report_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fr_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fr_status_changes_report_id"))

    op.drop_table("fr_status_changes")
    with op.batch_alter_table("fr_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fr_photos_report_id"))

    op.drop_table("fr_photos")
    with op.batch_alter_table("fr_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fr_comments_report_id"))

    op.drop_table("fr_comments")
    with op.batch_alter_table("fr_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fr_reports_unit_id"))
        batch_op.drop_index(batch_op.f("ix_fr_reports_tracking_code"))
        batch_op.drop_index(batch_op.f("ix_fr_reports_status"))
        batch_op.drop_index(batch_op.f("ix_fr_reports_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_fr_reports_due_at"))
        batch_op.drop_index(batch_op.f("ix_fr_reports_created_at"))
        batch_op.drop_index(batch_op.f("ix_fr_reports_category_id"))
        batch_op.drop_index(batch_op.f("ix_fr_reports_agency_id"))

    op.drop_table("fr_reports")
    with op.batch_alter_table("fr_category_agencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fr_category_agencies_agency_id"))

    op.drop_table("fr_category_agencies")
    with op.batch_alter_table("fr_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fr_categories_default_agency_id"))
        batch_op.drop_index(batch_op.f("ix_fr_categories_code"))

    op.drop_table("fr_categories")
