"""Who sees and does what: unit scope, agency assignment, read-only leaders, hidden reporters."""

from __future__ import annotations

from .conftest import MUI_NE, PHU_THUY, act, submit

API = "/api/field-reports"


def _codes(client, w, who, **params):
    response = client.get(f"{API}/reports", params=params, headers=w.headers[who])
    assert response.status_code == 200, response.text
    return {r["tracking_code"] for r in response.json()["items"]}


def _verified(client, w, point):
    code = submit(client, point)["tracking_code"]
    assert act(client, w, "operator", code, "verify").status_code == 200
    return code


def test_agency_staff_cannot_see_other_agencies_reports(client, world):
    mine = _verified(client, world, MUI_NE)
    theirs = _verified(client, world, PHU_THUY)
    waiting = submit(client, MUI_NE)["tracking_code"]
    assert _codes(client, world, "ward_a_staff") == {mine}
    assert (
        client.get(f"{API}/reports/{theirs}", headers=world.headers["ward_a_staff"]).status_code
        == 404
    )
    assert (
        client.get(f"{API}/reports/{waiting}", headers=world.headers["ward_a_staff"]).status_code
        == 404
    )
    refused = act(client, world, "ward_a_staff", theirs, "accept")
    assert refused.status_code == 404


def test_agency_staff_cannot_run_the_operators_steps(client, world):
    code = _verified(client, world, MUI_NE)
    response = act(client, world, "ward_a_staff", code, "assign", agency_code="SXD", reason="Không")
    assert response.status_code == 403


def test_ward_operator_sees_only_reports_in_their_ward(client, world):
    in_a = submit(client, MUI_NE)["tracking_code"]
    in_b = submit(client, PHU_THUY)["tracking_code"]
    assert _codes(client, world, "ward_operator") == {in_a}
    assert _codes(client, world, "operator") == {in_a, in_b}
    assert act(client, world, "ward_operator", in_b, "verify").status_code == 404
    assert act(client, world, "ward_operator", in_a, "verify").status_code == 200


def test_leader_reads_everything_but_changes_nothing(client, world):
    code = submit(client)["tracking_code"]
    assert code in _codes(client, world, "leader")
    assert act(client, world, "leader", code, "verify").status_code == 403
    comment = client.post(
        f"{API}/reports/{code}/comments", json={"body": "Xem"}, headers=world.headers["leader"]
    )
    assert comment.status_code == 403


def test_anonymous_reporter_is_hidden_from_agency_and_public(client, world):
    code = submit(client, anonymous=True, reporter_email="dan@example.vn")["tracking_code"]
    act(client, world, "operator", code, "verify")
    seen = {
        who: client.get(f"{API}/reports/{code}", headers=world.headers[who]).json()["reporter"]
        for who in ("operator", "ward_a_staff", "leader")
    }
    assert seen["operator"]["name"] == "Trần Văn Dân"
    assert seen["ward_a_staff"] is None and seen["leader"] is None
    public = client.get(f"{API}/public/reports/{code}").text
    assert "Trần Văn Dân" not in public and "0912345678" not in public and "dan@" not in public


def test_named_reporter_is_shown_to_the_agency_but_never_to_the_public(client, world):
    code = _verified(client, world, MUI_NE)
    staff_view = client.get(f"{API}/reports/{code}", headers=world.headers["ward_a_staff"]).json()
    assert staff_view["reporter"]["phone"] == "0912345678"
    assert "0912345678" not in client.get(f"{API}/public/reports/{code}").text
    assert "0912345678" not in client.get(f"/open311/v2/requests/{code}.json").text


def test_internal_comments_stay_internal_and_public_ones_reach_the_citizen(client, world):
    code = _verified(client, world, MUI_NE)
    staff = world.headers["ward_a_staff"]
    for body, public in (("Ghi chú nội bộ", False), ("Sẽ vá trong tuần", True)):
        r = client.post(
            f"{API}/reports/{code}/comments", json={"body": body, "public": public}, headers=staff
        )
        assert r.status_code == 201, r.text
    citizen = client.get(f"{API}/public/reports/{code}").json()
    assert [c["body"] for c in citizen["comments"]] == ["Sẽ vá trong tuần"]
    internal = client.get(
        f"{API}/reports/{code}/comments", headers=world.headers["operator"]
    ).json()
    assert len(internal) == 2


def test_description_is_public_only_after_verification(client, world):
    code = submit(client)["tracking_code"]
    assert client.get(f"{API}/public/reports/{code}").json()["description"] is None
    act(client, world, "operator", code, "verify")
    assert client.get(f"{API}/public/reports/{code}").json()["description"].startswith("Ổ gà")


def test_anonymous_callers_get_401_on_the_staff_api(client, world):
    assert client.get(f"{API}/reports").status_code == 401
    assert client.post(f"{API}/reports/PA-2026-000001/verify", json={}).status_code == 401
