"""The working calendar: office hours on working days, minus Vietnamese public holidays.

Shared by every module that counts deadlines in working time (field-report SLAs, the
near-late window of public-service dossiers).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path

HOLIDAYS_FILE = Path(__file__).resolve().parent.parent / "data" / "holidays_vn.csv"
OFFICE_DAYS = (1, 2, 3, 4, 5)  # Monday to Friday
# Statutory fixed-date holidays, applied by rule in years the table does not cover.
FIXED_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 2))
MAX_DAYS = 3700  # about ten years: no due time is further away


@dataclass(frozen=True)
class Holiday:
    """A day off (or a swapped working day) from the holiday table."""

    day: date
    name_vi: str
    name_en: str
    kind: str
    status: str


@lru_cache
def load_holidays(path: Path = HOLIDAYS_FILE) -> tuple[Holiday, ...]:
    """Read the holiday table (CSV with '#' comment lines)."""
    with path.open(encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if line.strip() and not line.startswith("#"))
        return tuple(
            Holiday(
                date.fromisoformat(r["date"]), r["name_vi"], r["name_en"], r["kind"], r["status"]
            )
            for r in rows
        )


def parse_periods(text: str) -> tuple[tuple[time, time], ...]:
    """Parse 'HH:MM-HH:MM,...' into ordered, non-overlapping (start, end) pairs."""
    periods: list[tuple[time, time]] = []
    for part in text.split(","):
        start_s, end_s = part.strip().split("-")
        start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
        if end <= start or (periods and start < periods[-1][1]):
            raise ValueError(f"working periods must be ordered and not overlap: {text!r}")
        periods.append((start, end))
    return tuple(periods)


class WorkingCalendar:
    """Counts and adds working hours between instants."""

    def __init__(
        self,
        periods: Iterable[tuple[time, time]],
        work_days: Iterable[int],
        tz: tzinfo,
        holidays: Iterable[Holiday] = (),
    ) -> None:
        self.periods = tuple(periods)
        self.work_days = frozenset(work_days)
        self.tz = tz
        holidays = tuple(holidays)
        self.days_off = {h.day for h in holidays if h.kind != "swap_workday"}
        self.extra_workdays = {h.day for h in holidays if h.kind == "swap_workday"}
        self.table_years = {h.day.year for h in holidays}

    def is_working_day(self, day: date) -> bool:
        """Say whether offices work on this day."""
        if day in self.extra_workdays:
            return True
        if day in self.days_off:
            return False
        if day.year not in self.table_years and (day.month, day.day) in FIXED_HOLIDAYS:
            return False
        return day.isoweekday() in self.work_days

    def day_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return the working periods of a day as aware datetimes (empty on a day off)."""
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz))
            for a, b in self.periods
        ]

    def add_hours(self, start: datetime, hours: float) -> datetime:
        """Return the instant `hours` working hours after `start` (in UTC)."""
        remaining = timedelta(hours=hours)
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(MAX_DAYS):
            for a, b in self.day_periods(day):
                if b <= local:
                    continue
                begin = max(a, local)
                if remaining <= b - begin:
                    return (begin + remaining).astimezone(UTC)
                remaining -= b - begin
            day += timedelta(days=1)
        raise ValueError("no working time found within ten years; check the calendar settings")

    def hours_between(self, start: datetime, end: datetime) -> float:
        """Count the working hours from `start` to `end` (0 when end is not after start)."""
        if end <= start:
            return 0.0
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = timedelta()
        day = local_start.date()
        while day <= local_end.date():
            for a, b in self.day_periods(day):
                overlap = min(b, local_end) - max(a, local_start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds() / 3600


@lru_cache(maxsize=16)
def calendar_of(periods: str, days: tuple[int, ...], offset: float) -> WorkingCalendar:
    """Return (cached) the calendar of these office hours, days and UTC offset (hours)."""
    tz = timezone(timedelta(hours=offset))
    return WorkingCalendar(parse_periods(periods), days, tz, load_holidays())
