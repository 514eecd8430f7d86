"""Migration 0013 turns an existing history table into a partitioned one and back, losing
no row and keeping the id sequence."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cityops.context.partitions import is_partitioned
from cityops.core.db import Database
from cityops.core.schema import alembic_config, migrate

pytestmark = pytest.mark.skipif(
    os.environ.get("CITYOPS_TEST_DB") != "postgresql",
    reason="the migration changes the history table on PostgreSQL only",
)
BEFORE, AFTER = "0012_ctx_attr_values", "0013_history_partitions"
OLD = datetime(2024, 2, 10, tzinfo=UTC)  # a month that has no partition yet


@pytest.fixture
def scratch(database: Database) -> Iterator[Database]:
    """A second database of the test cluster, migrated to the revision before 0013."""
    name = "cityops_migration_0013"
    admin = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(database.url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrate(db, BEFORE)
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))


def fill(db: Database, times: list[datetime]) -> None:
    """Store one entity with a reading at each time, the way version 0012 kept history."""
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ctx_entities (pk, tenant, entity_id, type, attrs, created_at, "
                "modified_at) VALUES (1, '', 'urn:ngsi-ld:WaterLevelSensor:x', "
                "'WaterLevelSensor', '{}', now(), now())"
            )
        )
        conn.execute(text("INSERT INTO ctx_attr_names (id, iri) VALUES (1, 'waterLevel')"))
        for i, moment in enumerate(times):
            conn.execute(
                text(
                    "INSERT INTO ctx_attr_instances (entity_pk, attr_id, observed_at, "
                    "modified_at, dataset_id, value_num, instance) VALUES "
                    "(1, 1, :at, now(), '', :v, CAST(:inst AS jsonb))"
                ),
                {"at": moment, "v": float(i), "inst": f'{{"value": {i}}}'},
            )


def rows(db: Database) -> list[tuple[int, datetime, float]]:
    sql = "SELECT id, observed_at, value_num FROM ctx_attr_instances ORDER BY id"
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def next_id(db: Database) -> int:
    """Insert one more reading and return the id it got."""
    sql = (
        "INSERT INTO ctx_attr_instances (entity_pk, attr_id, observed_at, modified_at, "
        "dataset_id, instance) VALUES (1, 1, now(), now(), 'next', '{}') RETURNING id"
    )
    with db.engine.begin() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_upgrade_moves_existing_history_into_monthly_partitions(scratch):
    fill(scratch, [OLD, OLD + timedelta(days=1), datetime(2025, 7, 1, tzinfo=UTC)])
    before = rows(scratch)
    migrate(scratch, AFTER)
    with scratch.engine.connect() as conn:
        assert is_partitioned(conn)
        where = conn.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM ctx_attr_instances GROUP BY 1")
        )
        assert dict(where.all()) == {
            "ctx_history.ctx_attr_instances_y2024m02": 2,
            "ctx_history.ctx_attr_instances_y2025m07": 1,
        }
        key = conn.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'pk_ctx_attr_instances'"
            )
        )
        assert key.scalar_one() == "PRIMARY KEY (id, observed_at)"
    assert rows(scratch) == before
    assert next_id(scratch) == before[-1][0] + 1  # the same sequence goes on


def test_downgrade_gives_back_one_plain_table_with_every_row(scratch):
    fill(scratch, [OLD, datetime(2031, 1, 1, tzinfo=UTC)])
    migrate(scratch, AFTER)
    before = rows(scratch)
    command.downgrade(alembic_config(scratch), BEFORE)
    with scratch.engine.connect() as conn:
        assert not is_partitioned(conn)
        schema = conn.execute(text("SELECT to_regnamespace('ctx_history')")).scalar()
        assert schema is None
    assert rows(scratch) == before
    assert next_id(scratch) == before[-1][0] + 1
