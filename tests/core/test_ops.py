"""Operations basics: health, readiness, metrics, request ids, structured errors, docs, logs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cityops.app import create_app
from cityops.core.config import Settings
from cityops.core.db import Database

UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/none"
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def test_healthz_says_the_process_is_alive(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_is_503_with_a_structured_body_when_the_database_is_unreachable(
    settings: Settings,
) -> None:
    db = Database(UNREACHABLE_DB)
    try:
        with TestClient(create_app(settings, db=db)) as client:
            response = client.get("/readyz")
            alive = client.get("/healthz")
    finally:
        db.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["database"] == "unreachable"
    assert body["code"] == "database_unreachable"
    assert body["detail"]
    assert alive.status_code == 200, "liveness must not depend on the database"


def test_metrics_count_requests_and_show_the_database_pool(client: TestClient) -> None:
    for _ in range(3):
        client.get("/healthz")
    client.get("/api/no-such-thing")
    text = client.get("/metrics").text
    assert 'cityops_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in text
    assert "cityops_http_request_duration_seconds_bucket" in text
    assert 'cityops_http_request_duration_seconds_count{method="GET",route="/healthz"} 3.0' in text
    assert 'status="404"' in text
    assert 'cityops_db_pool_connections{state="size"}' in text
    assert 'cityops_db_pool_connections{state="checked_out"}' in text


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    generated = client.get("/healthz").headers.get("X-Request-ID")
    assert generated
    assert client.get("/healthz").headers["X-Request-ID"] != generated
    echoed = client.get("/healthz", headers={"X-Request-ID": "caller-chose-this"})
    assert echoed.headers["X-Request-ID"] == "caller-chose-this"
    assert client.get("/api/no-such-thing").headers.get("X-Request-ID")


def test_malformed_json_gives_422_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login",
        content=b'{"username": "admin", "password": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "malformed_json"
    assert body["detail"]


def test_unknown_route_gives_404_not_found(client: TestClient) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["detail"]


def test_api_docs_are_served(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "CityOps API"


def test_every_endpoint_is_described_in_openapi(client: TestClient) -> None:
    spec: dict[str, Any] = client.get("/openapi.json").json()
    undescribed = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS and not (op.get("description") or "").strip()
    ]
    assert spec["paths"], "the API has no endpoints"
    assert not undescribed, f"give these endpoints a one-line docstring: {undescribed}"


LOG_SCRIPT = textwrap.dedent(
    """
    import sys
    from fastapi.testclient import TestClient
    from cityops.app import create_app
    from cityops.core.config import load_settings

    settings = load_settings(
        env="test", database_url=sys.argv[1], data_dir=sys.argv[2], log_json=True,
        log_level="INFO", secret_key="test-secret-key-not-for-production",
    )
    with TestClient(create_app(settings)) as client:
        client.get("/healthz", headers={"X-Request-ID": "log-test-1"})
    """
)


def test_logs_are_json_lines_with_the_request_id(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-c",
            LOG_SCRIPT,
            f"sqlite:///{tmp_path / 'log.db'}",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    access = [r for r in records if r["logger"] == "cityops.access"]
    assert access, records
    assert access[0]["request_id"] == "log-test-1"
    assert access[0]["status"] == 200
    assert access[0]["route"] == "/healthz"
