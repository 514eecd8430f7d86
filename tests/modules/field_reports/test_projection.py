"""The NGSI-LD projection: verified reports as IssueReporting entities, public-safe only."""

from __future__ import annotations

from cityops.modules.field_reports.projection import ISSUE_CONTEXT

from .conftest import act, submit

LINK = f'<{ISSUE_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def entity(client, w, code, who="operator"):
    return client.get(
        f"/ngsi-ld/v1/entities/urn:ngsi-ld:IssueReporting:{code}",
        params={"options": "keyValues"},
        headers=w.headers[who] | {"Link": LINK, "Accept": "application/json"},
    )


def test_verified_report_appears_in_the_hub_as_an_issue_reporting_entity(client, world):
    code = submit(client)["tracking_code"]
    assert entity(client, world, code).status_code == 404  # not before verification
    act(client, world, "operator", code, "verify")
    response = entity(client, world, code)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "IssueReporting"
    assert body["service_request_id"] == code
    assert body["service_code"] == "PA-DUONG"
    assert body["resolutionStatus"] == "assigned"
    assert body["agency_responsible"] == "UBND phường Mũi Né"
    assert body["location"] == {"type": "Point", "coordinates": [108.28, 10.95]}
    assert body["areaServed"] == "Phường Mũi Né"


def test_status_changes_update_the_entity(client, world):
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    act(client, world, "ward_a_staff", code, "accept")
    act(client, world, "ward_a_staff", code, "start")
    act(client, world, "ward_a_staff", code, "resolve", resolution="Đã thảm lại mặt đường")
    body = entity(client, world, code).json()
    assert body["resolutionStatus"] == "resolved"
    assert body["service_notice"] == "Đã thảm lại mặt đường"


def test_the_projection_carries_no_personal_data(client, world):
    code = submit(client, reporter_email="dan@example.vn", anonymous=True)["tracking_code"]
    act(client, world, "operator", code, "verify")
    text = entity(client, world, code).text
    for private in ("Trần Văn Dân", "0912345678", "dan@example.vn", "anonymous", "reporter"):
        assert private not in text


def test_rejected_reports_are_never_in_the_hub(client, world):
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "reject", status="spam", reason="Quảng cáo")
    assert entity(client, world, code).status_code == 404


def test_hub_entities_follow_the_unit_scope(client, world):
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    assert entity(client, world, code, "ward_operator").status_code == 200
    assert entity(client, world, code, "ward_b_operator").status_code == 404
