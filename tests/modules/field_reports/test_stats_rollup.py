"""The daily statistics rollup agrees exactly with counting the reports themselves."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from cityops.core.errors import CityOpsError
from cityops.core.policy import system_principal
from cityops.modules.field_reports import rollup, service, workflow
from cityops.modules.field_reports.events import take
from cityops.modules.field_reports.models import DailyStat, Report
from cityops.modules.field_reports.stats import GROUPS, _all_figures, _figures, compute
from cityops.modules.field_reports.workflow import S

from .conftest import DA_LAT, MUI_NE, PHU_THUY, report_input

POINTS = (MUI_NE, PHU_THUY, DA_LAT)
HANDLERS = {"SXD": "dept_staff", "UBND-MUINE": "ward_a_staff", "UBND-PHUTHUY": "ward_b_staff"}
FAMILIES = ("overdue", "received", "processed", "ratings")


def _step(s, rt, world, rng, report: Report | None) -> None:
    """Run one random step of a report's life (or submit a new one)."""
    operator = world.principal("operator")
    if report is None:
        data = report_input(rng.choice(POINTS))
        service.create_report(s, rt, operator, data, "staff")
        return
    handler_of = {world.dept.id: "SXD", world.ward_a_office.id: "UBND-MUINE"}
    handler_of[world.ward_b_office.id] = "UBND-PHUTHUY"
    handler = world.principal(HANDLERS[handler_of.get(report.agency_id, "SXD")])
    waiting = select(Report).where(Report.id != report.id, Report.status == S.received)
    others = list(s.scalars(waiting.order_by(Report.id)))
    steps = {
        S.received: [
            lambda: workflow.verify(s, rt, operator, report),
            lambda: service.update_report(s, rt, operator, report, _moved(rng.choice(POINTS))),
            lambda: workflow.reject(
                s,
                rt,
                operator,
                report,
                S.duplicate,
                "Trùng",
                rng.choice(others) if others else None,
            ),
        ],
        S.verified: [lambda: workflow.assign(s, rt, operator, report, "SXD", "Giao sở")],
        S.assigned: [
            lambda: workflow.accept(s, rt, handler, report, None),
            lambda: workflow.assign(s, rt, operator, report, rng.choice(list(HANDLERS)), "Đổi"),
        ],
        S.returned: [lambda: workflow.assign(s, rt, operator, report, "UBND-MUINE", "Lại")],
        S.accepted: [lambda: workflow.start(s, rt, handler, report, None)],
        S.in_progress: [lambda: workflow.resolve(s, rt, handler, report, "Đã xử lý")],
        S.resolved: [
            lambda: workflow.rate(
                s, rt, system_principal("citizen"), report, rng.randint(1, 5), None
            ),
            lambda: workflow.reopen_by_staff(s, rt, operator, report, "Chưa xong"),
            lambda: workflow.close(s, rt, operator, report, None),
        ],
        S.closed: [
            lambda: workflow.reopen_by_staff(s, rt, operator, report, "Vẫn còn"),
            lambda: workflow.rate(
                s, rt, system_principal("citizen"), report, rng.randint(1, 5), None
            ),
        ],
    }.get(report.status, [])
    if steps:
        rng.choice(steps)()


def _moved(point):
    from cityops.modules.field_reports.schemas import ReportUpdate

    return ReportUpdate(lat=point[0], lon=point[1])


@pytest.fixture
def busy_fortnight(database, rt, world):
    """Two weeks of random submissions, steps, moves, reassignments, merges, ratings, reopenings."""
    rng, now = random.Random(2026), rt.now
    for _ in range(260):
        now += timedelta(minutes=rng.randint(5, 240))
        with database.session() as s:
            ids = list(s.scalars(select(Report.id).order_by(Report.id)))
            report = s.get(Report, rng.choice(ids)) if ids and rng.random() < 0.75 else None
            try:
                _step(s, rt.at(now), world, rng, report)
            except CityOpsError:
                s.rollback()
            take(s)
    return rt.at(now + timedelta(hours=5))


def _raw(s, rt, principal, by, start, end):
    groups = {}
    _figures(s, rt, principal, by, (start, end), FAMILIES, groups)
    return groups


def test_rollup_rows_equal_a_rebuild_from_the_reports(database, busy_fortnight):
    with database.session() as s:
        assert s.scalar(select(Report.id).where(Report.rated_at.is_not(None)).limit(1))
        assert s.scalar(select(Report.id).where(Report.reopen_count > 0).limit(1))
        assert s.scalar(select(Report.id).where(Report.status == S.duplicate).limit(1))
        kept = _rows(s)
        rollup.rebuild(s.connection())
        rebuilt = _rows(s)
    assert kept == rebuilt


def _rows(s):
    rows = {}
    for row in s.execute(select(DailyStat.__table__)):
        figures = tuple(round(v, 6) for v in row[3:])
        if any(figures):
            rows[row[:3]] = figures
    return rows


@pytest.mark.parametrize("by", GROUPS)
def test_statistics_from_the_rollup_equal_counting_the_reports(database, busy_fortnight, world, by):
    rt, operator = busy_fortnight, world.principal("operator")
    spans = [
        (rt.now - timedelta(days=90), rt.now),  # the default period, ends mid-day
        (rt.now - timedelta(days=9, hours=3), rt.now - timedelta(days=2, minutes=7)),
        (datetime.fromisoformat("2026-03-03T00:00:00+07:00"), rt.now),  # starts at midnight
    ]
    with database.session() as s:
        for start, end in spans:
            fast = _all_figures(s, rt, operator, by, start, end)
            raw = _raw(s, rt, operator, by, start, end)
            _same(fast, raw)
        table = compute(s, rt, operator, by)
    assert table.total.received == 0 or table.rows


def _any(tally) -> bool:
    return bool(tally.received or tally.processed or tally.ratings or tally.overdue)


def _same(fast, raw) -> None:
    """Assert equal figures (the float sum of hours, added in another order, to 1e-6)."""
    keys = {k for k, v in fast.items() if _any(v)} | {k for k, v in raw.items() if _any(v)}
    for key in keys:
        a, b = vars(fast[key]).copy(), vars(raw[key]).copy()
        assert a.pop("hours") == pytest.approx(b.pop("hours"))
        assert a == b, key


def test_scoped_callers_get_the_same_figures_counted_from_the_reports(
    database, busy_fortnight, world
):
    rt = busy_fortnight
    with database.session() as s:
        for who in ("ward_operator", "ward_b_staff", "leader"):
            principal = world.principal(who)
            start = rt.now - timedelta(days=30)
            fast = compute(s, rt, principal, "agency", start, rt.now)
            raw = _raw(s, rt, principal, "agency", start, rt.now)
            assert fast.total.received == sum(t.received for t in raw.values())
            assert fast.total.processed == sum(t.processed for t in raw.values())
            assert fast.total.ratings == sum(t.ratings for t in raw.values())


def test_a_bulk_load_is_counted_after_a_rebuild(database, rt, world, client):
    with database.session() as s:
        report, _ = service.create_report(
            s, rt, world.principal("operator"), report_input(), "staff"
        )
        s.connection().execute(DailyStat.__table__.delete())
    response = client.post("/api/field-reports/stats/rebuild", headers=world.headers["operator"])
    assert response.status_code == 403
    response = client.post("/api/field-reports/stats/rebuild", headers=world.headers["admin"])
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 3  # one day under its category, agency and unit
    with database.session() as s:
        table = compute(s, rt.at(rt.now + timedelta(days=2)), world.principal("operator"))
    assert table.total.received == 1
