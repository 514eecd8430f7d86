"""Open311 GeoReport v2: the spec's JSON schemas, XML, errors, and a real client over HTTP."""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from georeport import GeoReport
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from cityops.app import create_app
from pgcluster import free_port

from .conftest import MUI_NE, act, submit

SCHEMAS = Path(__file__).resolve().parents[4] / "shared" / "data" / "open311-schemas"
V2 = "/open311/v2"


def validator(name: str) -> Draft4Validator:
    """A validator for one of the GeoReport v2 schemas, resolving their relative $refs."""
    resources = [
        (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT4))
        for p in SCHEMAS.glob("*.json")
        if p.name != "swagger.json"
    ]
    return Draft4Validator({"$ref": name}, registry=Registry().with_resources(resources))


def assert_valid(name: str, body: Any) -> None:
    """Fail with every schema error of a response body."""
    errors = [f"{list(e.path)}: {e.message}" for e in validator(name).iter_errors(body)]
    assert not errors, errors


def post_request(client_or_url: Any, key: str, fmt: str = "json", **fields: str) -> Any:
    """POST a form-encoded Open311 request."""
    form = {
        "api_key": key,
        "service_code": "PA-DUONG",
        "lat": str(MUI_NE[0]),
        "long": str(MUI_NE[1]),
        "address_string": "12 Nguyễn Đình Chiểu, Mũi Né",
        "description": "Ổ gà sâu giữa đường",
        "attribute[SIZE]": "large",
        "first_name": "Lê",
        "last_name": "Thị Hoa",
        "phone": "0987654321",
    } | fields
    if isinstance(client_or_url, str):
        return httpx.post(f"{client_or_url}{V2}/requests.{fmt}", data=form, timeout=10)
    return client_or_url.post(f"{V2}/requests.{fmt}", data=form)


@pytest.fixture
def key(factory: Any, world: Any) -> str:
    """An integrator API key of the province (an Open311 application)."""
    return factory.api_key("integrator", world.province)


def test_open311_json_matches_the_schema(client, world, key):
    assert_valid("services.json", client.get(f"{V2}/services.json").json())
    definition = client.get(f"{V2}/services/PA-DUONG.json").json()
    assert_valid("service-definition.json", definition)
    assert definition["attributes"][0]["values"][1] == {"key": "large", "name": "Lớn"}
    assert post_request(client, key).status_code == 200
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    requests = client.get(f"{V2}/requests.json").json()
    assert len(requests) == 2
    assert_valid("requests.json", requests)
    one = client.get(f"{V2}/requests/{code}.json").json()
    assert_valid("requests.json", one)
    assert (
        datetime.fromisoformat(one[0]["requested_datetime"]).utcoffset().total_seconds() == 7 * 3600
    )
    assert one[0]["agency_responsible"] == "UBND phường Mũi Né"


def test_services_and_requests_come_as_xml_in_utf8(client, world, key):
    response = client.get(f"{V2}/services.xml")
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "services"
    assert root.find("service/service_name").text == "Hư hỏng đường sá"
    assert root.find("service/metadata").text == "true"
    definition = ET.fromstring(client.get(f"{V2}/services/PA-DUONG.xml").content)
    assert definition.find("attributes/attribute/values/value/name").text == "Nhỏ"
    created = ET.fromstring(post_request(client, key, "xml").content)
    code = created.find("request/service_request_id").text
    request = ET.fromstring(client.get(f"{V2}/requests/{code}.xml").content)
    assert request.tag == "service_requests"
    assert request.find("request/status").text == "open"


def test_posting_without_a_valid_api_key_is_403_in_open311_form(client, world):
    json_error = post_request(client, "cok_nope_nope")
    assert json_error.status_code == 403
    assert json_error.json()[0]["code"] == 403
    assert json_error.json()[0]["description"].startswith("api_key is invalid")
    xml_error = post_request(client, "", "xml")
    assert xml_error.status_code == 403
    root = ET.fromstring(xml_error.content)
    assert (root.tag, root.find("error/code").text) == ("errors", "403")


def test_bad_requests_get_open311_400_and_404_errors(client, world, key):
    unknown = post_request(client, key, service_code="NOPE")
    assert unknown.status_code == 400
    assert unknown.json()[0]["description"] == "service_code NOPE not found"
    no_place = post_request(client, key, lat="", long="", address_string="")
    assert no_place.status_code == 400 and "address_string" in no_place.json()[0]["description"]
    bad_attr = post_request(client, key, **{"attribute[SIZE]": "huge"})
    assert bad_attr.status_code == 400 and "SIZE" in bad_attr.json()[0]["description"]
    outside = post_request(client, key, lat="21.03", long="105.85")
    assert (
        outside.status_code == 400 and "outside the territory" in outside.json()[0]["description"]
    )
    missing = client.get(f"{V2}/requests/PA-2026-999999.xml")
    assert missing.status_code == 404
    assert ET.fromstring(missing.content).find("error/code").text == "404"
    assert client.get(f"{V2}/services/NOPE.json").status_code == 404
    assert client.get("/open311/v3/anything.json").json()[0]["code"] == 404
    assert client.get(f"{V2}/requests.json?status=pending").status_code == 400


def test_requests_are_filtered_by_status_code_and_ids(client, world, key):
    first = post_request(client, key).json()[0]["service_request_id"]
    second = submit(client)["tracking_code"]
    act(client, world, "operator", second, "reject", status="spam", reason="Quảng cáo")
    closed = client.get(f"{V2}/requests.json", params={"status": "closed"}).json()
    opened = client.get(f"{V2}/requests.json", params={"status": "open"}).json()
    assert [r["service_request_id"] for r in closed] == [second]
    assert [r["service_request_id"] for r in opened] == [first]
    both = client.get(f"{V2}/requests.json", params={"service_request_id": f"{first},{second}"})
    assert {r["service_request_id"] for r in both.json()} == {first, second}
    assert client.get(f"{V2}/requests.json", params={"service_code": "OTHER"}).json() == []
    future = {"start_date": "2099-01-01T00:00:00Z", "end_date": "2099-02-01T00:00:00Z"}
    assert client.get(f"{V2}/requests.json", params=future).json() == []


def test_token_is_traded_for_the_request_id(client, world, key):
    created = post_request(client, key).json()[0]
    traded = client.get(f"{V2}/tokens/{created['token']}.json").json()
    assert traded == [
        {"service_request_id": created["service_request_id"], "token": created["token"]}
    ]
    assert client.get(f"{V2}/tokens/nope.json").status_code == 404


def test_discovery_names_the_v2_endpoint_and_formats(client, world):
    doc = client.get("/open311/discovery.json").json()
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert "text/xml" in endpoint["formats"]
    xml = ET.fromstring(client.get("/open311/discovery.xml").content)
    assert xml.find("endpoints/endpoint/formats/format").text == "application/json"


def test_open311_reports_keep_the_reporter_private(client, world, key):
    code = post_request(client, key).json()[0]["service_request_id"]
    report = client.get(f"/api/field-reports/reports/{code}", headers=world.headers["operator"])
    assert report.json()["reporter"]["name"] == "Lê Thị Hoa"
    assert report.json()["attributes"] == {"SIZE": "large"}
    assert report.json()["source"] == "open311"
    public = client.get(f"{V2}/requests/{code}.json").text
    assert "Hoa" not in public and "0987654321" not in public


@pytest.fixture
def live_url(settings: Any, database: Any, world: Any) -> Iterator[str]:
    """A real HTTP server (uvicorn on 127.0.0.1) serving a second app on the test database."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, db=database), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_open311_client_posts_and_reads_a_request(live_url, key):
    # georeport 0.3.1 reads (services, definitions, requests) but has no call to create one,
    # so the POST goes through httpx, form-encoded as the spec says.
    created = post_request(live_url, key)
    assert created.status_code == 200, created.text
    code = created.json()[0]["service_request_id"]
    client = GeoReport(f"{live_url}{V2}", api_key=key)
    assert [s["service_code"] for s in client.get_service_list()] == ["PA-DUONG"]
    assert client.get_service_definition("PA-DUONG")["attributes"][0]["code"] == "SIZE"
    request = client.get_service_request(code)
    assert (request["service_request_id"], request["status"]) == (code, "open")
    assert [r["service_request_id"] for r in client.get_service_requests(status="open")] == [code]
    as_xml = GeoReport(f"{live_url}{V2}", output_format="xml").get_service_request(code)
    assert as_xml["service_code"] == "PA-DUONG" and as_xml["status"] == "open"
