"""Excel/CSV exchange with one-stop offices: a versioned template and a row-by-row import."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, tzinfo
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from cityops.core.errors import InvalidInput
from cityops.core.policy import Principal
from cityops.modules.public_services.choices import CHANNELS, DOSSIER_STATUSES
from cityops.modules.public_services.schemas import IntakeResult, RowError
from cityops.modules.public_services.service import upsert

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MARK, VERSION = "cityops-dossiers", "v1"
COLUMNS = (
    ("external_id", "Mã hồ sơ"),
    ("procedure_code", "Mã thủ tục"),
    ("procedure_name", "Tên thủ tục"),
    ("procedure_field", "Lĩnh vực"),
    ("agency_code", "Mã cơ quan"),
    ("unit_code", "Mã đơn vị hành chính"),
    ("received_at", "Ngày tiếp nhận"),
    ("due_at", "Hạn trả kết quả"),
    ("finished_at", "Ngày hoàn thành"),
    ("channel", "Kênh nộp"),
    ("status", "Trạng thái"),
    ("fee_vnd", "Phí, lệ phí (đồng)"),
    ("online_payment", "Thanh toán trực tuyến"),
    ("returned", "Trả lại"),
    ("additional_request", "Yêu cầu bổ sung"),
    ("digitised", "Đã số hóa"),
)
REQUIRED = ("external_id", "procedure_code", "agency_code", "unit_code", "received_at")
REQUIRED += ("channel", "status")
TIMES = ("received_at", "due_at", "finished_at")
FLAGS = ("online_payment", "returned", "additional_request", "digitised")
TRUE = {"1", "x", "có", "co", "true", "yes", "đúng"}
FALSE = {"", "0", "không", "khong", "false", "no", "sai"}
Row = tuple[int, dict[str, Any]]


def template() -> bytes:
    """Build the empty workbook: version row, column codes, Vietnamese headings."""
    book = Workbook()
    sheet = book.active
    sheet.title = "ho_so"
    sheet.append([MARK, VERSION, "Mẫu nhập hồ sơ TTHC / dossier import template"])
    sheet.append([code for code, _ in COLUMNS])
    sheet.append([heading for _, heading in COLUMNS])
    for cell in [*sheet[2], *sheet[3]]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(lines: list[list[Any]]) -> list[Row]:
    """Check the version row and the column row; return the data rows, numbered as in the file."""
    first = list(lines[0]) if lines else []
    if not first or str(first[0] or "").strip() != MARK:
        raise InvalidInput(
            f"Row 1 must start with '{MARK}' and the template version: download the template",
            code="wrong_template",
        )
    version = str(first[1] if len(first) > 1 else "").strip()
    if version != VERSION:
        raise InvalidInput(
            f"Template version {version or '(none)'!r} is not {VERSION!r}: download the template",
            code="wrong_template_version",
        )
    names = [str(h or "").strip().lower() for h in (lines[1] if len(lines) > 1 else [])]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InvalidInput(
            f"Row 2 must name the columns; missing: {', '.join(missing)}",
            code="missing_columns",
            extra={"missing": missing},
        )
    rows = []
    for number, cells in enumerate(lines[2:], start=3):
        row = {n: cells[i] if i < len(cells) else None for i, n in enumerate(names) if n}
        if number == 3 and str(row.get("external_id") or "").strip() == COLUMNS[0][1]:
            continue  # the Vietnamese headings row
        if all(v is None or str(v).strip() == "" for v in row.values()):
            continue
        rows.append((number, row))
    return rows


def read_xlsx(content: bytes) -> list[Row]:
    """Read the first sheet of a workbook."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        lines = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    except Exception as err:  # openpyxl raises many kinds for a bad file
        raise InvalidInput(f"Not a readable .xlsx workbook: {err}", code="bad_file") from err
    return _table(lines)


def read_csv(content: bytes) -> list[Row]:
    """Read a UTF-8 CSV (comma or semicolon) laid out like the template."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput("The CSV file must be UTF-8", code="bad_file") from err
    sample = text[:2000]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return _table(list(csv.reader(io.StringIO(text), delimiter=delimiter)))


def _time(raw: Any) -> datetime | None:
    if raw is None or str(raw).strip() == "":
        return None
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day)
    text = str(raw).strip()
    for fmt in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    return datetime.fromisoformat(text)


def _money(raw: Any) -> int | None:
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int | float):
        if raw != int(raw):
            raise ValueError(raw)
        return int(raw)
    text = str(raw if raw is not None else "").strip()
    if text == "":
        return None
    # Vietnamese writes thousands with dots or spaces: "50.000", "50 000".
    return int(text.replace(".", "").replace(" ", "").replace("\u00a0", ""))


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw if raw is not None else "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(raw)


def _choice(raw: Any, choices: dict) -> str:
    text = str(raw or "").strip()
    for value, choice in choices.items():
        if text.lower() in (value, choice.label_vi.lower(), choice.label_en.lower()):
            return value
    return text  # unknown: the item check names the allowed values


def convert(row: dict[str, Any]) -> dict[str, Any]:
    """Turn a row's cells into an item; raise (column, message) as ValueError args."""
    item: dict[str, Any] = {"source": "upload"}
    for code, _ in COLUMNS:
        raw = row.get(code)
        try:
            if code in TIMES:
                item[code] = _time(raw)
            elif code in FLAGS:
                item[code] = _flag(raw)
            elif code == "fee_vnd":
                item[code] = _money(raw)
            elif code == "channel":
                item[code] = _choice(raw, CHANNELS)
            elif code == "status":
                item[code] = _choice(raw, DOSSIER_STATUSES)
            elif raw is not None and str(raw).strip() != "":
                item[code] = str(raw).strip()
        except (ValueError, TypeError) as err:
            kind = "ngày giờ / date-time" if code in TIMES else "số / number"
            kind = "có/không / yes-no" if code in FLAGS else kind
            raise ValueError(code, f"'{raw}' không phải {kind}") from err
    return item


def import_rows(
    session: Session, principal: Principal, rows: list[Row], tz: tzinfo, now: datetime
) -> IntakeResult:
    """Convert the rows' cells, then check and store them; every bad row comes back."""
    errors: list[RowError] = []
    items = []
    for number, row in rows:
        try:
            items.append((number, convert(row)))
        except ValueError as err:
            column, message = err.args
            ext = row.get("external_id")
            errors.append(
                RowError(row=number, external_id=ext and str(ext), column=column, message=message)
            )
    result = upsert(session, principal, items, tz, now)
    result.errors = sorted([*errors, *result.errors], key=lambda e: e.row)
    return result
