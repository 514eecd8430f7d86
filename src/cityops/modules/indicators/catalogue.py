"""The indicator catalogue and yearly targets: province-level staff write, everyone reads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.audit import record, snapshot
from cityops.core.errors import Conflict, InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize
from cityops.core.units.models import Unit
from cityops.modules.indicators.choices import Aggregation
from cityops.modules.indicators.models import Indicator, Target
from cityops.modules.indicators.schemas import (
    IndicatorCreate,
    IndicatorUpdate,
    TargetPublic,
    TargetPut,
)


def check_catalogue_write(principal: Principal) -> None:
    """Raise unless the caller may change the catalogue (province-level writers only)."""
    authorize(principal, Perm.data_write, None, hide=False)


def get_indicator(session: Session, code: str) -> Indicator:
    """Return an indicator by code or raise NotFound."""
    indicator = session.scalar(select(Indicator).where(Indicator.code == code))
    if indicator is None:
        raise NotFound(f"No indicator {code!r}", code="unknown_indicator")
    return indicator


def get_unit(session: Session, code: str) -> Unit:
    """Return a unit by code or raise NotFound."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"No unit {code!r}", code="unknown_unit")
    return unit


def list_indicators(session: Session, include_inactive: bool = False) -> list[Indicator]:
    """Return the catalogue in display order."""
    query = select(Indicator).order_by(Indicator.sort_order, Indicator.code)
    if not include_inactive:
        query = query.where(Indicator.is_active.is_(True))
    return list(session.scalars(query))


def _check_weight(session: Session, aggregation: str, weight_code: str | None) -> None:
    if aggregation != Aggregation.weighted:
        return
    if not weight_code:
        raise InvalidInput("A weighted indicator needs weight_code", code="weight_missing")
    get_indicator(session, weight_code)


def create_indicator(session: Session, principal: Principal, data: IndicatorCreate) -> Indicator:
    """Add an indicator to the catalogue."""
    check_catalogue_write(principal)
    if session.scalar(select(Indicator.id).where(Indicator.code == data.code)):
        raise Conflict(f"Indicator {data.code!r} already exists", code="duplicate_code")
    _check_weight(session, data.aggregation, data.weight_code)
    indicator = Indicator(**data.model_dump())
    session.add(indicator)
    session.flush()
    record(
        session,
        principal,
        "indicators.create",
        "indicator",
        indicator.code,
        after=snapshot(indicator),
    )
    return indicator


def update_indicator(
    session: Session, principal: Principal, code: str, data: IndicatorUpdate
) -> Indicator:
    """Change an indicator of the catalogue."""
    check_catalogue_write(principal)
    indicator = get_indicator(session, code)
    before = snapshot(indicator)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(indicator, key, value)
    _check_weight(session, indicator.aggregation, indicator.weight_code)
    session.flush()
    record(
        session,
        principal,
        "indicators.update",
        "indicator",
        code,
        before=before,
        after=snapshot(indicator),
    )
    return indicator


def put_target(
    session: Session, principal: Principal, indicator: Indicator, data: TargetPut
) -> TargetPublic:
    """Set (or replace) the yearly target of an indicator for a unit."""
    check_catalogue_write(principal)
    unit = get_unit(session, data.unit_code)
    target = session.scalar(
        select(Target).where(
            Target.indicator_id == indicator.id,
            Target.unit_id == unit.id,
            Target.year == data.year,
        )
    )
    before = snapshot(target) if target else None
    if target is None:
        target = Target(indicator_id=indicator.id, unit_id=unit.id, year=data.year, value=0.0)
        session.add(target)
    target.value, target.note = data.value, data.note
    session.flush()
    record(
        session,
        principal,
        "indicators.target_put",
        "indicator_target",
        target.id,
        before=before,
        after=snapshot(target),
        unit_id=unit.id,
    )
    return TargetPublic(**data.model_dump())


def list_targets(
    session: Session, principal: Principal, indicator: Indicator, year: int | None
) -> list[TargetPublic]:
    """Return the targets of an indicator in the caller's scope."""
    from cityops.core.policy import scope_filter

    query = (
        select(Target, Unit.code)
        .join(Unit, Unit.id == Target.unit_id)
        .where(Target.indicator_id == indicator.id, scope_filter(principal, Unit.path))
        .order_by(Target.year, Unit.code)
    )
    if year is not None:
        query = query.where(Target.year == year)
    return [
        TargetPublic(unit_code=code, year=t.year, value=t.value, note=t.note)
        for t, code in session.execute(query)
    ]
