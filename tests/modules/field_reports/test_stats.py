"""Statistics, the Excel export and the KPIs, on a week of reports with a frozen clock."""

from __future__ import annotations

import io
from datetime import timedelta, timezone

import pytest
from openpyxl import load_workbook

from cityops.core.policy import system_principal
from cityops.modules.field_reports import service, workflow
from cityops.modules.field_reports.events import take
from cityops.modules.field_reports.stats import compute

from .conftest import DA_LAT, MUI_NE, PHU_THUY, report_input, submit

VN = timezone(timedelta(hours=7))
PERIOD = {"start": "2026-03-01T00:00:00+07:00", "end": "2026-04-01T00:00:00+07:00"}


def _at(rt, day, hour, minute=0):
    return rt.at(rt.now.astimezone(VN).replace(day=day, hour=hour, minute=minute))


@pytest.fixture
def week(database, rt, world):
    """Four reports of Monday 2 March 2026: on time (5★), late (2★), overdue, and unverified."""
    operator, citizen = world.principal("operator"), system_principal("citizen")
    with database.session() as s:
        reports = []
        for point in (MUI_NE, PHU_THUY, DA_LAT, MUI_NE):
            report, _ = service.create_report(s, rt, operator, report_input(point), "staff")
            reports.append(report)
        for report in reports[:3]:
            workflow.verify(s, rt, operator, report)
        for report, staff, when in (
            (reports[0], "ward_a_staff", _at(rt, 3, 8, 30)),
            (reports[1], "ward_b_staff", _at(rt, 5, 10)),
        ):
            handler = world.principal(staff)
            workflow.accept(s, rt, handler, report, None)
            workflow.start(s, rt, handler, report, None)
            workflow.resolve(s, when, handler, report, "Đã xử lý")
        workflow.rate(s, _at(rt, 3, 9), citizen, reports[0], 5, "Nhanh")
        workflow.rate(s, _at(rt, 5, 11), citizen, reports[1], 2, "Chậm")
        take(s)
    return rt


def test_figures_by_category_count_received_processed_on_time_overdue_and_satisfaction(
    database, week, world
):
    with database.session() as s:
        table = compute(s, _at(week, 5, 12), world.principal("operator"), "category")
    (row,) = table.rows
    assert row.label == "Hư hỏng đường sá"
    figures = (row.received, row.processed, row.on_time, row.on_time_rate, row.overdue)
    assert figures == (4, 2, 1, 50.0, 1)
    assert row.avg_handling_hours == pytest.approx(15.2, abs=0.05)  # (7 + 23.5) / 2
    assert (row.ratings, row.avg_rating, row.satisfied_rate) == (2, 3.5, 50.0)
    assert table.total.received == 4


def test_figures_by_agency_unit_and_month(database, week, world):
    with database.session() as s:
        now = _at(week, 5, 12)
        by_agency = compute(s, now, world.principal("operator"), "agency")
        by_unit = compute(s, now, world.principal("operator"), "unit")
        by_month = compute(s, now, world.principal("operator"), "month")
    agencies = {r.label: (r.received, r.processed, r.overdue) for r in by_agency.rows}
    assert agencies == {
        "UBND phường Mũi Né": (1, 1, 0),
        "UBND phường Phú Thủy": (1, 1, 0),
        "Sở Xây dựng": (1, 0, 1),
        "(chưa giao / unassigned)": (1, 0, 0),
    }
    assert {r.label: r.received for r in by_unit.rows} == {
        "Phường Mũi Né": 2,
        "Phường Phú Thủy": 1,
        "Lâm Đồng": 1,
    }
    assert [(r.key, r.received) for r in by_month.rows] == [("2026-03", 4)]


def test_figures_follow_the_callers_scope(database, week, world):
    with database.session() as s:
        ward = compute(s, _at(week, 5, 12), world.principal("ward_operator"), "category")
        agency = compute(s, _at(week, 5, 12), world.principal("ward_b_staff"), "category")
    assert ward.total.received == 2
    assert (agency.total.received, agency.total.avg_rating) == (1, 2.0)


def test_excel_export_has_the_figures(client, world, week):
    response = client.get(
        "/api/field-reports/stats.xlsx", params=PERIOD, headers=world.headers["leader"]
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Tổng hợp",
        "Theo lĩnh vực",
        "Theo cơ quan",
        "Theo địa bàn",
        "Theo tháng",
    ]
    rows = list(book["Theo lĩnh vực"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Nhóm / Group", "Tiếp nhận / Received", "Đã xử lý / Processed")
    assert rows[1][:6] == ("Hư hỏng đường sá", 4, 2, 1, 50.0, 1)
    assert rows[1][7:] == (2, 3.5, 50.0)
    assert rows[-1][0] == "Tổng / Total"


def test_stats_endpoint_groups_as_asked(client, world, week):
    response = client.get(
        "/api/field-reports/stats",
        params=PERIOD | {"by": "agency"},
        headers=world.headers["operator"],
    )
    assert response.status_code == 200
    assert response.json()["total"]["processed"] == 2
    bad = client.get(
        "/api/field-reports/stats", params={"by": "colour"}, headers=world.headers["operator"]
    )
    assert bad.status_code == 422


def test_kpis_count_open_reports_in_the_callers_scope(client, world):
    submit(client, MUI_NE)
    submit(client, PHU_THUY)

    def kpis(who):
        response = client.get("/api/kpis", headers=world.headers[who])
        return {k["key"]: k["value"] for k in response.json() if k["module"] == "field_reports"}

    assert kpis("operator")["field_reports.open"] == 2
    assert kpis("ward_operator")["field_reports.open"] == 1
    assert kpis("operator")["field_reports.overdue"] == 0
    assert set(kpis("leader")) == {
        "field_reports.open",
        "field_reports.overdue",
        "field_reports.on_time_rate",
        "field_reports.satisfaction",
    }
