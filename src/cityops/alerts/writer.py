"""Write alerts and their timeline, and make the bus events that tell about them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.choices import ACTIVE
from cityops.alerts.events import AlertEscalated, AlertRaised, AlertUpdated
from cityops.alerts.models import Alert, AlertEvent
from cityops.context.geoquery import haversine_m
from cityops.core.audit import record, snapshot
from cityops.core.bus import Event
from cityops.core.policy import Principal, system_principal

ENGINE = system_principal("alerts.engine")


def _common(alert: Alert, at: datetime) -> dict[str, Any]:
    return {
        "alert_id": alert.id,
        "severity": alert.severity,
        "status": alert.status,
        "unit_id": alert.unit_id,
        "title_vi": alert.title_vi,
        "title_en": alert.title_en,
        "lat": alert.lat,
        "lon": alert.lon,
        "at": at.isoformat(),
        "rule_id": alert.rule_id,
        "public": alert.public,
        "source_kind": alert.source_kind,
        "source_id": alert.source_id,
    }


def raised_event(alert: Alert, at: datetime) -> AlertRaised:
    """Make the event telling that an alert was raised."""
    return AlertRaised(**_common(alert, at))


def updated_event(alert: Alert, at: datetime, action: str, from_status: str | None) -> AlertUpdated:
    """Make the event telling that an alert changed."""
    return AlertUpdated(
        **_common(alert, at),
        action=action,
        from_status=from_status,
        to_status=alert.status,
        assignee_user_id=alert.assignee_user_id,
        assignee_agency_id=alert.assignee_agency_id,
        trigger_count=alert.trigger_count,
    )


def escalated_event(alert: Alert, at: datetime) -> AlertEscalated:
    """Make the event telling that an alert was escalated."""
    return AlertEscalated(**_common(alert, at), escalation_level=alert.escalation_level)


def timeline(
    session: Session,
    alert: Alert,
    principal: Principal,
    kind: str,
    at: datetime,
    *,
    note: str | None = None,
    from_status: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Add an entry to an alert's timeline."""
    session.add(
        AlertEvent(
            alert_id=alert.id,
            at=at,
            kind=kind,
            actor_user_id=principal.id if principal.kind == "user" else None,
            actor_name=principal.name,
            note=note,
            from_status=from_status,
            to_status=alert.status,
            data=data,
        )
    )


def set_status(alert: Alert, status: str, at: datetime) -> None:
    """Move an alert to a status, keeping active_key and the timestamps in step."""
    alert.status = status
    alert.updated_at = at
    alert.active_key = alert.dedup_key if status in ACTIVE else None
    if status == "acknowledged" and alert.acknowledged_at is None:
        alert.acknowledged_at = at
    if status == "resolved":
        alert.resolved_at = at
    if status == "closed":
        alert.closed_at = at
    if status == "open":
        alert.resolved_at = alert.closed_at = None


@dataclass
class Firing:
    """What a rule says when it fires for one source."""

    rule: Any  # CompiledRule
    source_kind: str
    source_id: str
    unit_id: int | None
    lat: float | None
    lon: float | None
    value: dict[str, Any]
    words: dict[str, Any] = field(default_factory=dict)


def _render(template: str, words: dict[str, Any]) -> str:
    safe: defaultdict[str, Any] = defaultdict(lambda: "?", words)
    try:
        return template.format_map(safe)
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


def dedup_key(rule_id: int, source_id: str) -> str:
    """Return the key under which a rule and a source have at most one active alert."""
    return f"rule:{rule_id}:{source_id}"[:400]


def fire(session: Session, f: Firing, now: datetime, existing: Alert | None = None) -> Event:
    """Raise an alert for a firing rule, or re-trigger the active one of its source."""
    key = dedup_key(f.rule.id, f.source_id)
    alert = existing or session.scalar(select(Alert).where(Alert.active_key == key))
    if alert is not None:
        alert.trigger_count += 1
        alert.last_triggered_at = alert.updated_at = now
        alert.value = f.value
        timeline(session, alert, ENGINE, "retriggered", now, from_status=alert.status, data=f.value)
        return updated_event(alert, now, "retrigger", alert.status)
    words = {"source": f.source_id, **f.words, **f.value}
    alert = Alert(
        rule_id=f.rule.id,
        rule_version=f.rule.version,
        source_kind=f.source_kind,
        source_id=f.source_id[:300],
        dedup_key=key,
        active_key=key,
        severity=f.rule.severity,
        status="open",
        title_vi=_render(f.rule.title_vi, words)[:500],
        title_en=_render(f.rule.title_en, words)[:500],
        unit_id=f.unit_id if f.unit_id is not None else f.rule.unit_id,
        lat=f.lat,
        lon=f.lon,
        value=f.value,
        public=f.rule.public,
        raised_at=now,
        last_triggered_at=now,
        updated_at=now,
        trigger_count=1,
        escalation_level=0,
    )
    session.add(alert)
    session.flush()
    timeline(session, alert, ENGINE, "raised", now, data=f.value)
    record(
        session,
        ENGINE,
        "alerts.alert_raised",
        "alert",
        alert.id,
        after=snapshot(alert),
        unit_id=alert.unit_id,
    )
    return raised_event(alert, now)


def auto_clear(session: Session, rule_id: int, source_id: str, now: datetime) -> Event | None:
    """Clear the active alert of a rule and source whose condition is back to normal."""
    alert = session.scalar(select(Alert).where(Alert.active_key == dedup_key(rule_id, source_id)))
    if alert is None:
        return None
    before, from_status = snapshot(alert), alert.status
    set_status(alert, "cleared", now)
    timeline(session, alert, ENGINE, "auto_cleared", now, from_status=from_status)
    record(
        session,
        ENGINE,
        "alerts.auto_clear",
        "alert",
        alert.id,
        before=before,
        after=snapshot(alert),
        unit_id=alert.unit_id,
    )
    return updated_event(alert, now, "auto_clear", from_status)


def active_near(
    session: Session, rule_id: int, lat: float, lon: float, radius_m: float
) -> Alert | None:
    """Return the rule's active alert within `radius_m` of a point (clusters re-trigger it)."""
    stmt = select(Alert).where(Alert.rule_id == rule_id, Alert.active_key.is_not(None))
    for alert in session.scalars(stmt):
        placed = alert.lat is not None and alert.lon is not None
        if placed and haversine_m(lon, lat, alert.lon, alert.lat) <= radius_m:
            return alert
    return None
