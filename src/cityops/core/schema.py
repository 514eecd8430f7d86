"""Create, migrate and inspect the database schema (Alembic, one history)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config

from cityops.core.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

CORE_MODEL_MODULES = (
    "cityops.core.units.models",
    "cityops.core.auth.models",
    "cityops.core.audit",
    "cityops.context.models",
    "cityops.context.temporal_models",
    "cityops.context.subscriptions_models",
    "cityops.alerts.models",
    "cityops.alerts.incidents.models",
    "cityops.alerts.notify.models",
    "cityops.alerts.cap.models",
)


def import_all_models() -> None:
    """Import every table definition (core, then each module's models.py) into Base.metadata."""
    for name in CORE_MODEL_MODULES:
        importlib.import_module(name)
    package = importlib.import_module("cityops.modules")
    for mod in pkgutil.iter_modules(package.__path__):
        if mod.ispkg and importlib.util.find_spec(f"cityops.modules.{mod.name}.models"):
            importlib.import_module(f"cityops.modules.{mod.name}.models")


def alembic_config(db: Database) -> Config:
    """Build an Alembic config for this database, using the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def current_revision(db: Database) -> str | None:
    """Return the schema revision(s) the database is at, comma-joined (None if never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


@lru_cache
def head_revision() -> str | None:
    """Return the newest revision(s) shipped with this version, comma-joined."""
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory(str(MIGRATIONS)).get_heads())) or None


def migrate(db: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision` (PostGIS is enabled on PostgreSQL when available)."""
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
