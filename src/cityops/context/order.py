"""orderBy (GS CIM 009 4.23): the order of a query's entities, by id, type, their system times
or the values of their attributes and sub-attributes.

`orderBy=name;desc,type` sorts by the value of `name`, descending, then by type. A term is
`id`, `type`, `createdAt`, `modifiedAt`, or an attribute path: `name` (its value, or its
object for a relationship), `name.subProperty` (the sub-attribute's value), `name.createdAt`
(a member of the attribute). Entities without the value come last either way; the entity's
storage order breaks ties, so pages stay stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func

from cityops.context.entities import CORE_MEMBERS
from cityops.context.errors import bad_request
from cityops.context.jsonld import ActiveContext
from cityops.context.qlang_sql import sqlite_path

ENTITY_COLUMNS = {
    "id": "entity_id",
    "type": "type",
    "createdAt": "created_at",
    "modifiedAt": "modified_at",
}


@dataclass(frozen=True)
class OrderTerm:
    """One sort key: an entity column, or a path in the attributes' JSON (value member last:
    None when the path names none, so a relationship's object serves as well)."""

    column: str | None
    keys: tuple[str, ...] = ()
    member: str | None = None
    desc: bool = False


def parse_order(value: str | None, ctx: ActiveContext) -> tuple[OrderTerm, ...]:
    """Parse an orderBy parameter (BadRequestData when malformed); () when absent."""
    if not value:
        return ()
    terms = []
    for raw in value.split(","):
        path, _, direction = raw.strip().partition(";")
        direction = direction.strip() or "asc"
        parts = path.strip().split(".")
        if direction not in ("asc", "desc") or not all(parts):
            raise bad_request(f"orderBy terms are path[;asc|;desc], got {raw.strip()!r}")
        desc = direction == "desc"
        if len(parts) == 1 and parts[0] in ENTITY_COLUMNS:
            terms.append(OrderTerm(ENTITY_COLUMNS[parts[0]], desc=desc))
            continue
        keys = [ctx.expand(parts[0])]
        keys += [p if p in CORE_MEMBERS else ctx.expand(p) for p in parts[1:]]
        member = keys.pop() if keys[-1] in CORE_MEMBERS else None
        if any('"' in k for k in keys):
            raise bad_request(f"orderBy path with a double quote: {path!r}")
        terms.append(OrderTerm(None, tuple(keys), member, desc))
    return tuple(terms)


def order_clauses(terms: tuple[OrderTerm, ...], table: Any, dialect: str) -> list[Any]:
    """The ORDER BY expressions of these terms on the entities table (nulls last)."""
    out = []
    for term in terms:
        if term.column is not None:
            expr = table.c[term.column]
        elif term.member is not None:
            expr = _extract(table.c.attrs, (*term.keys, term.member), dialect)
        else:
            expr = func.coalesce(
                _extract(table.c.attrs, (*term.keys, "value"), dialect),
                _extract(table.c.attrs, (*term.keys, "object"), dialect),
            )
        out.append(expr.desc().nulls_last() if term.desc else expr.asc().nulls_last())
    return out


def _extract(column: Any, keys: tuple[str, ...], dialect: str) -> Any:
    if dialect == "sqlite":
        return func.json_extract(column, sqlite_path(keys))
    return func.jsonb_extract_path(column, *keys)
