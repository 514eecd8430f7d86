"""The in-app feed, per-user preferences, and the admins' view of deliveries and dead letters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityops.alerts.notify.choices import DeliveryStatus
from cityops.alerts.notify.dispatch import DEFAULT_SEVERITIES
from cityops.alerts.notify.models import (
    Delivery,
    Notification,
    NotificationPreference,
    WebhookTarget,
)
from cityops.alerts.notify.schemas import PreferencePublic, PreferenceUpdate
from cityops.core import audit
from cityops.core.db import utcnow
from cityops.core.errors import InvalidInput, NotFound, Unauthorized
from cityops.core.policy import Perm, Principal, authorize, in_scope
from cityops.core.units.models import Unit


def _user_id(principal: Principal) -> int:
    if principal.kind != "user" or principal.id is None:
        raise Unauthorized("Log in as a user: notifications belong to people, not API keys")
    return principal.id


# --- in-app feed ---------------------------------------------------------------------------


def list_feed(
    session: Session, principal: Principal, *, unread_only: bool, limit: int, offset: int
) -> tuple[list[Notification], int, int]:
    """Return a page of the caller's feed (newest first), its total and the unread count."""
    uid = _user_id(principal)
    cond = [Notification.user_id == uid]
    if unread_only:
        cond.append(Notification.read_at.is_(None))
    rows = session.scalars(
        select(Notification)
        .where(*cond)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = session.scalar(select(func.count(Notification.id)).where(*cond)) or 0
    return list(rows), total, unread_count(session, principal)


def unread_count(session: Session, principal: Principal) -> int:
    """Count the caller's unread messages."""
    uid = _user_id(principal)
    query = select(func.count(Notification.id)).where(
        Notification.user_id == uid, Notification.read_at.is_(None)
    )
    return session.scalar(query) or 0


def mark_read(session: Session, principal: Principal, notification_id: int) -> Notification:
    """Mark one of the caller's messages read (404 for anyone else's)."""
    uid = _user_id(principal)
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != uid:
        raise NotFound(f"No notification {notification_id}")
    if row.read_at is None:
        row.read_at = utcnow()
        audit.record(session, principal, "notification.read", "notification", row.id)
    return row


def mark_all_read(session: Session, principal: Principal) -> int:
    """Mark every unread message of the caller read; return how many."""
    uid = _user_id(principal)
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == uid, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        audit.record(
            session, principal, "notification.read_all", "notification", after={"count": count}
        )
    return count


# --- preferences ---------------------------------------------------------------------------


def get_preferences(session: Session, principal: Principal) -> PreferencePublic:
    """Return the caller's preferences, or the defaults when never saved."""
    uid = _user_id(principal)
    pref = session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == uid)
    )
    if pref is None:
        return PreferencePublic(severities=list(DEFAULT_SEVERITIES), saved=False)
    code = (
        session.scalar(select(Unit.code).where(Unit.id == pref.unit_id)) if pref.unit_id else None
    )
    return PreferencePublic(
        severities=pref.severities,  # type: ignore[arg-type]
        unit_code=code,
        channels=pref.channels,  # type: ignore[arg-type]
        topics=pref.topics,
        quiet_start=pref.quiet_start,
        quiet_end=pref.quiet_end,
        language=pref.language,  # type: ignore[arg-type]
        email=pref.email,
        webhook_id=pref.webhook_id,
        webhook_recipient=pref.webhook_recipient,
        saved=True,
    )


def _checked_unit(session: Session, principal: Principal, code: str | None) -> int | None:
    if code is None:
        return None
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not in_scope(principal, unit.path):
        raise InvalidInput(
            f"Unit {code} is unknown or outside your scope; preferences never reach further "
            "than what you may see",
            code="unit_outside_scope",
        )
    return unit.id


def _checked_webhook(session: Session, data: PreferenceUpdate) -> None:
    if data.webhook_id is None:
        if "webhook" in data.channels:
            raise InvalidInput("Pick a webhook target for the webhook channel", code="no_webhook")
        return
    target = session.get(WebhookTarget, data.webhook_id)
    if target is None or not target.is_active:
        raise InvalidInput(f"No active webhook {data.webhook_id}", code="unknown_webhook")
    if not data.webhook_recipient:
        raise InvalidInput(
            "Give webhook_recipient (chat id, Zalo user id or phone number)",
            code="no_webhook_recipient",
        )


def put_preferences(
    session: Session, principal: Principal, data: PreferenceUpdate
) -> PreferencePublic:
    """Save the caller's preferences (the unit must lie inside the caller's scope)."""
    uid = _user_id(principal)
    authorize(principal, Perm.data_read, check_unit=False)
    unit_id = _checked_unit(session, principal, data.unit_code)
    _checked_webhook(session, data)
    if (data.quiet_start is None) != (data.quiet_end is None):
        raise InvalidInput("Give both quiet_start and quiet_end, or neither", code="quiet_hours")
    pref = session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == uid)
    )
    before = audit.snapshot(pref) if pref else None
    if pref is None:
        pref = NotificationPreference(user_id=uid)
        session.add(pref)
    values: dict[str, Any] = data.model_dump(exclude={"unit_code"}, mode="json")
    for key, value in values.items():
        setattr(pref, key, value)
    pref.unit_id = unit_id
    pref.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        principal,
        "notification.preferences",
        "notification_preference",
        uid,
        before=before,
        after=audit.snapshot(pref),
    )
    return get_preferences(session, principal)


# --- deliveries (admins) -------------------------------------------------------------------


def list_deliveries(
    session: Session, principal: Principal, *, status: str | None, limit: int, offset: int
) -> tuple[list[Delivery], int]:
    """List deliveries, newest first, optionally by status (admins)."""
    authorize(principal, Perm.users_manage, check_unit=False)
    cond = [Delivery.status == status] if status else []
    rows = session.scalars(
        select(Delivery).where(*cond).order_by(Delivery.id.desc()).limit(limit).offset(offset)
    )
    total = session.scalar(select(func.count(Delivery.id)).where(*cond)) or 0
    return list(rows), total


def retry_dead(session: Session, principal: Principal, delivery_id: int) -> Delivery:
    """Put a dead letter back in the queue for another round of attempts (admins)."""
    authorize(principal, Perm.users_manage, check_unit=False)
    row = session.get(Delivery, delivery_id)
    if row is None or row.status != DeliveryStatus.dead:
        raise NotFound(f"No dead letter {delivery_id}")
    before = audit.snapshot(row)
    row.status = DeliveryStatus.pending
    row.attempts = 0
    row.next_attempt_at = utcnow()
    session.flush()
    audit.record(
        session,
        principal,
        "notification.retry",
        "notification_delivery",
        row.id,
        before=before,
        after=audit.snapshot(row),
    )
    return row
