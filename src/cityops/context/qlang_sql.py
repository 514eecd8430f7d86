"""Compile a parsed NGSI-LD q expression (qlang) to a SQL condition on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.dialects.postgresql import JSONPATH

from cityops.context.qlang import (
    CORE_KEYS,
    And,
    AttrPath,
    Compare,
    Exists,
    Or,
    Pattern,
    QExpr,
    Range,
    Value,
    ValueList,
)

_CMP = {"==": operator.eq, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
Operand = Value | Range | ValueList


@dataclass(frozen=True)
class _Leaf:
    """A place in the attrs JSON; its elements are array items (or itself) or map values."""

    keys: tuple[str, ...]
    members: bool = False


def _values(operand: Operand) -> tuple[Value, ...]:
    if isinstance(operand, Range):
        return (operand.low, operand.high)
    return operand.items if isinstance(operand, ValueList) else (operand,)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _jsonpath_filter(op: str, operand: Operand) -> str:
    """The comparison as a PostgreSQL jsonpath filter on each element `@`."""
    if isinstance(operand, Range):
        return f"({_jsonpath_cmp('>=', operand.low)}) && ({_jsonpath_cmp('<=', operand.high)})"
    if isinstance(operand, ValueList):
        return " || ".join(f"({_jsonpath_cmp('==', v)})" for v in operand.items)
    return _jsonpath_cmp(op, operand)


def _jsonpath_cmp(op: str, v: Value) -> str:
    """`@ op literal`; jsonpath compares only like types and strings in code point order."""
    if v.kind not in ("datetime", "time"):
        return f"@ {op} {_json(v.value)}"
    # Stored as canonical UTC text ending in Z, where '.' < 'Z' would put 05:00:00.5Z before
    # 05:00:00Z: compare as text, then correct the case of a stored value without a fraction.
    text = str(v.value).rstrip("Z")
    bare = text[: 19 if v.kind == "datetime" else 8]
    same = f"@ == {_json(text + 'Z')}"
    short = [f"@ == {_json(bare + 'Z')}"] if bare != text else []
    below = [f"@ < {_json(text)}", *short]  # stored < literal
    at_or_above = [f"@ > {_json(text)}", *(f"!({c})" for c in short)]
    return {
        "==": same,
        "<": " || ".join(below),
        "<=": " || ".join([*below, same]),
        ">": " && ".join([*at_or_above, f"!({same})"]),
        ">=": " && ".join(at_or_above),
    }[op]


class _Element:
    """One element of a leaf in SQLite: a row of json_each (SQL value and JSON type)."""

    def __init__(self, value: Any, kind: Any) -> None:
        self.value, self.kind = value, kind

    def search(self, pattern: str) -> ColumnElement[bool]:
        return sa.and_(self.kind == "text", self.value.regexp_match(pattern))

    def matches(self, op: str, operand: Operand) -> ColumnElement[bool]:
        if isinstance(operand, Range):
            return sa.and_(self.compare(">=", operand.low), self.compare("<=", operand.high))
        if isinstance(operand, ValueList):
            return sa.or_(*(self.compare("==", v) for v in operand.items))
        return self.compare(op, operand)

    def compare(self, op: str, v: Value) -> ColumnElement[bool]:
        """Compare with a literal of the same JSON type (false across types)."""
        if v.kind == "boolean":
            return self.kind == ("true" if v.value else "false")
        if v.kind == "number":
            return sa.and_(self.kind.in_(("integer", "real")), _CMP[op](self.value, v.value))
        text, other = self.value, str(v.value)
        if v.kind in ("datetime", "time"):  # '.' sorts before 'Z': compare without the Z
            text, other = sa.func.rtrim(text, "Z"), other.rstrip("Z")
        return sa.and_(self.kind == "text", _CMP[op](text, other))


class _Compiler:
    def __init__(self, attrs_col: Any, expand: Callable[[str], str], dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported SQL dialect {dialect!r}")
        self.col, self.expand, self.pg = attrs_col, expand, dialect == "postgresql"

    def node(self, expr: QExpr) -> ColumnElement[bool]:
        match expr:
            case And(terms):
                return sa.and_(*(self.node(t) for t in terms))
            case Or(terms):
                return sa.or_(*(self.node(t) for t in terms))
            case Exists(path, negated):
                found = sa.or_(*(self.exists(leaf) for leaf in self.leaves(path, None)))
                return sa.not_(found) if negated else found
            case Pattern(path, regex, negated):
                flt = f"@ like_regex {_json(regex)}"
                pred = partial(_Element.search, pattern=regex)
                return self.match(self.leaves(path, {"string"}), flt, pred, negated)
            case Compare(path, op, operand):
                eq = "==" if op == "!=" else op
                leaves = self.leaves(path, {v.kind for v in _values(operand)})
                pred = partial(_Element.matches, op=eq, operand=operand)
                return self.match(leaves, _jsonpath_filter(eq, operand), pred, op == "!=")
        raise TypeError(f"not a q expression: {expr!r}")

    def match(
        self, leaves: list[_Leaf], flt: str, pred: Callable[[_Element], Any], negated: bool
    ) -> ColumnElement[bool]:
        """Some element of some leaf passes (PG: jsonpath filter; SQLite: SQL predicate);
        negated: the attribute exists and none passes (missing attributes never match)."""
        if self.pg:
            found = sa.or_(*(self.exists(leaf, flt) for leaf in leaves))
        else:
            found = sa.or_(*(self.any_element(leaf, pred) for leaf in leaves))
            if len(leaves) > 1:  # one cheap look for the attribute before several json_each
                found = sa.and_(self.exists(_Leaf(leaves[0].keys[:1])), found)
        if not negated:
            return found
        return sa.and_(sa.or_(*(self.exists(leaf) for leaf in leaves)), sa.not_(found))

    def leaves(self, path: AttrPath, kinds: set[str] | None) -> list[_Leaf]:
        """Where the compared value lives, for each attribute type that could hold it."""
        keys = [self.expand(path.attr)]
        subs = list(path.sub)
        while subs and subs[0] not in CORE_KEYS:
            keys.append(self.expand(subs.pop(0)))
        if subs:  # observedAt, unitCode, ...: the member itself (later dots are JSON keys)
            return [_Leaf((*keys, *subs, *path.keys))]
        if kinds is None and not path.keys:
            return [_Leaf(tuple(keys))]
        text = kinds is None or bool(kinds & {"string", "uri"})
        if path.keys:
            found = [_Leaf((*keys, "value", *path.keys)), _Leaf((*keys, "json", *path.keys))]
            if len(path.keys) == 1 and text:
                found.append(_Leaf((*keys, "languageMap", path.keys[0])))
            return found
        found = [_Leaf((*keys, "value"))]
        if text:
            found += [_Leaf((*keys, "object")), _Leaf((*keys, "vocab"))]
            found.append(_Leaf((*keys, "languageMap"), members=True))
        return found

    def exists(self, leaf: _Leaf, flt: str | None = None) -> ColumnElement[bool]:
        """The leaf exists (PG: and, given a filter, one of its elements passes it)."""
        if not self.pg:
            return sa.func.json_type(self.col, sqlite_path(leaf.keys)).is_not(None)
        if flt is None and len(leaf.keys) == 1:
            return self.col.op("?", is_comparison=True)(leaf.keys[0])  # type: ignore[no-any-return]
        path = _jsonpath(leaf, f" ? ({flt})" if flt else None)
        return self.col.op("@?", is_comparison=True)(sa.cast(path, JSONPATH))  # type: ignore[no-any-return]

    def any_element(self, leaf: _Leaf, pred: Callable[[_Element], Any]) -> ColumnElement[bool]:
        """SQLite: EXISTS over json_each: array items (or the value itself) or map values."""
        fn = sa.func.json_each(self.col, sqlite_path(leaf.keys))
        rows = fn.table_valued("key", "value", "type")
        cond = pred(_Element(rows.c.value, rows.c.type))
        if not leaf.members:  # array items or the value itself, not an object's members
            cond = sa.and_(sa.func.typeof(rows.c.key) != "text", cond)
        return sa.select(sa.literal_column("1")).select_from(rows).where(cond).exists()


def sqlite_path(keys: Sequence[str]) -> str:
    if any('"' in k for k in keys):
        raise ValueError(f"attribute path with a double quote: {keys!r}")
    return "$" + "".join(f'."{k}"' for k in keys)


def _jsonpath(leaf: _Leaf, tail: str | None) -> str:
    """`$."a"."b"`, then (unless tail is None) the elements and the tail filter."""
    path = "$" + "".join("." + json.dumps(k, ensure_ascii=False) for k in leaf.keys)
    return path if tail is None else path + (".*" if leaf.members else "[*]") + tail


def compile_q(
    expr: QExpr, *, attrs_col: Any, expand: Callable[[str], str], dialect: str
) -> ColumnElement[bool]:
    """Compile a parsed `q` into a SQL condition on the attrs JSON column (SQLite or PG)."""
    return _Compiler(attrs_col, expand, dialect).node(expr)
