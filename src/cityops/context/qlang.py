"""NGSI-LD query language (ETSI GS CIM 009 v1.8, 4.9): parse `q` into a syntax tree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Literal

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


@lru_cache(maxsize=1024)
def parse_q(q: str) -> QExpr:
    """Parse an NGSI-LD `q` (already URL-decoded) into an expression tree.

    Kept for the last 1,024 texts (the tree is immutable): dashboards and rules send the same
    q again and again, and parsing cost ~2% of serving a query page."""
    if not q or not q.strip():
        raise QSyntaxError(q, 0, "a query term")
    return _Parser(q).parse()
