"""HTTP API of public services: /api/public-services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cityops.core.config import PublicServicesSettings
from cityops.core.db import utcnow
from cityops.core.deps import SessionDep, require
from cityops.core.errors import InvalidInput
from cityops.core.policy import Perm, Principal
from cityops.modules.public_services import counters as c
from cityops.modules.public_services import schemas as s
from cityops.modules.public_services import sheets, views
from cityops.modules.public_services.choices import BUCKETS, CHANNELS, DOSSIER_STATUSES
from cityops.modules.public_services.clock import local_tz
from cityops.modules.public_services.service import upsert

router = APIRouter(prefix="/api/public-services", tags=["public_services"])

Reader = Annotated[Principal, Depends(require(Perm.data_read))]
Writer = Annotated[Principal, Depends(require(Perm.data_write))]
MAX_UPLOAD = 20 * 1024 * 1024
T = TypeVar("T")


def _settings(request: Request) -> PublicServicesSettings:
    return request.app.state.settings.public_services


async def _write(request: Request, work: Callable[[Session], T]) -> T:
    """Run a write in a worker thread and one transaction."""

    def job() -> T:
        with request.app.state.db.session() as session:
            return work(session)

    return await run_in_threadpool(job)


@router.get("/choices")
def list_choices(principal: Reader) -> dict[str, list[dict[str, str]]]:
    """List channels, dossier statuses and counter names with labels and colours."""
    sets = {"channels": CHANNELS, "statuses": DOSSIER_STATUSES, "counters": BUCKETS}
    return {name: [vars(x) for x in choices.values()] for name, choices in sets.items()}


@router.post("/dossiers")
async def post_dossiers(
    request: Request, principal: Writer, batch: s.DossierBatch
) -> s.IntakeResult:
    """Send dossiers (up to 5,000); known ids update, bad items come back with reasons."""
    tz = local_tz(_settings(request))
    items = list(enumerate(batch.items, start=1))
    return await _write(request, lambda session: upsert(session, principal, items, tz, utcnow()))


@router.get("/dossiers")
def list_dossiers(
    session: SessionDep,
    principal: Reader,
    unit: str | None = None,
    status: str | None = None,
    external_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> s.DossierList:
    """List dossiers in your scope, newest first."""
    return views.list_dossiers(session, principal, unit, status, external_id, limit, offset)


@router.get("/dossiers/template")
def template(principal: Reader) -> Response:
    """Download the Excel template for uploading dossiers."""
    headers = {"Content-Disposition": 'attachment; filename="ho-so-tthc-v1.xlsx"'}
    return Response(sheets.template(), media_type=sheets.XLSX, headers=headers)


@router.post("/dossiers/import")
async def import_dossiers(
    request: Request, principal: Writer, file: Annotated[UploadFile, File()]
) -> s.IntakeResult:
    """Upload a filled template (.xlsx or .csv): good rows land, bad rows come back."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput("The file is larger than 20 MB", code="payload_too_large")
    name = (file.filename or "").lower()
    is_csv = name.endswith(".csv") or (file.content_type or "").startswith("text/")
    rows = sheets.read_csv(content) if is_csv else sheets.read_xlsx(content)
    tz = local_tz(_settings(request))

    def work(session: Session) -> Any:
        return sheets.import_rows(session, principal, rows, tz, utcnow())

    return await _write(request, work)


@router.get("/counters")
def counters(
    request: Request,
    session: SessionDep,
    principal: Reader,
    period: str | None = None,
    unit: str | None = None,
    agency: str | None = None,
) -> s.Counters:
    """Show the one-stop counters for a period (2026, 2026-Q3, 2026-10; default: this year)."""
    return c.counters(session, principal, _settings(request), utcnow(), period, unit, agency)


@router.get("/near-due")
def near_due(
    request: Request,
    session: SessionDep,
    principal: Reader,
    unit: str | None = None,
    agency: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> s.NearDueList:
    """List dossiers in progress that are late or about to be, most urgent first."""
    return views.near_due(session, principal, _settings(request), utcnow(), unit, agency, limit)


@router.get("/index-766")
def index766(
    request: Request,
    session: SessionDep,
    principal: Reader,
    period: str | None = None,
    unit: str | None = None,
) -> s.Index766:
    """Show the Decision 766/QĐ-TTg index groups with their scores out of their points."""
    return views.index766(session, principal, _settings(request), utcnow(), period, unit)


@router.get("/procedures")
def procedures(
    request: Request,
    session: SessionDep,
    principal: Reader,
    period: str,
    unit: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> s.ProcedureStats:
    """Show processed dossiers, on-time rate and average time per procedure, slowest first."""
    return views.procedure_stats(session, principal, _settings(request), period, unit, limit)
