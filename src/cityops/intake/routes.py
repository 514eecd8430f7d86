"""HTTP intake: POST /api/intake/readings, for devices that do not speak NGSI-LD."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from cityops.context.entities import iso
from cityops.context.errors import NgsiLdError
from cityops.core.auth.models import ApiKey
from cityops.core.db import utcnow
from cityops.core.deps import SessionDep, require
from cityops.core.errors import InvalidInput
from cityops.core.policy import Perm, Principal
from cityops.intake import schemas as s
from cityops.intake.ingest import Ingestor, Reading, ReadingError
from cityops.intake.payloads import parse_reading

router = APIRouter(prefix="/api/intake", tags=["intake"])
_TENANT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
Writer = Annotated[Principal, Depends(require(Perm.data_write))]


def _tenant(request: Request) -> str:
    value = request.headers.get("ngsild-tenant", "")
    if value and not _TENANT.match(value):
        raise InvalidInput("NGSILD-Tenant must be 1-64 letters, digits, '-' or '_'")
    return value


def _key_prefix(session: SessionDep, principal: Principal) -> str | None:
    if principal.kind != "api_key":
        return None
    return session.scalar(select(ApiKey.prefix).where(ApiKey.id == principal.id))


@router.post(
    "/readings",
    response_model=s.ReadingsPublic,
    responses={207: {"model": s.ReadingsPublic, "description": "Some readings did not land"}},
)
async def post_readings(
    body: s.ReadingsCreate, request: Request, principal: Writer, session: SessionDep
) -> JSONResponse:
    """Store device readings (upsert); bad ones are reported by index, good ones land."""
    ingestor: Ingestor = request.app.state.intake
    tenant, prefix, now = _tenant(request), _key_prefix(session, principal), iso(utcnow())
    readings: list[Reading] = []
    errors: list[ReadingError] = []
    for index, item in enumerate(body.readings):
        try:
            parsed = parse_reading(ingestor.resolver, item, body.context, now)
        except NgsiLdError as err:
            errors.append(ReadingError(index, _id_of(item), err))
            continue
        readings.append(Reading.of(index, tenant, principal, parsed, prefix))
    result = await ingestor.ingest(readings)
    errors = sorted(errors + result.errors, key=lambda e: e.index)
    out = s.ReadingsPublic(
        accepted=len(result.landed),
        created=result.created,
        errors=[
            s.ReadingErrorPublic(
                index=e.index, entity_id=e.entity_id, detail=e.error.detail, code=e.error.kind
            )
            for e in errors
        ],
    )
    return JSONResponse(out.model_dump(), status_code=207 if errors else 200)


def _id_of(item: object) -> str | None:
    value = item.get("entity_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None
