"""Context hub: attribute deletions, for the temporal API's timeproperty=deletedAt

Revision ID: 0016_ctx_attr_deletions
Revises: 0015_fr_photos
Create Date: 2026-11-25 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_ctx_attr_deletions"
down_revision: str | Sequence[str] | None = "0015_fr_photos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ctx_attr_deletions (one row per deleted attribute instance)."""
    op.create_table(
        "ctx_attr_deletions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_pk", sa.Integer(), nullable=False),
        sa.Column("attr_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=256), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "instance", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["attr_id"],
            ["ctx_attr_names.id"],
            name=op.f("fk_ctx_attr_deletions_attr_id_ctx_attr_names"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_pk"],
            ["ctx_entities.pk"],
            name=op.f("fk_ctx_attr_deletions_entity_pk_ctx_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ctx_attr_deletions")),
    )
    op.create_index(
        "ix_ctx_attr_deletions_series",
        "ctx_attr_deletions",
        ["entity_pk", "attr_id", "deleted_at"],
        unique=False,
    )


def downgrade() -> None:
    """Drop ctx_attr_deletions."""
    op.drop_index("ix_ctx_attr_deletions_series", table_name="ctx_attr_deletions")
    op.drop_table("ctx_attr_deletions")
