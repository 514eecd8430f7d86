"""Who hears about an incident: notify() calls inside the incident's own transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.incidents.choices import STATUSES
from cityops.alerts.incidents.models import Incident, IncidentTask
from cityops.alerts.notify.dispatch import LOCAL_TZ, notify
from cityops.core.auth.models import User
from cityops.core.config import Settings


def _link(incident: Incident) -> str:
    return f"/incidents/{incident.code}"


def incident_opened(session: Session, settings: Settings, incident: Incident) -> None:
    """Tell the people of the incident's unit (by their preferences) that it was opened."""
    notify(
        session,
        settings.notify,
        topic="incidents.incident_opened",
        severity=incident.severity,
        unit_id=incident.unit_id,
        subject_vi=f"Sự cố mới {incident.code}: {incident.title_vi}",
        subject_en=f"New incident {incident.code}: {incident.title_en}",
        body_vi=incident.description,
        body_en=incident.description,
        link=_link(incident),
    )


def status_changed(session: Session, settings: Settings, incident: Incident, old: str) -> None:
    """Tell the people of the incident's unit that its status changed."""
    label = STATUSES[incident.status]
    notify(
        session,
        settings.notify,
        topic="incidents.status_changed",
        severity=incident.severity,
        unit_id=incident.unit_id,
        subject_vi=f"Sự cố {incident.code}: {label.label_vi}",
        subject_en=f"Incident {incident.code}: {label.label_en}",
        body_vi=f"{STATUSES[old].label_vi} → {label.label_vi}: {incident.title_vi}",
        body_en=f"{STATUSES[old].label_en} → {label.label_en}: {incident.title_en}",
        link=_link(incident),
    )


def owners(session: Session, task: IncidentTask) -> list[int]:
    """Return the users who own a task: its user, or the active staff of its agency."""
    if task.owner_user_id is not None:
        return [task.owner_user_id]
    if task.owner_agency_id is None:
        return []
    query = select(User.id).where(User.agency_id == task.owner_agency_id, User.is_active.is_(True))
    return list(session.scalars(query))


def tasks_assigned(
    session: Session, settings: Settings, incident: Incident, tasks: list[IncidentTask]
) -> None:
    """Tell each task's owners that they have work in this incident."""
    for task in tasks:
        recipients = owners(session, task)
        if not recipients:
            continue
        due_vi = due_en = ""
        if task.due_at is not None:
            local = task.due_at.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")
            due_vi, due_en = f" (hạn {local})", f" (due {local})"
        notify(
            session,
            settings.notify,
            topic="incidents.task_assigned",
            severity=incident.severity,
            unit_id=incident.unit_id,
            subject_vi=f"Nhiệm vụ sự cố {incident.code}: {task.title_vi}{due_vi}",
            subject_en=f"Incident task {incident.code}: {task.title_en}{due_en}",
            body_vi=incident.title_vi,
            body_en=incident.title_en,
            link=_link(incident),
            recipients=recipients,
        )
