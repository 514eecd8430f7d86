"""Schools in the hub, yearly figures per school, totals and ratios by unit, level and year."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cityops.core.audit import AuditEntry

SCHOOLS = {
    "TH-MN": ("Trường Tiểu học Mũi Né", "tieu_hoc", "22918", 10.946, 108.284),
    "THPT-MN": ("Trường THPT Mũi Né", "thpt", "22918", 10.947, 108.286),
    "THPT-LV": ("Trường THPT Lâm Viên", "thpt", "24778", 11.941, 108.451),
}
# code, year, pupils, teachers, classes, candidates, passed
FIGURES = (
    ("TH-MN", 2025, 700, 30, 21, 140, 139),
    ("THPT-MN", 2025, 900, 45, 22, 300, 291),
    ("THPT-LV", 2025, 1200, 50, 28, 400, 396),
    ("THPT-LV", 2024, 1100, 48, 27, 380, 361),
)


def _school(client, world, code, who="operator"):
    name, level, unit, lat, lon = SCHOOLS[code]
    body = {"code": code, "name": name, "level": level, "unit_code": unit, "lat": lat, "lon": lon}
    return client.post("/api/education/schools", json=body, headers=world.headers[who])


def _figures(client, world, who="operator"):
    for code, year, pupils, teachers, classes, candidates, passed in FIGURES:
        body = {
            "pupils": pupils,
            "teachers": teachers,
            "classes": classes,
            "exam_candidates": candidates,
            "exam_passed": passed,
            "attendance_rate": 96.0 if code == "TH-MN" else 98.0,
        }
        response = client.put(
            f"/api/education/schools/{code}/years/{year}", json=body, headers=world.headers[who]
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def schools(client, world):
    for code in SCHOOLS:
        assert _school(client, world, code).status_code == 201
    _figures(client, world)


def test_schools_are_hub_entities_on_the_map_scoped_to_their_ward(client, world, schools):
    everything = client.get("/api/education/schools", headers=world.headers["leader"]).json()
    assert len(everything["features"]) == 3
    ward_a = client.get("/api/education/schools", headers=world.headers["ward_a"]).json()
    assert sorted(f["id"] for f in ward_a["features"]) == [
        "urn:ngsi-ld:School:TH-MN",
        "urn:ngsi-ld:School:THPT-MN",
    ]
    upper = client.get(
        "/api/education/schools", params={"level": "thpt"}, headers=world.headers["leader"]
    ).json()
    assert {f["properties"]["wardId"] for f in upper["features"]} == {"22918", "24778"}


def test_summary_by_ward_is_ratios_of_sums(client, world, schools):
    body = client.get("/api/education/summary", headers=world.headers["leader"]).json()
    assert (body["unit_code"], body["year"], body["by"]) == ("68", 2025, "unit")
    total = body["total"]
    # 2025: pupils 700 + 900 + 1200 = 2800, teachers 30 + 45 + 50 = 125: 22.4 per teacher.
    assert (total["schools"], total["pupils"], total["teachers"]) == (3, 2800, 125)
    assert total["pupils_per_teacher"] == 22.4
    assert total["pupils_per_class"] == round(2800 / 71, 2)
    # pass rate: (139 + 291 + 396) / (140 + 300 + 400) = 826 / 840 = 98.33 %
    assert total["pass_rate"] == 98.33
    # attendance weighted by pupils: (96*700 + 98*900 + 98*1200) / 2800 = 97.5
    assert total["attendance_rate"] == 97.5
    wards = {row["key"]: row for row in body["items"]}
    assert wards["22918"]["pupils_per_teacher"] == 21.33  # 1600 / 75
    assert wards["24778"]["pupils_per_teacher"] == 24.0  # 1200 / 50


def test_summary_by_level_and_by_year(client, world, schools):
    by_level = client.get(
        "/api/education/summary", params={"by": "level"}, headers=world.headers["leader"]
    ).json()
    levels = {row["key"]: row for row in by_level["items"]}
    assert levels["thpt"]["label"] == "Trung học phổ thông (THPT)"
    assert levels["thpt"]["pass_rate"] == 98.14  # (291 + 396) / (300 + 400) = 687 / 700
    by_year = client.get(
        "/api/education/summary",
        params={"by": "year", "level": "thpt", "unit": "24778"},
        headers=world.headers["leader"],
    ).json()
    assert [(r["label"], r["pupils"], r["pass_rate"]) for r in by_year["items"]] == [
        ("2024-2025", 1100, 95.0),
        ("2025-2026", 1200, 99.0),
    ]


def test_kpis_show_pupils_per_teacher_and_graduation_rate(client, world, schools):
    response = client.get("/api/kpis", headers=world.headers["leader"])
    kpis = {k["key"]: k["value"] for k in response.json()}
    assert kpis["education.pupil_teacher_ratio"] == 22.4
    assert kpis["education.graduation_rate"] == 98.14
    ward_b = {
        k["key"]: k["value"]
        for k in client.get("/api/kpis", headers=world.headers["ward_b"]).json()
    }
    assert ward_b["education.pupil_teacher_ratio"] == 24.0


def test_a_ward_reads_and_reports_only_its_own_schools(client, world, schools):
    figures = client.get("/api/education/figures", headers=world.headers["ward_b"]).json()
    assert {f["school_code"] for f in figures["items"]} == {"THPT-LV"}
    refused = client.put(
        "/api/education/schools/TH-MN/years/2025",
        json={"pupils": 1, "teachers": 1, "classes": 1},
        headers=world.headers["ward_b"],
    )
    assert refused.status_code == 404
    assert _school(client, world, "TH-MN", who="ward_b").status_code == 403


def test_csv_upload_keeps_the_good_rows_and_reports_each_bad_one(client, world, schools, database):
    csv = (
        "school_code;year;pupils;teachers;classes;exam_candidates;exam_passed\n"
        "THPT-MN;2024-2025;880;44;22;290;280\n"
        "KHONG-CO;2024;10;1;1;;\n"  # unknown school
        "THPT-LV;2024;10;1;1;;\n"  # ward B's school: outside the uploader's scope
        "TH-MN;2031;10;1;1;;\n"  # a school year that has not started
        "TH-MN;2024;nhiều;1;1;;\n"  # text in a number cell
        "TH-MN;2024;100;5;4;20;25\n"  # more passes than candidates
        "THPT-MN;2024;880;44;22;;\n"  # same school and year as row 2
        "TH-MN;2023-2025;100;5;4;;\n"  # not a school year
    )
    response = client.post(
        "/api/education/figures/import",
        files={"file": ("so-lieu.csv", csv.encode(), "text/csv")},
        headers=world.headers["ward_a"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (3, "school_code"),
        (4, "school_code"),
        (5, "year"),
        (6, "pupils"),
        (7, None),
        (8, None),
        (9, "year"),
    ]
    stored = client.get(
        "/api/education/figures",
        params={"school": "THPT-MN", "year": 2024},
        headers=world.headers["ward_a"],
    ).json()["items"]
    assert [(f["school_year"], f["pupils"], f["exam_passed"], f["source"]) for f in stored] == [
        ("2024-2025", 880, 280, "csv")
    ]
    with database.session() as s:
        actions = s.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "education.figures_put")
        ).all()
        assert "THPT-MN/2024" in actions


def test_bad_figures_by_api_get_a_structured_error(client, world, schools):
    response = client.put(
        "/api/education/schools/TH-MN/years/2025",
        json={"pupils": 10, "teachers": 1, "classes": 1, "exam_candidates": 2, "exam_passed": 3},
        headers=world.headers["operator"],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "inconsistent"
    future = client.put(
        "/api/education/schools/TH-MN/years/2040",
        json={"pupils": 10, "teachers": 1, "classes": 1},
        headers=world.headers["operator"],
    )
    assert future.json()["code"] == "future_period"
    grouping = client.get(
        "/api/education/summary", params={"by": "colour"}, headers=world.headers["leader"]
    )
    assert grouping.status_code == 422 and grouping.json()["code"] == "invalid_grouping"


def test_figures_sent_as_json_rows_land_one_by_one(client, world, schools):
    rows = [
        {"school_code": "TH-MN", "year": "2024-2025", "pupils": 680, "teachers": 29, "classes": 21},
        {"school_code": "TH-MN", "year": 2024, "pupils": -5, "teachers": 29, "classes": 21},
        {"school_code": "TH-MN", "year": 2023, "pupils": 650, "teachers": 28},
    ]
    response = client.post("/api/education/figures", json=rows, headers=world.headers["operator"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "pupils"), (3, "classes")]
    years = client.get(
        "/api/education/figures", params={"school": "TH-MN"}, headers=world.headers["operator"]
    ).json()["items"]
    assert [(f["year"], f["pupils"]) for f in years] == [(2024, 680), (2025, 700)]


def test_a_school_list_upload_keeps_the_good_rows_and_reports_each_bad_one(client, world):
    csv = (
        "code;name;level;unit_code;lat;lon\n"
        "MN-1;Trường Mầm non Mũi Né;mam_non;22918;10.946;108.284\n"
        "MN-2;Trường Mầm non 2;dai_hoc;22918;10.946;108.284\n"  # not a school level
        "MN-3;Trường Mầm non Lâm Viên;mam_non;24778;11.94;108.45\n"  # another ward
        "MN-4;Trường Mầm non 4;mam_non;22918;;108.284\n"  # no latitude
    )
    response = client.post(
        "/api/education/schools/import",
        files={"file": ("truong.csv", csv.encode(), "text/csv")},
        headers=world.headers["ward_a"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (3, "level"),
        (4, "unit_code"),
        (5, "lat"),
    ]
    listed = client.get("/api/education/schools", headers=world.headers["leader"]).json()
    assert [f["properties"]["name"] for f in listed["features"]] == ["Trường Mầm non Mũi Né"]
