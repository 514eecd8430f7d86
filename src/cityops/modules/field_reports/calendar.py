"""The field reports' working calendar: the shared one (core/workcalendar.py) with this
module's office hours, working days and UTC offset settings."""

from __future__ import annotations

from cityops.core.config import FieldReportsSettings
from cityops.core.workcalendar import (
    HOLIDAYS_FILE,
    Holiday,
    WorkingCalendar,
    calendar_of,
    load_holidays,
    parse_periods,
)

__all__ = [
    "HOLIDAYS_FILE",
    "Holiday",
    "WorkingCalendar",
    "calendar_for",
    "load_holidays",
    "parse_periods",
]


def calendar_for(settings: FieldReportsSettings) -> WorkingCalendar:
    """Return the working calendar the settings describe (cached)."""
    return calendar_of(settings.work_periods, tuple(settings.work_days), settings.utc_offset_hours)
