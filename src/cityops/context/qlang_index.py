"""Narrow a `q` query through ctx_attr_values before the JSON conditions are checked.

`compile_q` gives the exact condition; reading every entity's JSON to evaluate it is what
makes a query slow with many entities. For the terms an index can answer (a positive
comparison of an attribute's own value with numbers, or string equality), this adds
`pk IN (candidates)`: a superset of the matches (every number or string the exact condition
could compare is in the index), so the result is unchanged and only candidates are read.
The terms the index answers exactly (numbers, short strings) are not checked on the JSON
again: building and running those conditions (SQLite's json_each, PostgreSQL's jsonpath) was
most of a query's cost, and a q made only of such terms is one statement for any values (see
parameterize). Both databases then answer a q the same way: PostgreSQL's lax jsonpath also
looked into arrays nested in a value's array items, which the index (and SQLite) do not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Connection
from sqlalchemy.orm import Session

from cityops.context.models import TEXT_PREFIX, ContextAttributeValue
from cityops.context.qlang import And, Compare, QExpr, Range, Value, ValueList

V = ContextAttributeValue
PROBE_LIMIT = 500
_OPS = {
    "==": lambda c, v: c == v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
}


def index_prefilter(
    session: Session | Connection,
    expr: QExpr,
    expand: Callable[[str], str],
    pk_col: Any,
    *,
    params: dict[str, Any] | None = None,
) -> tuple[ColumnElement[bool] | None, QExpr | None]:
    """Return (conditions narrowing `expr` through the value index or None, the part of
    `expr` the JSON conditions must still check or None).

    The term with the fewest candidates (a bounded count through the index) drives the
    query as `pk IN (...)`; the other indexable terms are checked per candidate. The terms
    the index answers exactly (see _exact) need no second check on the JSON.
    """
    terms = expr.terms if isinstance(expr, And) else (expr,)
    found = [
        (term, *spec)
        for term in terms
        if isinstance(term, Compare) and (spec := _candidates(term, expand)) is not None
    ]
    if not found:
        return None, expr
    if len(found) > 1:
        counts = _bounded_counts(session, [(attr, cond) for _, attr, cond in found], params)
        found = [spec for _, spec in sorted(zip(counts, found, strict=True), key=lambda x: x[0])]
    (_, attr, cond), rest = found[0], found[1:]
    driver = pk_col.in_(sa.select(V.entity_pk).where(V.attr == attr, cond))
    checks = [
        sa.select(V.id).where(V.entity_pk == pk_col, V.attr == a, c).exists() for _, a, c in rest
    ]
    answered = {id(term) for term, _, _ in found if _exact(term)}
    left = tuple(t for t in terms if id(t) not in answered)
    residual: QExpr | None = None
    if left:
        residual = left[0] if len(left) == 1 else And(left)
    return sa.and_(driver, *checks), residual


def _bounded_counts(
    session: Session | Connection,
    specs: list[tuple[str, Any]],
    params: dict[str, Any] | None = None,
) -> list[int]:
    """How many index rows pass each term, in one statement (counting stops at PROBE_LIMIT:
    enough to rank terms)."""
    counts = [
        sa.select(sa.func.count())
        .select_from(sa.select(V.id).where(V.attr == attr, cond).limit(PROBE_LIMIT).subquery())
        .scalar_subquery()
        for attr, cond in specs
    ]
    row = session.execute(sa.select(*counts), params or {}).one()
    return [int(n or 0) for n in row]


def _exact(term: Compare) -> bool:
    """Say whether the index rows answer the term exactly, as the JSON condition would.

    Numbers: the index holds every number of the value (array items included) as a double;
    below 2**53 in size a comparison gives the same answer (the stored JSON numbers came in
    through orjson, as doubles or 64-bit integers, on both databases). Strings (==): the
    index holds every string of value, object, vocab and languageMap, which is where the
    JSON condition looks for a string; a literal shorter than TEXT_PREFIX is not cut."""
    operand = term.operand
    items = _items(operand)
    if all(isinstance(item.value, sa.BindParameter) for item in items):
        return True  # parameterize checked the values
    kinds = {item.kind for item in items}
    if kinds == {"number"}:
        return all(not isinstance(i.value, bool) and abs(float(i.value)) < 2**53 for i in items)
    if kinds == {"string"} and not isinstance(operand, Range):
        return all(len(str(i.value)) < TEXT_PREFIX for i in items)
    return False


def _items(operand: Value | Range | ValueList) -> tuple[Value, ...]:
    if isinstance(operand, Range):
        return (operand.low, operand.high)
    return operand.items if isinstance(operand, ValueList) else (operand,)


def _candidates(term: Compare, expand: Callable[[str], str]) -> tuple[str, Any] | None:
    """(attribute IRI, value condition) the index can answer for this term, or None."""
    if term.op == "!=" or term.path.sub or term.path.keys:
        return None
    cond = _value_condition(term.op, term.operand)
    if cond is None:
        return None
    return expand(term.path.attr), cond


def _value_condition(op: str, operand: Value | Range | ValueList) -> Any:
    if isinstance(operand, Range):
        if operand.low.kind != "number":
            return None
        return V.value_num.between(operand.low.value, operand.high.value)
    if isinstance(operand, ValueList):
        parts = [_scalar("==", item) for item in operand.items]
        return None if any(p is None for p in parts) else sa.or_(*parts)
    return _scalar(op, operand)


def _indexable(op: str, operand: Value | Range | ValueList) -> bool:
    """Say whether _value_condition gives a condition, without building it."""
    if isinstance(operand, Range):
        return operand.low.kind == "number"
    if isinstance(operand, ValueList):
        return all(_indexable("==", item) for item in operand.items)
    if operand.kind == "number" and not isinstance(operand.value, bool):
        return op in _OPS
    return operand.kind == "string" and op == "=="


def _scalar(op: str, value: Value) -> Any:
    if value.kind == "number" and not isinstance(value.value, bool):
        compare = _OPS.get(op)  # not `!=` (no index condition: most rows pass)
        return None if compare is None else compare(V.value_num, value.value)
    if value.kind == "string" and op == "==":
        if isinstance(value.value, sa.BindParameter):  # parameterized: the value is cut already
            return V.value_text == value.value
        return V.value_text == str(value.value)[:TEXT_PREFIX]
    return None


@dataclass(frozen=True)
class Parameterized:
    """A q whose literals are bind parameters: `key` is its shape (the same for any values),
    `expr` builds the statement, `params` are this query's values."""

    key: tuple[Any, ...]
    expr: QExpr
    params: dict[str, Any]


def parameterize(expr: QExpr) -> Parameterized | None:
    """See _parameterize (kept per q: the trees are immutable and parse_q keeps them too, so
    a repeated q costs a dict lookup; the caller gets its own copy of the values)."""
    try:
        shaped = _parameterize(expr)
    except TypeError:  # an unhashable literal: not kept
        shaped = _parameterize.__wrapped__(expr)
    return None if shaped is None else replace(shaped, params=dict(shaped.params))


@lru_cache(maxsize=1024)
def _parameterize(expr: QExpr) -> Parameterized | None:
    """Split a q into its shape and its literal values, when every term is a comparison the
    value index answers exactly (`level==3;spotState=="free"`, `pm25>55`, `depth==1..4`):
    a statement built once for the shape serves every query of that shape. Such terms become
    value-index conditions only (see index_prefilter), so the literals are plain
    SQL parameters. None for anything else (!=, patterns, sub-attributes, |, inexact values).
    """
    terms = expr.terms if isinstance(expr, And) else (expr,)
    params: dict[str, Any] = {}
    shaped: list[QExpr] = []
    shape: list[Any] = []

    def bind(item: Value) -> Value:
        name = f"qv{len(params)}"
        value = item.value if item.kind == "number" else str(item.value)[:TEXT_PREFIX]
        params[name] = value
        return Value(item.kind, sa.bindparam(name, unique=False))  # type: ignore[arg-type]

    for term in terms:
        if not isinstance(term, Compare) or term.op == "!=" or term.path.sub or term.path.keys:
            return None
        if not _indexable(term.op, term.operand) or not _exact(term):
            return None
        operand = term.operand
        if isinstance(operand, Range):
            new: Value | Range | ValueList = Range(bind(operand.low), bind(operand.high))
        elif isinstance(operand, ValueList):
            new = ValueList(tuple(bind(item) for item in operand.items))
        else:
            new = bind(operand)
        shaped.append(Compare(term.path, term.op, new))
        kinds = tuple(item.kind for item in _items(operand))
        shape.append((term.path.attr, term.op, type(operand).__name__, kinds))
    q = shaped[0] if len(shaped) == 1 else And(tuple(shaped))
    return Parameterized(("shape", *shape), q, params)
