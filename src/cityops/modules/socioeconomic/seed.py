"""Demo data: the indicators this sector adds, with 2026 targets and values for province 68.

Values are illustrative (số liệu minh họa) and say so in their source; published figures of
other provinces live in catalogue.PUBLISHED, never as values of Lâm Đồng.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.auth.models import Agency
from cityops.core.policy import system_principal
from cityops.core.units.models import Unit
from cityops.modules.indicators import catalogue, values
from cityops.modules.indicators.choices import DEMO_SOURCE
from cityops.modules.indicators.models import Indicator
from cityops.modules.indicators.periods import Frequency, Period
from cityops.modules.indicators.schemas import IndicatorCreate, TargetPut, ValuePut
from cityops.modules.socioeconomic.catalogue import SPECS

PROVINCE = "68"
YEAR = 2026
SYSTEM = system_principal("demo-seed")


def seed_demo(session: Session) -> int:
    """Add the sector's indicators (those not there yet); return how many were added."""
    province = session.scalar(select(Unit).where(Unit.code == PROVINCE))
    if province is None:
        return 0
    known_agencies = set(session.scalars(select(Agency.code)))
    added = 0
    for order, spec in enumerate(SPECS):
        if session.scalar(select(Indicator.id).where(Indicator.code == spec.code)):
            continue
        data = IndicatorCreate(
            code=spec.code,
            name_vi=spec.name_vi,
            name_en=spec.name_en,
            unit_of_measure=spec.unit_of_measure,
            group=spec.group,
            frequency=spec.frequency,
            aggregation=spec.aggregation,
            cumulative=spec.cumulative,
            higher_is_better=spec.higher_is_better,
            agency_code=spec.agency_code if spec.agency_code in known_agencies else None,
            deadline_day=10 if spec.frequency == Frequency.monthly else 20,
            description=f"Chỉ tiêu mẫu. {DEMO_SOURCE}.",
            sort_order=100 + order,
        )
        indicator = catalogue.create_indicator(session, SYSTEM, data)
        if spec.target is not None:
            target = TargetPut(unit_code=PROVINCE, year=YEAR, value=spec.target, note=DEMO_SOURCE)
            catalogue.put_target(session, SYSTEM, indicator, target)
        for number, value in enumerate(spec.values, start=1):
            period = str(Period(YEAR, Frequency(spec.frequency), number))
            data_value = ValuePut(
                unit_code=PROVINCE, period=period, value=float(value), source=DEMO_SOURCE
            )
            values.store(session, SYSTEM, indicator, province, data_value)
        added += 1
    return added
