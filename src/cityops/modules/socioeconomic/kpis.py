"""KPIs of the socio-economic sector, as data: computed for the caller's unit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.errors import CityOpsError
from cityops.core.modules import KpiDescription
from cityops.core.policy import Principal
from cityops.modules.socioeconomic.schemas import Overview
from cityops.modules.socioeconomic.views import overview


def _latest(session: Session, principal: Principal) -> Overview | None:
    try:
        return overview(session, principal, None, None)
    except CityOpsError:
        return None


def on_track_share(session: Session, principal: Principal) -> float | None:
    """Share of socio-economic indicators with a target that are on track (green), in %."""
    found = _latest(session, principal)
    return found.on_track_share if found else None


def off_track(session: Session, principal: Principal) -> int | None:
    """Count socio-economic indicators below 90% of their (pro-rata) target."""
    found = _latest(session, principal)
    if found is None:
        return None
    return sum(g.counts.get("red", 0) for g in found.groups)


KPIS = (
    KpiDescription(
        "on_track_share",
        "Tỉ lệ chỉ tiêu KT-XH đạt tiến độ kế hoạch",
        "Socio-economic indicators on track",
        "%",
        on_track_share,
    ),
    KpiDescription(
        "off_track",
        "Số chỉ tiêu KT-XH không đạt (dưới 90%)",
        "Socio-economic indicators off track",
        "count",
        off_track,
        False,
    ),
)
