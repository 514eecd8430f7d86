"""The demo data: seven categories and a year of reports that look like a real province."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import timedelta, timezone

from sqlalchemy import func, select

from cityops.core import demo
from cityops.core.policy import system_principal
from cityops.modules.field_reports import MANIFEST
from cityops.modules.field_reports.choices import Status
from cityops.modules.field_reports.models import Category, Follower, Report, StatusChange
from cityops.modules.field_reports.seed import seed_demo
from cityops.modules.field_reports.workflow import TRANSITIONS

VN = timezone(timedelta(hours=7))


def _seed(database, settings) -> tuple[int, float]:
    with database.session() as s:
        demo.seed(s, system_principal("test"), {})  # the core demo only
    started = time.perf_counter()
    with database.session() as s:
        assert MANIFEST.seed_demo is not None
        made = seed_demo(s, settings)
    return made, time.perf_counter() - started


def test_demo_seed_makes_a_plausible_year_of_reports_quickly(database, settings):
    made, seconds = _seed(database, settings)
    assert 5000 <= made <= 9000  # 15-25 a day
    assert seconds < 60  # about 10 s on a quiet laptop; generous for a loaded CI machine
    with database.session() as s:
        codes = set(s.scalars(select(Category.code)))
        assert codes == {"PA-DUONG", "PA-RAC", "PA-NGAP", "PA-DEN", "PA-XAYDUNG"} | {
            "PA-TIENGON",
            "PA-TTDT",
        }
        statuses = Counter(s.scalars(select(Report.status)))
        assert {"closed", "resolved", "in_progress", "received", "duplicate", "spam"} <= set(
            statuses
        )
        assert statuses["closed"] > made / 2
        resolved = s.scalars(select(Report.on_time).where(Report.handling_hours.is_not(None)))
        flags = list(resolved)
        assert 0.6 < sum(1 for f in flags if f) / len(flags) < 0.98
        assert 3 < s.scalar(select(func.avg(Report.rating))) < 4.6
        assert s.scalar(select(func.count()).where(Report.agency_id.is_(None))) < made / 4
    with database.session() as s:
        assert seed_demo(s, settings) == 0  # only once


def test_demo_flooding_peaks_in_the_rainy_season_and_towns_get_most_reports(database, settings):
    _seed(database, settings)
    with database.session() as s:
        flood = s.scalar(select(Category.id).where(Category.code == "PA-NGAP"))
        rows = s.execute(select(Report.created_at, Report.category_id, Report.address)).all()
    by_month = Counter(at.astimezone(VN).month for at, cat, _ in rows if cat == flood)
    rainy = by_month[8] + by_month[9] + by_month[10]
    dry = by_month[1] + by_month[2] + by_month[3]
    assert rainy > 4 * dry
    towns = sum(1 for *_, address in rows if "Phan Thiết" in address or "Đà Lạt" in address)
    assert towns > len(rows) / 2


def test_demo_history_follows_the_state_machine_to_each_report_status(database, settings):
    _seed(database, settings)
    with database.session() as s:
        status_of = {i: st for i, st in s.execute(select(Report.id, Report.status))}
        steps = defaultdict(list)
        query = select(StatusChange).order_by(
            StatusChange.report_id, StatusChange.at, StatusChange.id
        )
        for row in s.scalars(query):
            steps[row.report_id].append(row)
        followers = s.scalar(select(func.count()).select_from(Follower))
        merged = s.scalar(select(func.count()).where(Report.duplicate_of_id.is_not(None)))
    assert set(steps) == set(status_of)
    for report_id, history in steps.items():
        moves = [h for h in history if h.action != "merge"]
        assert moves[0].action == "submit" and moves[0].to_status == Status.received
        for before, after in zip(moves, moves[1:], strict=False):
            assert after.from_status == before.to_status
            assert after.to_status in TRANSITIONS[before.to_status], (report_id, after.action)
        assert moves[-1].to_status == status_of[report_id]
    assert merged > 0 and followers == merged  # each merged reporter follows the main report
