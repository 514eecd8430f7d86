"""Monthly tourism figures through the indicator engine: arrivals, occupancy, revenue.

Arrivals, occupancy and revenue are unit-level monthly figures that the culture, sports and
tourism department reports like any other indicator, so they live in the engine (targets,
status, Excel template and import, drill-down); this module registers them and reads them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from cityops.core.policy import Principal
from cityops.modules import sector
from cityops.modules.indicators.aggregate import Aggregator, Tree
from cityops.modules.indicators.choices import Aggregation, Frequency
from cityops.modules.indicators.models import Indicator
from cityops.modules.indicators.schemas import IndicatorCreate
from cityops.modules.indicators.views import home_unit
from cityops.modules.tourism.schemas import MonthStats, Stats

DOMESTIC, INTERNATIONAL = "TOURISM_ARRIVALS_DOMESTIC", "TOURISM_ARRIVALS_INTL"
OCCUPANCY, REVENUE = "TOURISM_ROOM_OCCUPANCY", "TOURISM_REVENUE"


def _spec(code: str, vi: str, en: str, uom: str, agg: Aggregation, order: int) -> IndicatorCreate:
    flow = agg is Aggregation.sum
    return IndicatorCreate(
        code=code,
        name_vi=vi,
        name_en=en,
        unit_of_measure=uom,
        group="Du lịch",
        frequency=Frequency.monthly,
        aggregation=agg,
        cumulative=flow,
        agency_code="SVHTTDL-LD",
        sort_order=order,
    )


SPECS = (
    _spec(
        DOMESTIC,
        "Lượt khách du lịch nội địa",
        "Domestic tourist arrivals",
        "lượt",
        Aggregation.sum,
        300,
    ),
    _spec(
        INTERNATIONAL,
        "Lượt khách du lịch quốc tế",
        "International tourist arrivals",
        "lượt",
        Aggregation.sum,
        301,
    ),
    _spec(
        OCCUPANCY,
        "Công suất sử dụng buồng của cơ sở lưu trú",
        "Hotel room occupancy",
        "%",
        Aggregation.average,
        302,
    ),
    _spec(REVENUE, "Tổng thu từ khách du lịch", "Tourism revenue", "tỷ đồng", Aggregation.sum, 303),
)


def ensure(session: Session) -> dict[str, Indicator]:
    """Register the tourism indicators in the catalogue (once)."""
    return sector.ensure_indicators(session, SPECS)


def _month(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return round(100.0 * (now - before) / before, 1)


def registered(session: Session) -> dict[str, Indicator]:
    """Return the tourism indicators already in the catalogue (without adding any)."""
    return sector.find_indicators(session, [spec.code for spec in SPECS])


def year_stats(
    session: Session,
    principal: Principal,
    unit_code: str | None,
    year: int | None,
    found: dict[str, Indicator],
) -> Stats:
    """Return each month's arrivals (and change on last year), occupancy and revenue."""
    unit = home_unit(session, principal, unit_code)
    year = year or date.today().year
    periods = [_month(y, m) for y in (year - 1, year) for m in range(1, 13)]
    tree = Tree.load(session, unit)
    series: dict[str, dict[str, float | None]] = {}
    for spec in SPECS:
        agg = Aggregator(session, found[spec.code], tree, periods) if spec.code in found else None
        series[spec.code] = {p: agg.value(unit.id, p)[0] if agg else None for p in periods}
    months = []
    for m in range(1, 13):
        now, before = _month(year, m), _month(year - 1, m)
        total = _total(series, now)
        last = _total(series, before)
        months.append(
            MonthStats(
                period=now,
                domestic=series[DOMESTIC][now],
                international=series[INTERNATIONAL][now],
                total=total,
                total_last_year=last,
                change_percent=_change(total, last),
                occupancy_rate=series[OCCUPANCY][now],
                revenue=series[REVENUE][now],
            )
        )
    return Stats(unit_code=unit.code, year=year, months=months)


def _total(series: dict[str, dict[str, float | None]], period: str) -> float | None:
    parts = [series[DOMESTIC][period], series[INTERNATIONAL][period]]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


def latest(stats: Stats, field: str) -> MonthStats | None:
    """Return the latest month of a year that has a value in `field`."""
    with_value = [m for m in stats.months if getattr(m, field) is not None]
    return with_value[-1] if with_value else None
