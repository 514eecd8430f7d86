"""Citizens' API: submit without logging in, follow by tracking code, rate, reopen, add photos."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityops.core.auth import key_cache
from cityops.core.auth.service import anonymous
from cityops.core.deps import SessionDep, TokenDep
from cityops.core.errors import Conflict, NotFound
from cityops.core.files import FileRef
from cityops.core.policy import Principal
from cityops.modules.field_reports import (
    categories,
    photos,
    service,
    submission,
    views,
    workflow,
)
from cityops.modules.field_reports import schemas as s
from cityops.modules.field_reports.choices import FINISHED, MODERATED, SOURCES, STATUSES, URGENCIES
from cityops.modules.field_reports.models import Report
from cityops.modules.field_reports.routes import receipt
from cityops.modules.field_reports.runtime import Runtime, run, runtime
from cityops.modules.field_reports.spam import client_of

router = APIRouter(prefix="/api/field-reports", tags=["field_reports (citizens)"])
RuntimeDep = Annotated[Runtime, Depends(runtime)]


def reporter(code: str) -> Principal:
    """The principal of a citizen proven by a report's secret (named in history and audit)."""
    return Principal(kind="anonymous", name=f"reporter:{code}")


@router.get("/choices")
def choices() -> s.ChoicesPublic:
    """List statuses, urgencies and sources with their labels and colours."""

    def listed(items: dict[str, object]) -> list[s.ChoicePublic]:
        return [s.ChoicePublic.model_validate(c, from_attributes=True) for c in items.values()]

    return s.ChoicesPublic(
        statuses=listed(STATUSES), urgencies=listed(URGENCIES), sources=listed(SOURCES)
    )


@router.get("/public/categories")
def public_categories(session: SessionDep) -> s.CategoryList:
    """List the categories a citizen may report in."""
    items = [categories.category_public(session, c) for c in categories.list_categories(session)]
    return s.CategoryList(items=items, total=len(items))


@router.post("/public/reports", status_code=201, openapi_extra=submission.openapi_body())
async def submit(request: Request, token: TokenDep) -> s.ReportReceipt:
    """Send a field report (JSON, or multipart with up to 5 photos); keep the code and secret."""
    rt = runtime(request)
    sent = await submission.read_submission(request, rt.fr)
    client, trap = client_of(request), bool(sent.report.website)
    fields = sent.report.model_dump(exclude={"website"}, exclude_unset=True)
    report_in = s.ReportCreate.model_validate(fields)
    principal = anonymous()  # the caller and the photos are set in the worker thread
    images: list[tuple[photos.CleanImage, FileRef]] = []

    def before() -> None:  # the caller first (no image work for a bad key), then the photos
        nonlocal principal
        if token:
            principal = key_cache.key_principal(request.app.state, token)
        request.state.principal = principal
        for image in submission.clean_photos(sent.photos, rt.fr.max_photo_bytes):
            # hashing and writing 1 MB outside the transaction (on SQLite: the write lock)
            images.append((image, rt.files.save(image.data, image.content_type)))

    def work(session: Session, rt: Runtime) -> s.ReportReceipt:
        report, secret = service.create_report(
            session, rt, principal, report_in, "public", client, trap=trap
        )
        by = reporter(report.tracking_code) if not principal.is_authenticated else principal
        for count, (image, stored) in enumerate(images):
            photos.add_photo(session, rt, by, report, image, count=count, stored=stored)
        return receipt(report, secret)

    return await run(request, work, before)


@router.get("/public/reports/{code}")
def follow(session: SessionDep, code: str) -> s.CitizenView:
    """Follow a report by its full tracking code (no personal data is shown)."""
    report = service.find_by_code(session, code)
    if report is None:
        raise NotFound(f"No report {code}")
    return views.citizen_view(session, report)


@router.post("/public/reports/{code}/rate")
async def rate(request: Request, code: str, data: s.RateIn) -> s.CitizenView:
    """Rate the handling of your resolved report from 1 to 5 (this closes it)."""

    def work(session: Session, rt: Runtime) -> s.CitizenView:
        report = service.report_by_secret(session, code, data.secret)
        workflow.rate(
            session, rt, reporter(report.tracking_code), report, data.rating, data.comment
        )
        return views.citizen_view(session, report)

    return await run(request, work)


@router.post("/public/reports/{code}/reopen")
async def reopen(request: Request, code: str, data: s.CitizenReopenIn) -> s.CitizenView:
    """Ask to reopen your resolved or closed report, saying why."""

    def work(session: Session, rt: Runtime) -> s.CitizenView:
        report = service.report_by_secret(session, code, data.secret)
        workflow.reopen(session, rt, reporter(report.tracking_code), report, data.reason)
        return views.citizen_view(session, report)

    return await run(request, work)


@router.post("/public/reports/{code}/photos", status_code=201)
async def add_photo(
    request: Request,
    code: str,
    secret: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> s.PhotoPublic:
    """Attach a photo to your report (JPEG, PNG, WebP or HEIC; GPS and metadata are removed)."""

    def check() -> None:  # the code and secret first: no image work for strangers
        with request.app.state.db.session() as session:
            service.report_by_secret(session, code, secret)

    await run_in_threadpool(check)
    image = await photos.cleaned(runtime(request), await file.read())

    def work(session: Session, rt: Runtime) -> s.PhotoPublic:
        report = service.report_by_secret(session, code, secret)
        if report.status in FINISHED:
            raise Conflict(f"Report {report.tracking_code} is finished", code="report_finished")
        photo = photos.add_photo(session, rt, reporter(report.tracking_code), report, image)
        return views.photo_public(photo, _base(report))

    return await run(request, work)


def _base(report: Report) -> str:
    return f"{views.API}/public/reports/{report.tracking_code}"


@router.get("/public/reports/{code}/photos/{photo_id}")
def photo(
    session: SessionDep, rt: RuntimeDep, code: str, photo_id: int, thumb: bool = False
) -> Response:
    """Download a photo of a verified report (or its 320 px thumbnail)."""
    report = service.find_by_code(session, code)
    if report is None or report.status not in MODERATED:
        raise NotFound(f"No report {code} with public photos")
    data, content_type = photos.photo_bytes(session, rt, report, photo_id, thumb)
    return Response(
        data, media_type=content_type, headers={"Cache-Control": "public, max-age=3600"}
    )
