"""ISO weeks: '2026-W45' (or a date in the week) <-> the week's Monday."""

from __future__ import annotations

import re
from datetime import date, timedelta

from cityops.core.errors import InvalidInput

_WEEK = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")


def parse_week(text: object, today: date | None = None) -> date:
    """Return the Monday of an ISO week given as 'YYYY-Www' or a date; no future weeks."""
    raw = str(text or "").strip()
    match = _WEEK.match(raw)
    try:
        if match:
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        else:
            day = date.fromisoformat(raw)
            monday = day - timedelta(days=day.weekday())
    except ValueError as err:
        raise InvalidInput(
            f"Bad week {raw!r}: use 'YYYY-Www' (e.g. 2026-W45) or a date", code="invalid_week"
        ) from err
    if monday > (today or date.today()):
        raise InvalidInput(f"Week {raw!r} has not started yet", code="future_period")
    return monday


def week_label(monday: date) -> str:
    """Name the ISO week of a date, e.g. '2026-W45'."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_back(monday: date, count: int) -> date:
    """Return the Monday `count` weeks earlier."""
    return monday - timedelta(weeks=count)
