"""Database engine and sessions: SQLite (embedded default) and PostgreSQL (+PostGIS)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cityops.core.sqlite_wal import WalCheckpointer
from cityops.core.write_groups import RETRIES, WouldWait, WriteGroups, transient

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table, core and modules alike (one migration history)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


BUSY_TIMEOUT_MS = 5000


SQLITE_CACHE_MB = 64  # page cache of each SQLite connection (filled only as pages are read)


def _sqlite_pragmas(cache_mb: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")  # negative: KiB, not pages
        cur.close()

    return on_connect


def json_text(value: Any) -> str:
    """Serialise a JSON column's value (the engines' json_serializer)."""
    return orjson.dumps(value).decode()


# orjson is several times faster than json for the JSON columns (entities, history).
_JSON_CODEC: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}


def make_engine(url: str, echo: bool = False, sqlite_cache_mb: int = SQLITE_CACHE_MB) -> Engine:
    """Create an engine; for SQLite, create the folder and turn on WAL and foreign keys.

    SQLite's pool hands out the connection returned last (LIFO): the reads of the event loop
    run one at a time, so they keep reusing one connection whose page cache is warm, instead
    of cycling through the pool and reading every page once per connection (with 100,000
    entities a query read ~40 scattered rows; queries/s rose ~15% with a 64 MB cache).
    """
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(os.path.dirname(os.path.abspath(path))).mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False},
            pool_use_lifo=True,
            **_JSON_CODEC,
        )
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_cache_mb))
        return engine
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20, **_JSON_CODEC
    )


def driver_rows(conn: Connection, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """Run a SELECT on the driver's own cursor, in the connection's transaction, and return
    its rows as the driver's plain tuples (columns unconverted: JSON as text, timestamps as
    stored). SQLAlchemy's result rows cost more than SQLite's own work for a batch's
    1,000-row lookup. With echo on, SQLAlchemy runs it, so it is logged."""
    if conn.engine.echo:
        return [tuple(row) for row in conn.exec_driver_sql(sql, params or None)]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()  # type: ignore[no-any-return]
    except conn.dialect.loaded_dbapi.Error as err:
        raise DBAPIError.instance(sql, params, err, conn.dialect.loaded_dbapi.Error) from err
    finally:
        cursor.close()


def driver_execute(conn: Connection, sql: str, params: Any = (), *, many: bool = False) -> int:
    """Run SQL on the driver's own cursor, in the connection's transaction, and return the
    rows it changed as the driver counts them. SQLAlchemy's statement machinery (events,
    execution context, result set-up) cost ~35 us a statement: more than SQLite's own work
    for a one-row write, or than BEGIN IMMEDIATE. `many`: params is a list of rows
    (executemany). Driver errors are raised as SQLAlchemy's (IntegrityError,
    OperationalError ...); with echo on, SQLAlchemy runs it, so it is logged."""
    if conn.engine.echo:
        return int(conn.exec_driver_sql(sql, params or None).rowcount)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        return int(cursor.rowcount)
    except conn.dialect.loaded_dbapi.Error as err:
        raise DBAPIError.instance(sql, params, err, conn.dialect.loaded_dbapi.Error) from err
    finally:
        cursor.close()


class Database:
    """An engine and its session factory."""

    def __init__(
        self, url: str, echo: bool = False, sqlite_cache_mb: int = SQLITE_CACHE_MB
    ) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, sqlite_cache_mb=sqlite_cache_mb)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = threading.RLock()  # SQLite: one immediate writer of this process at once
        self._no_wait = threading.local()  # set while a write group runs on the event loop
        self._groups = WriteGroups(self)
        self._checkpointer: WalCheckpointer | None = None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", self._on_sqlite_connect)

    @property
    def dialect(self) -> str:
        """Name the SQL dialect: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, immediate: bool = False) -> Iterator[Session]:
        """Open a session that commits on success and rolls back on error.

        `immediate`: on SQLite, take the write lock at once (BEGIN IMMEDIATE). A transaction
        that reads and then writes otherwise fails at once with 'database is locked' when
        another connection committed in between (busy_timeout does not cover that case);
        with the lock taken first, concurrent writers wait their turn instead. Such writers of
        this process queue on a lock of their own first, so they take turns at once instead of
        sleeping in SQLite's busy handler (1, 2, 5 ... 100 ms naps). For units of work that
        read then write under concurrency (ingest batches, NGSI-LD writes, field reports).
        """
        serial = immediate and self.dialect == "sqlite"
        with self._writer if serial else nullcontext(), self.sessionmaker() as session:
            if serial:
                self._begin_immediate(session.connection())
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _on_sqlite_connect(self, dbapi_conn: Any, _record: Any) -> None:
        if self._checkpointer is not None:  # it checkpoints; commits need not
            dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

    @contextmanager
    def background_checkpoints(self) -> Iterator[WalCheckpointer | None]:
        """While in this block, a SQLite database file's write-ahead log is checkpointed on a
        thread of its own instead of by the commits that fill it (core.sqlite_wal): the
        server's. Other databases: nothing to do (None)."""
        path = self.engine.url.database if self.dialect == "sqlite" else None
        if not path or path == ":memory:" or self._checkpointer is not None:
            yield None
            return
        checkpointer = WalCheckpointer(path, self._writer, busy_timeout_ms=BUSY_TIMEOUT_MS)
        self._checkpointer = checkpointer.start()
        self.engine.dispose()  # the pooled connections still checkpoint on their own
        event.listen(self.engine, "commit", checkpointer.nudge)
        try:
            yield checkpointer
        finally:
            event.remove(self.engine, "commit", checkpointer.nudge)
            self._checkpointer = None
            self.engine.dispose()  # new connections checkpoint on their own again
            checkpointer.stop()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """Open a connection for a read-only unit of work (a query page, one entity): no ORM
        session to set up and commit, which cost ~50 us, more than a small read itself. The
        transaction is rolled back when it ends."""
        with self.engine.connect() as conn:
            yield conn

    def _begin_immediate(self, conn: Connection) -> None:
        if not getattr(self._no_wait, "on", False):
            driver_execute(conn, "BEGIN IMMEDIATE")
            return
        driver_execute(conn, "PRAGMA busy_timeout=0")  # another process/connection writing:
        try:  # say so at once instead of sleeping on the event loop
            driver_execute(conn, "BEGIN IMMEDIATE")
        except OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise WouldWait from err
            raise
        finally:
            driver_execute(conn, f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    async def run(self, job: Callable[[], T]) -> T:
        """Run a short read (one entity, one page) and return its result.

        On SQLite it runs on the event loop: WAL readers never wait, and a thread-pool hop
        costs about 300 us of CPU, more than such a read itself (which holds the interpreter
        lock in a thread just the same). Client-server databases wait on the network: their
        reads go to the thread pool, so the loop never stalls.
        """
        if self.dialect != "sqlite":
            return await run_in_threadpool(job)
        return job()

    async def write(self, work: Callable[[Session], T], key: tuple[str, ...] | None = None) -> T:
        """Run a short write (one entity) and return its result once it is committed.

        The writes that arrive together share one transaction (group commit, see
        core.write_groups; with 8 clients updating on SQLite, the server's CPU per update went
        from 650 to 475 us). On SQLite a group runs on the event loop while this process's
        write lock is free and no other connection is writing (taken at once, never waited
        for: nothing here may sleep on the loop); otherwise in the thread pool.

        On PostgreSQL only writes that name a `key` (what they lock: tenant and entity id)
        are grouped, up to KEYED_GROUPS groups at once in the thread pool. A group runs its
        writes in key order (stable, so one entity's writes keep theirs), which is the order
        batches lock their rows in (context.bulk.existing_rows, context.api_batch._each):
        transactions that take row locks in one order cannot deadlock. Should one lose a
        deadlock all the same (e.g. two creations waiting on each other's new unique keys),
        it runs again, as a batch does (write_alone). Writes without a key keep a
        transaction of their own.
        """
        if self.dialect != "sqlite" and key is None:
            return await run_in_threadpool(self.write_alone, work)
        result: T = await self._groups.write(work, key or ())
        return result

    def write_alone(self, work: Callable[[Session], T]) -> T:
        """Run a write in a transaction of its own (a long batch: call it in a worker thread).
        On PostgreSQL a transaction chosen as a deadlock's victim runs again (RETRIES)."""
        for attempt in range(RETRIES + 1):
            try:
                with self.session(immediate=True) as session:
                    return work(session)
            except DBAPIError as err:
                if attempt == RETRIES or not transient(err):
                    raise
        raise AssertionError("unreachable")

    def ping(self) -> bool:
        """Say whether the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def pool_status(self) -> dict[str, int]:
        """Report the connection pool's size and use (0s for SQLite's simple pool)."""
        pool = self.engine.pool
        stats = {"size": 0, "checked_out": 0, "overflow": 0}
        for key, attr in (
            ("size", "size"),
            ("checked_out", "checkedout"),
            ("overflow", "overflow"),
        ):
            fn = getattr(pool, attr, None)
            if callable(fn):
                stats[key] = int(fn())
        return stats

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
