"""notify(): resolve who hears about something, write their in-app rows and queue deliveries.

Any code may call it (alerts, incidents, field reports): it only writes rows in the caller's
transaction; the delivery worker sends e-mail and webhooks after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session, aliased

from cityops.alerts.notify.choices import Channel, DeliveryStatus
from cityops.alerts.notify.models import (
    Delivery,
    Notification,
    NotificationPreference,
    WebhookTarget,
)
from cityops.core import audit
from cityops.core.auth.models import User
from cityops.core.config import NotifySettings
from cityops.core.db import utcnow
from cityops.core.policy import Perm, Principal, Role, can, system_principal
from cityops.core.units.models import Unit
from cityops.core.units.service import unit_path

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_SEVERITIES = ("critical", "major")
# Roles told about things in their scope without being named; agency staff hear only about
# what they are named for (their tasks), since they see only their agency's work.
BROADCAST_ROLES = (Role.admin, Role.operator, Role.leader, Role.unit_operator)
WAKE_KEY = "notify_wake"
# Columns, not entities: a province has thousands of users and this runs for every alert.
USER_COLUMNS = (
    User.id,
    User.username,
    User.role,
    User.unit_id,
    User.agency_id,
    User.email,
    User.language,
)


@dataclass(frozen=True)
class Message:
    """What to tell people, in both languages."""

    topic: str
    severity: str | None
    unit_id: int | None
    subject_vi: str
    subject_en: str
    body_vi: str = ""
    body_en: str = ""
    link: str | None = None


@dataclass
class Outcome:
    """What one notify() call wrote."""

    recipients: list[int] = field(default_factory=list)
    in_app: int = 0
    deliveries: int = 0


def quiet_until(now: datetime, start: str | None, end: str | None) -> datetime | None:
    """Return when quiet hours (local time) end if `now` falls inside them, else None."""
    if not start or not end or start == end:
        return None
    local = now.astimezone(LOCAL_TZ)
    s, e = time.fromisoformat(start), time.fromisoformat(end)
    t = local.time()
    inside = s <= t < e if s < e else (t >= s or t < e)
    if not inside:
        return None
    end_at = local.replace(hour=e.hour, minute=e.minute, second=0, microsecond=0)
    if end_at <= local:
        end_at += timedelta(days=1)
    return end_at.astimezone(now.tzinfo)


def user_principal(user: Any, path: str | None) -> Principal:
    """Build the principal a user would have when logged in."""
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        unit_id=user.unit_id,
        unit_path=path,
        agency_id=user.agency_id,
    )


def _wanted(
    msg: Message,
    msg_path: str | None,
    principal: Principal,
    pref: NotificationPreference | None,
    pref_path: str | None,
) -> bool:
    severities = pref.severities if pref else list(DEFAULT_SEVERITIES)
    if msg.severity is not None and msg.severity not in severities:
        return False
    if not can(principal, Perm.data_read, msg_path):
        return False
    if pref is None or pref.unit_id is None:
        return True
    return msg_path is not None and pref_path is not None and msg_path.startswith(pref_path)


def _topic_ok(msg: Message, pref: NotificationPreference | None) -> bool:
    return pref is None or not pref.topics or any(msg.topic.startswith(t) for t in pref.topics)


def _deliveries(
    cfg: NotifySettings,
    msg: Message,
    user: Any,
    pref: NotificationPreference | None,
    due: datetime,
    webhooks: set[int],
    now: datetime,
) -> list[dict[str, Any]]:
    """Return the rows of the e-mail and webhook deliveries one user asked for."""
    if pref is None:
        return []
    lang = pref.language or user.language or "vi"
    link = msg.link
    if link and link.startswith("/") and cfg.base_url:
        link = cfg.base_url.rstrip("/") + link
    common = {
        "user_id": user.id,
        "webhook_id": None,
        "topic": msg.topic,
        "severity": msg.severity,
        "unit_id": msg.unit_id,
        "language": lang,
        "subject": (msg.subject_vi if lang == "vi" else msg.subject_en)[:300],
        "body": msg.body_vi if lang == "vi" else msg.body_en,
        "link": link,
        "status": DeliveryStatus.pending.value,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
    }
    out = []
    address = pref.email or user.email
    if Channel.email in pref.channels and cfg.smtp_host and address:
        out.append({**common, "channel": Channel.email.value, "recipient": address})
    if Channel.webhook in pref.channels and pref.webhook_id in webhooks:
        out.append(
            {
                **common,
                "channel": Channel.webhook.value,
                "webhook_id": pref.webhook_id,
                "recipient": pref.webhook_recipient,
            }
        )
    return out


def notify(
    session: Session,
    cfg: NotifySettings,
    *,
    topic: str,
    severity: str | None,
    unit_id: int | None,
    subject_vi: str,
    subject_en: str,
    body_vi: str = "",
    body_en: str = "",
    link: str | None = None,
    recipients: list[int] | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Tell the right people: named `recipients`, or everyone whose preferences and scope match."""
    msg = Message(topic, severity, unit_id, subject_vi, subject_en, body_vi, body_en, link)
    now = now or utcnow()
    msg_path = unit_path(session, unit_id)
    outcome = Outcome()
    feed: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    webhooks = set(session.scalars(select(WebhookTarget.id).where(WebhookTarget.is_active)))
    for row in session.execute(_candidates(recipients)):
        user, pref, path, pref_path = row, row.NotificationPreference, row.home_path, row.pref_path
        broadcast = recipients is None
        if broadcast and not (
            _wanted(msg, msg_path, user_principal(user, path), pref, pref_path)
            and _topic_ok(msg, pref)
        ):
            continue
        outcome.recipients.append(user.id)
        if Channel.in_app in (pref.channels if pref else [Channel.in_app]):
            feed.append(_feed_row(msg, user.id, now))
        quiet = None
        if severity != "critical" and pref is not None:
            quiet = quiet_until(now, pref.quiet_start, pref.quiet_end)
        deliveries += _deliveries(cfg, msg, user, pref, quiet or now, webhooks, now)
    # bulk inserts: one statement per table, however many recipients
    if feed:
        session.execute(insert(Notification.__table__), feed)
    if deliveries:
        session.execute(insert(Delivery.__table__), deliveries)
    outcome.in_app, outcome.deliveries = len(feed), len(deliveries)
    _record(session, msg, outcome)
    return outcome


def _candidates(recipients: list[int] | None) -> Select[Any]:
    """Query active users with their preferences, home unit path and preferred unit path."""
    home, pref_unit = aliased(Unit), aliased(Unit)
    query = (
        select(
            *USER_COLUMNS,
            NotificationPreference,
            home.path.label("home_path"),
            pref_unit.path.label("pref_path"),
        )
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .outerjoin(home, home.id == User.unit_id)
        .outerjoin(pref_unit, pref_unit.id == NotificationPreference.unit_id)
        .where(User.is_active.is_(True))
        .order_by(User.id)
    )
    if recipients is not None:
        return query.where(User.id.in_(recipients or [-1]))
    return query.where(User.role.in_([r.value for r in BROADCAST_ROLES]))


def _feed_row(msg: Message, user_id: int, now: datetime) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "topic": msg.topic,
        "severity": msg.severity,
        "unit_id": msg.unit_id,
        "subject_vi": msg.subject_vi[:300],
        "subject_en": msg.subject_en[:300],
        "body_vi": msg.body_vi,
        "body_en": msg.body_en,
        "link": msg.link,
        "created_at": now,
        "read_at": None,
    }


def _record(session: Session, msg: Message, outcome: Outcome) -> None:
    if not outcome.recipients:
        return
    session.flush()
    if outcome.deliveries:
        session.info[WAKE_KEY] = True
    audit.record(
        session,
        system_principal("notify"),
        "notification.send",
        "notification",
        msg.topic,
        after={
            "topic": msg.topic,
            "severity": msg.severity,
            "subject_en": msg.subject_en,
            "recipients": outcome.recipients,
            "in_app": outcome.in_app,
            "deliveries": outcome.deliveries,
        },
        unit_id=msg.unit_id,
    )


@dataclass(frozen=True)
class Contact:
    """Someone who is not a user (a citizen reporter): an e-mail address and/or a phone."""

    email: str | None = None
    phone: str | None = None


def notify_contacts(
    session: Session,
    cfg: NotifySettings,
    contacts: list[Contact],
    *,
    topic: str,
    subject: str,
    body: str,
    link: str | None = None,
    phone_webhook: str | None = None,
    now: datetime | None = None,
) -> int:
    """Queue a notice to people outside the user list: e-mail when SMTP is configured, and
    their phone through the named webhook target (an SMS/Zalo gateway) when there is one.
    Returns how many deliveries were queued (0 when nothing is configured)."""
    now = now or utcnow()
    target = None
    if phone_webhook:
        target = session.scalar(
            select(WebhookTarget.id).where(
                WebhookTarget.name == phone_webhook, WebhookTarget.is_active
            )
        )
    rows: list[dict[str, Any]] = []
    for address, channel, webhook_id in _contact_routes(contacts, bool(cfg.smtp_host), target):
        rows.append(
            {
                "channel": channel,
                "user_id": None,
                "webhook_id": webhook_id,
                "recipient": address,
                "topic": topic,
                "severity": None,
                "unit_id": None,
                "language": "vi",
                "subject": subject[:300],
                "body": body,
                "link": link,
                "status": DeliveryStatus.pending.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(Delivery.__table__), rows)
        session.info[WAKE_KEY] = True
    return len(rows)


def _contact_routes(
    contacts: list[Contact], smtp: bool, webhook_id: int | None
) -> list[tuple[str, str, int | None]]:
    """(address, channel, webhook id) for each contact, each address once."""
    seen: set[str] = set()
    out: list[tuple[str, str, int | None]] = []
    for contact in contacts:
        if smtp and contact.email and contact.email.lower() not in seen:
            seen.add(contact.email.lower())
            out.append((contact.email, Channel.email.value, None))
        if webhook_id is not None and contact.phone and contact.phone not in seen:
            seen.add(contact.phone)
            out.append((contact.phone, Channel.webhook.value, webhook_id))
    return out
