"""HTTP API of the health module: /api/health."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cityops.core.deps import CurrentUser, SessionDep, require
from cityops.core.policy import Perm, Principal
from cityops.modules import sector
from cityops.modules.health import cases, facilities, indicators, signals
from cityops.modules.health import schemas as s
from cityops.modules.health.choices import DISEASES, LEVELS, METHODS
from cityops.modules.health.events import emit, take
from cityops.modules.indicators.catalogue import get_unit
from cityops.modules.indicators.schemas import Children
from cityops.modules.sector import ImportResult

router = APIRouter(prefix="/api/health", tags=["health"])

Reader = Annotated[Principal, Depends(require(Perm.data_read))]
Writer = Annotated[Principal, Depends(require(Perm.data_write))]
CSV_COLUMNS = ("disease", "unit_code", "week", "cases")
FACILITY_COLUMNS = ("code", "name", "level", "unit_code", "lat", "lon")
T = TypeVar("T")
# Rows are checked one by one (not by the framework), so one bad row never refuses the others.
EXAMPLE = [{"disease": "dengue", "unit_code": "22918", "week": "2026-W45", "cases": 7, "deaths": 0}]


async def _write(request: Request, work: Callable[[Session], T]) -> T:
    """Run a write in a worker thread and one transaction, then publish its events."""

    def job() -> tuple[T, list[Any]]:
        with request.app.state.db.session() as session:
            result = work(session)
            return result, take(session)

    result, events = await run_in_threadpool(job)
    for event in events:
        await request.app.state.bus.publish(event)
    return result


@router.get("/choices")
def list_choices(principal: Reader) -> dict[str, list[dict[str, str]]]:
    """List diseases, facility levels and signal methods with labels and colours."""
    sets = {"diseases": DISEASES, "levels": LEVELS, "methods": METHODS}
    return {name: [vars(c) for c in choices.values()] for name, choices in sets.items()}


@router.get("/facilities")
def list_facilities(
    session: SessionDep, principal: Reader, unit: str | None = None, level: str | None = None
) -> s.FacilityList:
    """Show the facilities in your scope as GeoJSON for the map (beds, occupancy)."""
    under = get_unit(session, unit) if unit else None
    rows = facilities.facility_rows(session, principal, under)
    return s.FacilityList(features=facilities.geojson(rows, level)["features"])


@router.post("/facilities", status_code=201)
async def save_facility(
    request: Request, principal: CurrentUser, data: s.FacilityCreate
) -> dict[str, Any]:
    """Add a facility to the context hub, or change it (its occupancy history is kept)."""

    def work(session: Session) -> dict[str, Any]:
        unit = get_unit(session, data.unit_code)
        for event in facilities.save(session, principal, data, unit):
            emit(session, event)
        row = sector.find(
            session, principal, facilities.entity_id(data.code), [facilities.type_iri()]
        )
        return facilities.geojson([row])["features"][0]

    return await _write(request, work)


@router.post("/facilities/import")
async def import_facilities(
    request: Request, principal: Writer, file: Annotated[UploadFile, File()]
) -> ImportResult:
    """Upload facilities as CSV (code, name, level, unit_code, lat, lon[, address, beds])."""
    rows = await sector.read_upload(file, FACILITY_COLUMNS)

    def work(session: Session) -> ImportResult:
        result, events = sector.import_entities(
            session, principal, rows, s.FacilityCreate, facilities.save
        )
        for event in events:
            emit(session, event)
        return result

    return await _write(request, work)


@router.put("/facilities/{code}/occupancy")
async def put_occupancy(
    request: Request, principal: CurrentUser, code: str, data: s.FacilityUpdate
) -> dict[str, Any]:
    """Report a facility's occupied beds; the hub keeps every report as history."""

    def work(session: Session) -> dict[str, Any]:
        for event in facilities.set_occupancy(session, principal, code, data):
            emit(session, event)
        row = sector.find(session, principal, facilities.entity_id(code), [facilities.type_iri()])
        return facilities.geojson([row])["features"][0]

    return await _write(request, work)


@router.get("/occupancy")
def occupancy(
    session: SessionDep, principal: Reader, unit: str | None = None
) -> s.OccupancySummary:
    """Add up beds and occupied beds in your scope, in total and by facility level."""
    under = get_unit(session, unit) if unit else None
    return facilities.occupancy(facilities.facility_rows(session, principal, under))


@router.get("/cases")
def list_cases(
    session: SessionDep,
    principal: Reader,
    disease: str | None = None,
    unit: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> s.CaseList:
    """List weekly case counts by commune and week in your scope."""
    items = cases.list_cases(session, principal, disease, unit, start, end)
    return s.CaseList(items=items, total=len(items))


@router.post("/cases")
async def post_cases(
    request: Request,
    principal: Writer,
    rows: Annotated[list[dict[str, Any]], Body(examples=[EXAMPLE])],
) -> s.CaseImportResult:
    """Report weekly cases (a list of CaseBase rows): good rows land, bad rows come back."""
    numbered = list(enumerate(rows, start=1))
    return await _write(
        request, lambda session: cases.import_rows(session, principal, numbered, "api")
    )


@router.post("/cases/import")
async def import_cases(
    request: Request, principal: Writer, file: Annotated[UploadFile, File()]
) -> s.CaseImportResult:
    """Upload weekly cases as CSV (disease, unit_code, week, cases[, deaths])."""
    rows = await sector.read_upload(file, CSV_COLUMNS)
    return await _write(request, lambda session: cases.import_rows(session, principal, rows, "csv"))


@router.get("/signals")
def list_signals(
    session: SessionDep, principal: Reader, disease: str | None = None, since: date | None = None
) -> s.SignalList:
    """List outbreak signals (EARS C1/C2/C3) in your scope, newest week first."""
    items = signals.list_signals(session, principal, disease, since)
    return s.SignalList(items=items, total=len(items))


@router.get("/vaccination")
def vaccination(
    session: SessionDep, principal: Reader, unit: str | None = None, period: str | None = None
) -> Children:
    """Show full-immunisation coverage for a unit and its children against targets."""
    return indicators.vaccination(session, principal, unit, period)
