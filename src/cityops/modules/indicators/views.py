"""Read views: a unit's series, the dashboard of every indicator, drill-down to children."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.errors import NotFound
from cityops.core.policy import Perm, Principal, authorize
from cityops.core.units.models import Unit
from cityops.modules.indicators.aggregate import Aggregator, Tree, standing
from cityops.modules.indicators.catalogue import get_unit, list_indicators
from cityops.modules.indicators.choices import Frequency
from cityops.modules.indicators.models import Indicator, Value
from cityops.modules.indicators.periods import Period, parse, span
from cityops.modules.indicators.schemas import Children, Dashboard, Series, SeriesPoint


def home_unit(session: Session, principal: Principal, unit_code: str | None) -> Unit:
    """Return the unit asked for (checked in scope), else the caller's, else the root."""
    if unit_code:
        unit = get_unit(session, unit_code)
    elif principal.unit_id is not None:
        unit = session.get(Unit, principal.unit_id)
    else:
        unit = session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    if unit is None:
        raise NotFound("No administrative unit to show", code="unknown_unit")
    authorize(principal, Perm.data_read, unit.path)
    return unit


def latest_period(session: Session, frequency: str | None = None) -> Period:
    """Return the latest period with a stored value (this month when there is none)."""
    query = select(func.max(Value.period)).where(Value.is_current.is_(True))
    if frequency:
        query = query.join(Indicator, Indicator.id == Value.indicator_id).where(
            Indicator.frequency == frequency
        )
    latest = session.scalar(query)
    today = date.today()
    return parse(latest) if latest else Period(today.year, Frequency.monthly, today.month)


def series(
    session: Session,
    principal: Principal,
    indicator: Indicator,
    unit_code: str | None,
    start: str | None,
    end: str | None,
) -> Series:
    """Return the values of an indicator for a unit over periods (own or computed)."""
    unit = home_unit(session, principal, unit_code)
    last = parse(end) if end else latest_period(session, indicator.frequency)
    last = last.as_frequency(indicator.frequency)
    first = parse(start).as_frequency(indicator.frequency) if start else last.year_to_date()[0]
    periods = [str(p) for p in span(first, last)]
    agg = Aggregator(session, indicator, Tree.load(session, unit), periods)
    points = []
    for period in periods:
        value, computed = agg.value(unit.id, period)
        points.append(SeriesPoint(period=period, value=value, computed=computed))
    return Series(indicator=indicator.code, unit_code=unit.code, points=points)


def dashboard(
    session: Session, principal: Principal, period: str | None, unit_code: str | None
) -> Dashboard:
    """Return every active indicator's standing for a unit (the caller's by default)."""
    unit = home_unit(session, principal, unit_code)
    when = parse(period) if period else latest_period(session)
    tree = Tree.load(session, unit)
    items = [standing(session, i, unit, when, tree) for i in list_indicators(session)]
    return Dashboard(unit_code=unit.code, period=str(when), items=items)


def children(
    session: Session,
    principal: Principal,
    indicator: Indicator,
    unit_code: str | None,
    period: str | None,
) -> Children:
    """Return the standing of each child of a unit for one indicator (drill down a level)."""
    unit = home_unit(session, principal, unit_code)
    when = parse(period) if period else latest_period(session, indicator.frequency)
    tree = Tree.load(session, unit)
    kids = [tree.units[k] for k in tree.children.get(unit.id, [])]
    items = [standing(session, indicator, kid, when, tree) for kid in kids]
    return Children(unit_code=unit.code, items=items)
