"""The demo data: seven categories and a few hundred reports that look like a real quarter."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from cityops.core import demo
from cityops.core.policy import system_principal
from cityops.modules.field_reports import MANIFEST
from cityops.modules.field_reports.models import Category, Report
from cityops.modules.field_reports.seed import seed_demo


def test_demo_seed_makes_a_few_hundred_plausible_reports(database, settings):
    with database.session() as s:
        demo.seed(s, system_principal("test"), {})  # the core demo only
    with database.session() as s:
        assert MANIFEST.seed_demo is not None
        made = seed_demo(s, settings)
    assert made >= 250
    with database.session() as s:
        codes = set(s.scalars(select(Category.code)))
        assert codes == {
            "PA-DUONG",
            "PA-RAC",
            "PA-NGAP",
            "PA-DEN",
            "PA-XAYDUNG",
            "PA-TIENGON",
            "PA-TTDT",
        }
        statuses = Counter(s.scalars(select(Report.status)))
        assert {"closed", "resolved", "in_progress", "received"} <= set(statuses)
        assert statuses["closed"] > made / 3
        resolved = s.scalars(select(Report).where(Report.handling_hours.is_not(None))).all()
        on_time = sum(1 for r in resolved if r.on_time) / len(resolved)
        assert 0.6 < on_time < 0.98
        assert s.scalar(select(func.avg(Report.rating))) > 3
        assert s.scalar(select(func.count()).where(Report.agency_id.is_(None))) < made / 4
    with database.session() as s:
        assert seed_demo(s, settings) == 0  # only once
