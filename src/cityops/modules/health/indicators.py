"""The health module's entries in the indicator engine: vaccination coverage.

Coverage is a unit-level figure reported monthly by the health department, so it is an
indicator of the engine (targets, status, Excel/CSV exchange, drill-down come with it), not a
table of this module.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.policy import Principal
from cityops.modules import sector
from cityops.modules.indicators import views
from cityops.modules.indicators.aggregate import Tree, standing
from cityops.modules.indicators.choices import Aggregation, Frequency
from cityops.modules.indicators.models import Indicator, Value
from cityops.modules.indicators.periods import Period, parse
from cityops.modules.indicators.schemas import Children, IndicatorCreate

VACCINATION = "HEALTH_FULL_IMMUNISATION"
SPECS = (
    IndicatorCreate(
        code=VACCINATION,
        name_vi="Tỉ lệ trẻ dưới 1 tuổi được tiêm chủng đầy đủ",
        name_en="Full immunisation coverage of children under one",
        unit_of_measure="%",
        group="Y tế",
        frequency=Frequency.monthly,
        aggregation=Aggregation.average,
        higher_is_better=True,
        agency_code="SYT-LD",
        description=(
            "Trẻ dưới 1 tuổi tiêm đủ các mũi của Chương trình tiêm chủng mở rộng, lũy kế từ "
            "đầu năm / children under one with every vaccine of the Expanded Programme on "
            "Immunization, year to date. Communes add up to their parent as a plain mean."
        ),
        sort_order=200,
    ),
)


def ensure(session: Session) -> dict[str, Indicator]:
    """Register the health indicators in the catalogue (once)."""
    return sector.ensure_indicators(session, SPECS)


def _latest(session: Session, indicator: Indicator) -> Period:
    """Return the latest period with a coverage value (else the engine's latest period)."""
    latest = session.scalar(
        select(func.max(Value.period)).where(
            Value.indicator_id == indicator.id, Value.is_current.is_(True)
        )
    )
    return parse(latest) if latest else views.latest_period(session, indicator.frequency)


def vaccination(
    session: Session, principal: Principal, unit_code: str | None, period: str | None
) -> Children:
    """Return coverage for a unit (first item) and each of its children, against targets."""
    indicator = ensure(session)[VACCINATION]
    unit = views.home_unit(session, principal, unit_code)
    when = parse(period) if period else _latest(session, indicator)
    tree = Tree.load(session, unit)
    own = standing(session, indicator, unit, when, tree)
    kids = views.children(session, principal, indicator, unit.code, str(when)).items
    return Children(unit_code=unit.code, items=[own, *kids])
