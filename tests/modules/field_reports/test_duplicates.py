"""Duplicates: nearby suggestions for operators and citizens, following, and merging."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from cityops.core.audit import AuditEntry
from cityops.modules.field_reports.duplicates import haversine_m
from cityops.modules.field_reports.models import Report

from .conftest import MUI_NE, PHU_THUY, act, roads_category, submit
from .test_open311 import assert_valid

API = "/api/field-reports"
NORTH_100M = (MUI_NE[0] + 0.0009, MUI_NE[1])
NORTH_33M = (MUI_NE[0] + 0.0003, MUI_NE[1])
NORTH_550M = (MUI_NE[0] + 0.005, MUI_NE[1])


def _duplicates(client, w, code, who="operator"):
    response = client.get(f"{API}/reports/{code}/duplicates", headers=w.headers[who])
    assert response.status_code == 200, response.text
    return response.json()


def test_haversine_measures_metres_on_the_ground():
    assert abs(haversine_m(*MUI_NE, *NORTH_100M) - 100.1) < 0.5
    assert abs(haversine_m(10.0, 108.0, 10.0, 109.0) - 109_500) < 300  # a degree east at 10° N


def test_operator_sees_open_reports_of_the_same_category_nearby_nearest_first(client, world):
    main = submit(client)["tracking_code"]
    far_100 = submit(client, NORTH_100M)["tracking_code"]
    near_33 = submit(client, NORTH_33M)["tracking_code"]
    submit(client, NORTH_550M)  # outside the 150 m radius
    roads_category(client, world.headers["admin"], code="PA-LE", name="Vỉa hè")
    submit(client, category_code="PA-LE")  # same place, another category
    rejected = submit(client, NORTH_33M)["tracking_code"]
    act(client, world, "operator", rejected, "reject", status="spam", reason="Quảng cáo")
    found = _duplicates(client, world, main)
    assert [d["tracking_code"] for d in found["items"]] == [near_33, far_100]
    assert [round(d["distance_m"]) for d in found["items"]] == [33, 100]
    assert found["radius_m"] == 150 and found["window_h"] == 72
    assert found["items"][0]["status_label_vi"] == "Mới tiếp nhận"


def test_reports_further_apart_in_time_than_the_window_are_not_duplicates(client, world, database):
    old = submit(client)["tracking_code"]
    new = submit(client, NORTH_33M)["tracking_code"]
    with database.session() as s:
        created = s.scalar(select(Report.created_at).where(Report.tracking_code == old))
        s.execute(
            update(Report)
            .where(Report.tracking_code == old)
            .values(created_at=created - timedelta(hours=80))
        )
    assert _duplicates(client, world, new)["items"] == []


def test_ward_operator_is_offered_only_duplicates_in_their_ward(client, world):
    in_b = submit(client, PHU_THUY)["tracking_code"]
    beside = submit(client, (PHU_THUY[0] + 0.0003, PHU_THUY[1]))["tracking_code"]
    assert [d["tracking_code"] for d in _duplicates(client, world, in_b)["items"]] == [beside]
    other_ward = client.get(
        f"{API}/reports/{in_b}/duplicates", headers=world.headers["ward_operator"]
    )
    assert other_ward.status_code in (403, 404)


def test_merging_closes_the_duplicate_and_its_reporter_follows_the_main_report(client, world):
    main = submit(client)["tracking_code"]
    act(client, world, "operator", main, "verify")
    dup = submit(client, NORTH_33M, reporter_phone="0977000111")["tracking_code"]
    merged = act(
        client,
        world,
        "operator",
        dup,
        "reject",
        status="duplicate",
        reason="Cùng ổ gà",
        duplicate_of=main,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "duplicate" and merged.json()["duplicate_of"] == main
    followers = client.get(f"{API}/reports/{main}/followers", headers=world.headers["operator"])
    assert [(f["phone"], f["from_report"]) for f in followers.json()] == [("0977000111", dup)]
    history = client.get(f"{API}/reports/{main}/history", headers=world.headers["operator"])
    assert history.json()[-1]["action"] == "merge" and dup in history.json()[-1]["note"]
    citizen = client.get(f"{API}/public/reports/{dup}").json()
    assert citizen["duplicate_of"] == main
    assert (citizen["main_status"], citizen["main_status_label_en"]) == ("assigned", "Assigned")


def test_merge_is_audited_on_both_reports(client, world, database):
    main = submit(client)["tracking_code"]
    dup = submit(client, NORTH_33M)["tracking_code"]
    body = {"status": "duplicate", "reason": "Trùng", "duplicate_of": main}
    assert act(client, world, "operator", dup, "reject", **body).status_code == 200
    with database.session() as s:
        actions = {
            (e.entity_id, e.action)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.actor.like("user:%")))
        }
    assert {(dup, "field_report.mark_duplicate"), (main, "field_report.merge")} <= actions
    assert (main, "field_report.follow") in actions  # the duplicate's reporter follows


def test_open311_shows_a_merged_duplicate_with_the_main_reports_status(client, world):
    main = submit(client)["tracking_code"]
    act(client, world, "operator", main, "verify")
    dup = submit(client, NORTH_33M)["tracking_code"]
    body = {"status": "duplicate", "reason": "Trùng", "duplicate_of": main}
    act(client, world, "operator", dup, "reject", **body)
    response = client.get(f"/open311/v2/requests/{dup}.json")
    assert response.status_code == 200
    assert_valid("requests.json", response.json())
    item = response.json()[0]
    assert item["status"] == "open"  # the main report is still being handled
    assert main in item["status_notes"] and "duplicate of" in item["status_notes"]


def test_a_report_cannot_be_merged_into_itself_or_into_a_closed_report(client, world):
    main = submit(client)["tracking_code"]
    dup = submit(client, NORTH_33M)["tracking_code"]
    itself = act(
        client,
        world,
        "operator",
        dup,
        "reject",
        status="duplicate",
        reason="Trùng nhau",
        duplicate_of=dup,
    )
    assert itself.status_code == 422 and itself.json()["code"] == "duplicate_of"
    act(client, world, "operator", main, "reject", status="invalid", reason="Sai")
    closed = act(
        client,
        world,
        "operator",
        dup,
        "reject",
        status="duplicate",
        reason="Trùng nhau",
        duplicate_of=main,
    )
    assert closed.status_code == 409 and closed.json()["code"] == "main_report_closed"
    assert client.get(f"{API}/public/reports/{dup}").json()["status"] == "received"


def test_citizen_is_offered_only_verified_open_reports_nearby_without_personal_data(client, world):
    verified = submit(client)["tracking_code"]
    act(client, world, "operator", verified, "verify")
    submit(client, NORTH_33M)  # not verified yet: not offered
    params = {"category": "PA-DUONG", "lat": NORTH_100M[0], "lon": NORTH_100M[1]}
    response = client.get(f"{API}/public/nearby", params=params)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["tracking_code"] for i in items] == [verified]
    assert round(items[0]["distance_m"]) == 100 and items[0]["unit_name"] == "Phường Mũi Né"
    text = response.text
    assert "0912345678" not in text and "Trần Văn Dân" not in text
    unknown = client.get(f"{API}/public/nearby", params=params | {"category": "PA-KHONG"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_category"


def test_citizen_follows_a_nearby_report_instead_of_filing_it_again(client, world):
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    followed = client.post(
        f"{API}/public/reports/{code}/follow", json={"name": "Lan", "email": "lan@example.vn"}
    )
    assert followed.status_code == 201, followed.text
    assert followed.json()["followers"] == 1 and code in followed.json()["message_vi"]
    listed = client.get(f"{API}/reports/{code}/followers", headers=world.headers["operator"])
    assert [(f["email"], f["from_report"]) for f in listed.json()] == [("lan@example.vn", None)]
    nobody = client.post(f"{API}/public/reports/{code}/follow", json={"name": "Lan"})
    assert nobody.status_code == 422
    missing = client.post(f"{API}/public/reports/PA-2026-999999-ZZZZ/follow", json={"phone": "1"})
    assert missing.status_code == 404
