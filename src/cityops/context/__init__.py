"""The context-data hub: NGSI-LD API, entity store, temporal store, subscriptions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityops.core.errors import CityOpsError

log = logging.getLogger("cityops.ngsi_ld")
PREFIX = "/ngsi-ld/"
_KINDS = {
    400: "BadRequestData",
    401: "Unauthorized",
    403: "Forbidden",
    404: "ResourceNotFound",
    405: "OperationNotSupported",
    409: "AlreadyExists",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "BadRequestData",
    429: "TooManyResults",
}

Handler = Callable[[Request, Any], Awaitable[Any]]


def _problem_for_ngsi(app: FastAPI, exc_type: type[Exception]) -> None:
    """Wrap the app's handler so errors under /ngsi-ld/ become ProblemDetails."""
    from cityops.context.errors import problem_response

    fallback: Handler | None = app.exception_handlers.get(exc_type)  # type: ignore[assignment]

    async def handler(request: Request, exc: Any) -> Any:
        if not request.url.path.startswith(PREFIX) and fallback is not None:
            return await fallback(request, exc)
        status = getattr(exc, "status_code", 500)
        if isinstance(exc, RequestValidationError):
            status = 400
        detail = getattr(exc, "detail", None) or "error"
        if status == 500:
            log.exception("NGSI-LD internal error on %s", request.url.path, exc_info=exc)
            return problem_response("InternalError", "internal error", 500)
        return problem_response(_KINDS.get(status, "BadRequestData"), str(detail), status)

    app.add_exception_handler(exc_type, handler)


def install(app: FastAPI) -> None:
    """Mount the NGSI-LD API and its ProblemDetails error handling."""
    from cityops.context.api import router as entities
    from cityops.context.api_batch import router as batch
    from cityops.context.api_temporal import router as temporal
    from cityops.context.api_types import router as types
    from cityops.context.errors import NgsiLdError
    from cityops.context.rollups import rollup_job

    async def ngsi_error(_: Request, exc: NgsiLdError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    app.add_exception_handler(NgsiLdError, ngsi_error)  # type: ignore[arg-type]
    for exc_type in (CityOpsError, RequestValidationError, StarletteHTTPException, Exception):
        _problem_for_ngsi(app, exc_type)
    for router in (entities, batch, types, temporal):  # the busiest first: routes match in order
        app.include_router(router)
    app.state.lifespan_hooks.append(rollup_job)
    from cityops.context import direct
    from cityops.context.api_subscriptions import install as install_subscriptions
    from cityops.context.api_subscriptions import router as subscriptions

    install_subscriptions(app)  # routes, and the notifier running while the app serves
    direct.install(app, [entities, batch, types, temporal, subscriptions])
    if app.state.settings.ngsi_ld.open_access:
        log.warning(
            "CITYOPS_NGSI_LD__OPEN_ACCESS is on: /ngsi-ld serves anyone WITHOUT authentication. "
            "Only run this behind a PEP proxy / API gateway, or for conformance tests."
        )
