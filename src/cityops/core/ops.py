"""Operations basics: JSON logs, request ids, Prometheus metrics, health and readiness."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from contextvars import ContextVar

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pythonjsonlogger.json import JsonFormatter
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from cityops.core.config import Settings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_var: ContextVar[str | None] = ContextVar("client", default=None)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.__dict__.pop("color_message", None)  # uvicorn's terminal-coloured duplicate
        return True


def setup_logging(settings: Settings) -> None:
    """Send logs to stderr, one JSON object per line unless CITYOPS_LOG_JSON=false."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_cityops", False):
            root.removeHandler(old)
    handler._cityops = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # /readyz reads the schema revision; Alembic would log two lines at every probe.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


class Metrics:
    """The Prometheus metrics of one app (own registry, so several apps can coexist)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cityops_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cityops_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.job_runs = Counter(
            "cityops_job_runs_total",
            "Periodic job runs",
            ["job", "result"],
            registry=self.registry,
        )
        self.pool = Gauge(
            "cityops_db_pool_connections",
            "Database pool connections",
            ["state"],
            registry=self.registry,
        )


class RequestMiddleware(BaseHTTPMiddleware):
    """Give each request an id, time it, count it, and log it."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        rid = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        token = request_id_var.set(rid[:64])
        ctoken = client_var.set(request.client.host if request.client else None)
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = rid[:64]
            return response
        finally:
            elapsed = time.perf_counter() - start
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            metrics: Metrics = request.app.state.metrics
            metrics.requests.labels(request.method, path, str(status)).inc()
            metrics.latency.labels(request.method, path).observe(elapsed)
            logging.getLogger("cityops.access").info(
                "%s %s %s",
                request.method,
                request.url.path,
                status,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 2), "route": path},
            )
            request_id_var.reset(token)
            client_var.reset(ctoken)


router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Say that the process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Say whether the instance can serve: the database must answer."""
    from cityops.core.schema import current_revision, head_revision

    db = request.app.state.db
    if not db.ping():
        body = {"status": "not_ready", "database": "unreachable"}
        body |= {"detail": "Database unreachable", "code": "database_unreachable"}
        return JSONResponse(body, status_code=503)
    current, head = current_revision(db), head_revision()
    if current != head:
        body = {"status": "not_ready", "database": "ok", "schema": current}
        body |= {
            "detail": f"Schema at {current}, expected {head}: run `cityops migrate`",
            "code": "schema_outdated",
        }
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok", "schema": current})


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Expose Prometheus metrics: request counts and latencies, database pool."""
    m: Metrics = request.app.state.metrics
    for state, value in request.app.state.db.pool_status().items():
        m.pool.labels(state).set(value)
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)


def install_ops(app: FastAPI) -> None:
    """Add request middleware, metrics and the health routes."""
    app.state.metrics = Metrics()
    app.add_middleware(RequestMiddleware)
    app.include_router(router)
