"""Uploading dossiers from the Excel template or CSV: every bad row comes back, good rows land."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from cityops.modules.public_services.models import Dossier

URL = "/api/public-services/dossiers/import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ago(days: float) -> datetime:
    """A naive local time `days` ago, as an office would type it."""
    return (datetime.now(UTC) + timedelta(hours=7) - timedelta(days=days)).replace(tzinfo=None)


def row(ext: str, unit: str = "A1", agency: str = "MC-A", **cells: object) -> list[object]:
    """A template row for a dossier received two days ago, due in three."""
    base = {
        "external_id": ext,
        "procedure_code": "1.001234",
        "procedure_name": "Đăng ký khai sinh",
        "procedure_field": "Hộ tịch",
        "agency_code": agency,
        "unit_code": unit,
        "received_at": ago(2),
        "due_at": ago(-3),
        "finished_at": None,
        "channel": "Trực tuyến",
        "status": "Đang giải quyết",
        "fee_vnd": "8.000",
        "online_payment": "x",
        "returned": "",
        "additional_request": "không",
        "digitised": "có",
    } | cells
    return list(base.values())


def filled(client, headers, *rows: list[object]) -> bytes:
    """Download the template and fill it in, as an office would."""
    response = client.get("/api/public-services/dossiers/template", headers=headers)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert [c.value for c in sheet[1]][:2] == ["cityops-dossiers", "v1"]
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, headers, content: bytes, name: str = "ho-so.xlsx", kind: str = XLSX):
    """Upload a file; return the response."""
    return client.post(URL, files={"file": (name, content, kind)}, headers=headers)


def test_a_filled_template_lands_with_its_cells_read_correctly(client, world, database):
    typed = ago(2)
    content = filled(client, world.headers["operator"], row("X-1", received_at=typed))
    response = upload(client, world.headers["operator"], content)
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["errors"]) == (1, [])
    with database.session() as s:
        d = s.scalar(select(Dossier))
        assert (d.source, d.channel, d.status) == ("upload", "online", "processing")
        assert d.fee_vnd == 8000
        assert (d.online_payment, d.additional_request, d.digitised) == (True, False, True)
        # typed as local time (UTC+7), stored in UTC (Excel keeps milliseconds)
        in_utc = typed.replace(tzinfo=UTC) - timedelta(hours=7)
        assert abs(d.received_at - in_utc) < timedelta(milliseconds=2)


def test_bad_rows_come_back_by_row_number_and_the_good_ones_land(client, world, database):
    content = filled(
        client,
        world.headers["commune_a"],
        row("OK-1"),
        row("BAD-FEE", fee_vnd="năm mươi nghìn"),
        row("BAD-DATE", received_at="hôm qua"),
        row("BAD-FLAG", online_payment="có lẽ"),
        row("OTHER-COMMUNE", unit="B1", agency="MC-B"),
        row("FUTURE", received_at=ago(-2), due_at=ago(-5)),
        row("OK-2"),
    )
    body = upload(client, world.headers["commune_a"], content).json()
    assert body["created"] == 2
    found = [(e["row"], e["external_id"], e["column"]) for e in body["errors"]]
    assert found == [
        (5, "BAD-FEE", "fee_vnd"),
        (6, "BAD-DATE", "received_at"),
        (7, "BAD-FLAG", "online_payment"),
        (8, "OTHER-COMMUNE", "unit_code"),
        (9, "FUTURE", "received_at"),
    ]
    assert "năm mươi nghìn" in body["errors"][0]["message"]
    with database.session() as s:
        assert sorted(s.scalars(select(Dossier.external_id))) == ["OK-1", "OK-2"]


def test_a_wrong_template_version_is_refused_whole(client, world, database):
    content = filled(client, world.headers["operator"], row("V-1"))
    book = load_workbook(io.BytesIO(content))
    book.active["B1"] = "v0"
    out = io.BytesIO()
    book.save(out)
    response = upload(client, world.headers["operator"], out.getvalue())
    assert response.status_code == 422
    assert response.json()["code"] == "wrong_template_version"
    with database.session() as s:
        assert s.scalar(select(Dossier.id)) is None


def test_a_file_with_missing_columns_names_them(client, world):
    csv_text = "cityops-dossiers;v1\nexternal_id;unit_code;received_at\nX;A1;01/03/2026\n"
    response = upload(client, world.headers["operator"], csv_text.encode(), "ho-so.csv", "text/csv")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "missing_columns"
    assert body["missing"] == ["procedure_code", "agency_code", "channel", "status"]


def test_a_csv_with_vietnamese_dates_and_semicolons_lands(client, world, database):
    received = ago(4).strftime("%d/%m/%Y %H:%M")
    finished = ago(1).strftime("%d/%m/%Y %H:%M")
    due = ago(2).strftime("%d/%m/%Y")
    lines = [
        "cityops-dossiers;v1",
        "external_id;procedure_code;procedure_name;agency_code;unit_code;received_at;due_at;"
        "finished_at;channel;status",
        f"C-1;2.000001;Cấp giấy phép xây dựng;SXD;68;{received};{due};{finished};offline;finished",
    ]
    content = "\n".join(lines).encode("utf-8")
    body = upload(client, world.headers["operator"], content, "ho-so.csv", "text/csv").json()
    assert (body["created"], body["errors"]) == (1, [])
    with database.session() as s:
        d = s.scalar(select(Dossier))
        assert d.finished_at > d.due_at  # due at local midnight two days ago: finished late


def test_a_file_that_is_not_a_workbook_gets_a_clear_error(client, world):
    response = upload(client, world.headers["operator"], b"PK\x03\x04 not really")
    assert response.status_code == 422
    assert response.json()["code"] == "bad_file"


def test_a_file_without_the_version_row_is_refused_with_a_clear_error(client, world):
    for content in (b"", b"\nexternal_id;unit_code\n", b"external_id,unit_code\nX,A1\n"):
        response = upload(client, world.headers["operator"], content, "ho-so.csv", "text/csv")
        assert response.status_code == 422
        assert response.json()["code"] == "wrong_template"
