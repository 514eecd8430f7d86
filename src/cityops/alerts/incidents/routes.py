"""HTTP API of incidents (/api/incidents), SOP templates (/api/sop-templates), promotion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cityops.alerts.incidents import access, notes, service, sop, tasks, views
from cityops.alerts.incidents import schemas as s
from cityops.alerts.incidents.events import take
from cityops.alerts.incidents.summary import render_markdown
from cityops.alerts.incidents.timeline import timeline
from cityops.alerts.notify.dispatch import WAKE_KEY
from cityops.core.config import Settings
from cityops.core.db import utcnow
from cityops.core.deps import CurrentUser, SessionDep, require
from cityops.core.errors import Conflict
from cityops.core.files import FileStore
from cityops.core.policy import Perm, Principal

router = APIRouter(tags=["incidents"])
Reader = Annotated[Principal, Depends(require(Perm.data_read))]
T = TypeVar("T")
Work = Callable[[Session, Settings], T]


async def run(request: Request, work: Work[T]) -> T:
    """Run a write in a worker thread and one transaction; then publish events, wake notices."""
    app = request.app

    def job() -> tuple[T, list[Any], bool]:
        with app.state.db.session() as session:
            result = work(session, app.state.settings)
            return result, take(session), bool(session.info.pop(WAKE_KEY, False))

    result, events, wake = await run_in_threadpool(job)
    for event in events:
        await app.state.bus.publish(event)
    worker = getattr(app.state, "notify_worker", None)
    if wake and worker is not None:
        worker.wake()
    return result


# --- SOP templates -------------------------------------------------------------------------


@router.get("/api/sop-templates")
def list_sop_templates(
    session: SessionDep,
    principal: Reader,
    hazard: str | None = None,
    include_inactive: bool = False,
) -> s.SopList:
    """List standard operating procedure templates."""
    rows = sop.list_templates(session, principal, hazard=hazard, include_inactive=include_inactive)
    return s.SopList(items=[sop.public(t) for t in rows], total=len(rows))


@router.post("/api/sop-templates", status_code=201)
def create_sop_template(
    session: SessionDep, principal: CurrentUser, data: s.SopCreate
) -> s.SopPublic:
    """Create an SOP template (province-level staff)."""
    return sop.public(sop.create_template(session, principal, data))


@router.get("/api/sop-templates/{code}")
def get_sop_template(session: SessionDep, principal: Reader, code: str) -> s.SopPublic:
    """Show an SOP template and its steps."""
    return sop.public(sop.get_template(session, principal, code))


@router.patch("/api/sop-templates/{code}")
def update_sop_template(
    session: SessionDep, principal: CurrentUser, code: str, data: s.SopUpdate
) -> s.SopPublic:
    """Change an SOP template; its version goes up (incidents keep the version they used)."""
    return sop.public(sop.update_template(session, principal, code, data))


# --- incidents -----------------------------------------------------------------------------


@router.post("/api/incidents", status_code=201)
async def create_incident(
    request: Request, principal: CurrentUser, data: s.IncidentCreate
) -> s.IncidentPublic:
    """Promote one or several alerts to an incident, optionally with an SOP."""

    def work(session: Session, settings: Settings) -> s.IncidentPublic:
        now = utcnow()
        incident = service.create_incident(session, settings, principal, data, now)
        return views.incident_public(session, incident, now)

    return await run(request, work)


@router.post("/api/alerts/{alert_id}/promote", status_code=201)
async def promote_alert(
    request: Request, principal: CurrentUser, alert_id: int, data: s.PromoteBody | None = None
) -> s.IncidentPublic:
    """Promote this alert to a new incident."""
    body = (data or s.PromoteBody()).model_dump()
    return await create_incident(request, principal, s.IncidentCreate(alert_ids=[alert_id], **body))


@router.get("/api/incidents")
def list_incidents(
    session: SessionDep,
    principal: Reader,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> s.IncidentList:
    """List the incidents you may see, newest first."""
    rows, total = service.list_incidents(
        session, principal, status=status, limit=limit, offset=offset
    )
    now = utcnow()
    return s.IncidentList(items=[views.incident_public(session, i, now) for i in rows], total=total)


@router.get("/api/incidents/{code}")
def get_incident(session: SessionDep, principal: Reader, code: str) -> s.IncidentPublic:
    """Show an incident with its alerts and tasks."""
    incident, _ = service.get_incident(session, principal, code)
    return views.incident_public(session, incident, utcnow())


@router.patch("/api/incidents/{code}")
async def update_incident(
    request: Request, principal: CurrentUser, code: str, data: s.IncidentUpdate
) -> s.IncidentPublic:
    """Change an incident's titles, description, severity or commander."""

    def work(session: Session, settings: Settings) -> s.IncidentPublic:
        now = utcnow()
        incident = service.update_incident(session, principal, code, data, now)
        return views.incident_public(session, incident, now)

    return await run(request, work)


@router.post("/api/incidents/{code}/status")
async def move_incident(
    request: Request, principal: CurrentUser, code: str, data: s.StatusMove
) -> s.IncidentPublic:
    """Move an incident: open -> responding -> contained -> closed (closing writes the summary)."""

    def work(session: Session, settings: Settings) -> s.IncidentPublic:
        now = utcnow()
        incident = service.move(session, settings, principal, code, data, now)
        return views.incident_public(session, incident, now)

    return await run(request, work)


@router.post("/api/incidents/{code}/alerts")
async def link_alerts(
    request: Request, principal: CurrentUser, code: str, data: s.LinkAlerts
) -> s.IncidentPublic:
    """Link more alerts to an open incident."""

    def work(session: Session, settings: Settings) -> s.IncidentPublic:
        now = utcnow()
        incident = service.link_alerts(session, principal, code, data.alert_ids, now)
        return views.incident_public(session, incident, now)

    return await run(request, work)


@router.post("/api/incidents/{code}/sop")
async def apply_sop(
    request: Request, principal: CurrentUser, code: str, data: s.ApplySop
) -> s.IncidentPublic:
    """Apply an SOP template: its steps become tasks with owners and deadlines."""

    def work(session: Session, settings: Settings) -> s.IncidentPublic:
        now = utcnow()
        incident = service.apply_sop(session, settings, principal, code, data.sop_code, now)
        return views.incident_public(session, incident, now)

    return await run(request, work)


# --- tasks ---------------------------------------------------------------------------------


@router.post("/api/incidents/{code}/tasks", status_code=201)
async def add_task(
    request: Request, principal: CurrentUser, code: str, data: s.TaskCreate
) -> s.TaskPublic:
    """Add a task outside the SOP."""

    def work(session: Session, settings: Settings) -> s.TaskPublic:
        now = utcnow()
        incident, path = service.get_incident(session, principal, code)
        service.check_manage_open(session, principal, incident, path)
        task = tasks.add_task(session, settings, principal, incident, data, now)
        return views.incident_tasks(session, incident, now)[task.position - 1]

    return await run(request, work)


@router.patch("/api/incidents/{code}/tasks/{task_id}")
async def update_task(
    request: Request, principal: CurrentUser, code: str, task_id: int, data: s.TaskUpdate
) -> s.TaskPublic:
    """Change a task: status, owner, deadline, note, checklist ticks."""

    def work(session: Session, settings: Settings) -> s.TaskPublic:
        now = utcnow()
        incident, path = service.get_incident(session, principal, code)
        task = tasks.get_task(session, incident, task_id)
        access.check_task(session, principal, incident, task, path)
        task = tasks.update_task(session, settings, principal, incident, task, data, now)
        return next(t for t in views.incident_tasks(session, incident, now) if t.id == task.id)

    return await run(request, work)


# --- timeline, comments, attachments, summary ----------------------------------------------


@router.get("/api/incidents/{code}/timeline")
def get_timeline(session: SessionDep, principal: Reader, code: str) -> list[s.TimelineEntry]:
    """Show every change of an incident, oldest first."""
    incident, _ = service.get_incident(session, principal, code)
    return [s.TimelineEntry.model_validate(e) for e in timeline(session, incident)]


@router.get("/api/incidents/{code}/comments")
def list_comments(session: SessionDep, principal: Reader, code: str) -> list[s.CommentPublic]:
    """List an incident's comments."""
    return [
        s.CommentPublic.model_validate(c) for c in notes.list_comments(session, principal, code)
    ]


@router.post("/api/incidents/{code}/comments", status_code=201)
def add_comment(
    session: SessionDep, principal: CurrentUser, code: str, data: s.CommentCreate
) -> s.CommentPublic:
    """Add a comment to an incident."""
    comment = notes.add_comment(session, principal, code, data.body, utcnow())
    return s.CommentPublic.model_validate(comment)


@router.get("/api/incidents/{code}/attachments")
def list_attachments(session: SessionDep, principal: Reader, code: str) -> list[s.AttachmentPublic]:
    """List an incident's attachments."""
    rows = notes.list_attachments(session, principal, code)
    return [s.AttachmentPublic.model_validate(a) for a in rows]


@router.post("/api/incidents/{code}/attachments", status_code=201)
async def add_attachment(
    request: Request, principal: CurrentUser, code: str, file: Annotated[UploadFile, File()]
) -> s.AttachmentPublic:
    """Attach a file (photo, PDF, office document) to an incident."""
    data = await file.read(notes.MAX_ATTACHMENT_BYTES + 1)
    upload = (file.filename or "file", file.content_type or "", data)
    store = FileStore.for_data_dir(request.app.state.settings.data_dir)

    def work(session: Session, settings: Settings) -> s.AttachmentPublic:
        row = notes.add_attachment(session, store, principal, code, upload, utcnow())
        return s.AttachmentPublic.model_validate(row)

    return await run(request, work)


@router.get("/api/incidents/{code}/attachments/{attachment_id}")
def download_attachment(
    request: Request, session: SessionDep, principal: Reader, code: str, attachment_id: int
) -> Response:
    """Download an attachment."""
    _, row = notes.get_attachment(session, principal, code, attachment_id)
    data = FileStore.for_data_dir(request.app.state.settings.data_dir).read(row.file_key)
    disposition = f"attachment; filename*=UTF-8''{_quote(row.filename)}"
    return Response(data, media_type=row.content_type, headers={"Content-Disposition": disposition})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def _summary(session: Session, principal: Principal, code: str) -> dict[str, Any]:
    incident, _ = service.get_incident(session, principal, code)
    if incident.summary is None:
        raise Conflict(f"Incident {incident.code} is not closed yet", code="not_closed")
    return incident.summary


@router.get("/api/incidents/{code}/summary")
def get_summary(session: SessionDep, principal: Reader, code: str) -> dict[str, Any]:
    """Show the after-action summary of a closed incident (JSON)."""
    return _summary(session, principal, code)


@router.get("/api/incidents/{code}/summary.md")
def download_summary(
    session: SessionDep, principal: Reader, code: str, lang: Literal["vi", "en"] = "vi"
) -> Response:
    """Download the after-action summary as printable Markdown (Vietnamese or English)."""
    summary = _summary(session, principal, code)
    name = f"{summary['code']}-{lang}.md"
    return Response(
        render_markdown(summary, lang),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
