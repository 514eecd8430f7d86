"""HTTP API of field reports for staff: /api/field-reports (citizens: public_routes.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from sqlalchemy.orm import Session

from cityops.core.deps import CurrentUser, SessionDep, require
from cityops.core.policy import Perm, Principal
from cityops.core.units.service import unit_path
from cityops.modules.field_reports import access, categories, photos, service, views, workflow
from cityops.modules.field_reports import schemas as s
from cityops.modules.field_reports.choices import Source
from cityops.modules.field_reports.export import XLSX, export_xlsx
from cityops.modules.field_reports.map_layer import reports_geojson
from cityops.modules.field_reports.models import Report
from cityops.modules.field_reports.runtime import Runtime, run, runtime
from cityops.modules.field_reports.sorting import DEFAULT_SORT, SORTS
from cityops.modules.field_reports.stats import GroupBy, StatsRebuilt, StatsTable, compute
from cityops.modules.field_reports.stats import rebuild as rebuild_stats

router = APIRouter(prefix="/api/field-reports", tags=["field_reports"])

Reader = Annotated[Principal, Depends(require(Perm.data_read))]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
Step = Callable[[Session, Runtime, Report], None]


async def _act(request: Request, principal: Principal, code: str, step: Step) -> s.ReportPublic:
    """Run one workflow step on a report and return the report after it."""

    def work(session: Session, rt: Runtime) -> s.ReportPublic:
        report = service.get_report(session, principal, code)
        step(session, rt, report)
        return views.report_public(views.Lookup(session), rt, principal, report)

    return await run(request, work)


# --- categories ----------------------------------------------------------------------------


@router.get("/categories")
def list_categories(
    session: SessionDep, principal: Reader, include_inactive: bool = False
) -> s.CategoryList:
    """List report categories (Open311 services)."""
    rows = categories.list_categories(session, include_inactive=include_inactive)
    items = [categories.category_public(session, c) for c in rows]
    return s.CategoryList(items=items, total=len(items))


@router.post("/categories", status_code=201)
def create_category(
    session: SessionDep, principal: CurrentUser, data: s.CategoryCreate
) -> s.CategoryPublic:
    """Create a report category (province-level operators and admins)."""
    return categories.category_public(session, categories.create_category(session, principal, data))


@router.patch("/categories/{code}")
def update_category(
    session: SessionDep, principal: CurrentUser, code: str, data: s.CategoryUpdate
) -> s.CategoryPublic:
    """Change a report category."""
    return categories.category_public(
        session, categories.update_category(session, principal, code, data)
    )


# --- reports -------------------------------------------------------------------------------


@router.get("/reports")
def list_reports(
    session: SessionDep,
    principal: Reader,
    rt: RuntimeDep,
    status: Annotated[list[str] | None, Query()] = None,
    category: str | None = None,
    agency: str | None = None,
    unit: str | None = None,
    urgency: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    spam_flagged: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort: Annotated[str, Query(description="One of " + ", ".join(SORTS))] = DEFAULT_SORT,
) -> s.ReportList:
    """List the reports you may see, newest first or by `sort` (total stops at 10,000)."""
    f = service.ReportFilter(
        status, category, agency, unit, urgency, overdue, q, created_from, created_to, spam_flagged
    )
    rows, total = service.list_reports(
        session, rt, principal, f, limit=limit, offset=offset, sort=sort
    )
    lookup = views.Lookup(session)
    views.prefetch(lookup, rows)
    return s.ReportList(
        items=[views.report_public(lookup, rt, principal, r) for r in rows], total=total
    )


router.get("/reports.geojson", response_class=Response)(reports_geojson)


@router.post("/reports", status_code=201)
async def create_report(
    request: Request, principal: CurrentUser, data: s.ReportCreate
) -> s.ReportReceipt:
    """Enter a report received by phone, in person or by mail (staff)."""

    def work(session: Session, rt: Runtime) -> s.ReportReceipt:
        report, secret = service.create_report(session, rt, principal, data, Source.staff)
        return receipt(report, secret)

    return await run(request, work)


def receipt(report: Report, secret: str) -> s.ReportReceipt:
    """Tell the reporter their tracking code and secret."""
    return s.ReportReceipt(
        tracking_code=report.tracking_code,
        secret=secret,
        status=report.status,
        message_vi=(
            f"Đã tiếp nhận phản ánh {report.tracking_code}. Giữ mã bí mật để đánh giá hoặc "
            "đề nghị xử lý lại."
        ),
        message_en=(
            f"Report {report.tracking_code} received. Keep the secret to rate the handling or "
            "ask to reopen it."
        ),
    )


@router.get("/reports/{code}")
def get_report(session: SessionDep, principal: Reader, rt: RuntimeDep, code: str) -> s.ReportPublic:
    """Read one report."""
    report = service.get_report(session, principal, code)
    return views.report_public(views.Lookup(session), rt, principal, report)


@router.patch("/reports/{code}")
async def update_report(
    request: Request, principal: CurrentUser, code: str, data: s.ReportUpdate
) -> s.ReportPublic:
    """Correct a report before it goes to an agency (category, text, place, urgency)."""

    def step(se: Session, rt: Runtime, r: Report) -> None:
        service.update_report(se, rt, principal, r, data)

    return await _act(request, principal, code, step)


@router.post("/reports/{code}/verify")
async def verify(
    request: Request, principal: CurrentUser, code: str, data: s.VerifyIn
) -> s.ReportPublic:
    """Verify a new report; it is then routed to the agency for its category and place."""

    def step(se: Session, rt: Runtime, r: Report) -> None:
        cat = categories.get_category(se, data.category_code) if data.category_code else None
        workflow.verify(se, rt, principal, r, urgency=data.urgency, category=cat, note=data.note)

    return await _act(request, principal, code, step)


@router.post("/reports/{code}/reject")
async def reject(
    request: Request, principal: CurrentUser, code: str, data: s.RejectIn
) -> s.ReportPublic:
    """Close a new report as invalid, duplicate or spam, with a reason."""

    def step(se: Session, rt: Runtime, r: Report) -> None:
        original = (
            service.get_report(se, principal, data.duplicate_of) if data.duplicate_of else None
        )
        workflow.reject(se, rt, principal, r, data.status, data.reason, original)

    return await _act(request, principal, code, step)


@router.post("/reports/{code}/assign")
async def assign(
    request: Request, principal: CurrentUser, code: str, data: s.AssignIn
) -> s.ReportPublic:
    """Send a report to an agency by hand, or reassign it, with a reason."""
    return await _act(
        request,
        principal,
        code,
        lambda se, rt, r: workflow.assign(se, rt, principal, r, data.agency_code, data.reason),
    )


@router.post("/reports/{code}/accept")
async def accept(
    request: Request, principal: CurrentUser, code: str, data: s.NoteIn
) -> s.ReportPublic:
    """Accept a report assigned to your agency."""
    return await _act(
        request, principal, code, lambda se, rt, r: workflow.accept(se, rt, principal, r, data.note)
    )


@router.post("/reports/{code}/return")
async def give_back(
    request: Request, principal: CurrentUser, code: str, data: s.ReasonIn
) -> s.ReportPublic:
    """Return a report that is not your agency's to the operators, with a reason."""
    return await _act(
        request,
        principal,
        code,
        lambda se, rt, r: workflow.give_back(se, rt, principal, r, data.reason),
    )


@router.post("/reports/{code}/start")
async def start(
    request: Request, principal: CurrentUser, code: str, data: s.NoteIn
) -> s.ReportPublic:
    """Start work on an accepted report."""
    return await _act(
        request, principal, code, lambda se, rt, r: workflow.start(se, rt, principal, r, data.note)
    )


@router.post("/reports/{code}/resolve")
async def resolve(
    request: Request, principal: CurrentUser, code: str, data: s.ResolveIn
) -> s.ReportPublic:
    """Report what was done; the reporter can then rate it."""
    return await _act(
        request,
        principal,
        code,
        lambda se, rt, r: workflow.resolve(se, rt, principal, r, data.resolution),
    )


@router.post("/reports/{code}/close")
async def close(
    request: Request, principal: CurrentUser, code: str, data: s.NoteIn
) -> s.ReportPublic:
    """Close a resolved report."""
    return await _act(
        request, principal, code, lambda se, rt, r: workflow.close(se, rt, principal, r, data.note)
    )


@router.post("/reports/{code}/reopen")
async def reopen(
    request: Request, principal: CurrentUser, code: str, data: s.ReasonIn
) -> s.ReportPublic:
    """Reopen a resolved or closed report: it goes back to its agency."""
    return await _act(
        request,
        principal,
        code,
        lambda se, rt, r: workflow.reopen_by_staff(se, rt, principal, r, data.reason),
    )


@router.get("/reports/{code}/history")
def history(session: SessionDep, principal: Reader, code: str) -> list[s.StatusChangePublic]:
    """List a report's steps: who moved it, when, and why."""
    return views.history(session, service.get_report(session, principal, code))


@router.get("/reports/{code}/comments")
def list_comments(session: SessionDep, principal: Reader, code: str) -> list[s.CommentPublic]:
    """List a report's comments, internal and public."""
    return views.comments(session, service.get_report(session, principal, code), public_only=False)


@router.post("/reports/{code}/comments", status_code=201)
def add_comment(
    session: SessionDep, principal: CurrentUser, rt: RuntimeDep, code: str, data: s.CommentCreate
) -> s.CommentPublic:
    """Comment on a report (public: the reporter and everyone with the code see it)."""
    report = service.get_report(session, principal, code)
    return views.comment_public(service.add_comment(session, rt, principal, report, data))


@router.post("/reports/{code}/photos", status_code=201)
async def add_photo(
    request: Request, principal: CurrentUser, code: str, file: Annotated[UploadFile, File()]
) -> s.PhotoPublic:
    """Attach a photo (JPEG, PNG, WebP or HEIC; metadata such as GPS is removed)."""
    image = await photos.cleaned(runtime(request), await file.read())

    def work(session: Session, rt: Runtime) -> s.PhotoPublic:
        report = service.get_report(session, principal, code)
        access.check_contributor(principal, report, unit_path(session, report.unit_id))
        photo = photos.add_photo(session, rt, principal, report, image)
        return views.photo_public(photo, views.staff_url(report))

    return await run(request, work)


@router.get("/reports/{code}/photos/{photo_id}")
def get_photo(
    session: SessionDep,
    principal: Reader,
    rt: RuntimeDep,
    code: str,
    photo_id: int,
    thumb: bool = False,
) -> Response:
    """Download a photo (or its 320 px thumbnail)."""
    report = service.get_report(session, principal, code)
    data, content_type = photos.photo_bytes(session, rt, report, photo_id, thumb)
    return Response(
        data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"}
    )


# --- statistics ----------------------------------------------------------------------------


@router.get("/stats")
def stats(
    session: SessionDep,
    principal: Reader,
    rt: RuntimeDep,
    by: GroupBy = "category",
    start: datetime | None = None,
    end: datetime | None = None,
) -> StatsTable:
    """Figures for a period by category, agency, unit or month (default: the last 90 days)."""
    return compute(session, rt, principal, by, start, end)


@router.post("/stats/rebuild")
def rebuild_stats_rollup(
    session: SessionDep, principal: CurrentUser, rt: RuntimeDep
) -> StatsRebuilt:
    """Recompute the daily statistics rollup from the reports (administrators)."""
    return rebuild_stats(session, rt, principal)


@router.get("/stats.xlsx")
def stats_xlsx(
    session: SessionDep,
    principal: Reader,
    rt: RuntimeDep,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Response:
    """Download the figures as an Excel workbook."""
    data = export_xlsx(session, rt, principal, start, end)
    name = f"phan-anh-{rt.now.astimezone(rt.calendar.tz):%Y%m%d}.xlsx"
    return Response(
        data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
