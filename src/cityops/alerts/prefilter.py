"""Pick, for one entity change, the rules worth evaluating.

Most readings cross no threshold. A threshold rule of the simple form `attr op number`
(op one of > >= < <=) whose condition does not hold does nothing unless the rule already has
a state for that source (pending, firing). So, per entity type, such rules are kept sorted by
their number for each attribute and operator; a reading finds the rules whose condition holds
with one bisection per list, and the rules with a state come from the known pairs. Every
other rule of the type is always evaluated. The evaluators stay the authority: this only
leaves out rules that would have done nothing.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from cityops.alerts.compile import CompiledRule

_OPS = (">", ">=", "<", "<=")


class KnownPairs(set[tuple[int, str]]):
    """The (rule, source) pairs that have a state row, also indexed by source."""

    def __init__(self, pairs: Iterable[tuple[int, str]] = ()) -> None:
        super().__init__()
        self.by_source: dict[str, set[int]] = defaultdict(set)
        for pair in pairs:
            self.add(pair)

    def add(self, pair: tuple[int, str]) -> None:
        """Remember a pair."""
        super().add(pair)
        self.by_source[pair[1]].add(pair[0])

    def rules_of(self, source: str) -> set[int]:
        """Rule ids with a state for this source."""
        return self.by_source.get(source) or set()


def simple_term(rule: CompiledRule) -> tuple[str, str, float] | None:
    """(attribute IRI, op, number) of a one-term numeric threshold rule, else None."""
    if rule.kind != "threshold" or len(rule.terms) != 1:
        return None
    term = rule.terms[0]
    if term.ref or term.op not in _OPS or type(term.operand) is not float:
        return None
    iri = rule.iris.get(term.attr)
    return None if iri is None else (iri, term.op, term.operand)


class TypePlan:
    """The rules of one entity type, arranged for picking."""

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.order = {rule.id: i for i, rule in enumerate(rules)}
        self.by_id = {rule.id: rule for rule in rules}
        self.always: list[CompiledRule] = []
        lists: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
        for rule in rules:
            simple = simple_term(rule)
            if simple is None:
                self.always.append(rule)
            else:
                lists[(simple[0], simple[1])].append((simple[2], rule.id))
        self.sorted: dict[tuple[str, str], tuple[list[float], list[int]]] = {}
        for key, pairs in lists.items():
            pairs.sort()
            self.sorted[key] = ([n for n, _ in pairs], [rid for _, rid in pairs])

    def holding(self, attrs: dict[str, Any]) -> set[int]:
        """Ids of the simple rules whose condition holds on these attributes."""
        out: set[int] = set()
        for (iri, op), (numbers, ids) in self.sorted.items():
            value = (attrs.get(iri) or {}).get("value")
            if not isinstance(value, int | float):
                continue  # missing (no-op) or not comparable (False): only states matter
            if op == ">":
                out.update(ids[: bisect_left(numbers, value)])
            elif op == ">=":
                out.update(ids[: bisect_right(numbers, value)])
            elif op == "<":
                out.update(ids[bisect_right(numbers, value) :])
            else:
                out.update(ids[bisect_left(numbers, value) :])
        return out

    def pick(self, attrs: dict[str, Any], with_state: set[int]) -> list[CompiledRule]:
        """The rules to evaluate for a change, in their index order."""
        if not self.sorted:
            return self.always
        ids = self.holding(attrs) | (with_state & self.by_id.keys())
        ids.update(rule.id for rule in self.always)
        return [self.by_id[i] for i in sorted(ids, key=self.order.__getitem__)]


def plans(by_type: dict[str, list[CompiledRule]]) -> dict[str, TypePlan]:
    """A plan per entity type."""
    return {entity_type: TypePlan(rules) for entity_type, rules in by_type.items()}
