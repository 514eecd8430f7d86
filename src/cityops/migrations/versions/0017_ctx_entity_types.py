"""Context hub: entities with more than one type (NGSI-LD multi-typing)

Revision ID: 0017_ctx_entity_types
Revises: 0016_ctx_attr_deletions
Create Date: 2026-11-25 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_ctx_entity_types"
down_revision: str | Sequence[str] | None = "0016_ctx_attr_deletions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MULTI = sa.text("types IS NOT NULL")


def upgrade() -> None:
    """Add ctx_entities.types (every type of an entity that has several, else NULL) and a
    partial index finding those entities."""
    with op.batch_alter_table("ctx_entities") as batch:
        batch.add_column(
            sa.Column(
                "types", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
            )
        )
    op.create_index(
        "ix_ctx_entities_multi_typed",
        "ctx_entities",
        ["tenant"],
        unique=False,
        sqlite_where=MULTI,
        postgresql_where=MULTI,
    )


def downgrade() -> None:
    """Drop ctx_entities.types."""
    op.drop_index("ix_ctx_entities_multi_typed", table_name="ctx_entities")
    with op.batch_alter_table("ctx_entities") as batch:
        batch.drop_column("types")
