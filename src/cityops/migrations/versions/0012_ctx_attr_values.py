"""Context hub: an index of the scalar values of current attributes, for fast `q` queries

Revision ID: 0012_ctx_attr_values
Revises: 0011_health_education_tourism
Create Date: 2026-11-24 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_ctx_attr_values"
down_revision: str | Sequence[str] | None = "0011_health_education_tourism"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ctx_attr_values",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_pk", sa.Integer(), nullable=False),
        sa.Column("attr", sa.String(length=512), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_text", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_pk"],
            ["ctx_entities.pk"],
            name=op.f("fk_ctx_attr_values_entity_pk_ctx_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ctx_attr_values")),
    )
    op.create_index("ix_ctx_attr_values_entity", "ctx_attr_values", ["entity_pk", "attr"])
    op.create_index("ix_ctx_attr_values_num", "ctx_attr_values", ["attr", "value_num"])
    op.create_index("ix_ctx_attr_values_text", "ctx_attr_values", ["attr", "value_text"])
    _backfill()


def _backfill() -> None:
    """Index the entities already stored (the code that keeps the index does it from now on)."""
    from cityops.context.value_index import value_rows

    conn = op.get_bind()
    table = sa.table(
        "ctx_attr_values",
        sa.column("entity_pk"),
        sa.column("attr"),
        sa.column("value_num"),
        sa.column("value_text"),
    )
    entities = sa.table("ctx_entities", sa.column("pk"), sa.column("attrs", sa.JSON()))
    rows = []
    for pk, attrs in conn.execute(sa.select(entities.c.pk, entities.c.attrs)):
        rows += [r for iri, attr in (attrs or {}).items() for r in value_rows(pk, iri, attr)]
        if len(rows) > 5000:
            conn.execute(sa.insert(table), rows)
            rows = []
    if rows:
        conn.execute(sa.insert(table), rows)


def downgrade() -> None:
    op.drop_index("ix_ctx_attr_values_text", table_name="ctx_attr_values")
    op.drop_index("ix_ctx_attr_values_num", table_name="ctx_attr_values")
    op.drop_index("ix_ctx_attr_values_entity", table_name="ctx_attr_values")
    op.drop_table("ctx_attr_values")
