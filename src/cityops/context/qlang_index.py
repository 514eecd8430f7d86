"""Narrow a `q` query through ctx_attr_values before the JSON conditions are checked.

`compile_q` gives the exact condition; reading every entity's JSON to evaluate it is what
makes a query slow with many entities. For the terms an index can answer (a positive
comparison of an attribute's own value with numbers, or string equality), this adds
`pk IN (candidates)`: a superset of the matches (every number or string the exact condition
could compare is in the index), so the result is unchanged and only candidates are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from cityops.context.models import TEXT_PREFIX, ContextAttributeValue
from cityops.context.qlang import And, Compare, QExpr, Range, Value, ValueList

V = ContextAttributeValue
PROBE_LIMIT = 2000
_OPS = {
    "==": lambda c, v: c == v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
}


def index_prefilter(
    session: Session, expr: QExpr, expand: Callable[[str], str], pk_col: Any
) -> ColumnElement[bool] | None:
    """Return conditions narrowing `expr` through the value index, or None if it can't.

    The term with the fewest candidates (a bounded count through the index) drives the
    query as `pk IN (...)`; the other indexable terms are checked per candidate.
    """
    terms = expr.terms if isinstance(expr, And) else (expr,)
    found = [
        (attr, cond)
        for term in terms
        if isinstance(term, Compare) and (spec := _candidates(term, expand)) is not None
        for attr, cond in (spec,)
    ]
    if not found:
        return None
    if len(found) > 1:
        found.sort(key=lambda spec: _bounded_count(session, *spec))
    (attr, cond), rest = found[0], found[1:]
    driver = pk_col.in_(sa.select(V.entity_pk).where(V.attr == attr, cond))
    checks = [
        sa.select(V.id).where(V.entity_pk == pk_col, V.attr == a, c).exists() for a, c in rest
    ]
    return sa.and_(driver, *checks)


def _bounded_count(session: Session, attr: str, cond: Any) -> int:
    """How many index rows pass (counting stops at PROBE_LIMIT: enough to rank terms)."""
    probe = sa.select(V.id).where(V.attr == attr, cond).limit(PROBE_LIMIT).subquery()
    return int(session.scalar(sa.select(sa.func.count()).select_from(probe)) or 0)


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


def _scalar(op: str, value: Value) -> Any:
    if value.kind == "number" and not isinstance(value.value, bool):
        return _OPS[op](V.value_num, value.value)
    if value.kind == "string" and op == "==":
        return V.value_text == str(value.value)[:TEXT_PREFIX]
    return None
