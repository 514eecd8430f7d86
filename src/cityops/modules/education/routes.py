"""HTTP API of the education module: /api/education."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cityops.core.deps import CurrentUser, SessionDep, require
from cityops.core.policy import Perm, Principal
from cityops.core.units.models import Unit
from cityops.modules import sector
from cityops.modules.education import figures, schools
from cityops.modules.education import schemas as s
from cityops.modules.education.choices import LEVELS
from cityops.modules.education.summary import summary
from cityops.modules.indicators.catalogue import get_unit
from cityops.modules.sector import ImportResult

router = APIRouter(prefix="/api/education", tags=["education"])

Reader = Annotated[Principal, Depends(require(Perm.data_read))]
Writer = Annotated[Principal, Depends(require(Perm.data_write))]
CSV_COLUMNS = ("school_code", "year", "pupils", "teachers", "classes")
SCHOOL_COLUMNS = ("code", "name", "level", "unit_code", "lat", "lon")
OUTBOX = "education_outbox"
T = TypeVar("T")
# Rows are checked one by one (not by the framework), so one bad row never refuses the others.
EXAMPLE = [
    {
        "school_code": "THPT-22918",
        "year": "2025-2026",
        "pupils": 1200,
        "teachers": 52,
        "classes": 29,
        "new_entrants": 410,
        "attendance_rate": 97.5,
        "exam_candidates": 390,
        "exam_passed": 384,
    }
]


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


@router.get("/choices")
def list_choices(principal: Reader) -> dict[str, list[dict[str, str]]]:
    """List school levels with labels and colours."""
    return {"levels": [vars(c) for c in LEVELS.values()]}


@router.get("/schools")
def list_schools(
    session: SessionDep, principal: Reader, unit: str | None = None, level: str | None = None
) -> s.SchoolList:
    """Show the schools in your scope as GeoJSON for the map."""
    under = get_unit(session, unit) if unit else None
    rows = schools.school_rows(session, principal, under)
    return s.SchoolList(features=schools.geojson(rows, level)["features"])


@router.post("/schools", status_code=201)
async def save_school(
    request: Request, principal: CurrentUser, data: s.SchoolCreate
) -> dict[str, Any]:
    """Add a school to the context hub, or change it."""

    def work(session: Session) -> dict[str, Any]:
        unit = get_unit(session, data.unit_code)
        events = schools.save(session, principal, data, unit)
        session.info.setdefault(OUTBOX, []).extend(events)
        return schools.geojson([schools.get(session, principal, data.code)])["features"][0]

    return await _write(request, work)


@router.post("/schools/import")
async def import_schools(
    request: Request, principal: Writer, file: Annotated[UploadFile, File()]
) -> ImportResult:
    """Upload schools as CSV (code, name, level, unit_code, lat, lon[, address])."""
    rows = await sector.read_upload(file, SCHOOL_COLUMNS)

    def work(session: Session) -> ImportResult:
        result, events = sector.import_entities(
            session, principal, rows, s.SchoolCreate, schools.save
        )
        session.info.setdefault(OUTBOX, []).extend(events)
        return result

    return await _write(request, work)


@router.put("/schools/{code}/years/{year}")
def put_figures(
    session: SessionDep, principal: CurrentUser, code: str, year: str, data: s.FiguresPut
) -> s.FiguresPublic:
    """Report a school's figures for a school year ('2025' or '2025-2026'); replaces them."""
    school = schools.get(session, principal, code)
    row = figures.put(session, principal, school, figures.parse_year(year), data, "api")
    unit = session.get(Unit, row.unit_id)
    return figures.public(row, unit.code if unit else "")


@router.get("/figures")
def list_figures(
    session: SessionDep,
    principal: Reader,
    year: int | None = None,
    unit: str | None = None,
    school: str | None = None,
) -> s.FiguresList:
    """List schools' yearly figures in your scope."""
    items = figures.list_figures(session, principal, year, unit, school)
    return s.FiguresList(items=items, total=len(items))


@router.post("/figures")
def post_figures(
    session: SessionDep,
    principal: Writer,
    rows: Annotated[list[dict[str, Any]], Body(examples=[EXAMPLE])],
) -> ImportResult:
    """Report many schools' figures (rows with school_code, year, ...): bad rows come back."""
    return figures.import_rows(session, principal, list(enumerate(rows, start=1)), "api")


@router.post("/figures/import")
async def import_figures(
    request: Request, principal: Writer, file: Annotated[UploadFile, File()]
) -> ImportResult:
    """Upload figures as CSV (school_code, year, pupils, teachers, classes, ...)."""
    rows = await sector.read_upload(file, CSV_COLUMNS)
    return await _write(
        request, lambda session: figures.import_rows(session, principal, rows, "csv")
    )


@router.get("/summary")
def get_summary(
    session: SessionDep,
    principal: Reader,
    unit: str | None = None,
    year: int | None = None,
    by: str = "unit",
    level: str | None = None,
) -> s.Summary:
    """Show pupils, teachers, classes, ratios and results for a unit, by unit/level/year."""
    return summary(session, principal, unit, year, by, level)
