"""Excel export of the statistics: a summary sheet and one sheet per grouping."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from cityops.core.policy import Principal
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.stats import GROUPS, StatsRow, compute

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (
    ("label", "Nhóm / Group"),
    ("received", "Tiếp nhận / Received"),
    ("processed", "Đã xử lý / Processed"),
    ("on_time", "Đúng hạn / On time"),
    ("on_time_rate", "Tỉ lệ đúng hạn (%) / On-time rate (%)"),
    ("overdue", "Quá hạn / Overdue"),
    ("avg_handling_hours", "Thời gian xử lý TB (giờ làm việc) / Avg handling (working h)"),
    ("ratings", "Lượt đánh giá / Ratings"),
    ("avg_rating", "Điểm hài lòng TB (1-5) / Avg rating (1-5)"),
    ("satisfied_rate", "Tỉ lệ hài lòng (%) / Satisfied (%)"),
)
SHEETS = {
    "category": "Theo lĩnh vực",
    "agency": "Theo cơ quan",
    "unit": "Theo địa bàn",
    "month": "Theo tháng",
}


def _table(sheet: Worksheet, rows: list[StatsRow]) -> None:
    sheet.append([title for _, title in COLUMNS])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([getattr(row, key) for key, _ in COLUMNS])
    for i, (_, title) in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + i)].width = max(14, min(40, len(title) // 2 + 6))


def export_xlsx(
    session: Session,
    rt: Runtime,
    principal: Principal,
    start: datetime | None = None,
    end: datetime | None = None,
) -> bytes:
    """Build the workbook of the caller's scope for the period."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Tổng hợp"
    tables = {by: compute(session, rt, principal, by, start, end) for by in GROUPS}
    first = tables["category"]
    tz = rt.calendar.tz
    summary.append(["Phản ánh hiện trường / Field reports"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(["Từ / From", first.start.astimezone(tz).strftime("%Y-%m-%d %H:%M")])
    summary.append(["Đến / To", first.end.astimezone(tz).strftime("%Y-%m-%d %H:%M")])
    summary.append([])
    _table(summary, [first.total])
    for by, table in tables.items():
        _table(book.create_sheet(SHEETS[by]), [*table.rows, table.total])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
