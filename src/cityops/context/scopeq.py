"""scopeQ (GS CIM 009 4.19): select entities by their scopes, hierarchical paths like
/LamDong/PhanThiet/MuiNe.

A term matches a scope exactly (`/LamDong/PhanThiet`), with `+` standing for one level
(`/LamDong/+/MuiNe`), `#` as the last level for that scope and all below it
(`/LamDong/#`); `/#` matches any entity that has a scope. Terms combine with `;` (and), `,` or
`|` (or) and parentheses, `;` binding tighter (context.selection). An entity matches a term
when one of its scopes does. Each term becomes a regular expression over the scope strings,
applied in the database (SQLite's REGEXP, which SQLAlchemy provides, and PostgreSQL's ~).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import and_, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from cityops.context.errors import bad_request
from cityops.context.selection import parse_selection

_SEGMENT = re.compile(r"[^/#+]+|\+|#")


def parse_scope_q(text: str) -> Any:
    """Parse a scopeQ into a (hashable) tree: ("and"|"or", children) or a regular expression
    string (a term). BadRequestData names what is wrong."""
    return parse_selection(text, _term, "scopeQ")


def _term(term: str) -> str:
    """The regular expression of one scope term."""
    segments = term.split("/")
    if segments[0] != "" or len(segments) < 2 or not all(segments[1:]):
        raise bad_request(f"scopeQ: a scope is /a/b/c, got {term!r}")
    levels = segments[1:]
    if any(not _SEGMENT.fullmatch(s) for s in levels) or "#" in levels[:-1]:
        raise bad_request(f"scopeQ: + stands for one level, # for the last one, in {term!r}")
    any_below = levels[-1] == "#"
    fixed = levels[:-1] if any_below else levels
    body = "".join("/" + ("[^/]+" if s == "+" else re.escape(s)) for s in fixed)
    return f"^{body}(/.*)?$" if any_below else f"^{body}$"


def scope_condition(tree: Any, scopes_column: Any, dialect: str) -> Any:
    """The SQL condition of a parsed scopeQ on an entities table's scopes (a JSON array)."""
    if isinstance(tree, tuple):
        kind, parts = tree
        conds = [scope_condition(p, scopes_column, dialect) for p in parts]
        return and_(*conds) if kind == "and" else or_(*conds)
    if dialect == "sqlite":
        items = func.json_each(scopes_column).table_valued("value")
    else:  # a scalar (JSON null) holds no scope
        array = case(
            (func.jsonb_typeof(scopes_column) == "array", scopes_column),
            else_=cast(literal("[]"), JSONB),
        )
        items = func.jsonb_array_elements_text(array).table_valued("value")
    return select(literal(1)).select_from(items).where(items.c.value.regexp_match(tree)).exists()
