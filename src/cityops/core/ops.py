"""Operations basics: JSON logs, request ids, Prometheus metrics, health and readiness."""

from __future__ import annotations

import itertools
import logging
import os
import sys
import time
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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class RequestMiddleware:
    """Give each request an id, time it, count it, and log it (plain ASGI: no extra task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("cityops.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        token = request_id_var.set(rid)
        client = scope.get("client")
        ctoken = client_var.set(client[0] if client else None)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - start)
            request_id_var.reset(token)
            client_var.reset(ctoken)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", "unmatched")
        method = scope["method"]
        metrics: Metrics = scope["app"].state.metrics
        metrics.requests.labels(method, path, str(status)).inc()
        metrics.latency.labels(method, path).observe(elapsed)
        if self.log.isEnabledFor(logging.INFO):
            self.log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 2), "route": path},
            )


def _request_id(scope: Scope) -> str:
    """Return the caller's X-Request-ID (printable, at most 64 chars) or a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")[:64]
            if text.isprintable() and text.strip():
                return text
            break
    return f"{_RID_PREFIX}{next(_RID_COUNTER):012x}"


# Fresh request ids: a random prefix per process and a counter (unique across restarts and
# processes, and without uuid4's random read per request on the hot NGSI-LD paths).
_RID_PREFIX = os.urandom(10).hex()
_RID_COUNTER = itertools.count(1)


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
