"""NGSI-LD query language (ETSI GS CIM 009 v1.8, 4.9): parse `q` and compile it to SQL."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache, partial
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.engine import Engine

Kind = Literal["number", "string", "datetime", "date", "time", "boolean", "uri"]
ORDERED_KINDS = frozenset({"number", "string", "datetime", "date", "time"})
# NGSI-LD members that stay short in the store: never expanded, addressed as JSON keys.
CORE_KEYS = frozenset(
    {"type", "value", "object", "languageMap", "json", "valueList", "vocab", "observedAt"}
    | {"unitCode", "datasetId", "createdAt", "modifiedAt"}
)


class QSyntaxError(ValueError):
    """A `q` that does not follow the grammar; says where and what was expected."""

    def __init__(self, q: str, position: int, expected: str) -> None:
        super().__init__(f"expected {expected} at position {position} in {q!r}")
        self.position = position
        self.expected = expected


@dataclass(frozen=True)
class AttrPath:
    """An attribute as written: `attr`, `attr.sub.observedAt`, `attr[key1][key2]`."""

    attr: str
    sub: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Value:
    """A literal; date-times and times are normalised to UTC text ending in Z."""

    kind: Kind
    value: bool | int | float | str


@dataclass(frozen=True)
class Range:
    """`low..high`, both ends included."""

    low: Value
    high: Value


@dataclass(frozen=True)
class ValueList:
    """`"a","b",3`: any of (==) or none of (!=)."""

    items: tuple[Value, ...]


@dataclass(frozen=True)
class Exists:
    """`attr` (the attribute exists) or `!attr` (it does not)."""

    path: AttrPath
    negated: bool = False


@dataclass(frozen=True)
class Compare:
    """`attr op value` with op one of ==, !=, >, >=, <, <=."""

    path: AttrPath
    op: str
    operand: Value | Range | ValueList


@dataclass(frozen=True)
class Pattern:
    """`attr~=regex` or, negated, `attr!~=regex`."""

    path: AttrPath
    regex: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    """Terms joined by `;`."""

    terms: tuple[QExpr, ...]


@dataclass(frozen=True)
class Or:
    """Terms joined by `|` (binds looser than `;`)."""

    terms: tuple[QExpr, ...]


QExpr = Exists | Compare | Pattern | And | Or

_OPS = ("!~=", "==", "!=", ">=", "<=", "=~", "~=", ">", "<")
_NAME_STOP = frozenset("=!<>~;|()[].,\"' \t\r\n")
_VALUE_STOP = frozenset(",;|() \t\r\n")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)?")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_TIME = re.compile(r"\d\d:\d\d(:\d\d(\.\d+)?)?Z?")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"]+")


def normalize_datetime(text: str) -> str:
    """Return an ISO 8601 date-time as canonical UTC text: 2026-11-24T05:00:00.5Z."""
    dt = datetime.fromisoformat(text)
    dt = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(dt.microsecond) + "Z"


def _fraction(microsecond: int) -> str:
    return f".{microsecond:06d}".rstrip("0") if microsecond else ""


class _Parser:
    """Recursive descent over the text; values are read in context (URIs hold ':' and '.')."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def error(self, expected: str, at: int | None = None) -> QSyntaxError:
        return QSyntaxError(self.s, self.i if at is None else at, expected)

    def peek(self) -> str:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1
        return self.s[self.i] if self.i < len(self.s) else ""

    def eat(self, token: str) -> bool:
        if self.peek() and self.s.startswith(token, self.i):
            self.i += len(token)
            return True
        return False

    def parse(self) -> QExpr:
        expr = self.or_expr()
        if self.peek():
            raise self.error("';', '|' or the end of the query")
        return expr

    def or_expr(self) -> QExpr:
        terms = [self.and_expr()]
        while self.eat("|"):
            terms.append(self.and_expr())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def and_expr(self) -> QExpr:
        terms = [self.primary()]
        while self.eat(";"):
            terms.append(self.primary())
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def primary(self) -> QExpr:
        start = self.i
        if self.eat("("):
            expr = self.or_expr()
            if not self.eat(")"):
                raise self.error(f"';', '|' or ')' (to close the '(' at position {start})")
            return expr
        if self.eat("!"):
            return Exists(self.path(), negated=True)
        path = self.path()
        op = self.operator()
        if op is None:
            if self.peek() not in ("", ";", "|", ")"):
                raise self.error("an operator (==, !=, >, >=, <, <=, ~=, !~=), ';', '|' or ')'")
            return Exists(path)
        if op in ("~=", "!~="):
            return Pattern(path, self.regex(), negated=op == "!~=")
        return self.comparison(path, op)

    def name(self, what: str, allow_dots: bool = False) -> str:
        self.peek()
        start = self.i
        while self.i < len(self.s) and (
            self.s[self.i] not in _NAME_STOP or (allow_dots and self.s[self.i] == ".")
        ):
            self.i += 1
        if self.i == start:
            raise self.error(what)
        return self.s[start : self.i]

    def path(self) -> AttrPath:
        start = self.i
        attr = self.name("an attribute name")
        if "://" in attr:  # a full IRI: its dots are its own, so no sub-attributes follow
            self.i = start
            attr = self.name("an attribute name", allow_dots=True)
        sub: list[str] = []
        while self.eat("."):
            sub.append(self.name("a sub-attribute name after '.'"))
        keys: list[str] = []
        while self.eat("["):
            keys.append(self.name("a key inside '[...]'"))
            if not self.eat("]"):
                raise self.error("']'")
        return AttrPath(attr, tuple(sub), tuple(keys))

    def operator(self) -> str | None:
        self.peek()
        for op in _OPS:
            if self.s.startswith(op, self.i):
                self.i += len(op)
                return "~=" if op == "=~" else op
        return None

    def regex(self) -> str:
        start = self.i
        pattern = self.quoted() if self.peek() == '"' else self.raw_regex()
        if not pattern:
            raise self.error("a regular expression", start)
        if "(?P" in pattern:  # Python-only syntax: PostgreSQL would refuse it at run time
            raise self.error("a regular expression without named groups (?P...)", start)
        try:
            re.compile(pattern)
        except re.error as err:
            raise self.error(f"a valid regular expression ({err})", start) from None
        return pattern

    def raw_regex(self) -> str:
        """Read up to ';', '|' or an unbalanced ')' outside groups and character classes."""
        start, depth, in_class, j = self.i, 0, False, self.i
        while j < len(self.s):
            c = self.s[j]
            if c == "\\":
                j += 2
                continue
            if in_class or c == "[":
                in_class = c != "]" if in_class else True
            elif c == "(":
                depth += 1
            elif c == ")" and depth:
                depth -= 1
            elif c in ";|)" and not depth:
                break
            j += 1
        self.i = min(j, len(self.s))
        return self.s[start : self.i]

    def comparison(self, path: AttrPath, op: str) -> Compare:
        start = self.i
        items = [self.item()]
        while self.eat(","):
            items.append(self.item())
        operand: Value | Range | ValueList = items[0]
        if len(items) > 1:
            if any(isinstance(v, Range) for v in items):
                raise self.error("a list of single values (no ranges)", start)
            operand = ValueList(tuple(v for v in items if isinstance(v, Value)))
        if op not in ("==", "!=") and not (
            isinstance(operand, Value) and operand.kind in ORDERED_KINDS
        ):
            raise self.error(f"a single number, string or date/time after '{op}'", start)
        return Compare(path, op, operand)

    def item(self) -> Value | Range:
        start = self.i
        low = self.scalar()
        if not self.s.startswith("..", self.i):
            return low
        self.i += 2
        high = self.scalar()
        if low.kind != high.kind or low.kind not in ORDERED_KINDS:
            raise self.error("a range of two numbers, strings or dates of the same kind", start)
        return Range(low, high)

    def scalar(self) -> Value:
        if self.peek() == '"':
            return Value("string", self.quoted())
        start = j = self.i
        while j < len(self.s) and self.s[j] not in _VALUE_STOP and not self.s.startswith("..", j):
            j += 1
        if j == start:
            raise self.error("a value")
        self.i = j
        return self.literal(self.s[start:j], start)

    def quoted(self) -> str:
        start, j, out = self.i, self.i + 1, []
        while j < len(self.s):
            c = self.s[j]
            if c == '"':
                self.i = j + 1
                return "".join(out)
            if c == "\\" and j + 1 < len(self.s):
                j += 1
                c = self.s[j]
            out.append(c)
            j += 1
        raise self.error(f"a closing '\"' for the string opened at position {start}", j)

    def literal(self, raw: str, at: int) -> Value:
        try:
            if raw in ("true", "false"):
                return Value("boolean", raw == "true")
            if _NUMBER.fullmatch(raw):
                return Value("number", int(raw) if raw.lstrip("-").isdigit() else float(raw))
            if _DATETIME.fullmatch(raw):
                return Value("datetime", normalize_datetime(raw))
            if _DATE.fullmatch(raw):
                return Value("date", date.fromisoformat(raw).isoformat())
            if _TIME.fullmatch(raw):
                t = time.fromisoformat(raw.rstrip("Z"))
                return Value("time", t.strftime("%H:%M:%S") + _fraction(t.microsecond) + "Z")
        except ValueError:
            raise self.error(f"a valid date/time (not {raw!r})", at) from None
        if _URI.fullmatch(raw):
            return Value("uri", raw)
        raise self.error(
            f"a number, a quoted string, true/false, a date/time or a URI (not {raw!r}; "
            'strings are quoted: "text")',
            at,
        )


def parse_q(q: str) -> QExpr:
    """Parse an NGSI-LD `q` (already URL-decoded) into an expression tree."""
    if not q or not q.strip():
        raise QSyntaxError(q, 0, "a query term")
    return _Parser(q).parse()


# ---------------------------------------------------------------------- compiling to SQL

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
            return sa.func.json_type(self.col, _sqlite_path(leaf.keys)).is_not(None)
        if flt is None and len(leaf.keys) == 1:
            return self.col.op("?", is_comparison=True)(leaf.keys[0])  # type: ignore[no-any-return]
        path = _jsonpath(leaf, f" ? ({flt})" if flt else None)
        return self.col.op("@?", is_comparison=True)(sa.cast(path, JSONPATH))  # type: ignore[no-any-return]

    def any_element(self, leaf: _Leaf, pred: Callable[[_Element], Any]) -> ColumnElement[bool]:
        """SQLite: EXISTS over json_each: array items (or the value itself) or map values."""
        fn = sa.func.json_each(self.col, _sqlite_path(leaf.keys))
        rows = fn.table_valued("key", "value", "type")
        cond = pred(_Element(rows.c.value, rows.c.type))
        if not leaf.members:  # array items or the value itself, not an object's members
            cond = sa.and_(sa.func.typeof(rows.c.key) != "text", cond)
        return sa.select(sa.literal_column("1")).select_from(rows).where(cond).exists()


def _sqlite_path(keys: Sequence[str]) -> str:
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


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: Any) -> bool | None:
    if pattern is None or value is None:
        return None
    return _compiled(pattern).search(str(value)) is not None


def _register_regexp(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.create_function("regexp", 2, _regexp, deterministic=True)


def install_sqlite_regexp(engine: Engine) -> None:
    """Give every new SQLite connection of `engine` a REGEXP (Python `re.search`, cached)."""
    if engine.dialect.name == "sqlite" and not sa.event.contains(
        engine, "connect", _register_regexp
    ):
        sa.event.listen(engine, "connect", _register_regexp)
