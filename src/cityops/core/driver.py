"""Cached Core statements run on the SQLite driver's own cursor.

SQLAlchemy's execution machinery (events, execution context, result set-up, per-row parameter
processing) costs tens of microseconds a statement: more than SQLite's own work for the one-row
reads and writes of an NGSI-LD update, and more than SQLite's work per row in bulk writes. These
helpers compile a statement once and run it on the driver, converting parameters and results
with the same processors SQLAlchemy uses, inside the connection's transaction. Driver errors are
raised as SQLAlchemy's (IntegrityError, OperationalError ...). Other dialects, and an engine
with echo on (so statements are logged), go through Core as usual.
"""

from __future__ import annotations

from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from cityops.core.db import json_text


def _sqlite_time(value: datetime | None) -> str | None:
    """Format an aware datetime the way SQLAlchemy's SQLite DATETIME stores it (UTC)."""
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    if offset:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _converter(type_: Any) -> Any:
    impl = getattr(type_, "impl", type_)
    if isinstance(impl, DateTime):
        return _sqlite_time
    if isinstance(impl, JSON):
        return json_text
    return None


_DRIVER_SQL: dict[tuple[Any, tuple[str, ...]], tuple[str, Any, list[tuple[int, Any]]]] = {}


def _plan(conn: Connection, stmt: Any, keys: tuple[str, ...]) -> tuple[str, Any, list[Any]]:
    plan = _DRIVER_SQL.get((stmt, keys))
    if plan is None:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(keys))
        names = list(compiled.positiontup)
        convs = [(i, _converter(compiled.binds[n].type)) for i, n in enumerate(names)]
        getter = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        plan = (compiled.string, getter, [(i, c) for i, c in convs if c is not None])
        _DRIVER_SQL[(stmt, keys)] = plan
    return plan


def executemany(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> int:
    """Execute one cached Core statement for many parameter dicts (all with the same keys);
    return the rows it changed as the driver counts them (-1 when it cannot tell).

    On SQLite the statement is compiled once and run by the driver's executemany, with the
    JSON and timestamp columns converted here (equal timestamps formatted once per call):
    SQLAlchemy's per-row parameter processing costs more than SQLite's own work in bulk
    writes. Other dialects use Core as usual."""
    if not rows:
        return 0
    if conn.dialect.name != "sqlite":
        return int(conn.execute(stmt, rows).rowcount)
    sql, getter, convs = _plan(conn, stmt, tuple(rows[0]))
    if not convs:
        return _driver_executemany(conn, sql, [getter(row) for row in rows])
    memo: dict[Any, Any] = {}
    params = []
    for row in rows:
        values = list(getter(row))
        for i, conv in convs:
            value = values[i]
            if conv is _sqlite_time and value is not None:
                text = memo.get(value)
                if text is None:
                    text = memo[value] = conv(value)
                values[i] = text
            else:
                values[i] = conv(value)
        params.append(tuple(values))
    return _driver_executemany(conn, sql, params)


_DRIVER_SELECT: dict[Any, tuple[str, Any, list[tuple[int, Any]], list[Any]]] = {}


def fetch_first(conn: Connection, stmt: Any, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """Return the first row of a cached Core SELECT as a tuple of column values, or None.

    On SQLite the statement is compiled once and run on the driver's cursor, its values
    converted by the same result processors SQLAlchemy uses (timestamps, JSON): for a
    one-row read such as the entity lookup of every NGSI-LD write, SQLAlchemy's execution
    and result set-up cost more than SQLite's own work. Other dialects use Core as usual."""
    if conn.dialect.name != "sqlite" or conn.engine.echo:
        row = conn.execute(stmt, params).first()
        return None if row is None else tuple(row)
    plan = _DRIVER_SELECT.get(stmt)
    if plan is None:
        dialect = conn.dialect
        compiled = stmt.compile(dialect=dialect)
        names = list(compiled.positiontup)
        getter = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        convs = [(i, _converter(compiled.binds[n].type)) for i, n in enumerate(names)]
        results = [
            c.type.dialect_impl(dialect).result_processor(dialect, None)
            for c in stmt.selected_columns
        ]
        plan = (compiled.string, getter, [(i, c) for i, c in convs if c], results)
        _DRIVER_SELECT[stmt] = plan
    sql, getter, convs, results = plan
    values = list(getter(params))
    for i, conv in convs:
        values[i] = conv(values[i])
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        raw = cursor.execute(sql, values).fetchone()
    except dbapi.Error as err:
        raise DBAPIError.instance(sql, values, err, dbapi.Error) from err
    finally:
        cursor.close()
    if raw is None:
        return None
    return tuple(v if p is None else p(v) for p, v in zip(results, raw, strict=True))


def _driver_executemany(conn: Connection, sql: str, params: list[tuple[Any, ...]]) -> int:
    """Run SQL on the driver's own cursor, in the connection's transaction. SQLAlchemy's
    statement machinery (events, context and result set-up) cost ~35 us a statement, more
    than SQLite's own work for a one-row write. Driver errors are raised as SQLAlchemy's
    (IntegrityError, OperationalError ...), as before. With echo on, SQLAlchemy runs it, so
    it is logged."""
    if conn.engine.echo:
        return int(conn.exec_driver_sql(sql, params).rowcount)
    dbapi = conn.connection.driver_connection
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, params)
        return int(cursor.rowcount)
    except conn.dialect.loaded_dbapi.Error as err:
        raise DBAPIError.instance(sql, params, err, conn.dialect.loaded_dbapi.Error) from err
    finally:
        cursor.close()
