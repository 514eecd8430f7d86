"""KPIs of the health module, as data: each computed in the caller's scope."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from cityops.core.modules import KpiDescription
from cityops.core.policy import Principal
from cityops.modules.health import facilities
from cityops.modules.health.signals import communes_with_signals


def bed_occupancy(session: Session, principal: Principal) -> float | None:
    """Occupied beds as a share of beds, over the facilities in scope, in %."""
    return facilities.occupancy(facilities.facility_rows(session, principal)).occupancy_rate


def outbreak_communes(session: Session, principal: Principal) -> int:
    """Count communes with an outbreak signal in the last four weeks."""
    return communes_with_signals(session, principal, date.today())


KPIS = (
    KpiDescription(
        "bed_occupancy",
        "Công suất sử dụng giường bệnh",
        "Hospital bed occupancy",
        "%",
        bed_occupancy,
        False,
    ),
    KpiDescription(
        "outbreak_communes",
        "Xã, phường có tín hiệu dịch (4 tuần)",
        "Communes with an outbreak signal (4 weeks)",
        "count",
        outbreak_communes,
        False,
    ),
)
