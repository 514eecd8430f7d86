"""Notification endpoints on internal addresses are refused unless the operator allows them
(a subscriber must not be able to make the server call its own database or admin ports)."""

from __future__ import annotations

import pytest
from ngsi import json_headers

from cityops.app import create_app

BASE = "/ngsi-ld/v1"


def body(uri: str) -> dict:
    return {
        "type": "Subscription",
        "entities": [{"type": "AirQualityObserved"}],
        "notification": {"endpoint": {"uri": uri}},
    }


@pytest.fixture
def strict_client(settings, database):
    """An instance with the production default: no internal address allowed."""
    from fastapi.testclient import TestClient

    ngsi = settings.ngsi_ld.model_copy(update={"notification_allowlist": []})
    app = create_app(settings.model_copy(update={"ngsi_ld": ngsi}), db=database)
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:5432/notify",
        "http://localhost:8000/api/people",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hook",
        "http://[::1]:9000/x",
    ],
)
def test_internal_endpoints_are_refused_with_the_setting_to_change(strict_client, factory, uri):
    key = {"X-API-Key": factory.api_key("integrator")}
    response = strict_client.post(
        f"{BASE}/subscriptions", json=body(uri), headers=json_headers(key)
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"].endswith("BadRequestData")
    assert "CITYOPS_NGSI_LD__NOTIFICATION_ALLOWLIST" in problem["detail"]


def test_an_allowlisted_network_is_accepted_and_a_patch_to_an_internal_uri_is_refused(
    settings, database, factory
):
    from fastapi.testclient import TestClient

    ngsi = settings.ngsi_ld.model_copy(update={"notification_allowlist": ["10.0.5.0/24"]})
    app = create_app(settings.model_copy(update={"ngsi_ld": ngsi}), db=database)
    key = {"X-API-Key": factory.api_key("integrator")}
    with TestClient(app) as client:
        created = client.post(
            f"{BASE}/subscriptions",
            json=body("http://10.0.5.20/ql/notify"),
            headers=json_headers(key),
        )
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        patch = {"notification": {"endpoint": {"uri": "http://127.0.0.1:6379/"}}}
        changed = client.patch(location, json=patch, headers=json_headers(key))
        assert changed.status_code == 400, changed.text
