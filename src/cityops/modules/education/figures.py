"""Yearly figures per school: put one, import many with per-row errors, list in scope."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.context.models import ContextEntity
from cityops.core.audit import record, snapshot
from cityops.core.errors import CityOpsError, Forbidden, InvalidInput
from cityops.core.policy import Perm, Principal, can, scope_filter
from cityops.core.units.models import Unit
from cityops.modules.education import schools
from cityops.modules.education.models import SchoolYear
from cityops.modules.education.schemas import FiguresPublic, FiguresPut
from cityops.modules.sector import ImportResult, RowError, row_error

_YEAR = re.compile(r"^(\d{4})(?:\s*[-/]\s*(\d{4}))?$")
NUMBERS = (
    "pupils",
    "teachers",
    "classes",
    "new_entrants",
    "attendance_rate",
    "exam_candidates",
    "exam_passed",
)


def current_year(today: date | None = None) -> int:
    """Return the school year under way (it starts in September; from August counts)."""
    day = today or date.today()
    return day.year if day.month >= 8 else day.year - 1


def parse_year(text: object, today: date | None = None) -> int:
    """Read a school year '2025' or '2025-2026'; refuse malformed and future years."""
    raw = str(text or "").strip()
    match = _YEAR.match(raw)
    if not match or (match.group(2) and int(match.group(2)) != int(match.group(1)) + 1):
        raise InvalidInput(
            f"Bad school year {raw!r}: use '2025' or '2025-2026'", code="invalid_year"
        )
    year = int(match.group(1))
    if year > current_year(today):
        raise InvalidInput(f"School year {raw!r} has not started yet", code="future_period")
    return year


def writable(session: Session, principal: Principal, school: ContextEntity) -> int:
    """Return the school's unit id if the caller may report for it; raise Forbidden if not."""
    unit_id = school.unit_id
    path = session.scalar(select(Unit.path).where(Unit.id == unit_id)) if unit_id else None
    if unit_id is None or not can(principal, Perm.data_write, path):
        raise Forbidden("You may not report figures for this school", code="forbidden")
    return unit_id


def _check(data: FiguresPut) -> None:
    if (data.exam_passed or 0) > (data.exam_candidates or 0):
        raise InvalidInput("exam_passed is larger than exam_candidates", code="inconsistent")


def put(
    session: Session,
    principal: Principal,
    school: ContextEntity,
    year: int,
    data: FiguresPut,
    source: str,
) -> SchoolYear:
    """Store (or replace) a school's figures for a year; audited."""
    unit_id = writable(session, principal, school)
    _check(data)
    code = schools.code_of(school.entity_id)
    row = session.scalar(
        select(SchoolYear).where(SchoolYear.school_code == code, SchoolYear.year == year)
    )
    before = snapshot(row) if row else None
    if row is None:
        row = SchoolYear(school_code=code, year=year)
        session.add(row)
    for key, value in data.model_dump().items():
        setattr(row, key, value)
    row.unit_id, row.level = unit_id, schools.level_of(school)
    row.source, row.entered_by = source, principal.actor
    session.flush()
    record(
        session,
        principal,
        "education.figures_put",
        "edu_school_year",
        f"{code}/{year}",
        before=before,
        after=snapshot(row),
        unit_id=unit_id,
    )
    return row


def _numbers(row: dict[str, Any]) -> FiguresPut:
    """Build figures from raw cells: blank optional cells are None, text is an error."""
    values = {k: row.get(k) for k in NUMBERS if str(row.get(k) or "").strip() != ""}
    return FiguresPut.model_validate(values)


def import_rows(
    session: Session,
    principal: Principal,
    rows: list[tuple[int, dict[str, Any]]],
    source: str,
    today: date | None = None,
) -> ImportResult:
    """Check every row; store the good ones (one per school and year), report the bad ones."""
    good: list[tuple[ContextEntity, int, FiguresPut]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, int], int] = {}
    for number, row in rows:
        code = str(row.get("school_code") or "").strip()
        try:
            column = "school_code"
            school = schools.get(session, principal, code)
            writable(session, principal, school)
            column = "year"
            year = parse_year(row.get("year"), today)
            column = None
            data = _numbers(row)
            _check(data)
        except CityOpsError as err:
            errors.append(RowError(row=number, column=column, message=err.detail))
            continue
        except ValidationError as err:
            errors.append(row_error(number, err))
            continue
        if (code, year) in seen:
            message = f"Trùng trường và năm học với dòng {seen[(code, year)]} / duplicate"
            errors.append(RowError(row=number, column=None, message=message))
            continue
        seen[(code, year)] = number
        good.append((school, year, data))
    for school, year, data in good:
        put(session, principal, school, year, data, source)
    return ImportResult(imported=len(good), errors=errors)


def public(row: SchoolYear, unit_code: str) -> FiguresPublic:
    """Show stored figures."""
    return FiguresPublic(
        school_code=row.school_code,
        year=row.year,
        school_year=f"{row.year}-{row.year + 1}",
        unit_code=unit_code,
        level=row.level,
        pupils=row.pupils,
        teachers=row.teachers,
        classes=row.classes,
        new_entrants=row.new_entrants,
        attendance_rate=row.attendance_rate,
        exam_candidates=row.exam_candidates,
        exam_passed=row.exam_passed,
        source=row.source,
        entered_by=row.entered_by,
        entered_at=row.entered_at,
    )


def list_figures(
    session: Session,
    principal: Principal,
    year: int | None,
    unit_code: str | None,
    school_code: str | None,
) -> list[FiguresPublic]:
    """Return stored figures in the caller's scope."""
    query = (
        select(SchoolYear, Unit.code)
        .join(Unit, Unit.id == SchoolYear.unit_id)
        .where(scope_filter(principal, Unit.path))
        .order_by(SchoolYear.year, Unit.code, SchoolYear.school_code)
    )
    if year is not None:
        query = query.where(SchoolYear.year == year)
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if school_code:
        query = query.where(SchoolYear.school_code == school_code)
    return [public(r, code) for r, code in session.execute(query)]
