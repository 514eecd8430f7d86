"""How incidents look in the API: linked alerts, tasks with owners, labels and colours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.incidents.choices import STATUSES, Status, TaskStatus
from cityops.alerts.incidents.linked import linked_alerts, ref
from cityops.alerts.incidents.models import Incident, IncidentTask
from cityops.alerts.incidents.schemas import ChecklistState, IncidentPublic, TaskPublic
from cityops.alerts.incidents.tasks import is_overdue
from cityops.core.auth.models import Agency
from cityops.core.units.models import Unit


def task_public(task: IncidentTask, agency_code: str | None, now: datetime) -> TaskPublic:
    """Describe a task."""
    return TaskPublic(
        id=task.id,
        position=task.position,
        title_vi=task.title_vi,
        title_en=task.title_en,
        owner_role=task.owner_role,
        owner_agency_code=agency_code,
        owner_user_id=task.owner_user_id,
        due_at=task.due_at,
        overdue=is_overdue(task, now),
        status=TaskStatus(task.status),
        checklist=[ChecklistState(**item) for item in task.checklist],
        note=task.note,
        started_at=task.started_at,
        finished_at=task.finished_at,
    )


def incident_tasks(session: Session, incident: Incident, now: datetime) -> list[TaskPublic]:
    """Describe an incident's tasks, in SOP order."""
    rows = session.execute(
        select(IncidentTask, Agency.code)
        .outerjoin(Agency, Agency.id == IncidentTask.owner_agency_id)
        .where(IncidentTask.incident_id == incident.id)
        .order_by(IncidentTask.position, IncidentTask.id)
    ).all()
    return [task_public(task, code, now) for task, code in rows]


def incident_public(session: Session, incident: Incident, now: datetime) -> IncidentPublic:
    """Describe an incident with its alerts and tasks."""
    unit = session.get(Unit, incident.unit_id)
    status = STATUSES[incident.status]
    return IncidentPublic(
        code=incident.code,
        title_vi=incident.title_vi,
        title_en=incident.title_en,
        description=incident.description,
        severity=incident.severity,
        status=Status(incident.status),
        status_label_vi=status.label_vi,
        status_label_en=status.label_en,
        status_colour=status.colour,
        hazard=incident.hazard,
        unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None,
        commander_id=incident.commander_id,
        sop_code=incident.sop_code,
        sop_version=incident.sop_version,
        detected_at=incident.detected_at,
        opened_at=incident.opened_at,
        responding_at=incident.responding_at,
        contained_at=incident.contained_at,
        closed_at=incident.closed_at,
        alerts=[ref(a) for a in linked_alerts(session, incident.id)],
        tasks=incident_tasks(session, incident, now),
    )
