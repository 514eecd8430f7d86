"""Evaluate a parsed NGSI-LD `q` on one entity's attributes (subscriptions, no table).

The condition is the very SQL that qlang_sql.compile_q makes for SQLite, compiled once per
expression with the attributes as a JSON parameter, and run in a private in-memory SQLite
connection per thread: the same semantics as GET /entities on SQLite, with no database trip.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from cityops.context.qlang import QExpr
from cityops.context.qlang_sql import compile_q

_DOC = "doc"
_ATTRS = object()  # the slot of the attributes document among the parameters
_local = threading.local()


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: Any) -> bool | None:
    if pattern is None or value is None:
        return None
    return _pattern(pattern).search(str(value)) is not None


def _connection() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:")
        conn.create_function("regexp", 2, _regexp, deterministic=True)
        _local.conn = conn
    return conn


class QEvaluator:
    """A `q` compiled once, then tested against many attribute maps."""

    def __init__(self, expr: QExpr, expand: Callable[[str], str]) -> None:
        doc = sa.bindparam(_DOC, value="{}", type_=sa.String())
        cond = compile_q(expr, attrs_col=doc, expand=expand, dialect="sqlite")
        compiled = (
            sa.select(sa.literal_column("1"))
            .where(cond)
            .compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
        )
        self.sql = compiled.string
        params = compiled.params
        self.slots = [_ATTRS if n == _DOC else params[n] for n in compiled.positiontup or ()]

    def matches(self, attrs: dict[str, Any]) -> bool:
        """Say whether entity attributes (keyed by expanded IRI) satisfy the `q`."""
        text = orjson.dumps(attrs).decode()
        args = [text if slot is _ATTRS else slot for slot in self.slots]
        return _connection().execute(self.sql, args).fetchone() is not None


def evaluate_q(expr: QExpr, attrs: dict[str, Any], expand: Callable[[str], str]) -> bool:
    """Say whether attributes satisfy a `q` (compiles each time; keep a QEvaluator to reuse)."""
    return QEvaluator(expr, expand).matches(attrs)
