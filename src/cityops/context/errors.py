"""NGSI-LD ProblemDetails errors (ETSI GS CIM 009, clause 5.5.2)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

ERROR_BASE = "https://uri.etsi.org/ngsi-ld/errors/"

# error type -> (HTTP status, title)
ERROR_TYPES: dict[str, tuple[int, str]] = {
    "InvalidRequest": (400, "The request associated to the operation is syntactically invalid"),
    "BadRequestData": (400, "The request includes input data which does not meet the requirements"),
    "AlreadyExists": (409, "The referred element already exists"),
    "OperationNotSupported": (422, "The operation is not supported"),
    "ResourceNotFound": (404, "The referred resource has not been found"),
    "InternalError": (500, "There has been an error during the operation execution"),
    "TooComplexQuery": (403, "The query is too complex"),
    "TooManyResults": (403, "Too many results"),
    "LdContextNotAvailable": (503, "The JSON-LD @context is not available"),
    "NoMultiTenantSupport": (501, "Multi-tenancy is not supported"),
    "NonexistentTenant": (404, "The tenant does not exist"),
    "Unauthorized": (401, "Authentication is required"),
    "Forbidden": (403, "The caller may not do this"),
    "PayloadTooLarge": (413, "The payload is too large"),
    "UnsupportedMediaType": (415, "The content type is not supported"),
    "NotAcceptable": (406, "No acceptable representation"),
}


class NgsiLdError(Exception):
    """An NGSI-LD error with its standard type."""

    def __init__(self, kind: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        if kind not in ERROR_TYPES:
            raise ValueError(f"unknown NGSI-LD error type {kind}")
        self.kind = kind
        self.detail = detail
        self.status = status or ERROR_TYPES[kind][0]

    def body(self) -> dict[str, Any]:
        """Return the ProblemDetails body."""
        return problem(self.kind, self.detail)


def problem(kind: str, detail: str) -> dict[str, Any]:
    """Build a ProblemDetails object."""
    return {"type": ERROR_BASE + kind, "title": ERROR_TYPES[kind][1], "detail": detail}


def problem_response(kind: str, detail: str, status: int | None = None) -> JSONResponse:
    """Build a ProblemDetails response (application/json, as NGSI-LD brokers answer)."""
    return JSONResponse(problem(kind, detail), status_code=status or ERROR_TYPES[kind][0])


def bad_request(detail: str) -> NgsiLdError:
    """Return a BadRequestData error."""
    return NgsiLdError("BadRequestData", detail)


def invalid_request(detail: str) -> NgsiLdError:
    """Return an InvalidRequest error."""
    return NgsiLdError("InvalidRequest", detail)


def not_found(detail: str) -> NgsiLdError:
    """Return a ResourceNotFound error."""
    return NgsiLdError("ResourceNotFound", detail)


def not_allowed(detail: str) -> NgsiLdError:
    """A method the path's resource does not have (a collection named where one item is
    meant: `/subscriptions/`, `.../attrs/`): 405, OperationNotSupported."""
    return NgsiLdError("OperationNotSupported", detail, status=405)
