"""Values up the unit tree (sum / average / weighted) and standing against targets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.units.models import Unit
from cityops.modules.indicators.choices import AMBER_AT, GREEN_AT, STATUSES, Aggregation, Status
from cityops.modules.indicators.models import Indicator, Target, Value
from cityops.modules.indicators.periods import Period
from cityops.modules.indicators.schemas import Standing

Found = tuple[float | None, bool]  # (value, computed from the children)


def status_of(
    actual: float | None, target: float | None, higher_is_better: bool
) -> tuple[float | None, Status]:
    """Return the % of target reached and its colour (lower-is-better compares inversely)."""
    if actual is None:
        return None, Status.no_value
    if target is None:
        return None, Status.no_target
    if higher_is_better:
        percent = 100.0 * actual / target if target else (100.0 if actual >= 0 else 0.0)
    else:
        percent = 100.0 * target / actual if actual > 0 else 100.0
    if percent >= GREEN_AT:
        return round(percent, 1), Status.green
    return round(percent, 1), Status.amber if percent >= AMBER_AT else Status.red


@dataclass
class Tree:
    """A unit and everything under it, loaded once."""

    root: Unit
    units: dict[int, Unit]
    children: dict[int, list[int]]

    @classmethod
    def load(cls, session: Session, root: Unit) -> Tree:
        """Load the subtree of a unit."""
        rows = session.scalars(select(Unit).where(Unit.path.startswith(root.path))).all()
        children: dict[int, list[int]] = defaultdict(list)
        for unit in sorted(rows, key=lambda u: u.code):
            if unit.parent_id is not None:
                children[unit.parent_id].append(unit.id)
        return cls(root, {u.id: u for u in rows}, children)


def stored(session: Session, indicator_id: int, tree: Tree, periods: list[str]) -> dict:
    """Return the current stored values of the subtree: {(unit_id, period): value}."""
    rows = session.execute(
        select(Value.unit_id, Value.period, Value.value)
        .join(Unit, Unit.id == Value.unit_id)
        .where(
            Value.indicator_id == indicator_id,
            Value.is_current.is_(True),
            Value.period.in_(periods),
            Unit.path.startswith(tree.root.path),
        )
    ).all()
    return {(r.unit_id, r.period): r.value for r in rows}


class Aggregator:
    """Computes an indicator's values for any unit of a tree and any periods."""

    def __init__(self, session: Session, indicator: Indicator, tree: Tree, periods: list[str]):
        self.indicator = indicator
        self.tree = tree
        self.values = stored(session, indicator.id, tree, periods)
        self.weights: dict = {}
        if indicator.aggregation == Aggregation.weighted and indicator.weight_code:
            weight = session.scalar(
                select(Indicator).where(Indicator.code == indicator.weight_code)
            )
            if weight is not None:
                years = sorted({p[:4] for p in periods})
                self.weights = stored(session, weight.id, tree, [*periods, *years])

    def value(self, unit_id: int, period: str) -> Found:
        """Return the unit's value: its own, else computed from its children by the rule."""
        own = self.values.get((unit_id, period))
        if own is not None:
            return own, False
        rule = self.indicator.aggregation
        kids = self.tree.children.get(unit_id, [])
        if rule == Aggregation.none or not kids:
            return None, False
        found = [(kid, self.value(kid, period)[0]) for kid in kids]
        found = [(kid, v) for kid, v in found if v is not None]
        if not found:
            return None, False
        if rule == Aggregation.sum:
            return sum(v for _, v in found), True
        if rule == Aggregation.average:
            return sum(v for _, v in found) / len(found), True
        pairs = [(v, self._weight(kid, period)) for kid, v in found]
        total = sum(w for _, w in pairs if w is not None)
        if not total:
            return None, False
        return sum(v * w for v, w in pairs if w is not None) / total, True

    def _weight(self, unit_id: int, period: str) -> float | None:
        weight = self.weights.get((unit_id, period))
        return weight if weight is not None else self.weights.get((unit_id, period[:4]))


def target_of(session: Session, indicator: Indicator, unit: Unit, year: int) -> float | None:
    """Return the unit's yearly target for an indicator, if one is set."""
    return session.scalar(
        select(Target.value).where(
            Target.indicator_id == indicator.id, Target.unit_id == unit.id, Target.year == year
        )
    )


def standing(
    session: Session, indicator: Indicator, unit: Unit, when: Period, tree: Tree | None = None
) -> Standing:
    """Compute value, year-to-date, target, % and status of an indicator for a unit."""
    period = when.as_frequency(indicator.frequency)
    periods = period.year_to_date() if indicator.cumulative else [period]
    tree = tree if tree is not None and unit.id in tree.units else Tree.load(session, unit)
    agg = Aggregator(session, indicator, tree, [str(p) for p in periods])
    value, computed = agg.value(unit.id, str(period))
    ytd = None
    if indicator.cumulative:
        parts = [agg.value(unit.id, str(p))[0] for p in periods]
        known = [v for v in parts if v is not None]
        ytd = sum(known) if known else None
    target = target_of(session, indicator, unit, period.year)
    pro_rata = target
    if target is not None and indicator.cumulative:
        pro_rata = target * period.share_of_year
    percent, status = status_of(
        ytd if indicator.cumulative else value, pro_rata, indicator.higher_is_better
    )
    choice = STATUSES[status]
    return Standing(
        indicator=indicator.code,
        name_vi=indicator.name_vi,
        name_en=indicator.name_en,
        unit_of_measure=indicator.unit_of_measure,
        unit_code=unit.code,
        period=str(period),
        value=value,
        computed=computed,
        year_to_date=ytd,
        target=target,
        pro_rata_target=None if pro_rata is None else round(pro_rata, 4),
        percent=percent,
        status=status,
        status_label_vi=choice.label_vi,
        status_label_en=choice.label_en,
        colour=choice.colour,
    )
