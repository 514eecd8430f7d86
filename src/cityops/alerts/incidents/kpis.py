"""KPIs of incidents, as data: each computed in the caller's scope."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.alerts.incidents.access import read_filter
from cityops.alerts.incidents.choices import FINISHED_TASKS, Status
from cityops.alerts.incidents.models import Incident, IncidentTask
from cityops.core.db import utcnow
from cityops.core.modules import KpiDescription
from cityops.core.policy import Principal
from cityops.core.units.models import Unit


def open_incidents(session: Session, principal: Principal) -> int:
    """Count incidents not closed yet."""
    query = (
        select(func.count(Incident.id))
        .join(Unit, Unit.id == Incident.unit_id)
        .where(read_filter(principal), Incident.status != Status.closed)
    )
    return session.scalar(query) or 0


def overdue_tasks(session: Session, principal: Principal) -> int:
    """Count unfinished tasks of open incidents past their deadline."""
    query = (
        select(func.count(IncidentTask.id))
        .join(Incident, Incident.id == IncidentTask.incident_id)
        .join(Unit, Unit.id == Incident.unit_id)
        .where(
            read_filter(principal),
            Incident.status != Status.closed,
            IncidentTask.status.not_in(list(FINISHED_TASKS)),
            IncidentTask.due_at < utcnow(),
        )
    )
    return session.scalar(query) or 0


KPIS = (
    KpiDescription(
        "incidents.open", "Sự cố đang xử lý", "Open incidents", "count", open_incidents, False
    ),
    KpiDescription(
        "incidents.overdue_tasks",
        "Nhiệm vụ sự cố quá hạn",
        "Overdue incident tasks",
        "count",
        overdue_tasks,
        False,
    ),
)
