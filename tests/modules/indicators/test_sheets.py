"""Excel/CSV exchange: the template an agency fills, imports that keep the good rows."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from .conftest import make_indicator

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client, world, name, content, who="operator", kind=XLSX):
    files = {"file": (name, content, kind)}
    return client.post("/api/indicators/import", files=files, headers=world.headers[who])


def _workbook(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_lists_the_agency_indicators_for_each_unit(client, world):
    make_indicator(client, world.headers["admin"], code="OTHER", agency_code="SYT")
    response = client.get(
        "/api/indicators/template?agency=STC&period=2026-10", headers=world.headers["operator"]
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "indicator_code",
        "indicator_name",
        "unit_code",
        "unit_name",
        "period",
        "value",
    )
    assert [(r[0], r[2], r[4], r[5]) for r in rows[2:]] == [
        ("BUDGET_REVENUE", "68", "2026-10", None),
        ("BUDGET_REVENUE", "A1", "2026-10", None),
        ("BUDGET_REVENUE", "B1", "2026-10", None),
    ]


def test_a_filled_template_imports_back(client, world):
    template = client.get(
        "/api/indicators/template?agency=STC&period=2026-10", headers=world.headers["operator"]
    ).content
    book = load_workbook(io.BytesIO(template))
    book.active["F4"] = 120.5
    out = io.BytesIO()
    book.save(out)
    result = _upload(client, world, "chi-tieu.xlsx", out.getvalue()).json()
    assert (result["imported"], result["skipped"], result["errors"]) == (1, 2, [])


def test_excel_import_reports_bad_rows_and_keeps_good_ones(client, world):
    content = _workbook(
        [
            ["indicator_code", "unit_code", "period", "value", "note"],
            ["BUDGET_REVENUE", "A1", "2026-10", 100, "tốt"],
            ["NOPE", "A1", "2026-10", 5, None],
            ["BUDGET_REVENUE", "ZZ", "2026-10", 5, None],
            ["BUDGET_REVENUE", "B1", "2026-Q3", 5, None],
            ["BUDGET_REVENUE", "B1", "2026-10", "nhiều", None],
            ["BUDGET_REVENUE", "B1", "2026-09", "42,5", None],
        ]
    )
    response = _upload(client, world, "so-lieu.xlsx", content)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["imported"] == 2
    assert [(e["row"], e["column"]) for e in result["errors"]] == [
        (3, "indicator_code"),
        (4, "unit_code"),
        (5, "period"),
        (6, "value"),
    ]
    values = client.get(
        "/api/indicators/BUDGET_REVENUE/values", headers=world.headers["leader"]
    ).json()
    assert [(v["unit_code"], v["period"], v["value"]) for v in values["items"]] == [
        ("B1", "2026-09", 42.5),
        ("A1", "2026-10", 100),
    ]


def test_csv_import_uses_the_same_columns_and_the_callers_scope(client, world):
    content = (
        "indicator_code,unit_code,period,value\n"
        "BUDGET_REVENUE,A1,2026-10,7\n"
        "BUDGET_REVENUE,B1,2026-10,8\n"
    )
    response = _upload(client, world, "so-lieu.csv", content.encode(), "commune_a", "text/csv")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["imported"] == 1
    assert [(e["row"], e["column"]) for e in result["errors"]] == [(3, "unit_code")]


def test_an_upload_without_the_columns_is_refused_whole(client, world):
    response = _upload(client, world, "x.csv", b"a,b\n1,2\n", kind="text/csv")
    assert response.status_code == 422
    assert response.json()["code"] == "missing_columns"
    broken = _upload(client, world, "x.xlsx", b"not a workbook")
    assert broken.json()["code"] == "bad_file"


def test_a_leader_cannot_import_values(client, world):
    content = b"indicator_code,unit_code,period,value\nBUDGET_REVENUE,A1,2026-10,7\n"
    assert _upload(client, world, "x.csv", content, "leader", "text/csv").status_code == 403


def test_the_template_of_an_unknown_agency_is_not_found(client, world):
    response = client.get(
        "/api/indicators/template?agency=NOPE&period=2026-10", headers=world.headers["operator"]
    )
    assert response.status_code == 404
