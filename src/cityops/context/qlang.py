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
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
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


def _json_literal(v: Value) -> str:
    return json.dumps(v.value, ensure_ascii=False)


def _jsonpath_filter(op: str, operand: Operand) -> str | None:
    """The comparison as a PostgreSQL jsonpath filter, or None for date-times (need SQL)."""
    if any(v.kind in ("datetime", "time") for v in _values(operand)):
        return None
    if isinstance(operand, Range):
        return f"@ >= {_json_literal(operand.low)} && @ <= {_json_literal(operand.high)}"
    if isinstance(operand, ValueList):
        return " || ".join(f"@ == {_json_literal(v)}" for v in operand.items)
    return f"@ {op} {_json_literal(operand)}"


class _Element:
    """One JSON element of a leaf, as SQL of the dialect (SQLite json_each or PG jsonb)."""

    def __init__(self, pg: bool, col: Any, kind_col: Any = None) -> None:
        self.pg, self.col = pg, col
        self.kind = sa.func.jsonb_typeof(col) if pg else kind_col

    def text(self) -> Any:
        return (
            self.col.op("#>>", return_type=sa.Text)(sa.literal_column("'{}'"))
            if self.pg
            else self.col
        )

    def is_string(self) -> ColumnElement[bool]:
        return self.kind == ("string" if self.pg else "text")

    def search(self, pattern: str) -> ColumnElement[bool]:
        return sa.and_(self.is_string(), self.text().regexp_match(pattern))

    def matches(self, op: str, operand: Operand) -> ColumnElement[bool]:
        if isinstance(operand, Range):
            return sa.and_(self.compare(">=", operand.low), self.compare("<=", operand.high))
        if isinstance(operand, ValueList):
            return sa.or_(*(self.compare("==", v) for v in operand.items))
        return self.compare(op, operand)

    def compare(self, op: str, v: Value) -> ColumnElement[bool]:
        """Compare with a literal of the same JSON type (false across types)."""
        if v.kind == "boolean":
            if self.pg:
                return self.col == sa.literal(v.value, JSONB)
            return self.kind == ("true" if v.value else "false")
        if v.kind == "number":
            is_num = self.kind == "number" if self.pg else self.kind.in_(("integer", "real"))
            other = sa.literal(v.value, JSONB) if self.pg else v.value
            return sa.and_(is_num, _CMP[op](self.col, other))
        text, other = self.text(), str(v.value)
        if v.kind in ("datetime", "time"):  # '.' sorts before 'Z': compare without the Z
            text, other = sa.func.rtrim(text, "Z"), other.rstrip("Z")
        if self.pg:
            text = text.collate("C")  # code point order, as in SQLite
        return sa.and_(self.is_string(), _CMP[op](text, other))


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
                leaves = self.leaves(path, {"string"})
                pred = partial(_Element.search, pattern=regex)
                return self.negate(leaves, self.any_of(leaves, pred), negated)
            case Compare(path, op, operand):
                return self.compare(path, op, operand)
        raise TypeError(f"not a q expression: {expr!r}")

    def compare(self, path: AttrPath, op: str, operand: Operand) -> ColumnElement[bool]:
        leaves = self.leaves(path, {v.kind for v in _values(operand)})
        eq = "==" if op == "!=" else op
        flt = _jsonpath_filter(eq, operand) if self.pg else None
        if flt is not None:  # one jsonpath test per leaf: no subquery, GIN-indexable
            found = sa.or_(*(self.exists(leaf, flt) for leaf in leaves))
        else:
            found = self.any_of(leaves, partial(_Element.matches, op=eq, operand=operand))
        return self.negate(leaves, found, op == "!=")

    def negate(self, leaves: list[_Leaf], found: Any, negated: bool) -> ColumnElement[bool]:
        """`found`, or, negated: the attribute exists and `found` is false (never NULL)."""
        if not negated:
            return found  # type: ignore[no-any-return]
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
        """The leaf exists (and, on PostgreSQL, one of its elements passes the filter)."""
        if not self.pg:
            return sa.func.json_type(self.col, _sqlite_path(leaf.keys)).is_not(None)
        if flt is None and len(leaf.keys) == 1:
            return self.col.op("?", is_comparison=True)(leaf.keys[0])  # type: ignore[no-any-return]
        path = _jsonpath(leaf, f" ? ({flt})" if flt else None)
        return self.col.op("@?", is_comparison=True)(sa.cast(path, JSONPATH))  # type: ignore[no-any-return]

    def any_of(self, leaves: list[_Leaf], pred: Callable[[_Element], Any]) -> Any:
        return sa.or_(*(self.any_element(leaf, pred) for leaf in leaves))

    def any_element(self, leaf: _Leaf, pred: Callable[[_Element], Any]) -> ColumnElement[bool]:
        """EXISTS over the leaf's elements: array items (or the value itself) or map values."""
        if self.pg:
            fn = sa.func.jsonb_path_query(self.col, sa.cast(_jsonpath(leaf, ""), JSONPATH))
            rows = fn.table_valued(sa.column("e", JSONB)).render_derived()
            cond = pred(_Element(True, rows.c.e))
        else:
            fn = sa.func.json_each(self.col, _sqlite_path(leaf.keys))
            rows = fn.table_valued("key", "value", "type")
            cond = pred(_Element(False, rows.c.value, rows.c.type))
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
