"""The socio-economic overview: the engine's standings, grouped the way the report groups them."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from cityops.core.policy import Principal
from cityops.modules.indicators import views as engine
from cityops.modules.indicators.catalogue import list_indicators
from cityops.modules.indicators.choices import Status
from cityops.modules.indicators.models import Indicator
from cityops.modules.socioeconomic.catalogue import GROUP_EN, GROUPS
from cityops.modules.socioeconomic.schemas import GroupOverview, Overview

JUDGED = (Status.green, Status.amber, Status.red)


def sector_indicators(session: Session) -> list[Indicator]:
    """Return the active indicators of the socio-economic groups, in catalogue order."""
    return [i for i in list_indicators(session) if i.group in GROUP_EN]


def overview(
    session: Session, principal: Principal, period: str | None, unit_code: str | None
) -> Overview:
    """Return each group's indicators with value, target, % and status for a unit and period."""
    board = engine.dashboard(session, principal, period, unit_code)
    group_of = {i.code: i.group for i in sector_indicators(session)}
    groups = []
    for name_vi, name_en in GROUPS:
        items = [s for s in board.items if group_of.get(s.indicator) == name_vi]
        if not items:
            continue
        counts = Counter(s.status.value for s in items)
        groups.append(
            GroupOverview(group=name_vi, group_en=name_en, counts=dict(counts), items=items)
        )
    judged = [s for g in groups for s in g.items if s.status in JUDGED]
    on_track = sum(s.status is Status.green for s in judged)
    return Overview(
        unit_code=board.unit_code,
        period=board.period,
        groups=groups,
        judged=len(judged),
        on_track=on_track,
        on_track_share=round(100 * on_track / len(judged), 1) if judged else None,
    )
