"""Threshold conditions: `attr op value|attr` terms joined by `;` (e.g. currentLevel>alertLevel1).

NGSI-LD `q` compares an attribute with a literal only; a threshold often compares two
attributes of the same entity (a station's level with its own alert level), so rules state
their condition in this small grammar and keep `q` for filtering. Errors carry a position.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


class ConditionError(ValueError):
    """A condition that does not parse; says where and what was expected."""

    def __init__(self, text: str, position: int, expected: str) -> None:
        super().__init__(f"expected {expected} at position {position} in {text!r}")
        self.position = position
        self.expected = expected


@dataclass(frozen=True)
class Term:
    """`attr op operand`; the operand is a literal or (ref=True) another attribute's name."""

    attr: str
    op: str
    operand: float | str | bool
    ref: bool = False
    position: int = 0


def parse_condition(text: str) -> tuple[Term, ...]:
    """Parse a condition into its terms (all must hold)."""
    terms: list[Term] = []
    pos = 0
    while True:
        term, pos = _term(text, _skip(text, pos))
        terms.append(term)
        pos = _skip(text, pos)
        if pos >= len(text):
            return tuple(terms)
        if text[pos] != ";":
            raise ConditionError(text, pos, "';' or the end of the condition")
        pos += 1


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _term(text: str, pos: int) -> tuple[Term, int]:
    start = pos
    name = _NAME.match(text, pos)
    if name is None:
        raise ConditionError(text, pos, "an attribute name")
    pos = _skip(text, name.end())
    op = next((o for o in OPS if text.startswith(o, pos)), None)
    if op is None:
        raise ConditionError(text, pos, "an operator (>, >=, <, <=, ==, !=)")
    pos = _skip(text, pos + len(op))
    operand, ref, pos = _operand(text, pos)
    return Term(name.group(), op, operand, ref, start), pos


def _operand(text: str, pos: int) -> tuple[float | str | bool, bool, int]:
    number = _NUMBER.match(text, pos)
    if number:
        return float(number.group()), False, number.end()
    if text.startswith('"', pos):
        end = text.find('"', pos + 1)
        if end < 0:
            raise ConditionError(text, len(text), 'a closing "')
        return text[pos + 1 : end], False, end + 1
    name = _NAME.match(text, pos)
    if name is None:
        raise ConditionError(text, pos, "a number, a quoted string, true/false or an attribute")
    if name.group() in ("true", "false"):
        return name.group() == "true", False, name.end()
    return name.group(), True, name.end()


def attributes(terms: tuple[Term, ...]) -> list[tuple[str, int]]:
    """List the attribute names a condition reads, with their positions."""
    out: list[tuple[str, int]] = []
    for t in terms:
        out.append((t.attr, t.position))
        if t.ref:
            out.append((str(t.operand), t.position))
    return out


def holds(terms: tuple[Term, ...], values: dict[str, Any]) -> bool | None:
    """Say whether every term holds on `values` (by short name); None when a value is missing."""
    for t in terms:
        left = values.get(t.attr)
        right = values.get(str(t.operand)) if t.ref else t.operand
        if left is None or right is None:
            return None
        try:
            if not OPS[t.op](left, right):
                return False
        except TypeError:
            return False
    return True
