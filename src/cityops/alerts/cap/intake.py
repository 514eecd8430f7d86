"""CAP intake: a CAP 1.2 message from another system (a weather service) raises an alert.

Alert raises one (source_kind "cap"); Update changes the alert its <references> name; Cancel
clears it. The message is validated against the XSD first: errors carry line numbers and
nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from shapely.geometry import Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts import writer
from cityops.alerts.access import unit_path
from cityops.alerts.cap.validate import NS, validate
from cityops.alerts.choices import ACTIVE
from cityops.alerts.models import Alert, AlertEvent
from cityops.alerts.schemas import AlertActionBody
from cityops.alerts.service import act
from cityops.core.audit import record, snapshot
from cityops.core.bus import Event
from cityops.core.errors import Conflict, NotFound
from cityops.core.policy import Perm, Principal, authorize
from cityops.core.units.locate import locate
from cityops.core.units.models import Unit

SEVERITY_FROM_CAP = {
    "Extreme": "critical",
    "Severe": "major",
    "Moderate": "minor",
    "Minor": "warning",
    "Unknown": "info",
}
Q = f"{{{NS}}}"


@dataclass(frozen=True)
class Incoming:
    """What CityOps takes from a CAP message."""

    key: str
    msg_type: str
    references: tuple[str, ...]
    severity: str
    title_vi: str
    title_en: str
    description: str | None
    geocodes: tuple[str, ...]
    point: tuple[float, float] | None


def _pick(infos: list[etree._Element], prefix: str) -> etree._Element:
    for info in infos:
        if (info.findtext(f"{Q}language") or "en-US").lower().startswith(prefix):
            return info
    return infos[0]


def _point(info: etree._Element) -> tuple[float, float] | None:
    for circle in info.iter(f"{Q}circle"):
        lat, lon = circle.text.split()[0].split(",")  # type: ignore[union-attr]
        return float(lat), float(lon)
    for polygon in info.iter(f"{Q}polygon"):
        pairs = [p.split(",") for p in (polygon.text or "").split()]
        centre = Polygon([(float(lon), float(lat)) for lat, lon in pairs]).centroid
        return centre.y, centre.x
    return None


def read(root: etree._Element) -> Incoming:
    """Take what an alert needs from a validated CAP <alert>."""
    sender, identifier = root.findtext(f"{Q}sender"), root.findtext(f"{Q}identifier")
    infos = root.findall(f"{Q}info")
    refs = tuple(
        "cap:{}:{}".format(*r.split(",")[:2])
        for r in (root.findtext(f"{Q}references") or "").split()
    )
    if not infos:
        return Incoming(
            f"cap:{sender}:{identifier}",
            root.findtext(f"{Q}msgType") or "",
            refs,
            "info",
            identifier or "",
            identifier or "",
            None,
            (),
            None,
        )
    vi, en = _pick(infos, "vi"), _pick(infos, "en")

    def title(info: etree._Element) -> str:
        return (info.findtext(f"{Q}headline") or info.findtext(f"{Q}event") or "")[:500]

    return Incoming(
        key=f"cap:{sender}:{identifier}",
        msg_type=root.findtext(f"{Q}msgType") or "",
        references=refs,
        severity=SEVERITY_FROM_CAP.get(vi.findtext(f"{Q}severity") or "", "info"),
        title_vi=title(vi),
        title_en=title(en),
        description=vi.findtext(f"{Q}description"),
        geocodes=tuple(v.text or "" for v in vi.iter(f"{Q}geocode") for v in v.iter(f"{Q}value")),
        point=_point(vi),
    )


def _unit(session: Session, root_code: str, msg: Incoming) -> Unit | None:
    if msg.geocodes:
        unit = session.scalar(
            select(Unit).where(Unit.code.in_(msg.geocodes)).order_by(Unit.depth.desc())
        )
        if unit is not None:
            return unit
    if msg.point is not None:
        found = locate(session, *msg.point).unit
        if found is not None:
            return session.get(Unit, found.id)
    return session.scalar(select(Unit).where(Unit.code == root_code))


def _referenced(session: Session, msg: Incoming) -> Alert:
    alert = session.scalar(
        select(Alert)
        .where(Alert.source_kind == "cap", Alert.dedup_key.in_(msg.references))
        .order_by(Alert.id.desc())
    )
    if alert is None:
        raise NotFound(
            "No alert comes from the messages this one references", code="unknown_reference"
        )
    return alert


def import_message(
    session: Session, principal: Principal, data: bytes, root_code: str, now: datetime
) -> tuple[Alert, Event, str]:
    """Validate a CAP message and raise, update or clear an alert; return it, its event, what."""
    msg = read(validate(data))
    if session.scalar(select(Alert.id).where(Alert.dedup_key == msg.key)) is not None:
        raise Conflict(f"Message {msg.key} was imported already", code="duplicate_message")
    if msg.msg_type in {"Update", "Cancel"} and msg.references:
        alert = _referenced(session, msg)
        authorize(principal, Perm.data_write, unit_path(session, alert.unit_id), hide=False)
        if _applied(session, alert, msg.key):
            raise Conflict(f"Message {msg.key} was imported already", code="duplicate_message")
        if msg.msg_type == "Cancel":
            if alert.status not in ACTIVE:
                raise Conflict(f"Alert {alert.id} has ended already", code="alert_ended")
            alert, event = act(
                session, principal, alert.id, "clear", AlertActionBody(note=msg.key), now
            )
            return alert, event, "cleared"
        _update(session, principal, alert, msg, now)
        return alert, writer.updated_event(alert, now, "cap_update", alert.status), "updated"
    unit = _unit(session, root_code, msg)
    authorize(principal, Perm.data_write, unit.path if unit else None, hide=False)
    return _raise(session, principal, msg, unit, now)


def _applied(session: Session, alert: Alert, key: str) -> bool:
    """Say whether an Update or Cancel (by sender and identifier) was applied to the alert."""
    stmt = select(AlertEvent.id).where(AlertEvent.alert_id == alert.id, AlertEvent.note == key)
    return session.scalar(stmt.limit(1)) is not None


def _update(
    session: Session, principal: Principal, alert: Alert, msg: Incoming, now: datetime
) -> Alert:
    before = snapshot(alert)
    alert.severity, alert.title_vi, alert.title_en = msg.severity, msg.title_vi, msg.title_en
    alert.description = msg.description or alert.description
    alert.updated_at = alert.last_triggered_at = now
    alert.trigger_count += 1
    session.flush()
    writer.timeline(session, alert, principal, "cap_update", now, note=msg.key)
    record(
        session,
        principal,
        "alerts.cap_update",
        "alert",
        alert.id,
        before=before,
        after=snapshot(alert),
        unit_id=alert.unit_id,
    )
    return alert


def _raise(
    session: Session, principal: Principal, msg: Incoming, unit: Unit | None, now: datetime
) -> tuple[Alert, Event, str]:
    lat, lon = msg.point if msg.point else (None, None)
    alert = Alert(
        source_kind="cap",
        source_id=msg.key[4:][:300],
        dedup_key=msg.key,
        active_key=msg.key,
        severity=msg.severity,
        status="open",
        title_vi=msg.title_vi,
        title_en=msg.title_en,
        description=msg.description,
        unit_id=unit.id if unit else None,
        lat=lat,
        lon=lon,
        value=None,
        public=False,
        raised_at=now,
        last_triggered_at=now,
        updated_at=now,
        trigger_count=1,
        escalation_level=0,
    )
    session.add(alert)
    session.flush()
    writer.timeline(session, alert, principal, "raised", now, note=msg.key)
    record(
        session,
        principal,
        "alerts.alert_raised",
        "alert",
        alert.id,
        after=snapshot(alert),
        unit_id=alert.unit_id,
    )
    return alert, writer.raised_event(alert, now), "raised"


def describe(alert: Alert, what: str) -> dict[str, Any]:
    """Answer of the intake endpoint."""
    return {
        "alert_id": alert.id,
        "result": what,
        "severity": alert.severity,
        "unit_id": alert.unit_id,
    }
