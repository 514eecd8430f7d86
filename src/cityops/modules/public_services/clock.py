"""Local days and working days: counters follow the province's calendar, not UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache

from cityops.core.config import PublicServicesSettings
from cityops.core.workcalendar import OFFICE_DAYS, WorkingCalendar, load_holidays


def local_tz(settings: PublicServicesSettings) -> tzinfo:
    """Return the fixed-offset local time zone of the settings."""
    return timezone(timedelta(hours=settings.utc_offset_hours))


def as_utc(value: datetime, tz: tzinfo) -> datetime:
    """Read a timestamp as local time when it has no offset; return it in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def local_day(value: datetime, tz: tzinfo) -> date:
    """Return the local calendar day of an instant."""
    return value.astimezone(tz).date()


def day_start(day: date, tz: tzinfo) -> datetime:
    """Return local midnight of a day, in UTC."""
    return datetime.combine(day, time(), tz).astimezone(UTC)


@lru_cache(maxsize=8)
def _office_days(tz: tzinfo) -> WorkingCalendar:
    """Which days offices work (Monday-Friday, minus public holidays, plus swapped days)."""
    return WorkingCalendar((), OFFICE_DAYS, tz, load_holidays())


def add_working_days(start: datetime, days: float, tz: tzinfo) -> datetime:
    """Return the instant `days` working days (whole days; weekends and public holidays do
    not count) after `start`."""
    office = _office_days(tz)
    local = start.astimezone(tz)
    remaining = timedelta(days=days)
    for _ in range(10_000):
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), tz)
        if not office.is_working_day(local.date()):
            local = midnight
            continue
        if local + remaining <= midnight:
            return (local + remaining).astimezone(UTC)
        remaining -= midnight - local
        local = midnight
    raise ValueError("near-due window too long")
