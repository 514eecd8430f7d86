"""The operator queue sorts by a whitelisted column; an unknown sort is refused with 422."""

from __future__ import annotations

from .conftest import DA_LAT, MUI_NE, PHU_THUY, act, submit

API = "/api/field-reports"


def _items(client, w, sort):
    response = client.get(f"{API}/reports", params={"sort": sort}, headers=w.headers["operator"])
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _codes(client, w, sort):
    return [r["tracking_code"] for r in _items(client, w, sort)]


def test_operator_sorts_the_queue_by_created_urgency_and_status(client, world):
    first = submit(client, MUI_NE)["tracking_code"]
    second = submit(client, PHU_THUY)["tracking_code"]
    third = submit(client, DA_LAT)["tracking_code"]
    urgent = client.patch(
        f"{API}/reports/{second}", json={"urgency": "urgent"}, headers=world.headers["operator"]
    )
    assert urgent.status_code == 200, urgent.text
    assert act(client, world, "operator", first, "verify").status_code == 200
    assert _codes(client, world, "-created_at") == [third, second, first]
    assert _codes(client, world, "created_at") == [first, second, third]
    assert _codes(client, world, "urgency")[0] == second
    assert _codes(client, world, "-urgency")[-1] == second
    assert _codes(client, world, "status") == [third, second, first]  # received before assigned
    assert _codes(client, world, "-status")[0] == first


def test_sorting_by_due_date_puts_the_soonest_first_and_reports_without_one_last(client, world):
    for point in (MUI_NE, PHU_THUY, DA_LAT):
        code = submit(client, point)["tracking_code"]
        act(client, world, "operator", code, "verify")
    submit(client, MUI_NE)
    due = [r["due_at"] for r in _items(client, world, "due_at")]
    dated = [d for d in due if d is not None]
    assert dated and dated == sorted(dated)
    assert due == dated + [None] * (len(due) - len(dated))
    latest_first = [r["due_at"] for r in _items(client, world, "-due_at")]
    assert [d for d in latest_first if d is not None] == sorted(dated, reverse=True)


def test_an_unknown_sort_gets_422_naming_the_allowed_ones(client, world):
    response = client.get(
        f"{API}/reports", params={"sort": "reporter_phone"}, headers=world.headers["operator"]
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_sort" and "-created_at" in body["detail"]
