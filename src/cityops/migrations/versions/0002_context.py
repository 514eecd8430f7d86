"""Context-data hub: NGSI-LD entities, attribute names, attribute history.

Revision ID: 0002_context
Revises: 0001_core
Create Date: 2026-11-24 05:55:21.237677
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401  (autogenerate writes Text() for JSONB)
from sqlalchemy.dialects import postgresql

import cityops.core.db

revision: str = "0002_context"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ctx_attr_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ctx_attr_names")),
        sa.UniqueConstraint("iri", name=op.f("uq_ctx_attr_names_iri")),
    )
    op.create_table(
        "ctx_entities",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=512), nullable=False),
        sa.Column("type", sa.String(length=512), nullable=False),
        sa.Column(
            "attrs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "datasets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_ctx_entities_unit_id_units"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_ctx_entities")),
        sa.UniqueConstraint("tenant", "entity_id", name="uq_ctx_entities_tenant_entity_id"),
    )
    with op.batch_alter_table("ctx_entities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ctx_entities_bbox", ["min_lon", "max_lon", "min_lat", "max_lat"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ctx_entities_modified_at"), ["modified_at"], unique=False
        )
        batch_op.create_index("ix_ctx_entities_tenant_type", ["tenant", "type"], unique=False)
        batch_op.create_index(batch_op.f("ix_ctx_entities_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "ctx_attr_instances",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_pk", sa.Integer(), nullable=False),
        sa.Column("attr_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dataset_id", sa.String(length=256), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column(
            "instance",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["attr_id"],
            ["ctx_attr_names.id"],
            name=op.f("fk_ctx_attr_instances_attr_id_ctx_attr_names"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_pk"],
            ["ctx_entities.pk"],
            name=op.f("fk_ctx_attr_instances_entity_pk_ctx_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ctx_attr_instances")),
        sa.UniqueConstraint(
            "entity_pk",
            "attr_id",
            "observed_at",
            "dataset_id",
            name="uq_ctx_attr_instances_reading",
        ),
    )


def downgrade() -> None:
    op.drop_table("ctx_attr_instances")
    with op.batch_alter_table("ctx_entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ctx_entities_unit_id"))
        batch_op.drop_index("ix_ctx_entities_tenant_type")
        batch_op.drop_index(batch_op.f("ix_ctx_entities_modified_at"))
        batch_op.drop_index("ix_ctx_entities_bbox")

    op.drop_table("ctx_entities")
    op.drop_table("ctx_attr_names")
