"""Excel/CSV exchange with agencies: a template to fill, and an import that keeps good rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.auth.models import Agency
from cityops.core.errors import CityOpsError, InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize, can
from cityops.core.units.models import Unit
from cityops.modules.indicators.catalogue import list_indicators
from cityops.modules.indicators.models import Indicator
from cityops.modules.indicators.periods import parse, parse_for
from cityops.modules.indicators.schemas import ImportResult, RowError, ValuePut
from cityops.modules.indicators.values import store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = ("indicator_code", "indicator_name", "unit_code", "unit_name", "period", "value", "note")
REQUIRED = ("indicator_code", "unit_code", "period", "value")
HEADINGS_VI = ("Mã chỉ tiêu", "Tên chỉ tiêu", "Mã đơn vị", "Tên đơn vị", "Kỳ", "Giá trị", "Ghi chú")
Row = tuple[int, dict[str, Any]]


def template(session: Session, principal: Principal, agency_code: str, period: str) -> bytes:
    """Build the workbook an agency fills: one row per indicator it owns and unit it covers."""
    agency = session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise NotFound(f"No agency {agency_code!r}", code="unknown_agency")
    unit = session.get(Unit, agency.unit_id)
    assert unit is not None
    authorize(principal, Perm.data_read, unit.path)
    when = parse(period)
    units = [
        unit,
        *session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code)),
    ]
    indicators = [i for i in list_indicators(session) if i.agency_code == agency.code]
    book = Workbook()
    sheet = book.active
    sheet.title = "so_lieu"
    sheet.append(list(COLUMNS))
    sheet.append(list(HEADINGS_VI))
    for cell in [*sheet[1], *sheet[2]]:
        cell.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for indicator in indicators:
        own = when.as_frequency(indicator.frequency)
        for u in units:
            name = f"{indicator.name_vi} ({indicator.unit_of_measure})"
            sheet.append([indicator.code, name, u.code, u.name, str(own), None, None])
            sheet.cell(sheet.max_row, 6).fill = fill
    for column, width in zip("ABCDEFG", (16, 48, 12, 30, 10, 14, 30), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(header: list[Any], body: list[Row]) -> list[Row]:
    names = [str(h or "").strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InvalidInput(
            f"The first row must name the columns; missing: {', '.join(missing)}",
            code="missing_columns",
        )
    rows = []
    for number, cells in body:
        row = {n: cells[i] if i < len(cells) else None for i, n in enumerate(names) if n}
        if str(row.get("indicator_code") or "").strip().lower() == HEADINGS_VI[0].lower():
            continue  # the Vietnamese headings row of the template
        rows.append((number, row))
    return rows


def read_xlsx(content: bytes) -> list[Row]:
    """Read the first sheet of a workbook into numbered rows (row 1 names the columns)."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        lines = list(book.worksheets[0].iter_rows(values_only=True))
    except Exception as err:  # openpyxl raises many kinds for a bad file
        raise InvalidInput(f"Not a readable .xlsx workbook: {err}", code="bad_file") from err
    if not lines:
        raise InvalidInput("The workbook is empty", code="bad_file")
    return _table(list(lines[0]), [(n, list(c)) for n, c in enumerate(lines[1:], start=2)])


def read_csv(content: bytes) -> list[Row]:
    """Read a UTF-8 CSV (comma or semicolon) into numbered rows (row 1 names the columns)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput("The CSV file must be UTF-8", code="bad_file") from err
    sample = text[:2000]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    lines = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not lines:
        raise InvalidInput("The CSV file is empty", code="bad_file")
    return _table(lines[0], [(n, c) for n, c in enumerate(lines[1:], start=2)])


def _number(raw: Any) -> float:
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    return float(text)


def import_rows(session: Session, principal: Principal, rows: list[Row]) -> ImportResult:
    """Check every row, then store all good ones together; blank values are skipped."""
    indicators: dict[str, Indicator | None] = {}
    units: dict[str, Unit | None] = {}
    good: list[tuple[Indicator, Unit, ValuePut]] = []
    errors: list[RowError] = []
    skipped = 0

    def fail(number: int, column: str | None, message: str) -> None:
        errors.append(RowError(row=number, column=column, message=message))

    for number, row in rows:
        raw = row.get("value")
        if raw is None or str(raw).strip() == "":
            skipped += 1
            continue
        code = str(row.get("indicator_code") or "").strip()
        if code not in indicators:
            indicators[code] = session.scalar(select(Indicator).where(Indicator.code == code))
        indicator = indicators[code]
        if indicator is None:
            fail(number, "indicator_code", f"Không có chỉ tiêu mã '{code}' / unknown indicator")
            continue
        unit_code = str(row.get("unit_code") or "").strip()
        if unit_code not in units:
            units[unit_code] = session.scalar(select(Unit).where(Unit.code == unit_code))
        unit = units[unit_code]
        if unit is None or not can(principal, Perm.data_write, unit.path):
            fail(number, "unit_code", f"Đơn vị '{unit_code}' không có hoặc ngoài phạm vi của bạn")
            continue
        try:
            value = _number(raw)
        except ValueError:
            fail(number, "value", f"Giá trị '{raw}' không phải là số / not a number")
            continue
        try:
            period = parse_for(str(row.get("period") or ""), indicator.frequency)
        except CityOpsError as err:
            fail(number, "period", err.detail)
            continue
        note = row.get("note")
        data = ValuePut(
            unit_code=unit.code,
            period=str(period),
            value=value,
            source="import",
            note=None if note in (None, "") else str(note)[:500],
        )
        good.append((indicator, unit, data))
    for indicator, unit, data in good:
        store(session, principal, indicator, unit, data)
    return ImportResult(imported=len(good), skipped=skipped, errors=errors)
