"""The engine's rule picking leaves out only rules that would have done nothing."""

from __future__ import annotations

import math
import random

from cityops.alerts.compile import CompiledRule
from cityops.alerts.conditions import holds, parse_condition
from cityops.alerts.prefilter import KnownPairs, TypePlan

PM25 = "https://example.org/pm25"
NO2 = "https://example.org/no2"


def rule(rid: int, condition: str, kind: str = "threshold") -> CompiledRule:
    return CompiledRule(
        id=rid,
        version=1,
        kind=kind,
        severity="minor",
        public=False,
        auto_clear=True,
        unit_id=None,
        unit_path=None,
        title_vi="t",
        title_en="t",
        params={},
        terms=parse_condition(condition),
        iris={"pm25": PM25, "no2": NO2},
    )


def test_every_rule_whose_condition_holds_or_that_has_a_state_is_picked():
    rng = random.Random(7)
    ops = [">", ">=", "<", "<=", "==", "!="]
    rules = [
        rule(i, f"{rng.choice(['pm25', 'no2'])}{rng.choice(ops)}{rng.randint(0, 100)}")
        for i in range(1, 200)
    ]
    rules.append(rule(500, "pm25>no2"))  # compares two attributes: always evaluated
    rules.append(rule(501, "pm25>10;no2<5"))  # two terms: always evaluated
    rules.append(rule(502, "pm25>1", kind="rate_of_change"))
    plan = TypePlan(rules)
    values = [None, "high", True, False, -5, 0, 10, 10.0, 50.5, 100, 250, math.nan, math.inf]
    for _ in range(500):
        attrs = {}
        for iri in (PM25, NO2):
            v = rng.choice(values + [rng.uniform(-10, 120)])
            if v is not None:
                attrs[iri] = {"type": "Property", "value": v}
        with_state = {r.id for r in rules if rng.random() < 0.05}
        picked = plan.pick(attrs, with_state)
        ids = [r.id for r in picked]
        assert ids == sorted(ids, key=[r.id for r in rules].index)  # index order kept
        short = {
            "pm25": (attrs.get(PM25) or {}).get("value"),
            "no2": (attrs.get(NO2) or {}).get("value"),
        }
        needed = {r.id for r in rules if holds(r.terms, short)} | with_state
        needed |= {500, 501, 502}
        assert needed <= set(ids), (attrs, needed - set(ids))


def test_a_quiet_reading_picks_only_rules_with_a_state_and_those_always_evaluated():
    rules = [rule(1, "pm25>55"), rule(2, "pm25>=150"), rule(3, "pm25<0"), rule(4, "pm25>no2")]
    plan = TypePlan(rules)
    quiet = {PM25: {"type": "Property", "value": 20.0}}
    assert [r.id for r in plan.pick(quiet, set())] == [4]
    assert [r.id for r in plan.pick(quiet, {2, 99})] == [2, 4]
    smoky = {PM25: {"type": "Property", "value": 160}}
    assert [r.id for r in plan.pick(smoky, set())] == [1, 2, 4]


def test_known_pairs_answer_by_source():
    known = KnownPairs([(1, "a"), (2, "a"), (1, "b")])
    known.add((3, "b"))
    assert known.rules_of("a") == {1, 2} and known.rules_of("b") == {1, 3}
    assert known.rules_of("c") == set() and (3, "b") in known
