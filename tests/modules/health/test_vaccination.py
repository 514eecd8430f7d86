"""Vaccination coverage goes through the indicator engine: catalogue, values, drill-down."""

from __future__ import annotations

from cityops.modules.health.indicators import VACCINATION


def _put(client, world, who, unit, value, period="2026-06"):
    response = client.put(
        f"/api/indicators/{VACCINATION}/values",
        json={"unit_code": unit, "period": period, "value": value},
        headers=world.headers[who],
    )
    assert response.status_code == 200, response.text


def test_coverage_of_the_wards_adds_up_to_the_province_against_its_target(client, world):
    first = client.get("/api/health/vaccination", headers=world.headers["leader"])
    assert first.status_code == 200, first.text
    catalogue = client.get(f"/api/indicators/{VACCINATION}", headers=world.headers["leader"])
    assert catalogue.json()["unit_of_measure"] == "%"  # registered in the engine's catalogue
    target = {"unit_code": "68", "year": 2026, "value": 95}
    put = client.put(
        f"/api/indicators/{VACCINATION}/targets", json=target, headers=world.headers["admin"]
    )
    assert put.status_code == 200, put.text
    _put(client, world, "ward_a", "22918", 97.0)
    _put(client, world, "ward_b", "24778", 89.0)
    _put(client, world, "ward_a", "22918", 96.0, period="2026-05")
    other = {"code": "OTHER", "name_vi": "Chỉ tiêu khác", "unit_of_measure": "%"}
    assert client.post("/api/indicators", json=other, headers=world.headers["admin"]).is_success
    later = {"unit_code": "68", "period": "2026-09", "value": 1}
    assert client.put(
        "/api/indicators/OTHER/values", json=later, headers=world.headers["admin"]
    ).is_success
    # without a period: the latest month with a coverage value (not another indicator's)
    body = client.get("/api/health/vaccination", headers=world.headers["leader"]).json()
    province, *wards = body["items"]
    assert (province["unit_code"], province["value"], province["computed"]) == ("68", 93.0, True)
    assert (province["percent"], province["status"]) == (97.9, "amber")  # 93 / 95
    assert [(w["unit_code"], w["value"]) for w in wards] == [("22918", 97.0), ("24778", 89.0)]


def test_a_ward_cannot_report_coverage_for_another_ward(client, world):
    client.get("/api/health/vaccination", headers=world.headers["leader"])
    response = client.put(
        f"/api/indicators/{VACCINATION}/values",
        json={"unit_code": "24778", "period": "2026-06", "value": 90},
        headers=world.headers["ward_a"],
    )
    assert response.status_code == 403
