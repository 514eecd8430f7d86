"""Writers at the same time: every reading lands, none fails with 'database is locked'."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from intake.test_http_readings import reading


def test_concurrent_batches_of_readings_all_land(client, factory):
    key = {"X-API-Key": factory.api_key("integrator")}
    ids = [f"urn:ngsi-ld:AirQualityObserved:conc-{i}" for i in range(8)]
    assert client.post(
        "/api/intake/readings", json={"readings": [reading(e) for e in ids]}, headers=key
    ).status_code in (200, 201, 207)

    def send(n: int) -> int:
        minute = f"2026-11-24T05:{n % 60:02d}:{n // 60:02d}Z"
        body = {"readings": [reading(e, pm25=float(n), at=minute) for e in ids]}
        response = client.post("/api/intake/readings", json=body, headers=key)
        assert response.status_code in (200, 201), response.text
        return len(response.json().get("errors", []))

    with ThreadPoolExecutor(6) as pool:
        errors = list(pool.map(send, range(1, 61)))
    assert sum(errors) == 0


def test_concurrent_ngsi_ld_updates_all_land(client, factory):
    key = {"X-API-Key": factory.api_key("integrator")}
    ids = [f"urn:ngsi-ld:AirQualityObserved:ngsi-{i}" for i in range(6)]
    assert client.post(
        "/api/intake/readings", json={"readings": [reading(e) for e in ids]}, headers=key
    ).status_code in (200, 201)
    env = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"
    headers = key | {"Link": f'<{env}>; rel="http://www.w3.org/ns/json-ld#context"'}

    def patch(n: int) -> int:
        entity = ids[n % len(ids)]
        body = {"value": float(n), "observedAt": f"2026-11-24T06:{n // 60:02d}:{n % 60:02d}Z"}
        url = f"/ngsi-ld/v1/entities/{entity}/attrs/pm25"
        response = client.patch(url, json=body, headers=headers)
        return response.status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(patch, range(60)))
    assert codes == [204] * 60
