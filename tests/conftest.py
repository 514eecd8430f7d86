"""Shared fixtures: a real database (SQLite, or PostgreSQL when CITYOPS_TEST_DB=postgresql),
the app, a client, and factories for units, agencies, users and API keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from cityops.app import create_app
from cityops.context import history
from cityops.core.auth import passwords
from cityops.core.auth.models import Agency, User
from cityops.core.auth.passwords import hash_password
from cityops.core.auth.service import create_api_key, open_session
from cityops.core.config import Settings, load_settings
from cityops.core.db import Base, Database
from cityops.core.policy import Role
from cityops.core.schema import import_all_models, migrate
from cityops.core.units.locate import invalidate_all
from cityops.core.units.models import Unit
from pgcluster import PostgresCluster

SHARED = Path(__file__).resolve().parents[2] / "shared"
TEST_SECRET = "test-secret-key-not-for-production"
PASSWORD = "Mật-khẩu-thử-2026"


def pytest_report_header() -> str:
    """Show which database the suite runs on."""
    return f"cityops test database: {os.environ.get('CITYOPS_TEST_DB', 'sqlite')}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for the whole run."""
    if os.environ.get("CITYOPS_TEST_DB") == "postgresql":
        cluster = PostgresCluster().start()
        try:
            yield cluster.create_database("cityops_test")
        finally:
            cluster.stop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'cityops.db'}"


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    """The migrated test database."""
    db = Database(database_url)
    migrate(db)
    import_all_models()
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after each test that used the database."""
    yield
    if "database" not in request.fixturenames:
        return
    db: Database = request.getfixturevalue("database")
    history.forget_ids()  # the attribute-name dictionary is emptied below
    invalidate_all()  # and so is the unit tree the point locator caches
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # units reference units
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of a test instance."""
    return load_settings(
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=str(tmp_path / "var"),
        log_json=False,
        log_level="WARNING",
        # the tests' notification receivers listen on loopback (production allows none)
        ngsi_ld={"notification_allowlist": ["127.0.0.1", "localhost"]},
    )


@pytest.fixture
def app(settings: Settings, database: Database) -> Any:
    """The CityOps app on the test database."""
    return create_app(settings, db=database)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """An HTTP client for the app (runs its lifespan)."""
    with TestClient(app) as c:
        yield c


class Factory:
    """Makes records the way a user would end up with them."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._n = 0
        passwords.configure(settings.secret_key)

    def _next(self) -> int:
        self._n += 1
        return self._n

    def unit(
        self,
        code: str | None = None,
        name: str | None = None,
        parent: Unit | None = None,
        level: str | None = None,
        geometry: dict[str, Any] | None = None,
    ) -> Unit:
        """Make an administrative unit under `parent` (a root when None)."""
        n = self._next()
        with self.db.session() as s:
            unit = Unit(
                code=code or f"T{n}",
                name=name or f"Đơn vị {n}",
                level=level or ("province" if parent is None else "commune"),
                parent_id=parent.id if parent else None,
                path="/",
                depth=0 if parent is None else parent.depth + 1,
                geometry=geometry,
            )
            s.add(unit)
            s.flush()
            unit.path = f"{parent.path if parent else '/'}{unit.id}/"
        return unit

    def agency(self, unit: Unit, code: str | None = None, name: str | None = None) -> Agency:
        """Make an agency belonging to `unit`."""
        n = self._next()
        with self.db.session() as s:
            agency = Agency(code=code or f"AG{n}", name=name or f"Cơ quan {n}", unit_id=unit.id)
            s.add(agency)
        return agency

    def user(
        self,
        role: Role | str = Role.operator,
        unit: Unit | None = None,
        agency: Agency | None = None,
        username: str | None = None,
        password: str = PASSWORD,
    ) -> User:
        """Make a user with a role and a scope."""
        n = self._next()
        with self.db.session() as s:
            user = User(
                username=username or f"user{n}",
                full_name=f"Người dùng {n}",
                password_hash=hash_password(password),
                role=Role(role).value,
                unit_id=unit.id if unit else None,
                agency_id=agency.id if agency else None,
            )
            s.add(user)
        return user

    def headers(self, user: User) -> dict[str, str]:
        """Log a user in (server side) and return bearer headers."""
        with self.db.session() as s:
            token = open_session(s, self.settings.auth, user, "test")
        return {"Authorization": f"Bearer {token}"}

    def api_key(self, role: Role | str = Role.integrator, unit: Unit | None = None) -> str:
        """Make an API key and return the key."""
        with self.db.session() as s:
            _, key = create_api_key(
                s,
                name=f"key{self._next()}",
                role=Role(role),
                unit_id=unit.id if unit else None,
                agency_id=None,
                created_by="test",
            )
        return key


@pytest.fixture
def factory(database: Database, settings: Settings) -> Factory:
    """A record factory bound to the test database."""
    return Factory(database, settings)
