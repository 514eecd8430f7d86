"""The health demo: facilities on the map, labelled demo cases with planted outbreaks."""

from __future__ import annotations

import time
from datetime import date, timedelta

from sqlalchemy import func, select

from cityops.context.models import ContextEntity
from cityops.core import demo
from cityops.core.policy import system_principal
from cityops.core.units.models import Unit
from cityops.modules.health import MANIFEST
from cityops.modules.health.facilities import occupancy, type_iri
from cityops.modules.health.models import CaseCount, Signal
from cityops.modules.health.seed import seed_demo
from cityops.modules.indicators.models import Indicator, Value


def test_demo_seed_loads_facilities_cases_signals_and_coverage_quickly(database):
    started = time.perf_counter()
    with database.session() as s:  # one transaction, as `cityops demo` does it
        assert demo.seed(s, system_principal("test"), {"health": MANIFEST})
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"the core and health demo took {elapsed:.1f} s"
    today = date.today()
    week_before_last = today - timedelta(days=today.weekday() + 14)
    with database.session() as s:
        rows = s.scalars(select(ContextEntity).where(ContextEntity.type == type_iri())).all()
        assert len(rows) == 14
        summary = occupancy(rows)
        assert summary.beds > 3000 and 60 < (summary.occupancy_rate or 0) < 100
        assert all(r.unit_id is not None for r in rows)
        assert s.scalar(select(func.count(CaseCount.id))) == 9 * 3 * 42
        assert all("minh họa" in (c.source or "") for c in s.scalars(select(CaseCount)))
        planted = s.execute(
            select(Signal.disease, Unit.code, Signal.cases)
            .join(Unit, Unit.id == Signal.unit_id)
            .where(Signal.week_start == week_before_last)
        ).all()
        assert ("dengue", "22945", 11) in planted and ("hfmd", "24778", 9) in planted
        coverage = s.scalar(select(Indicator).where(Indicator.code == "HEALTH_FULL_IMMUNISATION"))
        assert coverage is not None
        assert s.scalar(
            select(func.count(Value.id)).where(Value.indicator_id == coverage.id)
        ) == 9 * (today.month - 1)  # this year up to last month
        # the engine's own demo catalogue is loaded too (it loads only into an empty one)
        assert s.scalar(select(Indicator.id).where(Indicator.code == "GRDP_GROWTH")) is not None
    with database.session() as s:
        seed_demo(s)  # only once
        assert s.scalar(select(func.count(CaseCount.id))) == 9 * 3 * 42
