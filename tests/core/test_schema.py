"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cityops.core.db import Base
from cityops.core.schema import current_revision, head_revision, import_all_models


def test_migrated_database_matches_the_models(database):
    import_all_models()
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    # PostGIS brings its own tables (spatial_ref_sys); they are not ours to describe.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")]
    assert diff == []


def test_database_is_at_the_newest_revision(database):
    assert current_revision(database) == head_revision()
