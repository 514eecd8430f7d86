"""Issue CAP messages for public alerts: Alert, then Update on change, Cancel when it ends.

Every message is built, validated against the CAP 1.2 schema and only then stored; the feed
and the message URLs serve stored messages only, so an invalid message never leaves.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityops.alerts.cap.builder import (
    Area,
    CapInput,
    cap_time,
    category_for,
    circle_text,
    polygon_text,
)
from cityops.alerts.cap.builder import build as build_xml
from cityops.alerts.cap.models import CapMessage
from cityops.alerts.cap.validate import validate
from cityops.alerts.models import Alert, AlertRule
from cityops.core.config import Settings
from cityops.core.units.models import Unit

log = logging.getLogger("cityops.cap")

# Issuing runs in worker threads: two changes of one alert must not both become message n.
# Held until the commit (`with ISSUING, db.session():`); other processes hit the unique key.
ISSUING = threading.Lock()
ENDED = frozenset({"resolved", "cleared", "closed"})
CANCEL_VISIBLE = timedelta(hours=24)


def current(session: Session, alert_id: int) -> CapMessage | None:
    """Return the latest message issued for an alert, if any."""
    return session.scalar(
        select(CapMessage).where(CapMessage.alert_id == alert_id, CapMessage.is_current.is_(True))
    )


def _area(session: Session, settings: Settings, alert: Alert, o: dict[str, Any]) -> Area:
    unit = session.get(Unit, alert.unit_id) if alert.unit_id else None
    if unit is None:
        unit = session.scalar(select(Unit).where(Unit.code == settings.units.root_code))
    desc_vi = o.get("area_desc_vi") or (unit.name if unit else "Toàn địa bàn")
    desc_en = o.get("area_desc_en") or (unit.name_en or unit.name if unit else "Whole territory")
    if o.get("polygon"):
        ring = [tuple(p) for p in o["polygon"]]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        polygon = " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in ring)
    else:
        polygon = polygon_text(unit.geometry) if unit is not None else None
    circle = circle_text(alert.lat, alert.lon, settings.cap.circle_radius_km)
    if o.get("circle"):
        c = o["circle"]
        circle = circle_text(c["lat"], c["lon"], c.get("radius_km", settings.cap.circle_radius_km))
    return Area(desc_vi, desc_en, polygon, circle)


def _category(session: Session, alert: Alert) -> str:
    rule = session.get(AlertRule, alert.rule_id) if alert.rule_id else None
    hints = [alert.title_en, alert.title_vi, alert.source_kind]
    if rule is not None:
        hints = [rule.entity_type, rule.event_name, rule.title_en, *hints]
    return category_for(*hints)


def _input(
    session: Session,
    settings: Settings,
    alert: Alert,
    msg_type: str,
    o: dict[str, Any],
    now: datetime,
    seq: int,
    references: str | None,
) -> CapInput:
    description = alert.description or alert.title_vi
    certainty = o.get("certainty") or ("Observed" if alert.source_kind == "entity" else "Likely")
    return CapInput(
        identifier=f"cityops-{settings.units.root_code}-alert-{alert.id}-{seq}",
        sender=settings.cap.sender,
        sent=now,
        status="Exercise" if settings.cap.exercise else "Actual",
        msg_type=msg_type,
        severity=alert.severity,
        title_vi=alert.title_vi,
        title_en=alert.title_en or alert.title_vi,
        description_vi=description,
        description_en=alert.description or alert.title_en or alert.title_vi,
        area=_area(session, settings, alert, o),
        category=o.get("category") or _category(session, alert),
        urgency="Past" if msg_type == "Cancel" else o.get("urgency"),
        certainty=certainty,
        instruction_vi=o.get("instruction_vi"),
        instruction_en=o.get("instruction_en"),
        sender_name_vi=settings.cap.sender_name_vi,
        sender_name_en=settings.cap.sender_name_en,
        references=references,
        parameters={"cityopsAlertId": str(alert.id)},
    )


def _msg_type(alert: Alert, prev: CapMessage | None, forced: bool) -> str | None:
    if alert.status in ENDED:
        return None if prev is None or prev.msg_type == "Cancel" else "Cancel"
    if prev is None or prev.msg_type == "Cancel":
        return "Alert"
    changed = (prev.alert_severity, prev.alert_title) != (alert.severity, alert.title_vi)
    return "Update" if changed or forced else None


def issue(
    session: Session,
    settings: Settings,
    alert: Alert,
    now: datetime,
    overrides: dict[str, Any] | None = None,
) -> CapMessage | None:
    """Issue the message an alert's state calls for (None if nothing changed since the last).

    Raises CapInvalid (nothing stored) when the message does not validate.
    """
    prev = current(session, alert.id)
    msg_type = _msg_type(alert, prev, forced=overrides is not None)
    if msg_type is None:
        return None
    o = {**(prev.overrides if prev else {}), **(overrides or {})}
    earlier = session.scalars(
        select(CapMessage).where(CapMessage.alert_id == alert.id).order_by(CapMessage.id)
    ).all()
    refs = " ".join(f"{settings.cap.sender},{m.identifier},{cap_time(m.sent_at)}" for m in earlier)
    c = _input(session, settings, alert, msg_type, o, now, len(earlier) + 1, refs or None)
    data = build_xml(c)
    validate(data)  # raises CapInvalid: never stored, never served
    if prev is not None:
        prev.is_current = False
    message = CapMessage(
        identifier=c.identifier,
        alert_id=alert.id,
        msg_type=msg_type,
        sent_at=now.replace(microsecond=0),
        references=c.references,
        overrides=o,
        alert_status=alert.status,
        alert_severity=alert.severity,
        alert_title=alert.title_vi[:500],
        xml=data.decode("utf-8"),
        is_current=True,
    )
    session.add(message)
    session.flush()
    return message


def feed_messages(session: Session, settings: Settings, now: datetime) -> list[CapMessage]:
    """Return the messages the Atom feed lists: current ones, Cancels for a day."""
    query = (
        select(CapMessage)
        .where(
            CapMessage.is_current.is_(True),
            or_(CapMessage.msg_type != "Cancel", CapMessage.sent_at >= now - CANCEL_VISIBLE),
        )
        .order_by(CapMessage.sent_at.desc(), CapMessage.id.desc())
        .limit(settings.cap.feed_size)
    )
    return list(session.scalars(query))


def messages_of(session: Session, alert_id: int) -> list[CapMessage]:
    """Return every message issued for an alert, oldest first."""
    query = select(CapMessage).where(CapMessage.alert_id == alert_id).order_by(CapMessage.id)
    return list(session.scalars(query))


def by_identifier(session: Session, identifier: str) -> CapMessage | None:
    """Find a message by its CAP identifier."""
    return session.scalar(select(CapMessage).where(CapMessage.identifier == identifier))
