"""Context hub: a trigger-maintained index of scalar attribute values for fast `q` queries

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

# SQLite: json_each over a scalar yields the scalar itself (key NULL), over an array its items
# (integer keys), over an object its members (text keys) -- the same elements `q` compares.
_SQLITE_ROWS = """
  INSERT INTO ctx_attr_values (entity_pk, attr, value_num, value_text)
  SELECT NEW.pk, a.key,
         CASE WHEN e.type IN ('integer', 'real') THEN e.value END,
         CASE WHEN e.type = 'text' THEN substr(e.value, 1, 200) END
  FROM json_each(NEW.attrs) AS a, json_each(a.value, '$.value') AS e
  WHERE e.type IN ('integer', 'real', 'text') AND typeof(e.key) != 'text'
  UNION ALL
  SELECT NEW.pk, a.key, NULL, substr(e.value, 1, 200)
  FROM json_each(NEW.attrs) AS a, json_each(a.value, '$.object') AS e
  WHERE e.type = 'text' AND typeof(e.key) != 'text'
  UNION ALL
  SELECT NEW.pk, a.key, NULL, substr(e.value, 1, 200)
  FROM json_each(NEW.attrs) AS a, json_each(a.value, '$.vocab') AS e
  WHERE e.type = 'text' AND typeof(e.key) != 'text'
  UNION ALL
  SELECT NEW.pk, a.key, NULL, substr(e.value, 1, 200)
  FROM json_each(NEW.attrs) AS a, json_each(a.value, '$.languageMap') AS e
  WHERE e.type = 'text';
"""

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ctx_index_attr_values() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM ctx_attr_values WHERE entity_pk = OLD.pk;
  END IF;
  INSERT INTO ctx_attr_values (entity_pk, attr, value_num, value_text)
  SELECT NEW.pk, a.key,
         CASE WHEN jsonb_typeof(e.v) = 'number' THEN (e.v #>> '{}')::double precision END,
         CASE WHEN jsonb_typeof(e.v) = 'string' THEN left(e.v #>> '{}', 200) END
  FROM jsonb_each(NEW.attrs) AS a
  CROSS JOIN LATERAL (
    SELECT x AS v FROM jsonb_array_elements(
      CASE jsonb_typeof(a.value -> 'value') WHEN 'array' THEN a.value -> 'value'
      ELSE jsonb_build_array(a.value -> 'value') END) AS x
    WHERE jsonb_typeof(x) = 'number' OR jsonb_typeof(x) = 'string'
    UNION ALL
    SELECT x FROM jsonb_array_elements(
      CASE jsonb_typeof(a.value -> 'object') WHEN 'array' THEN a.value -> 'object'
      ELSE jsonb_build_array(a.value -> 'object') END) AS x
    WHERE jsonb_typeof(x) = 'string'
    UNION ALL
    SELECT x FROM jsonb_array_elements(
      CASE jsonb_typeof(a.value -> 'vocab') WHEN 'array' THEN a.value -> 'vocab'
      ELSE jsonb_build_array(a.value -> 'vocab') END) AS x
    WHERE jsonb_typeof(x) = 'string'
    UNION ALL
    SELECT m.value FROM jsonb_each(
      CASE jsonb_typeof(a.value -> 'languageMap') WHEN 'object' THEN a.value -> 'languageMap'
      ELSE '{}'::jsonb END) AS m
    WHERE jsonb_typeof(m.value) = 'string'
  ) AS e
  WHERE jsonb_typeof(a.value) = 'object';
  RETURN NULL;
END
$$;
"""


def upgrade() -> None:
    op.create_table(
        "ctx_attr_values",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
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
    op.create_index("ix_ctx_attr_values_entity_pk", "ctx_attr_values", ["entity_pk"], unique=False)
    op.create_index("ix_ctx_attr_values_num", "ctx_attr_values", ["attr", "value_num"])
    op.create_index("ix_ctx_attr_values_text", "ctx_attr_values", ["attr", "value_text"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER ctx_attr_values_sync AFTER INSERT OR UPDATE OF attrs "
            "ON ctx_entities FOR EACH ROW EXECUTE FUNCTION ctx_index_attr_values()"
        )
        op.execute("UPDATE ctx_entities SET attrs = attrs")  # index what is there
        return
    op.execute(
        f"CREATE TRIGGER ctx_attr_values_ai AFTER INSERT ON ctx_entities BEGIN {_SQLITE_ROWS} END"
    )
    op.execute(
        "CREATE TRIGGER ctx_attr_values_au AFTER UPDATE OF attrs ON ctx_entities BEGIN "
        f"DELETE FROM ctx_attr_values WHERE entity_pk = OLD.pk; {_SQLITE_ROWS} END"
    )
    op.execute("UPDATE ctx_entities SET attrs = attrs")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ctx_attr_values_sync ON ctx_entities")
        op.execute("DROP FUNCTION IF EXISTS ctx_index_attr_values()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ctx_attr_values_ai")
        op.execute("DROP TRIGGER IF EXISTS ctx_attr_values_au")
    op.drop_index("ix_ctx_attr_values_text", table_name="ctx_attr_values")
    op.drop_index("ix_ctx_attr_values_num", table_name="ctx_attr_values")
    op.drop_index("ix_ctx_attr_values_entity_pk", table_name="ctx_attr_values")
    op.drop_table("ctx_attr_values")
