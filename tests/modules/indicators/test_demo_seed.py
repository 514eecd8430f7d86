"""The demo data: a provincial catalogue with 2026 targets and labelled demo values."""

from __future__ import annotations

from sqlalchemy import func, select

from cityops.core import demo
from cityops.core.policy import system_principal
from cityops.modules.indicators import MANIFEST
from cityops.modules.indicators.models import Indicator, Target, Value
from cityops.modules.indicators.views import dashboard


def test_demo_seed_loads_a_catalogue_with_targets_and_labelled_values(database):
    with database.session() as s:
        demo.seed(s, system_principal("test"), {"indicators": MANIFEST})
    with database.session() as s:
        codes = set(s.scalars(select(Indicator.code)))
        assert {"GRDP_GROWTH", "BUDGET_REVENUE", "CPI", "TOURIST_ARRIVALS"} <= codes
        assert len(codes) >= 10
        assert s.scalar(select(func.count(Target.id))) >= 10
        periods = set(s.scalars(select(Value.period)))
        assert {"2026-01", "2026-10", "2026-Q3"} <= periods
        assert all("minh họa" in v.source for v in s.scalars(select(Value)))
        board = dashboard(s, system_principal("test"), "2026-10", "68")
        statuses = {i.indicator: i.status for i in board.items}
        assert statuses["CPI"] == "red" and statuses["GRDP_GROWTH"] == "green"
        assert {"green", "amber", "red"} <= set(statuses.values())
