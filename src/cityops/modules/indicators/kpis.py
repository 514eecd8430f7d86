"""KPIs of the indicator engine, as data: each computed for the caller's unit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.errors import CityOpsError
from cityops.core.modules import KpiDescription
from cityops.core.policy import Principal
from cityops.modules.indicators.choices import Status
from cityops.modules.indicators.views import dashboard

_JUDGED = (Status.green, Status.amber, Status.red)


def _statuses(session: Session, principal: Principal) -> list[Status]:
    try:
        return [item.status for item in dashboard(session, principal, None, None).items]
    except CityOpsError:
        return []


def on_target_share(session: Session, principal: Principal) -> float | None:
    """Share of indicators with a target and a value that are on target (green), in %."""
    judged = [s for s in _statuses(session, principal) if s in _JUDGED]
    if not judged:
        return None
    return round(100 * sum(s is Status.green for s in judged) / len(judged), 1)


def off_target(session: Session, principal: Principal) -> int:
    """Count indicators that are red in the latest period."""
    return sum(s is Status.red for s in _statuses(session, principal))


KPIS = (
    KpiDescription(
        "on_target_share",
        "Tỉ lệ chỉ tiêu đạt kế hoạch",
        "Share of indicators on target",
        "%",
        on_target_share,
    ),
    KpiDescription(
        "off_target",
        "Số chỉ tiêu không đạt (dưới 90%)",
        "Indicators off target (below 90%)",
        "count",
        off_target,
        False,
    ),
)
