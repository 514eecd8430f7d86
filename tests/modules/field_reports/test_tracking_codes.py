"""Tracking codes that cannot be enumerated, and public views that hide unverified points."""

from __future__ import annotations

from sqlalchemy import update

from cityops.modules.field_reports.codes import ALPHABET, make_code, normalise
from cityops.modules.field_reports.models import Report

from .conftest import act, submit

API = "/api/field-reports"


def test_new_codes_end_in_a_random_crockford_suffix():
    made = {make_code(2026, 123) for _ in range(50)}
    assert len(made) > 45  # random, not sequential
    for code in made:
        assert code.startswith("PA-2026-000123-") and set(code[-4:]) <= set(ALPHABET)
        assert not set(code[-4:]) & set("ILOU")


def test_a_code_typed_with_look_alike_letters_still_finds_the_report(client, world):
    code = submit(client)["tracking_code"]
    typed = code[:-4] + code[-4:].replace("0", "O").replace("1", "l")
    assert normalise(typed.lower()) == code
    assert client.get(f"{API}/public/reports/{typed.lower()}").status_code == 200


def test_public_tracking_needs_the_full_code_not_the_number(client, world):
    code = submit(client)["tracking_code"]
    number = code.split("-")[2]
    assert client.get(f"{API}/public/reports/{code[:-5]}").status_code == 404
    assert client.get(f"{API}/public/reports/{int(number)}").status_code == 404
    assert client.get(f"/open311/v2/requests/{code[:-5]}.json").status_code == 404
    assert client.get(f"{API}/public/reports/{code}").status_code == 200
    staff = client.get(f"{API}/reports/{int(number)}", headers=world.headers["operator"])
    assert staff.json()["tracking_code"] == code  # staff may still use the number


def test_old_codes_without_a_suffix_keep_working(client, world, database):
    code = submit(client)["tracking_code"]
    with database.session() as s:
        s.execute(
            update(Report).where(Report.tracking_code == code).values(tracking_code=code[:-5])
        )
    assert client.get(f"{API}/public/reports/{code[:-5]}").json()["tracking_code"] == code[:-5]


def test_public_views_show_only_the_commune_until_the_report_is_verified(client, world):
    code = submit(client)["tracking_code"]
    before = client.get(f"{API}/public/reports/{code}").json()
    assert (before["lat"], before["lon"], before["address"]) == (None, None, None)
    assert before["unit_name"] == "Phường Mũi Né"
    item = client.get(f"/open311/v2/requests/{code}.json").json()[0]
    assert (item["lat"], item["long"], item["address"]) == (None, None, "Phường Mũi Né")
    act(client, world, "operator", code, "verify")
    after = client.get(f"{API}/public/reports/{code}").json()
    assert after["lat"] is not None and after["address"].startswith("12 Nguyễn Đình Chiểu")
