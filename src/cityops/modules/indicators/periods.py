"""Reporting periods: '2026-10' (month), '2026-Q3' (quarter), '2026' (year)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cityops.core.errors import InvalidInput
from cityops.modules.indicators.choices import Frequency

_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), Frequency.monthly),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), Frequency.quarterly),
    (re.compile(r"^(\d{4})$"), Frequency.yearly),
)
_MONTHS_PER = {Frequency.monthly: 1, Frequency.quarterly: 3, Frequency.yearly: 12}


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: its year, its frequency and its number within the year (1-based)."""

    year: int
    frequency: Frequency
    number: int = 1

    def __str__(self) -> str:
        if self.frequency is Frequency.monthly:
            return f"{self.year}-{self.number:02d}"
        if self.frequency is Frequency.quarterly:
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def last_month(self) -> int:
        """The last month (1-12) the period covers."""
        return self.number * _MONTHS_PER[self.frequency]

    @property
    def share_of_year(self) -> float:
        """The part of the year elapsed at the end of the period (for pro-rata targets)."""
        return self.last_month / 12

    def as_frequency(self, frequency: Frequency | str) -> Period:
        """Return the latest period of a frequency complete by the end of this one."""
        freq = Frequency(frequency)
        number = self.last_month // _MONTHS_PER[freq]
        if number == 0:
            return Period(self.year - 1, freq, 12 // _MONTHS_PER[freq])
        return Period(self.year, freq, number)

    def next(self) -> Period:
        """Return the following period of the same frequency."""
        per_year = 12 // _MONTHS_PER[self.frequency]
        if self.number < per_year:
            return Period(self.year, self.frequency, self.number + 1)
        return Period(self.year + 1, self.frequency, 1)

    def year_to_date(self) -> list[Period]:
        """Return the periods of the same frequency from January up to this one."""
        return [Period(self.year, self.frequency, n) for n in range(1, self.number + 1)]

    def deadline(self, day: int) -> date:
        """Return the date the value is due: `day` of the month after the period."""
        year, month = (
            (self.year + 1, 1) if self.last_month == 12 else (self.year, self.last_month + 1)
        )
        return date(year, month, min(max(day, 1), 28))


def parse(text: str) -> Period:
    """Read a period ('2026-10', '2026-Q3', '2026'); raise InvalidInput if malformed."""
    text = str(text).strip()
    for pattern, frequency in _PATTERNS:
        match = pattern.match(text)
        if match:
            year = int(match.group(1))
            number = int(match.group(2)) if frequency is not Frequency.yearly else 1
            if frequency is Frequency.monthly and not 1 <= number <= 12:
                break
            return Period(year, frequency, number)
    raise InvalidInput(
        f"Bad period {text!r}: use 'YYYY-MM', 'YYYY-Qn' or 'YYYY'", code="invalid_period"
    )


def parse_for(text: str, frequency: str) -> Period:
    """Read a period and require the indicator's frequency."""
    period = parse(text)
    if period.frequency != frequency:
        raise InvalidInput(
            f"Period {text!r} is not {frequency} (the indicator's frequency)",
            code="wrong_frequency",
        )
    return period


def span(start: Period, end: Period) -> list[Period]:
    """Return the periods from start to end inclusive (at most 240)."""
    out: list[Period] = []
    current = start
    while current <= end and len(out) < 240:
        out.append(current)
        current = current.next()
    return out


def last_due(frequency: str, today: date, deadline_day: int) -> Period:
    """Return the latest period of a frequency whose deadline is on or before `today`."""
    period = Period(today.year, Frequency.monthly, today.month).as_frequency(frequency)
    while period.deadline(deadline_day) > today:
        period = _previous(period)
    return period


def _previous(period: Period) -> Period:
    if period.number > 1:
        return Period(period.year, period.frequency, period.number - 1)
    per_year = 12 // _MONTHS_PER[period.frequency]
    return Period(period.year - 1, period.frequency, per_year)
