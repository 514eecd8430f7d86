"""HTTP API of the tourism module: /api/tourism (staff) and /api/tourism/public (anyone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cityops.core.deps import CurrentUser, SessionDep, require
from cityops.core.policy import Perm, Principal
from cityops.modules import sector
from cityops.modules.indicators.catalogue import get_unit
from cityops.modules.sector import ImportResult
from cityops.modules.tourism import places, stats
from cityops.modules.tourism import schemas as s
from cityops.modules.tourism.choices import KINDS

router = APIRouter(prefix="/api/tourism", tags=["tourism"])

Reader = Annotated[Principal, Depends(require(Perm.data_read))]
Writer = Annotated[Principal, Depends(require(Perm.data_write))]
Rows = list[tuple[int, dict[str, str]]]
PLACE_COLUMNS = ("code", "kind", "name", "unit_code", "lat", "lon")
EVENT_COLUMNS = ("code", "name", "unit_code", "lat", "lon", "start_date", "end_date")
OUTBOX = "tourism_outbox"
ATTRIBUTION = "FIWARE Smart Data Models (smartdatamodels.org), CC BY 4.0"
T = TypeVar("T")


async def _write(request: Request, work: Callable[[Session], T]) -> T:
    """Run a write in a worker thread and one transaction, then publish the hub's events."""

    def job() -> tuple[T, list[Any]]:
        with request.app.state.db.session() as session:
            result = work(session)
            return result, list(session.info.pop(OUTBOX, []))

    result, events = await run_in_threadpool(job)
    for event in events:
        await request.app.state.bus.publish(event)
    return result


def _saved(session: Session, principal: Principal, entity_id: str, entity_type: str) -> dict:
    row = sector.find(session, principal, entity_id, [places.type_iri(entity_type)])
    return places.features([row], places.STAFF)[0]


@router.get("/choices")
def list_choices(principal: Reader) -> dict[str, list[dict[str, str]]]:
    """List the kinds of tourism places with labels and colours."""
    return {"kinds": [vars(c) for c in KINDS.values()]}


@router.get("/places")
def list_places(
    session: SessionDep, principal: Reader, unit: str | None = None, kind: str | None = None
) -> s.FeatureCollection:
    """Show attractions, accommodation, destinations and events in your scope as GeoJSON."""
    under = get_unit(session, unit) if unit else None
    rows = places.all_rows(session, principal, under)
    kinds = {kind} if kind else None
    return s.FeatureCollection(features=places.features(rows, places.STAFF, kinds))


@router.post("/places", status_code=201)
async def save_place(
    request: Request, principal: CurrentUser, data: s.PlaceCreate
) -> dict[str, Any]:
    """Add an attraction, accommodation or destination to the context hub, or change it."""

    def work(session: Session) -> dict[str, Any]:
        unit = get_unit(session, data.unit_code)
        session.info.setdefault(OUTBOX, []).extend(
            places.save_place(session, principal, data, unit)
        )
        entity_type = places.TYPE_OF[data.kind]
        return _saved(session, principal, f"urn:ngsi-ld:{entity_type}:{data.code}", entity_type)

    return await _write(request, work)


@router.post("/events", status_code=201)
async def save_event(
    request: Request, principal: CurrentUser, data: s.EventCreate
) -> dict[str, Any]:
    """Add a tourism event to the context hub, or change it."""

    def work(session: Session) -> dict[str, Any]:
        unit = get_unit(session, data.unit_code)
        session.info.setdefault(OUTBOX, []).extend(
            places.save_event(session, principal, data, unit)
        )
        return _saved(session, principal, f"urn:ngsi-ld:Event:{data.code}", places.EVENT)

    return await _write(request, work)


@router.post("/places/import")
async def import_places(
    request: Request, principal: Writer, file: Annotated[UploadFile, File()]
) -> ImportResult:
    """Upload places as CSV (code, kind, name, unit_code, lat, lon[, category, ...])."""
    rows = await sector.read_upload(file, PLACE_COLUMNS)
    return await _import(request, principal, rows, s.PlaceCreate, places.save_place)


@router.post("/events/import")
async def import_events(
    request: Request, principal: Writer, file: Annotated[UploadFile, File()]
) -> ImportResult:
    """Upload events as CSV (code, name, unit_code, lat, lon, start_date, end_date[, ...])."""
    rows = await sector.read_upload(file, EVENT_COLUMNS)
    return await _import(request, principal, rows, s.EventCreate, places.save_event)


async def _import(
    request: Request, principal: Principal, rows: Rows, model: type, save: sector.Saver
) -> ImportResult:
    """Import hub entities row by row, then publish the hub's events."""

    def work(session: Session) -> ImportResult:
        result, events = sector.import_entities(session, principal, rows, model, save)
        session.info.setdefault(OUTBOX, []).extend(events)
        return result

    return await _write(request, work)


@router.get("/stats")
def year_stats(
    session: SessionDep, principal: Reader, unit: str | None = None, year: int | None = None
) -> s.Stats:
    """Show monthly arrivals (vs last year), room occupancy and revenue for a unit."""
    return stats.year_stats(session, principal, unit, year, stats.ensure(session))


@router.get("/public/visitor")
def visitor_guide(session: SessionDep) -> s.VisitorGuide:
    """List attractions and upcoming events with their locations, for visitors (no login)."""
    rows = places.all_rows(session, None)
    attractions = places.features(rows, places.PUBLIC_PLACE, {"attraction"})
    events = places.upcoming(places.features(rows, places.PUBLIC_EVENT, {"event"}), date.today())
    return s.VisitorGuide(
        attractions=s.FeatureCollection(features=attractions),
        events=s.FeatureCollection(features=events),
        attribution=ATTRIBUTION,
    )
