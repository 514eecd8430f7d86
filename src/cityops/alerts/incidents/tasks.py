"""Tasks of an incident: made from SOP steps or added by hand; owners, deadlines, checklists."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.alerts.incidents import notices
from cityops.alerts.incidents.choices import FINISHED_TASKS, TaskStatus
from cityops.alerts.incidents.events import TaskChanged, emit
from cityops.alerts.incidents.models import Incident, IncidentTask, SopTemplate
from cityops.alerts.incidents.schemas import TaskCreate, TaskUpdate
from cityops.alerts.incidents.timeline import log_change
from cityops.core.auth.models import Agency, User
from cityops.core.config import Settings
from cityops.core.errors import Conflict, InvalidInput, NotFound
from cityops.core.policy import Principal


def agency_id(session: Session, code: str | None, *, strict: bool) -> int | None:
    """Return an agency's id by code; None if unknown (InvalidInput when strict)."""
    if not code:
        return None
    found = session.scalar(select(Agency.id).where(Agency.code == code))
    if found is None and strict:
        raise InvalidInput(f"No agency {code}", code="unknown_agency")
    return found


def check_user(session: Session, user_id: int | None) -> None:
    """Refuse an owner or commander who is not an active user."""
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidInput(f"No active user {user_id}", code="unknown_user")


def is_overdue(task: IncidentTask, now: datetime) -> bool:
    """Say whether a task is past its deadline and not finished."""
    return task.status not in FINISHED_TASKS and task.due_at is not None and task.due_at < now


def finished_late(task: IncidentTask) -> bool:
    """Say whether a done task was finished after its deadline."""
    return (
        task.status == TaskStatus.done
        and task.due_at is not None
        and task.finished_at is not None
        and task.finished_at > task.due_at
    )


def _emit(session: Session, task: IncidentTask, now: datetime) -> None:
    emit(
        session,
        TaskChanged(
            incident_id=task.incident_id,
            task_id=task.id,
            status=task.status,
            owner_agency_id=task.owner_agency_id,
            owner_user_id=task.owner_user_id,
            due_at=task.due_at,
            at=now,
        ),
    )


def tasks_from_sop(
    session: Session,
    settings: Settings,
    principal: Principal,
    incident: Incident,
    template: SopTemplate,
    now: datetime,
) -> list[IncidentTask]:
    """Turn a template's steps into tasks with owners and deadlines counted from now."""
    start = session.scalar(
        select(func.coalesce(func.max(IncidentTask.position), 0)).where(
            IncidentTask.incident_id == incident.id
        )
    )
    tasks = []
    for i, step in enumerate(template.steps, start=(start or 0) + 1):
        minutes = step.get("due_minutes")
        task = IncidentTask(
            incident_id=incident.id,
            position=i,
            title_vi=step["title_vi"],
            title_en=step["title_en"],
            owner_role=step.get("owner_role"),
            owner_agency_id=agency_id(session, step.get("owner_agency_code"), strict=False),
            due_at=now + timedelta(minutes=minutes) if minutes is not None else None,
            status=TaskStatus.todo,
            checklist=[{**item, "done": False} for item in step.get("checklist", [])],
            updated_at=now,
        )
        session.add(task)
        tasks.append(task)
    session.flush()
    incident.sop_code, incident.sop_version = template.code, template.version
    log_change(
        session,
        principal,
        incident,
        "sop_applied",
        {"sop": template.code, "version": template.version, "tasks": len(tasks)},
        now,
    )
    for task in tasks:
        _emit(session, task, now)
    notices.tasks_assigned(session, settings, incident, tasks)
    return tasks


def add_task(
    session: Session,
    settings: Settings,
    principal: Principal,
    incident: Incident,
    data: TaskCreate,
    now: datetime,
) -> IncidentTask:
    """Add a task outside the SOP."""
    check_user(session, data.owner_user_id)
    position = session.scalar(
        select(func.coalesce(func.max(IncidentTask.position), 0)).where(
            IncidentTask.incident_id == incident.id
        )
    )
    task = IncidentTask(
        incident_id=incident.id,
        position=(position or 0) + 1,
        title_vi=data.title_vi,
        title_en=data.title_en,
        owner_agency_id=agency_id(session, data.owner_agency_code, strict=True),
        owner_user_id=data.owner_user_id,
        due_at=data.due_at,
        status=TaskStatus.todo,
        checklist=[{**item.model_dump(), "done": False} for item in data.checklist],
        updated_at=now,
    )
    session.add(task)
    session.flush()
    log_change(session, principal, incident, "task_added", task_detail(task), now)
    _emit(session, task, now)
    notices.tasks_assigned(session, settings, incident, [task])
    return task


def get_task(session: Session, incident: Incident, task_id: int) -> IncidentTask:
    """Fetch a task of this incident (404 otherwise)."""
    task = session.get(IncidentTask, task_id)
    if task is None or task.incident_id != incident.id:
        raise NotFound(f"No task {task_id} in incident {incident.code}")
    return task


def task_detail(task: IncidentTask) -> dict[str, Any]:
    """Describe a task for the timeline."""
    return {
        "task_id": task.id,
        "title_en": task.title_en,
        "status": task.status,
        "owner_agency_id": task.owner_agency_id,
        "owner_user_id": task.owner_user_id,
        "due_at": task.due_at.isoformat() if task.due_at else None,
    }


def _set_status(task: IncidentTask, status: TaskStatus, now: datetime) -> None:
    task.status = status
    if status == TaskStatus.in_progress and task.started_at is None:
        task.started_at = now
    task.finished_at = now if status in FINISHED_TASKS else None


def _ticks(task: IncidentTask, ticks: list[bool]) -> None:
    if len(ticks) != len(task.checklist):
        raise InvalidInput(
            f"Give {len(task.checklist)} ticks, one per checklist item", code="checklist_length"
        )
    task.checklist = [
        {**item, "done": bool(t)} for item, t in zip(task.checklist, ticks, strict=True)
    ]


def update_task(
    session: Session,
    settings: Settings,
    principal: Principal,
    incident: Incident,
    task: IncidentTask,
    data: TaskUpdate,
    now: datetime,
) -> IncidentTask:
    """Change a task's status, owner, deadline, note or checklist ticks."""
    if incident.status == "closed":
        raise Conflict(f"Incident {incident.code} is closed", code="incident_closed")
    changes = data.model_dump(exclude_unset=True)
    before = task_detail(task)
    if "owner_agency_code" in changes:
        task.owner_agency_id = agency_id(session, data.owner_agency_code, strict=True)
    if "owner_user_id" in changes:
        check_user(session, data.owner_user_id)
        task.owner_user_id = data.owner_user_id
    if "due_at" in changes:
        task.due_at = data.due_at
    if data.note is not None:
        task.note = data.note
    if data.checklist_done is not None:
        _ticks(task, data.checklist_done)
    if data.status is not None and data.status != task.status:
        _set_status(task, data.status, now)
    task.updated_at = now
    session.flush()
    log_change(
        session,
        principal,
        incident,
        "task_updated",
        {"before": before, "after": task_detail(task), "checklist": task.checklist},
        now,
    )
    _emit(session, task, now)
    if before["owner_agency_id"] != task.owner_agency_id or (
        before["owner_user_id"] != task.owner_user_id
    ):
        notices.tasks_assigned(session, settings, incident, [task])
    return task
