"""Writing and reading values: every write is a new revision, audited; red values alert."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.audit import record, snapshot
from cityops.core.policy import Perm, Principal, authorize, scope_filter
from cityops.core.units.models import Unit
from cityops.modules.indicators.aggregate import standing
from cityops.modules.indicators.catalogue import get_unit
from cityops.modules.indicators.choices import Status
from cityops.modules.indicators.events import TargetMissed, emit
from cityops.modules.indicators.models import Indicator, Value
from cityops.modules.indicators.periods import parse, parse_for
from cityops.modules.indicators.schemas import ValuePublic, ValuePut


def check_write(principal: Principal, unit: Unit) -> None:
    """Raise unless the caller may write values for this unit (its own subtree only)."""
    authorize(principal, Perm.data_write, unit.path, hide=False)


def put_value(
    session: Session, principal: Principal, indicator: Indicator, data: ValuePut
) -> Value:
    """Store a value as a new revision (the previous one is kept) and check it on target."""
    unit = get_unit(session, data.unit_code)
    check_write(principal, unit)
    return store(session, principal, indicator, unit, data)


def store(
    session: Session, principal: Principal, indicator: Indicator, unit: Unit, data: ValuePut
) -> Value:
    """Store a checked value for a unit (scope already checked); queue target_missed if red."""
    period = parse_for(data.period, indicator.frequency)
    current = session.scalar(
        select(Value).where(
            Value.indicator_id == indicator.id,
            Value.unit_id == unit.id,
            Value.period == str(period),
            Value.is_current.is_(True),
        )
    )
    before = snapshot(current) if current else None
    if current is not None:
        current.is_current = False
        session.flush()
    value = Value(
        indicator_id=indicator.id,
        unit_id=unit.id,
        period=str(period),
        value=data.value,
        revision=current.revision + 1 if current else 1,
        is_current=True,
        source=data.source,
        note=data.note,
        entered_by=principal.actor,
    )
    session.add(value)
    session.flush()
    record(
        session,
        principal,
        "indicators.value_put",
        "indicator_value",
        f"{indicator.code}/{unit.code}/{period}",
        before=before,
        after=snapshot(value),
        unit_id=unit.id,
    )
    result = standing(session, indicator, unit, period)
    if result.status is Status.red:
        emit(
            session,
            TargetMissed(
                indicator=indicator.code,
                unit_id=unit.id,
                unit_code=unit.code,
                period=str(period),
                value=result.year_to_date if indicator.cumulative else result.value,
                target=result.pro_rata_target,
                percent=result.percent,
            ),
        )
    return value


def value_public(value: Value, unit_code: str) -> ValuePublic:
    """Show a stored value."""
    return ValuePublic(
        unit_code=unit_code,
        period=value.period,
        value=value.value,
        source=value.source,
        note=value.note,
        revision=value.revision,
        is_current=value.is_current,
        entered_by=value.entered_by,
        entered_at=value.entered_at,
    )


def list_values(
    session: Session,
    principal: Principal,
    indicator: Indicator,
    unit_code: str | None = None,
    period: str | None = None,
    history: bool = False,
) -> list[ValuePublic]:
    """Return stored values in the caller's scope (current ones, or all revisions)."""
    query = (
        select(Value, Unit.code)
        .join(Unit, Unit.id == Value.unit_id)
        .where(Value.indicator_id == indicator.id, scope_filter(principal, Unit.path))
        .order_by(Value.period, Unit.code, Value.revision)
    )
    if not history:
        query = query.where(Value.is_current.is_(True))
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if period:
        query = query.where(Value.period == str(parse(period)))
    return [value_public(v, code) for v, code in session.execute(query)]
