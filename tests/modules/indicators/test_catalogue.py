"""The catalogue: province staff define indicators and targets, leaders read them."""

from __future__ import annotations

from .conftest import make_indicator


def test_admin_creates_an_indicator_and_a_leader_reads_it(client, world):
    response = client.get("/api/indicators/BUDGET_REVENUE", headers=world.headers["leader"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name_vi"], body["frequency"], body["aggregation"]) == (
        "Thu ngân sách nhà nước",
        "monthly",
        "sum",
    )
    listed = client.get("/api/indicators", headers=world.headers["commune_a"]).json()
    assert [i["code"] for i in listed["items"]] == ["BUDGET_REVENUE"]


def test_province_operator_changes_an_indicator(client, world):
    response = client.patch(
        "/api/indicators/BUDGET_REVENUE",
        json={"deadline_day": 15},
        headers=world.headers["operator"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["deadline_day"] == 15


def test_leader_and_commune_operator_cannot_change_the_catalogue(client, world):
    for who in ("leader", "commune_a"):
        response = client.patch(
            "/api/indicators/BUDGET_REVENUE", json={"name_vi": "X"}, headers=world.headers[who]
        )
        assert response.status_code == 403, (who, response.text)
    anonymous = client.get("/api/indicators")
    assert anonymous.status_code == 401


def test_a_duplicate_code_is_a_conflict(client, world):
    body = {"code": "BUDGET_REVENUE", "name_vi": "Trùng", "unit_of_measure": "tỷ đồng"}
    response = client.post("/api/indicators", json=body, headers=world.headers["admin"])
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_code"


def test_a_weighted_indicator_needs_a_known_weight(client, world):
    body = {"code": "ONLINE", "name_vi": "Tỉ lệ trực tuyến", "unit_of_measure": "%"}
    body["aggregation"] = "weighted"
    missing = client.post("/api/indicators", json=body, headers=world.headers["admin"])
    assert missing.status_code == 422
    unknown = client.post(
        "/api/indicators", json=body | {"weight_code": "NOPE"}, headers=world.headers["admin"]
    )
    assert unknown.status_code == 404
    make_indicator(client, world.headers["admin"], **body, weight_code="BUDGET_REVENUE")


def test_targets_are_set_by_the_province_and_read_in_scope(client, world):
    target = {"unit_code": "A1", "year": 2026, "value": 1200}
    url = "/api/indicators/BUDGET_REVENUE/targets"
    assert client.put(url, json=target, headers=world.headers["commune_a"]).status_code == 403
    assert client.put(url, json=target, headers=world.headers["operator"]).status_code == 200
    again = client.put(url, json=target | {"value": 1300}, headers=world.headers["operator"])
    assert again.status_code == 200
    client.put(url, json=target | {"unit_code": "B1"}, headers=world.headers["operator"])
    seen = client.get(url, headers=world.headers["commune_a"]).json()
    assert [(t["unit_code"], t["value"]) for t in seen] == [("A1", 1300)]


def test_choices_carry_both_languages_and_colours(client, world):
    body = client.get("/api/indicators/choices", headers=world.headers["leader"]).json()
    green = next(c for c in body["statuses"] if c["value"] == "green")
    assert (green["label_vi"], green["label_en"], green["colour"]) == (
        "Đạt kế hoạch",
        "On target",
        "#198754",
    )
