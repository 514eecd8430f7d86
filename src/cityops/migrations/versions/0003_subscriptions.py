"""NGSI-LD subscriptions: what each subscriber asked for and how delivery goes.

Revision ID: 0003_subscriptions
Revises: 0002_context
Create Date: 2026-11-24 06:06:59.543307
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401  (autogenerate writes Text() for JSONB)
from sqlalchemy.dialects import postgresql

import cityops.core.db

revision: str = "0003_subscriptions"
down_revision: str | Sequence[str] | None = "0002_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ctx_subscriptions",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("sub_id", sa.String(length=512), nullable=False),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "context",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=256), nullable=False),
        sa.Column("owner_unit_path", sa.String(length=512), nullable=True),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("times_sent", sa.Integer(), nullable=False),
        sa.Column("times_failed", sa.Integer(), nullable=False),
        sa.Column("times_dropped", sa.Integer(), nullable=False),
        sa.Column("consecutive_errors", sa.Integer(), nullable=False),
        sa.Column("last_notification", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_ctx_subscriptions")),
        sa.UniqueConstraint("tenant", "sub_id", name="uq_ctx_subscriptions_tenant_sub_id"),
    )
    with op.batch_alter_table("ctx_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ctx_subscriptions_tenant_owner_unit_path",
            ["tenant", "owner_unit_path"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("ctx_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_ctx_subscriptions_tenant_owner_unit_path")

    op.drop_table("ctx_subscriptions")
