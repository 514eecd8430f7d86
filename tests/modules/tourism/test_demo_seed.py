"""The tourism demo: places, upcoming events and two years of labelled monthly figures."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import func, select

from cityops.core import demo
from cityops.core.policy import system_principal
from cityops.modules.indicators.models import Value
from cityops.modules.tourism import MANIFEST
from cityops.modules.tourism.places import all_rows, features, upcoming
from cityops.modules.tourism.seed import seed_demo
from cityops.modules.tourism.stats import DOMESTIC, registered, year_stats


def _domestic_values(s, found) -> int:
    query = select(func.count(Value.id)).where(Value.indicator_id == found[DOMESTIC].id)
    return s.scalar(query) or 0


def test_demo_seed_loads_places_events_and_figures_quickly(database):
    started = time.perf_counter()
    with database.session() as s:  # one transaction, as `cityops demo` does it
        assert demo.seed(s, system_principal("test"), {"tourism": MANIFEST})
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"the core and tourism demo took {elapsed:.1f} s"
    today = date.today()
    months = 12 + today.month - 1  # last year in full, then this year up to last month
    with database.session() as s:
        rows = all_rows(s, None)
        kinds = [f["properties"]["kind"] for f in features(rows, ("name",))]
        assert kinds.count("attraction") == 6 and kinds.count("accommodation") == 3
        assert all(r.unit_id is not None for r in rows)
        events = upcoming(features(rows, ("name", "startDate", "endDate"), {"event"}), today)
        assert len(events) == 3  # the fourth is over
        found = registered(s)
        assert _domestic_values(s, found) == months
        assert all("minh họa" in (v.source or "") for v in s.scalars(select(Value)))
        stats = year_stats(s, system_principal("test"), "68", today.year, found)
        reported = [m for m in stats.months if m.total is not None]
        assert len(reported) == today.month - 1
        assert all(0 < (m.change_percent or 0) < 20 for m in reported)  # about +9 %
    with database.session() as s:
        seed_demo(s)  # only once
        assert _domestic_values(s, found) == months
