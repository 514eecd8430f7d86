"""The NGSI-LD routes are served by the direct dispatcher, which skips FastAPI's per-request
routing and dependency solving; they stay documented, and a route that needs more than the
request, its path and the caller is still served (and validated) by FastAPI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from ngsi import air_quality, json_headers
from starlette.requests import Request

from cityops.context import direct
from cityops.context.http import NgsiPrincipal


def test_every_ngsi_ld_entity_route_is_served_directly_and_still_documented(app, client):
    dispatcher = app.router.routes[0]
    assert isinstance(dispatcher, direct.DirectRoutes)
    assert dispatcher.entries and all(e.endpoint is not None for e in dispatcher.entries)
    paths = client.get("/openapi.json").json()["paths"]
    assert "patch" in paths["/ngsi-ld/v1/entities/{entity_id}/attrs/{attr}"]
    assert "post" in paths["/ngsi-ld/v1/entityOperations/upsert"]


def test_a_direct_route_answers_as_before_errors_included(client, factory):
    auth = {"X-API-Key": factory.api_key()}
    headers = json_headers(auth)
    assert (
        client.post("/ngsi-ld/v1/entities", json=air_quality(1, 12.0), headers=headers).status_code
        == 201
    )
    eid = "urn:ngsi-ld:AirQualityObserved:PT-001"
    url = f"/ngsi-ld/v1/entities/{eid}/attrs/pm25"
    patched = client.patch(url, json={"value": 31.5}, headers=headers)
    assert patched.status_code == 204, patched.text
    got = client.get(f"/ngsi-ld/v1/entities/{eid}", headers=headers).json()
    assert got["pm25"]["value"] == 31.5

    missing = client.patch(url.replace("PT-001", "PT-404"), json={"value": 1}, headers=headers)
    assert missing.status_code == 404
    assert missing.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    anonymous = client.patch(url, json={"value": 1}, headers={"Content-Type": "application/json"})
    assert anonymous.status_code == 401
    assert anonymous.json()["type"].endswith("/Unauthorized")
    # requests are counted under their route's path, as FastAPI's routing labelled them
    metrics = client.get("/metrics").text
    assert (
        'cityops_http_requests_total{method="PATCH",'
        'route="/ngsi-ld/v1/entities/{entity_id:path}/attrs/{attr}",status="204"} 1.0'
    ) in metrics
    # a method no NGSI-LD route has falls through to FastAPI: 405, as ProblemDetails
    wrong = client.put("/ngsi-ld/v1/entityOperations/upsert", json=[], headers=headers)
    assert wrong.status_code == 405
    assert wrong.json()["type"].endswith("/OperationNotSupported")


async def _thing(request: Request, name: str, principal: NgsiPrincipal) -> Response:
    return JSONResponse({"served": "direct", "name": name, "by": principal.name})


async def _counted(
    request: Request, principal: NgsiPrincipal, limit: Annotated[int, Query(ge=1)] = 10
) -> Response:
    return JSONResponse({"served": "fastapi", "limit": limit})


def test_a_route_needing_fastapi_is_left_to_fastapi_in_its_place(settings):
    router = APIRouter(prefix="/ngsi-ld/v1")
    router.add_api_route("/things/{name}", _thing, methods=["GET"])
    router.add_api_route("/counted", _counted, methods=["GET"])
    settings.ngsi_ld.open_access = True
    app = FastAPI()
    app.state.settings = settings
    app.include_router(router)
    direct.install(app, [router])
    entries = app.router.routes[0].entries
    assert [e.endpoint is not None for e in entries] == [True, False]

    with TestClient(app) as client:
        assert client.get("/ngsi-ld/v1/things/cau-rong").json() == {
            "served": "direct",
            "name": "cau-rong",
            "by": "ngsi-ld-open-access",
        }
        assert client.get("/ngsi-ld/v1/counted?limit=3").json() == {"served": "fastapi", "limit": 3}
        assert client.get("/ngsi-ld/v1/counted?limit=0").status_code == 422  # FastAPI validated
