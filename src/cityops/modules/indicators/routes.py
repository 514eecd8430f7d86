"""HTTP API of the indicator engine: /api/indicators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cityops.core.deps import CurrentUser, SessionDep, require
from cityops.core.errors import InvalidInput
from cityops.core.policy import Perm, Principal
from cityops.modules.indicators import catalogue, sheets, values, views
from cityops.modules.indicators import schemas as s
from cityops.modules.indicators.choices import AGGREGATIONS, FREQUENCIES, STATUSES
from cityops.modules.indicators.events import take

router = APIRouter(prefix="/api/indicators", tags=["indicators"])

Reader = Annotated[Principal, Depends(require(Perm.data_read))]
Writer = Annotated[Principal, Depends(require(Perm.data_write))]
MAX_UPLOAD = 5 * 1024 * 1024
T = TypeVar("T")


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


@router.get("")
def list_indicators(
    session: SessionDep, principal: Reader, include_inactive: bool = False
) -> s.IndicatorList:
    """List the indicator catalogue."""
    rows = catalogue.list_indicators(session, include_inactive)
    return s.IndicatorList(
        items=[s.IndicatorPublic.model_validate(r) for r in rows], total=len(rows)
    )


@router.post("", status_code=201)
def create_indicator(
    session: SessionDep, principal: CurrentUser, data: s.IndicatorCreate
) -> s.IndicatorPublic:
    """Add an indicator to the catalogue (province-level operators and admins)."""
    return s.IndicatorPublic.model_validate(catalogue.create_indicator(session, principal, data))


@router.get("/choices")
def list_choices(principal: Reader) -> dict[str, list[dict[str, str]]]:
    """List frequencies, aggregation rules and statuses with labels and colours."""
    sets = {"frequencies": FREQUENCIES, "aggregations": AGGREGATIONS, "statuses": STATUSES}
    return {name: [vars(c) for c in choices.values()] for name, choices in sets.items()}


@router.get("/dashboard")
def dashboard(
    session: SessionDep, principal: Reader, period: str | None = None, unit: str | None = None
) -> s.Dashboard:
    """Show every indicator's value, target, % and status for your unit (or `unit`)."""
    return views.dashboard(session, principal, period, unit)


@router.get("/template")
def template(session: SessionDep, principal: Reader, agency: str, period: str) -> Response:
    """Download the Excel template an agency fills for a period."""
    content = sheets.template(session, principal, agency, period)
    name = f"chi-tieu-{agency}-{period}.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=sheets.XLSX, headers=headers)


@router.post("/import")
async def import_values(
    request: Request, principal: Writer, file: Annotated[UploadFile, File()]
) -> s.ImportResult:
    """Upload a filled template (.xlsx or .csv): good rows land, bad rows come back."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput("The file is larger than 5 MB", code="payload_too_large")
    name = (file.filename or "").lower()
    is_csv = name.endswith(".csv") or (file.content_type or "").startswith("text/")
    rows = sheets.read_csv(content) if is_csv else sheets.read_xlsx(content)
    return await _write(request, lambda session: sheets.import_rows(session, principal, rows))


@router.get("/{code}")
def get_indicator(session: SessionDep, principal: Reader, code: str) -> s.IndicatorPublic:
    """Show one indicator."""
    return s.IndicatorPublic.model_validate(catalogue.get_indicator(session, code))


@router.patch("/{code}")
def update_indicator(
    session: SessionDep, principal: CurrentUser, code: str, data: s.IndicatorUpdate
) -> s.IndicatorPublic:
    """Change an indicator (province-level operators and admins)."""
    indicator = catalogue.update_indicator(session, principal, code, data)
    return s.IndicatorPublic.model_validate(indicator)


@router.get("/{code}/targets")
def list_targets(
    session: SessionDep, principal: Reader, code: str, year: int | None = None
) -> list[s.TargetPublic]:
    """List the yearly targets of an indicator in your scope."""
    indicator = catalogue.get_indicator(session, code)
    return catalogue.list_targets(session, principal, indicator, year)


@router.put("/{code}/targets")
def put_target(
    session: SessionDep, principal: CurrentUser, code: str, data: s.TargetPut
) -> s.TargetPublic:
    """Set the yearly target of an indicator for a unit (province-level staff)."""
    indicator = catalogue.get_indicator(session, code)
    return catalogue.put_target(session, principal, indicator, data)


@router.get("/{code}/values")
def list_values(
    session: SessionDep,
    principal: Reader,
    code: str,
    unit: str | None = None,
    period: str | None = None,
    history: bool = False,
) -> s.ValueList:
    """List stored values in your scope (every revision with history=true)."""
    indicator = catalogue.get_indicator(session, code)
    items = values.list_values(session, principal, indicator, unit, period, history)
    return s.ValueList(items=items, total=len(items))


@router.put("/{code}/values")
async def put_value(
    request: Request, principal: CurrentUser, code: str, data: s.ValuePut
) -> s.ValuePublic:
    """Report a value for a unit and period; a new value supersedes, history is kept."""

    def work(session: Session) -> s.ValuePublic:
        indicator = catalogue.get_indicator(session, code)
        return values.value_public(
            values.put_value(session, principal, indicator, data), data.unit_code
        )

    return await _write(request, work)


@router.get("/{code}/series")
def series(
    session: SessionDep,
    principal: Reader,
    code: str,
    unit: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> s.Series:
    """Show an indicator over periods for a unit (computed from its children if needed)."""
    indicator = catalogue.get_indicator(session, code)
    return views.series(session, principal, indicator, unit, start, end)


@router.get("/{code}/children")
def children(
    session: SessionDep,
    principal: Reader,
    code: str,
    unit: str | None = None,
    period: str | None = None,
) -> s.Children:
    """Drill down: the standing of each child of a unit for one indicator."""
    indicator = catalogue.get_indicator(session, code)
    return views.children(session, principal, indicator, unit, period)
