"""Everything incidents need from alerts, in one place: load, describe, move along."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.incidents.events import emit
from cityops.alerts.incidents.models import IncidentAlert
from cityops.alerts.incidents.schemas import AlertRef
from cityops.core.errors import CityOpsError, Conflict
from cityops.core.policy import Principal

log = logging.getLogger("cityops.incidents")

SEVERITY_RANK = {"critical": 5, "major": 4, "minor": 3, "warning": 2, "info": 1}


def load_alerts(session: Session, principal: Principal, alert_ids: list[int]) -> list[Any]:
    """Fetch alerts the caller may read (404 for any other), refusing ones already linked."""
    from cityops.alerts.service import get_alert

    alerts = [get_alert(session, principal, alert_id) for alert_id in dict.fromkeys(alert_ids)]
    taken = session.scalars(
        select(IncidentAlert).where(IncidentAlert.alert_id.in_([a.id for a in alerts]))
    ).all()
    if taken:
        ids = ", ".join(str(t.alert_id) for t in taken)
        raise Conflict(f"Alert(s) {ids} already belong to an incident", code="alert_linked")
    return alerts


def linked_alerts(session: Session, incident_id: int) -> list[Any]:
    """Return the alerts linked to an incident, oldest link first."""
    from cityops.alerts.models import Alert

    query = (
        select(Alert)
        .join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
        .where(IncidentAlert.incident_id == incident_id)
        .order_by(IncidentAlert.id)
    )
    return list(session.scalars(query))


def ref(alert: Any) -> AlertRef:
    """Describe a linked alert."""
    return AlertRef(
        id=alert.id,
        title_vi=alert.title_vi,
        title_en=alert.title_en or alert.title_vi,
        severity=alert.severity,
        status=alert.status,
    )


def worst(severities: list[str]) -> str:
    """Return the most severe of several severities."""
    return max(severities, key=lambda s: SEVERITY_RANK.get(s, 0)) if severities else "info"


def resolve_linked(
    session: Session, principal: Principal, alerts: list[Any], note: str, now: datetime
) -> list[int]:
    """Resolve the linked alerts still active (through the alert lifecycle); return their ids."""
    from cityops.alerts.choices import ACTIVE
    from cityops.alerts.schemas import AlertActionBody
    from cityops.alerts.service import act

    done = []
    for alert in alerts:
        if alert.status not in ACTIVE:
            continue
        try:
            _, event = act(session, principal, alert.id, "resolve", AlertActionBody(note=note), now)
        except CityOpsError as err:  # e.g. the alert moved on meanwhile: the incident still closes
            log.warning("alert %s not resolved with its incident: %s", alert.id, err.detail)
            continue
        emit(session, event)
        done.append(alert.id)
    return done
