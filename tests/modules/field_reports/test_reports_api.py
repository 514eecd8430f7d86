"""The staff API around the workflow: lists and filters, corrections, categories, choices."""

from __future__ import annotations

from .conftest import DA_LAT, MUI_NE, PHU_THUY, act, submit

API = "/api/field-reports"


def _codes(client, w, **params):
    response = client.get(f"{API}/reports", params=params, headers=w.headers["operator"])
    assert response.status_code == 200, response.text
    return [r["tracking_code"] for r in response.json()["items"]]


def test_operators_filter_the_list_by_status_agency_unit_and_text(client, world):
    in_a = submit(client, MUI_NE)["tracking_code"]
    in_b = submit(client, PHU_THUY, description="Nắp cống vỡ trên đường Lê Lợi")["tracking_code"]
    waiting = submit(client, DA_LAT)["tracking_code"]
    for code in (in_a, in_b):
        act(client, world, "operator", code, "verify")
    assert _codes(client, world) == [waiting, in_b, in_a]  # newest first
    assert _codes(client, world, status="received") == [waiting]
    assert set(_codes(client, world, status=["assigned", "received"])) == {in_a, in_b, waiting}
    assert _codes(client, world, agency="UBND-MUINE") == [in_a]
    assert _codes(client, world, unit="22924") == [in_b]
    assert _codes(client, world, unit="68") == [waiting, in_b, in_a]
    assert _codes(client, world, q="nắp cống") == [in_b]
    assert _codes(client, world, category="PA-DUONG", overdue=False) == [waiting, in_b, in_a]
    page = client.get(f"{API}/reports", params={"limit": 1}, headers=world.headers["operator"])
    assert page.json()["total"] == 3 and len(page.json()["items"]) == 1


def test_operator_corrects_a_report_before_it_goes_to_an_agency(client, world):
    code = submit(client, DA_LAT)["tracking_code"]
    fixed = client.patch(
        f"{API}/reports/{code}",
        json={"lat": MUI_NE[0], "lon": MUI_NE[1], "urgency": "urgent"},
        headers=world.headers["operator"],
    )
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["unit_code"], fixed.json()["urgency"]) == ("22918", "urgent")
    assert act(client, world, "operator", code, "verify").json()["agency_code"] == "UBND-MUINE"
    late = client.patch(
        f"{API}/reports/{code}", json={"description": "Sửa"}, headers=world.headers["operator"]
    )
    assert late.status_code == 422 and late.json()["code"] == "not_editable"


def test_only_province_level_staff_manage_categories(client, world):
    body = {"code": "PA-CAY", "name": "Cây xanh gãy đổ", "default_agency_code": "SXD"}
    for who, status in (("ward_operator", 403), ("leader", 403), ("dept_staff", 403)):
        response = client.post(f"{API}/categories", json=body, headers=world.headers[who])
        assert response.status_code == status, (who, response.text)
    created = client.post(f"{API}/categories", json=body, headers=world.headers["operator"])
    assert created.status_code == 201 and created.json()["default_agency_code"] == "SXD"
    again = client.post(f"{API}/categories", json=body, headers=world.headers["operator"])
    assert again.status_code == 409


def test_a_category_is_changed_and_retired(client, world):
    admin = world.headers["admin"]
    changed = client.patch(
        f"{API}/categories/PA-DUONG",
        json={"agency_codes": ["UBND-MUINE"], "sla_hours": 7.5},
        headers=admin,
    )
    assert changed.json()["agency_codes"] == ["UBND-MUINE"] and changed.json()["sla_hours"] == 7.5
    code = submit(client, PHU_THUY)["tracking_code"]
    assert act(client, world, "operator", code, "verify").json()["agency_code"] == "SXD"
    client.patch(f"{API}/categories/PA-DUONG", json={"is_active": False}, headers=admin)
    assert client.get(f"{API}/public/categories").json()["total"] == 0
    body = {"category_code": "PA-DUONG", "description": "Ổ gà", "lat": 10.95, "lon": 108.28}
    refused = client.post(f"{API}/public/reports", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_category"


def test_choices_carry_both_languages_and_a_colour(client):
    choices = client.get(f"{API}/choices").json()
    statuses = {c["value"]: c for c in choices["statuses"]}
    assert statuses["in_progress"]["label_vi"] == "Đang xử lý"
    assert statuses["in_progress"]["colour"].startswith("#")
    assert [u["label_vi"] for u in choices["urgencies"]] == ["Khẩn cấp", "Phức tạp", "Bình thường"]


def test_public_submission_can_be_switched_off(client, world, settings):
    closed = settings.field_reports.model_copy(update={"public_submission": False})
    client.app.state.settings = settings.model_copy(update={"field_reports": closed})
    body = {"category_code": "PA-DUONG", "description": "Ổ gà", "lat": 10.95, "lon": 108.28}
    body["attributes"] = {"SIZE": "small"}
    assert client.post(f"{API}/public/reports", json=body).status_code == 401
    staff = client.post(f"{API}/reports", json=body, headers=world.headers["ward_operator"])
    assert staff.status_code == 201 and staff.json()["tracking_code"].startswith("PA-")


def test_staff_cannot_enter_reports_outside_their_unit(client, world):
    body = {"category_code": "PA-DUONG", "description": "Ổ gà", "lat": 10.93, "lon": 108.10}
    body["attributes"] = {"SIZE": "small"}
    response = client.post(f"{API}/reports", json=body, headers=world.headers["ward_operator"])
    assert response.status_code == 403
