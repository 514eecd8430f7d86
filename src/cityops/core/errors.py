"""Structured errors: every API error is {"detail": ..., "code": ...} with a stable code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("cityops.errors")


class CityOpsError(Exception):
    """An error with an HTTP status and a stable machine-readable code."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self, detail: str, *, code: str | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra or {}


class NotFound(CityOpsError):
    """The record does not exist, or the caller may not see it."""

    status_code = 404
    code = "not_found"


class Forbidden(CityOpsError):
    """The caller is known but may not do this."""

    status_code = 403
    code = "forbidden"


class Unauthorized(CityOpsError):
    """The caller must authenticate."""

    status_code = 401
    code = "not_authenticated"


class Conflict(CityOpsError):
    """The write clashes with existing data (duplicate code, cycle, ...)."""

    status_code = 409
    code = "conflict"


class InvalidInput(CityOpsError):
    """The input is well-formed but wrong."""

    status_code = 422
    code = "invalid_input"


class TooManyRequests(CityOpsError):
    """The caller must wait before trying again."""

    status_code = 429
    code = "too_many_requests"


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


def error_body(detail: Any, code: str, **extra: Any) -> dict[str, Any]:
    """Build the JSON body of an error."""
    return {"detail": detail, "code": code, **extra}


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, including framework ones and crashes, a structured JSON body."""

    @app.exception_handler(CityOpsError)
    async def _cityops(_: Request, exc: CityOpsError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            error_body(exc.detail, exc.code, **exc.extra), exc.status_code, headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(exc.detail, code), exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        malformed = any(e["type"] == "json_invalid" for e in errors)
        code = "malformed_json" if malformed else "invalid_input"
        return JSONResponse(error_body(errors, code), 422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        return JSONResponse(
            error_body("The write conflicts with existing data", "integrity_error"), 409
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("Internal server error", "internal_error"), 500)
