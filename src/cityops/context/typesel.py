"""Entity types (GS CIM 009 4.16): an entity has one type or several, and the type
selection of queries (4.17): type names combined with `;` (and), `,` or `|` (or) and
parentheses (context.selection).

An entity's first type is kept in `ctx_entities.type`, indexed with the tenant, and an entity
with several types also keeps all of them in `types` (NULL otherwise; a partial index finds
those few). A type selection becomes a test of `type` alone while the tenant holds no entity
with several types, which is what queries of single-typed data (nearly all) run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select

from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity
from cityops.context.selection import parse_selection

E = ContextEntity


def columns(types: list[str]) -> tuple[str, list[str] | None]:
    """The `type` and `types` columns of an entity of these types (expanded, distinct)."""
    return types[0], (list(types) if len(types) > 1 else None)


def of(type_: str, types: list[str] | None) -> list[str]:
    """Every type of an entity from its columns."""
    return list(types) if types else [type_]


def added(type_: str, types: list[str] | None, new: Iterable[str]) -> tuple[str, list[str] | None]:
    """The columns after adding types (append, update, merge): the old ones keep their
    order and come first."""
    return columns(list(dict.fromkeys([*of(type_, types), *new])))


def parse_type_query(text: str, ctx: ActiveContext) -> Any:
    """Parse a `type` parameter into a selection tree of expanded type IRIs."""
    return parse_selection(text, ctx.expand, "type")


def any_of(types: Collection[str]) -> Any:
    """The selection of entities having one of these types."""
    names = tuple(types)
    return names[0] if len(names) == 1 else ("or", names)


def condition(tree: Any, *, multi: bool, dialect: str) -> Any:
    """The SQL condition of a type selection on ctx_entities; `multi`: whether entities
    with several types may be present (else `type` alone decides)."""
    if isinstance(tree, tuple) and tree[0] == "or" and all(isinstance(t, str) for t in tree[1]):
        names = list(tree[1])
        plain = E.type.in_(names)
        return or_(plain, _holds_any(names, dialect)) if multi else plain
    if isinstance(tree, tuple):
        kind, parts = tree
        conds = [condition(p, multi=multi, dialect=dialect) for p in parts]
        return and_(*conds) if kind == "and" else or_(*conds)
    plain = E.type == tree
    return or_(plain, _holds_any([tree], dialect)) if multi else plain


def _holds_any(names: list[str], dialect: str) -> Any:
    """`types` (a JSON array, NULL for single-typed entities) holds one of these names."""
    if dialect == "sqlite":
        items = func.json_each(E.types).table_valued("value")
        found = exists(select(literal(1)).select_from(items).where(items.c.value.in_(names)))
    else:
        found = or_(*(E.types.op("@>")(func.jsonb_build_array(name)) for name in names))
    return and_(E.types.is_not(None), found)


def matches(tree: Any, entity_types: Collection[str]) -> bool:
    """Say whether an entity of these types is selected."""
    if isinstance(tree, tuple):
        combine = all if tree[0] == "and" else any
        return combine(matches(part, entity_types) for part in tree[1])
    return tree in entity_types


def to_json(tree: Any) -> Any:
    """A selection as a stored document holds it: a list of names for one name or an `or`
    of names (what nearly every selection is, and what older documents hold), else
    {"and"|"or": [...]}."""
    if isinstance(tree, str):
        return [tree]
    if tree[0] == "or" and all(isinstance(t, str) for t in tree[1]):
        return list(tree[1])
    return {tree[0]: [to_json(t) if isinstance(t, tuple) else t for t in tree[1]]}


def from_json(doc: Any) -> Any:
    """The selection tree of a stored selection (to_json's inverse)."""
    if isinstance(doc, list):
        return any_of(doc)
    ((kind, parts),) = doc.items()
    return (kind, tuple(from_json(p) if isinstance(p, dict) else p for p in parts))


def to_text(tree: Any, compact: Callable[[str], str]) -> str:
    """A selection written back as a client reads it (names compacted, `,` for or)."""
    if isinstance(tree, str):
        return compact(tree)
    sep = ";" if tree[0] == "and" else ","
    parts = [f"({to_text(p, compact)})" if isinstance(p, tuple) else compact(p) for p in tree[1]]
    return sep.join(parts)
