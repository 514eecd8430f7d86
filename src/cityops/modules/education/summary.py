"""Totals and ratios of school figures by unit, level and year (ratios of sums, not means)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.errors import InvalidInput
from cityops.core.policy import Principal, scope_filter
from cityops.core.units.models import Unit
from cityops.modules.education.choices import LEVELS
from cityops.modules.education.models import SchoolYear
from cityops.modules.education.schemas import Summary, SummaryRow
from cityops.modules.indicators.aggregate import Tree
from cityops.modules.indicators.views import home_unit

GROUPINGS = ("unit", "level", "year")


@dataclass
class Totals:
    """Running sums over school-year rows."""

    schools: set[str] = field(default_factory=set)
    sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    attendance_weight: float = 0.0

    def add(self, row: SchoolYear) -> None:
        """Add one school's figures."""
        self.schools.add(row.school_code)
        for key in ("pupils", "teachers", "classes", "new_entrants"):
            self.sums[key] += getattr(row, key) or 0
        if row.exam_candidates is not None:
            self.sums["exam_candidates"] += row.exam_candidates
            self.sums["exam_passed"] += row.exam_passed or 0
        if row.attendance_rate is not None:
            self.sums["attendance"] += row.attendance_rate * row.pupils
            self.attendance_weight += row.pupils

    def row(self, key: str, label: str) -> SummaryRow:
        """Show the totals with their ratios."""
        s = self.sums

        def ratio(a: float, b: float, scale: float = 1.0) -> float | None:
            return round(scale * a / b, 2) if b else None

        return SummaryRow(
            key=key,
            label=label,
            schools=len(self.schools),
            pupils=int(s["pupils"]),
            teachers=int(s["teachers"]),
            classes=int(s["classes"]),
            new_entrants=int(s["new_entrants"]),
            pupils_per_teacher=ratio(s["pupils"], s["teachers"]),
            pupils_per_class=ratio(s["pupils"], s["classes"]),
            attendance_rate=ratio(s["attendance"], self.attendance_weight),
            exam_candidates=int(s["exam_candidates"]),
            exam_passed=int(s["exam_passed"]),
            pass_rate=ratio(s["exam_passed"], s["exam_candidates"], 100.0),
        )


def latest_year(session: Session, principal: Principal) -> int | None:
    """Return the latest school year with figures in the caller's scope."""
    return session.scalar(
        select(func.max(SchoolYear.year))
        .join(Unit, Unit.id == SchoolYear.unit_id)
        .where(scope_filter(principal, Unit.path))
    )


def _rows(
    session: Session, principal: Principal, unit: Unit, year: int | None, level: str | None
) -> Iterable[tuple[SchoolYear, str]]:
    query = (
        select(SchoolYear, Unit.path)
        .join(Unit, Unit.id == SchoolYear.unit_id)
        .where(scope_filter(principal, Unit.path), Unit.path.startswith(unit.path))
    )
    if year is not None:
        query = query.where(SchoolYear.year == year)
    if level:
        query = query.where(SchoolYear.level == level)
    return session.execute(query)


def summary(
    session: Session,
    principal: Principal,
    unit_code: str | None,
    year: int | None,
    by: str,
    level: str | None = None,
) -> Summary:
    """Return a unit's totals for a year (latest by default), by child unit, level or year."""
    if by not in GROUPINGS:
        raise InvalidInput(f"by must be one of {', '.join(GROUPINGS)}", code="invalid_grouping")
    unit = home_unit(session, principal, unit_code)
    if year is None and by != "year":
        year = latest_year(session, principal)
    tree = Tree.load(session, unit) if by == "unit" else None
    kids = [tree.units[k] for k in tree.children.get(unit.id, [])] if tree else []
    total, groups = Totals(), defaultdict(Totals)
    for row, path in _rows(session, principal, unit, year, level):
        total.add(row)
        if by == "level":
            groups[row.level].add(row)
        elif by == "year":
            groups[str(row.year)].add(row)
        else:
            kid = next((k for k in kids if path.startswith(k.path)), None)
            if kid is not None:
                groups[kid.code].add(row)
    if by == "level":
        items = [groups[k].row(k, LEVELS[k].label_vi) for k in LEVELS if k in groups]
    elif by == "year":
        items = [groups[k].row(k, f"{k}-{int(k) + 1}") for k in sorted(groups)]
    else:
        items = [groups[k.code].row(k.code, k.name) for k in kids if k.code in groups]
    return Summary(
        unit_code=unit.code, year=year, by=by, total=total.row(unit.code, unit.name), items=items
    )
