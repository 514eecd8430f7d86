"""Open311 GeoReport v2 server under /open311, in JSON and XML, with Open311 errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from cityops.core.auth.service import resolve_token
from cityops.core.deps import client_address
from cityops.core.errors import CityOpsError, Unauthorized
from cityops.core.policy import ANONYMOUS, Perm, Principal, can
from cityops.modules.field_reports import open311 as o
from cityops.modules.field_reports import service
from cityops.modules.field_reports.choices import Source
from cityops.modules.field_reports.models import Report
from cityops.modules.field_reports.runtime import Runtime, run, runtime
from cityops.modules.field_reports.spam import Client
from cityops.modules.field_reports.views import Lookup

log = logging.getLogger("cityops.field_reports.open311")
Fmt = Literal["json", "xml"]
CHANGESET = "2026-01-01T00:00:00+07:00"
MEDIA = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _status_of(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, CityOpsError):
        status = {401: 403, 422: 400}.get(exc.status_code, exc.status_code)
        return status, exc.detail
    if isinstance(exc, RequestValidationError | ValidationError):
        errors = exc.errors()
        where = ", ".join(".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in errors)
        return 400, where or "invalid request"
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail)
    log.exception("Open311 internal error", exc_info=exc)
    return 500, "internal error"


def error_response(path: str, exc: Exception) -> Response:
    """Answer an error as Open311 does: [{code, description}] or <errors>."""
    status, detail = _status_of(exc)
    errors = [{"code": status, "description": detail}]
    return render("xml" if path.endswith(".xml") else "json", errors, "errors", "error", status)


class Open311Route(APIRoute):
    """A route whose every error comes out in the Open311 error format."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        """Wrap the handler so exceptions become Open311 errors."""
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(request.url.path, exc)

        return wrapped


router = APIRouter(prefix="/open311", tags=["Open311 GeoReport v2"], route_class=Open311Route)


def render(fmt: str, body: Any, root: str, item: str | None, status: int = 200) -> Response:
    """Render JSON or XML (UTF-8) with the right media type."""
    if fmt == "xml":
        return Response(o.to_xml(root, item, body), status, media_type=MEDIA["xml"])
    return Response(orjson.dumps(body), status, media_type=MEDIA["json"])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _read(request: Request, work: Callable[[Session, Runtime], Any]) -> Any:
    db, rt = request.app.state.db, runtime(request)

    def job() -> Any:
        with db.session() as session:
            return work(session, rt)

    return await run_in_threadpool(job)


def _principal(session: Session, key: str | None) -> Principal:
    try:
        return resolve_token(session, key) if key else ANONYMOUS
    except Unauthorized as err:
        raise o.Open311Error(403, f"api_key is invalid, revoked or expired ({err.detail})") from err


@router.get("/discovery.{fmt}")
async def discovery(request: Request, fmt: Fmt) -> Response:
    """Describe this Open311 endpoint (GeoReport v2, JSON and XML)."""
    body = {
        "changeset": CHANGESET,
        "contact": "Trung tâm Giám sát, điều hành đô thị thông minh (IOC)",
        "key_service": "Xin khóa API (API key) từ quản trị viên CityOps / ask a CityOps admin",
        "endpoints": [
            {
                "specification": o.SPEC,
                "url": f"{_base(request)}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return render(fmt, body, "discovery", None)


@router.get("/v2/services.{fmt}")
async def services(request: Request, fmt: Fmt) -> Response:
    """List the service types (report categories)."""
    return render(fmt, await _read(request, lambda se, rt: o.services(se)), "services", "service")


@router.get("/v2/services/{code}.{fmt}")
async def service_definition(request: Request, code: str, fmt: Fmt) -> Response:
    """Describe a service's extra attributes."""
    body = await _read(request, lambda se, rt: o.definition(se, code))
    return render(fmt, body, "service_definition", None)


@router.post("/v2/requests.{fmt}")
async def create_request(request: Request, fmt: Fmt) -> Response:
    """Create a service request (form-encoded, with an API key)."""
    form = list((await request.form()).multi_items())
    fields: dict[str, Any] = dict(form)

    def work(session: Session, rt: Runtime) -> list[dict[str, Any]]:
        principal = _principal(session, fields.get("api_key"))
        if not can(principal, Perm.data_write, check_unit=False):
            raise o.Open311Error(403, "api_key is missing or invalid")
        data = o.report_input(session, form)
        client = Client(client_address(request), (fields.get("device_id") or "")[:64] or None)
        report, _secret = service.create_report(
            session, rt, principal, data, Source.open311, client
        )
        report.open311_token = o.new_token()
        notice = "Đã tiếp nhận; theo dõi bằng mã phản ánh / received; follow it by its id"
        return [
            {
                "service_request_id": report.tracking_code,
                "token": report.open311_token,
                "service_notice": notice,
                "account_id": None,
            }
        ]

    return render(fmt, await run(request, work), "service_requests", "request")


@router.get("/v2/tokens/{token}.{fmt}")
async def token(request: Request, token: str, fmt: Fmt) -> Response:
    """Trade a token for the service request id."""

    def work(session: Session, rt: Runtime) -> list[dict[str, Any]]:
        code = session.scalar(select(Report.tracking_code).where(Report.open311_token == token))
        if code is None:
            raise o.Open311Error(404, f"token {token} not found")
        return [{"service_request_id": code, "token": token}]

    return render(fmt, await _read(request, work), "service_requests", "request")


@router.get("/v2/requests.{fmt}")
async def list_requests(request: Request, fmt: Fmt) -> Response:
    """Search service requests (ids, service codes, dates, open/closed)."""
    params = dict(request.query_params)

    def work(session: Session, rt: Runtime) -> list[dict[str, Any]]:
        principal = _principal(session, params.get("api_key") or request.headers.get("x-api-key"))
        rows = o.find_requests(session, rt, principal, params)
        lookup = Lookup(session)
        return [o.request_item(lookup, rt, r, _base(request)) for r in rows]

    return render(fmt, await _read(request, work), "service_requests", "request")


@router.get("/v2/requests/{code}.{fmt}")
async def get_request(request: Request, code: str, fmt: Fmt) -> Response:
    """Read one service request."""

    def work(session: Session, rt: Runtime) -> list[dict[str, Any]]:
        report = service.find_by_code(session, code)
        if report is None:
            raise o.Open311Error(404, f"service_request_id {code} not found")
        return [o.request_item(Lookup(session), rt, report, _base(request))]

    return render(fmt, await _read(request, work), "service_requests", "request")


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown(rest: str) -> Response:
    """Answer unknown Open311 paths with an Open311 404."""
    raise o.Open311Error(404, f"/open311/{rest} is not an Open311 GeoReport v2 path")
