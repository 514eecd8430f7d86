"""Service levels in working hours, with a frozen clock: calendar, due times, deadline check."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from cityops.modules.field_reports import service, workflow
from cityops.modules.field_reports.calendar import (
    HOLIDAYS_FILE,
    WorkingCalendar,
    calendar_for,
    load_holidays,
)
from cityops.modules.field_reports.events import take
from cityops.modules.field_reports.models import Report, StatusChange
from cityops.modules.field_reports.sla import check_deadlines

from .conftest import MONDAY_0900, report_input

VN = timezone(timedelta(hours=7))


def local(*args: int) -> datetime:
    """A Vietnam local time as an aware datetime."""
    return datetime(*args, tzinfo=VN)


def test_sla_counts_only_working_hours_and_skips_tet(settings):
    cal = calendar_for(settings.field_reports)
    friday_before_tet = local(2026, 2, 13, 16, 0)
    due = cal.add_hours(friday_before_tet, 2)
    # one hour on Friday; the weekend, Tết (16-20 Feb) and the next weekend do not count
    assert due == local(2026, 2, 23, 8, 30)
    assert cal.hours_between(friday_before_tet, due) == 2
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(16, 21))


def test_lunch_break_nights_and_weekends_do_not_count(settings):
    cal = calendar_for(settings.field_reports)
    assert cal.add_hours(local(2026, 3, 2, 11, 0), 1) == local(2026, 3, 2, 14, 0)
    assert cal.add_hours(local(2026, 3, 6, 16, 30), 1) == local(2026, 3, 9, 8, 0)
    assert cal.add_hours(local(2026, 3, 7, 10, 0), 0.5) == local(2026, 3, 9, 8, 0)
    assert cal.hours_between(local(2026, 3, 2, 7, 30), local(2026, 3, 2, 17, 0)) == 7.5
    assert cal.hours_between(local(2026, 3, 2, 12, 0), local(2026, 3, 2, 13, 0)) == 0


def test_holiday_table_covers_2025_to_2027_and_states_its_sources():
    years = {h.day.year for h in load_holidays()}
    assert years == {2025, 2026, 2027}
    header = HOLIDAYS_FILE.read_text(encoding="utf-8").split("date,name_vi")[0]
    assert "Sources" in header and "Labour Code 2019" in header and "Hồ Ngọc Đức" in header
    names = {h.name_en for h in load_holidays()}
    assert {"Lunar New Year (Tết)", "Hùng Kings' Commemoration Day", "National Day"} <= names


def test_swapped_saturday_is_worked_and_the_swapped_friday_is_not(settings):
    cal = calendar_for(settings.field_reports)
    assert cal.is_working_day(date(2025, 4, 26))
    assert not cal.is_working_day(date(2025, 5, 2))
    assert not cal.is_working_day(date(2025, 4, 7))  # Hùng Kings 2025


def test_fixed_date_holidays_apply_in_years_the_table_does_not_cover():
    cal = WorkingCalendar([(time(8), time(12))], [1, 2, 3, 4, 5], VN, load_holidays())
    assert not cal.is_working_day(date(2030, 4, 30))
    assert not cal.is_working_day(date(2030, 9, 2))
    assert cal.is_working_day(date(2030, 4, 29))


def test_working_hours_come_from_the_settings(settings):
    custom = settings.field_reports.model_copy(update={"work_periods": "08:00-12:00,13:00-17:00"})
    cal = calendar_for(custom)
    assert cal.hours_between(local(2026, 3, 2, 0, 0), local(2026, 3, 3, 0, 0)) == 8


def _assigned(database, rt, world, point=None, urgency=None):
    """Submit and verify a report at the runtime's time; return its id."""
    with database.session() as s:
        kwargs = {"lat": point[0], "lon": point[1]} if point else {}
        report, _ = service.create_report(
            s, rt, world.principal("operator"), report_input(**kwargs), "staff"
        )
        workflow.verify(s, rt, world.principal("operator"), report, urgency=urgency)
        take(s)
        return report.id


def test_due_times_follow_the_category_and_the_urgency(database, rt, world):
    with database.session() as s:
        normal = s.get(Report, _assigned(database, rt, world))
        assert normal.accept_due_at == local(2026, 3, 3, 9, 30)  # 8 working hours
        assert normal.due_at == local(2026, 3, 4, 9, 0)  # the category's 15 working hours
    with database.session() as s:
        urgent = s.get(Report, _assigned(database, rt, world, urgency="urgent"))
        assert urgent.due_at == local(2026, 3, 2, 15, 0)  # 4 working hours, lunch excluded
    with database.session() as s:
        complex_ = s.get(Report, _assigned(database, rt, world, urgency="complex"))
        assert rt.calendar.hours_between(MONDAY_0900, complex_.due_at) == 30


def _check(database, rt, at):
    with database.session() as s:
        events = check_deadlines(s, rt.at(at))
        take(s)
        return [(e.name.split(".")[1], e.deadline) for e in events]


def test_deadline_check_warns_once_then_reports_overdue_once(database, rt, world):
    _assigned(database, rt, world)
    assert _check(database, rt, local(2026, 3, 2, 16, 0)) == []
    assert _check(database, rt, local(2026, 3, 3, 8, 0)) == [("near_due", "accept")]
    assert _check(database, rt, local(2026, 3, 3, 8, 30)) == []
    assert _check(database, rt, local(2026, 3, 3, 10, 0)) == [("overdue", "accept")]
    assert _check(database, rt, local(2026, 3, 4, 7, 45)) == [("near_due", "resolve")]
    assert _check(database, rt, local(2026, 3, 4, 9, 1)) == [("overdue", "resolve")]
    assert _check(database, rt, local(2026, 3, 5, 9, 0)) == []


def test_a_deadline_after_the_weekend_is_warned_on_friday_afternoon(database, rt, world):
    friday = rt.at(local(2026, 3, 6, 14, 0))  # urgent: 4 working hours, due on Monday
    report_id = _assigned(database, friday, world, urgency="urgent")
    with database.session() as s:
        due = s.get(Report, report_id).due_at
    check = local(2026, 3, 6, 16, 45)
    assert due - check > timedelta(days=2)  # far away on the clock, close in working hours
    assert rt.calendar.hours_between(check, due) <= rt.fr.near_due_hours
    assert ("near_due", "resolve") in _check(database, rt, check)
    assert ("overdue", "resolve") in _check(database, rt, due + timedelta(minutes=1))
    assert ("overdue", "resolve") not in _check(database, rt, due + timedelta(days=1))


def test_resolution_records_working_hours_and_whether_it_was_on_time(database, rt, world):
    report_id = _assigned(database, rt, world)
    staff = world.principal("ward_a_staff")
    with database.session() as s:
        report = s.get(Report, report_id)
        workflow.accept(s, rt.at(local(2026, 3, 2, 10, 0)), staff, report, None)
        workflow.start(s, rt.at(local(2026, 3, 2, 10, 0)), staff, report, None)
        workflow.resolve(s, rt.at(local(2026, 3, 3, 8, 30)), staff, report, "Đã vá ổ gà")
        take(s)
        assert report.handling_hours == 7.0  # Monday 09:00-17:00 less lunch, Tuesday 07:30-08:30
        assert report.on_time is True


def test_a_resolved_report_nobody_rates_is_closed_after_n_days(database, rt, world):
    report_id = _assigned(database, rt, world)
    staff = world.principal("ward_a_staff")
    with database.session() as s:
        report = s.get(Report, report_id)
        for step in (workflow.accept, workflow.start):
            step(s, rt, staff, report, None)
        workflow.resolve(s, rt, staff, report, "Đã vá")
        take(s)
    _check(database, rt, MONDAY_0900 + timedelta(days=6))
    with database.session() as s:
        assert s.get(Report, report_id).status == "resolved"
    _check(database, rt, MONDAY_0900 + timedelta(days=7, minutes=1))
    with database.session() as s:
        assert s.get(Report, report_id).status == "closed"
        last = s.scalars(select(StatusChange).order_by(StatusChange.id.desc())).first()
        assert last.action == "auto_close" and last.actor == "system:0:field_reports.deadlines"


def test_the_deadline_job_is_registered_with_the_core_and_runs(client, world):
    job = client.app.state.registry.intake_jobs["field_reports.deadlines"]
    assert job.interval_s == 300
    client.portal.call(job.run)  # real clock: nothing is due, nothing breaks
