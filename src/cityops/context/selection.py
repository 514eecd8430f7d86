"""The selection language NGSI-LD shares between scopeQ (GS CIM 009 4.19) and the type
selection of queries and subscriptions (4.17): terms combined with `;` (and), `,` or `|`
(or) and parentheses, `;` binding tighter than `,`/`|`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cityops.context.errors import bad_request

_TOKENS = re.compile(r"\s*(\(|\)|;|,|\||[^();,|\s]+)")


def parse_selection(text: str, term: Callable[[str], Any], what: str) -> Any:
    """Parse a selection into a (hashable) tree: ("and"|"or", children) or what `term` makes
    of a term. BadRequestData names what is wrong, as `what` (the parameter)."""
    tokens = _TOKENS.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text) or not tokens:
        raise bad_request(f"{what}: cannot read {text!r}")
    pos = 0

    def expr() -> Any:
        nonlocal pos
        parts = [conjunction()]
        while pos < len(tokens) and tokens[pos] in (",", "|"):
            pos += 1
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else ("or", tuple(parts))

    def conjunction() -> Any:
        nonlocal pos
        parts = [atom()]
        while pos < len(tokens) and tokens[pos] == ";":
            pos += 1
            parts.append(atom())
        return parts[0] if len(parts) == 1 else ("and", tuple(parts))

    def atom() -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise bad_request(f"{what}: {text!r} ends too early")
        token = tokens[pos]
        pos += 1
        if token == "(":
            inner = expr()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise bad_request(f"{what}: a parenthesis is not closed in {text!r}")
            pos += 1
            return inner
        if token in (")", ";", ",", "|"):
            raise bad_request(f"{what}: unexpected {token!r} in {text!r}")
        return term(token)

    tree = expr()
    if pos != len(tokens):
        raise bad_request(f"{what}: unexpected {tokens[pos]!r} in {text!r}")
    return tree
