"""The one-stop counters, computed from hand-made dossiers with a frozen clock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cityops.core.config import PublicServicesSettings
from cityops.core.errors import CityOpsError
from cityops.core.policy import system_principal
from cityops.modules.public_services.clock import add_working_days
from cityops.modules.public_services.counters import counters
from cityops.modules.public_services.models import Dossier, MonthCount

from .conftest import MARCH, NOW, VN, dossier, load, local

SETTINGS = PublicServicesSettings()
SYSTEM = system_principal("test")


def figures(database, period="2026-03", unit="A1", agency=None, who=SYSTEM, now=NOW):
    """The counters as a plain dict of the one-stop figures."""
    with database.session() as s:
        return counters(s, who, SETTINGS, now, period, unit, agency).model_dump()


def test_march_counts_the_way_one_stop_offices_count(database, world):
    result = load(database, MARCH)
    assert (result.created, result.errors) == (9, [])
    c = figures(database)
    assert c["received"] == 5  # D4-D8
    assert c["carried_over"] == 2  # D2, D3: received in February, not finished by 1 March
    assert c["to_process"] == 7
    assert (c["processed"], c["processed_early"], c["processed_on_time"]) == (3, 1, 1)
    assert c["processed_late"] == 1  # D5 finished two days after its due time
    assert c["in_progress"] == 4
    assert c["in_progress_late"] == 1  # D3, due 6 March
    assert c["in_progress_near_late"] == 2  # D6 due today, D7 due tomorrow 08:30
    assert c["in_progress_not_due"] == 1  # D8
    assert c["on_time_rate"] == pytest.approx(66.67)
    assert c["online_rate"] == 60.0  # D7 offline, D8 by post


def test_the_province_adds_up_its_communes(database, world):
    load(database, MARCH)
    c = figures(database, unit="68")
    assert (c["received"], c["carried_over"], c["in_progress_late"]) == (6, 2, 2)
    b = figures(database, unit="B1")
    assert (b["received"], b["in_progress"], b["in_progress_late"]) == (1, 1, 1)


def test_an_agency_filter_counts_only_that_agencys_dossiers(database, world):
    load(database, MARCH)
    assert figures(database, unit="68", agency="MC-B")["received"] == 1
    assert figures(database, unit="68", agency="SXD")["to_process"] == 0


def test_a_past_month_is_counted_as_it_stood_at_its_end(database, world):
    load(database, MARCH)
    c = figures(database, period="2026-02")
    assert (c["received"], c["carried_over"], c["processed"]) == (3, 0, 1)
    assert c["processed_early"] == 1  # D1, two days before its due date
    # D2 and D3 were open at midnight 1 March (D2 finished later): neither was due yet.
    assert (c["in_progress"], c["in_progress_late"], c["in_progress_not_due"]) == (2, 0, 2)


def test_the_year_carries_nothing_over_and_counts_every_dossier(database, world):
    load(database, MARCH)
    c = figures(database, period="2026", unit="68")
    assert (c["received"], c["carried_over"], c["processed"], c["in_progress"]) == (9, 0, 4, 5)
    # D1 5d 2h, D2 7d 7h, D4 7d 2h, D5 9d 1h: 28.5 days over four dossiers.
    assert c["average_processing_days"] == pytest.approx(7.125, abs=0.006)


def test_sending_a_dossier_again_updates_it_and_moves_the_counts(database, world):
    load(database, MARCH)
    again = load(database, [MARCH[7] | {"status": "finished", "finished_at": NOW.isoformat()}])
    assert (again.created, again.updated, again.unchanged) == (0, 1, 0)
    same = load(database, [MARCH[0], MARCH[1]])
    assert (same.created, same.updated, same.unchanged) == (0, 0, 2)
    with database.session() as s:
        assert s.scalar(select(func.count(Dossier.id))) == 9
        assert s.scalar(select(func.sum(MonthCount.received))) == 9
    c = figures(database)
    assert (c["processed"], c["processed_early"], c["in_progress_not_due"]) == (4, 2, 0)


def test_a_dossier_repeated_inside_one_batch_is_stored_once(database, world):
    first = dossier("R1", local(2026, 3, 2, 8), local(2026, 3, 9, 17))
    later = first | {"status": "finished", "finished_at": local(2026, 3, 3, 8).isoformat()}
    result = load(database, [first, later])
    assert (result.created, result.updated) == (1, 0)
    assert figures(database)["processed"] == 1


def test_a_future_period_is_refused(database, world):
    with pytest.raises(CityOpsError) as err:
        figures(database, period="2026-05")
    assert err.value.code == "future_period"


def test_one_working_day_skips_the_weekend():
    friday_4pm = local(2026, 3, 13, 16)
    assert add_working_days(friday_4pm, 1, VN) == local(2026, 3, 16, 16)
    assert add_working_days(local(2026, 3, 14, 10), 1, VN) == local(2026, 3, 17, 0)


def test_near_late_working_days_skip_public_holidays_like_weekends():
    from datetime import UTC, datetime, timedelta, timezone

    tz = timezone(timedelta(hours=7))
    # Wednesday 29 April 2026, 10:00 in Vietnam; 30/4 and 1/5 are public holidays
    start = datetime(2026, 4, 29, 10, 0, tzinfo=tz)
    due = add_working_days(start, 1, tz)
    assert due == datetime(2026, 5, 4, 10, 0, tzinfo=tz).astimezone(UTC)  # the next Monday
    ordinary = add_working_days(datetime(2026, 5, 5, 10, 0, tzinfo=tz), 1, tz)
    assert ordinary == datetime(2026, 5, 6, 10, 0, tzinfo=tz).astimezone(UTC)
