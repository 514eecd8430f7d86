"""Cached Core statements run on the driver's own cursor (SQLite's and psycopg's).

SQLAlchemy's execution machinery (events, execution context, result set-up, per-row parameter
processing) costs tens of microseconds a statement: more than SQLite's own work for the one-row
reads and writes of an NGSI-LD update, and more than SQLite's work per row in bulk writes; on
PostgreSQL it was a third of the server's CPU for such an update. These helpers compile a
statement once and run it on the driver, converting parameters and results with the same
processors SQLAlchemy uses, inside the connection's transaction. Driver errors are raised as
SQLAlchemy's (IntegrityError, OperationalError ...). An engine with echo on (so statements are
logged) goes through Core as usual. On PostgreSQL, keyed many-row UPDATEs and DELETEs run as one
statement over the rows (_PgManyPlan).
"""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Column, DateTime, Delete, Update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlalchemy.sql.sqltypes import NullType

from cityops.core.db import driver_execute, json_text


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


_NAMED_SQL: dict[tuple[Any, tuple[str, ...]], tuple[str, list[Any], dict[str, Any]]] = {}


def _named_plan(
    conn: Connection, stmt: Any, keys: tuple[str, ...]
) -> tuple[str, list[Any], dict[str, Any]]:
    """A statement compiled once for a driver taking named parameters (psycopg): its SQL,
    its parameters with the bind processors SQLAlchemy would apply to them (JSON, UTC
    timestamps ...), and the values of those the statement holds itself."""
    plan = _NAMED_SQL.get((stmt, keys))
    if plan is None:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(keys))
        names = list(dict.fromkeys(compiled.bind_names.values()))  # as rendered in the SQL
        procs = [
            (
                name,
                compiled.binds[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect),
            )
            for name in names
        ]
        plan = (compiled.string, procs, dict(compiled.params))
        _NAMED_SQL[(stmt, keys)] = plan
    return plan


def _named_params(
    procs: list[tuple[str, Any]], defaults: dict[str, Any], row: dict[str, Any]
) -> dict[str, Any]:
    out = {}
    for name, proc in procs:
        value = row[name] if name in row else defaults[name]
        out[name] = value if proc is None else proc(value)
    return out


def executemany(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> int:
    """Execute one cached Core statement for many parameter dicts (all with the same keys);
    return the rows it changed as the driver counts them (-1 when it cannot tell).

    The statement is compiled once and run by the driver: on SQLite by its executemany, with
    the JSON and timestamp columns converted here (equal timestamps formatted once per call),
    as SQLAlchemy's per-row parameter processing costs more than SQLite's own work in bulk
    writes; on PostgreSQL a keyed UPDATE or DELETE of many rows as one statement (_pg_many),
    anything else by psycopg's executemany (pipelined) with SQLAlchemy's bind processors.
    With echo on, Core runs it."""
    if not rows:
        return 0
    if conn.engine.echo:
        return int(conn.execute(stmt, rows).rowcount)
    if conn.dialect.name != "sqlite":
        if conn.dialect.name != "postgresql":
            return int(conn.execute(stmt, rows).rowcount)
        if len(rows) > 1:
            done = _pg_many(conn, stmt, rows)
            if done is not None:
                return done
        sql, procs, defaults = _named_plan(conn, stmt, tuple(rows[0]))
        params = [_named_params(procs, defaults, row) for row in rows]
        if len(params) == 1:
            return driver_execute(conn, sql, params[0])
        return driver_execute(conn, sql, params, many=True)
    sql, getter, convs = _plan(conn, stmt, tuple(rows[0]))
    if not convs:
        return driver_execute(conn, sql, [getter(row) for row in rows], many=True)
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
    return driver_execute(conn, sql, params, many=True)


class SelectPlan:
    """A Core SELECT compiled once for the driver's cursor: its SQL, where each parameter
    comes from (the caller's values, else the statement's own), how to convert them, and the
    result processors SQLAlchemy would apply to each column (found on the first run, from the
    column types the driver reports, as SQLAlchemy does). Rows are named tuples (attribute
    access, like SQLAlchemy's rows). SQLite takes parameters by position, psycopg by name."""

    def __init__(self, stmt: Any, dialect: Any) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.usable = not compiled.post_compile_params and not compiled.literal_execute_params
        self.sql = compiled.string
        self.named = compiled.positiontup is None
        self.names = list(  # as rendered in the SQL
            dict.fromkeys(compiled.bind_names.values()) if self.named else compiled.positiontup
        )
        self.defaults = dict(compiled.params)
        self.convs = [  # SQLAlchemy's own bind processors (timestamps, JSON, JSON paths)
            (i, conv)
            for i, name in enumerate(self.names)
            if (conv := compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            is not None
        ]
        self.dialect = dialect
        self.columns = list(stmt.selected_columns)
        self.results: list[tuple[int, Any]] | None = None
        keys = [c.key for c in self.columns]
        self.row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]

    def _result_processors(self, description: Any) -> list[tuple[int, Any]]:
        dialect, found = self.dialect, []
        for i, column in enumerate(self.columns):
            code = description[i][1] if description else None
            proc = column.type.dialect_impl(dialect).result_processor(dialect, code)
            if proc is not None:
                found.append((i, proc))
        return found

    def run(self, conn: Connection, params: dict[str, Any], *, first: bool = False) -> list[Any]:
        """Execute on the connection's driver cursor, in its transaction; return the rows."""
        values = [params[n] if n in params else self.defaults[n] for n in self.names]
        for i, conv in self.convs:
            values[i] = conv(values[i])
        args: Any = dict(zip(self.names, values, strict=True)) if self.named else values
        dbapi = conn.dialect.loaded_dbapi
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, args)
            raw = [cursor.fetchone()] if first else cursor.fetchall()
            if self.results is None:
                self.results = self._result_processors(cursor.description)
        except dbapi.Error as err:
            raise DBAPIError.instance(self.sql, args, err, dbapi.Error) from err
        finally:
            cursor.close()
        rows = []
        make = self.row._make
        for got in raw:
            if got is None:
                continue
            out = list(got)
            for i, proc in self.results:
                out[i] = proc(out[i])
            rows.append(make(out))
        return rows


def select_plan(conn: Connection, stmt: Any) -> SelectPlan | None:
    """Compile a SELECT for the driver, or None where Core must run it (neither SQLite nor
    PostgreSQL, echo on, or parameters SQLAlchemy expands at execution such as `IN` lists)."""
    if conn.dialect.name not in ("sqlite", "postgresql") or conn.engine.echo:
        return None
    plan = SelectPlan(stmt, conn.dialect)
    return plan if plan.usable else None


def fetch_all(
    conn: Connection, stmt: Any, params: dict[str, Any], plan: SelectPlan | None = None
) -> list[Any]:
    """Return the rows of a SELECT: through its plan on the driver when there is one (see
    SelectPlan), else through Core."""
    if plan is None:
        return list(conn.execute(stmt, params).all())
    return plan.run(conn, params)


_FIRST_PLANS: dict[Any, SelectPlan | None] = {}  # statements built once (lru_cache'd)


def fetch_first(conn: Connection, stmt: Any, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """Return the first row of a SELECT built once (a module-level cached statement), or
    None. It runs on the driver's cursor (see SelectPlan): for a one-row read such as the
    entity lookup of every NGSI-LD write, SQLAlchemy's execution and result set-up cost more
    than the database's own work."""
    key = (stmt, conn.dialect.name, conn.engine.echo)
    if key not in _FIRST_PLANS:
        _FIRST_PLANS[key] = select_plan(conn, stmt)
    plan = _FIRST_PLANS[key]
    if plan is None:
        row = conn.execute(stmt, params).first()
        return None if row is None else tuple(row)
    rows = plan.run(conn, params, first=True)
    return tuple(rows[0]) if rows else None


# --- PostgreSQL: many-row UPDATE/DELETE as one statement ---------------------------------


def _pg_key_pairs(stmt: Any) -> list[tuple[Any, Any]] | None:
    """(column, bind parameter) of a WHERE made only of `column = :param` terms ANDed."""
    where = stmt.whereclause
    terms = list(where.clauses) if isinstance(where, BooleanClauseList) else [where]
    if isinstance(where, BooleanClauseList) and where.operator is not operators.and_:
        return None
    pairs = []
    for term in terms:
        if not (
            isinstance(term, BinaryExpression)
            and term.operator is operators.eq
            and isinstance(term.left, Column)
            and isinstance(term.right, BindParameter)
        ):
            return None
        pairs.append((term.left, term.right))
    return pairs


class _PgManyPlan:
    """An UPDATE or DELETE keyed by `column = :param` terms (SET `column = :param`), rewritten
    to join the rows, sent as one JSON document: `UPDATE t SET c = v.c FROM
    jsonb_to_recordset(%s) AS v(...) WHERE t.k = v.k`. (As typed arrays, psycopg escaped each
    JSON attribute set in Python, a third of a batch's time.)"""

    def __init__(self, stmt: Any, dialect: Any) -> None:
        table = stmt.table
        quote = dialect.identifier_preparer.quote
        keys = _pg_key_pairs(stmt)
        if keys is None:
            raise ValueError("not keyed by column = :param")
        sets: list[tuple[Any, Any]] = []
        if isinstance(stmt, Update):
            for key, value in stmt._values.items():  # SQLAlchemy's own record of SET
                column = table.c[key] if isinstance(key, str) else table.c[key.key]
                if not isinstance(value, BindParameter):
                    raise ValueError("SET of something else than a parameter")
                sets.append((column, value))
        binds = [(b.key, c) for c, b in keys + sets]
        self.key_names = [b.key for _, b in keys]
        # JSON values go into the document as they are; the others through SQLAlchemy's bind
        # processors (UTC timestamps ...), then orjson
        self.procs = [
            (
                name,
                None
                if _is_json(column)
                else column.type.dialect_impl(dialect).bind_processor(dialect),
            )
            for name, column in binds
        ]
        record = ", ".join(f"{quote(name)} {_pg_type(column, dialect)}" for name, column in binds)
        source = f"jsonb_to_recordset(%s::jsonb) AS v({record})"
        target = quote(table.name)
        match = " AND ".join(f"{target}.{quote(c.name)} = v.{quote(b.key)}" for c, b in keys)
        if isinstance(stmt, Update):
            assign = ", ".join(f"{quote(c.name)} = {_pg_value(c, b.key, quote)}" for c, b in sets)
            self.sql = f"UPDATE {target} SET {assign} FROM {source} WHERE {match}"
        else:
            self.sql = f"DELETE FROM {target} USING {source} WHERE {match}"

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> int | None:
        """Run it for the rows; None when two rows share a key (one joined statement would
        apply only one of them, where executemany applies both in turn)."""
        if len({tuple(row[n] for n in self.key_names) for row in rows}) < len(rows):
            return None
        records = [
            {name: row[name] if proc is None else proc(row[name]) for name, proc in self.procs}
            for row in rows
        ]
        document = orjson.dumps(records, default=str, option=orjson.OPT_NAIVE_UTC).decode()
        return driver_execute(conn, self.sql, (document,))


def _is_json(column: Any) -> bool:
    return isinstance(column.type, JSON) or isinstance(getattr(column.type, "impl", None), JSON)


def _pg_value(column: Any, name: str, quote: Any) -> str:
    """v.name, except that a JSON column keeps None as JSON null (SQLAlchemy's JSON type
    stores None as 'null' unless none_as_null; the record reads it as SQL NULL)."""
    if _is_json(column) and not getattr(column.type, "none_as_null", False):
        return f"COALESCE(v.{quote(name)}, 'null'::jsonb)"
    return f"v.{quote(name)}"


def _pg_type(column: Any, dialect: Any) -> str:
    kind = column.type
    if isinstance(kind, NullType) and column.foreign_keys:  # typed by the column it refers to
        kind = next(iter(column.foreign_keys)).column.type
    return str(kind.compile(dialect=dialect))


_PG_PLANS: dict[Any, _PgManyPlan | None] = {}


def _pg_many(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> int | None:
    """On PostgreSQL, run a keyed UPDATE or DELETE for many rows as one statement over a
    JSON document of the rows (see _PgManyPlan): executemany sent one statement per row
    (1,000 UPDATEs for a batch of readings, each planned and executed on its own). None where
    it does not apply: other statements, or two rows with the same key."""
    if not isinstance(stmt, Update | Delete):
        return None
    if stmt not in _PG_PLANS:
        try:
            _PG_PLANS[stmt] = _PgManyPlan(stmt, conn.dialect)
        except ValueError:
            _PG_PLANS[stmt] = None
    plan = _PG_PLANS[stmt]
    return None if plan is None else plan.run(conn, rows)
