"""KPIs of the tourism module, as data: each computed for the caller's unit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.errors import CityOpsError
from cityops.core.modules import KpiDescription
from cityops.core.policy import Principal
from cityops.modules.tourism.schemas import Stats
from cityops.modules.tourism.stats import latest, registered, year_stats


def _stats(session: Session, principal: Principal) -> Stats | None:
    found = registered(session)
    if not found:
        return None
    try:
        return year_stats(session, principal, None, None, found)
    except CityOpsError:
        return None


def arrivals_change(session: Session, principal: Principal) -> float | None:
    """Arrivals of the latest reported month against the same month last year, change in %."""
    stats = _stats(session, principal)
    month = latest(stats, "total") if stats else None
    return month.change_percent if month else None


def occupancy(session: Session, principal: Principal) -> float | None:
    """Hotel room occupancy of the latest reported month, in %."""
    stats = _stats(session, principal)
    month = latest(stats, "occupancy_rate") if stats else None
    return month.occupancy_rate if month else None


KPIS = (
    KpiDescription(
        "arrivals_change",
        "Lượt khách tháng gần nhất so với cùng kỳ",
        "Arrivals, latest month vs a year before",
        "%",
        arrivals_change,
    ),
    KpiDescription(
        "occupancy",
        "Công suất buồng lưu trú tháng gần nhất",
        "Hotel room occupancy, latest month",
        "%",
        occupancy,
    ),
)
