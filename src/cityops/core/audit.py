"""The audit log: every write records who, when, what, and the record before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from cityops.core.db import Base, JSONType, UTCDateTime, utcnow
from cityops.core.ops import client_var, request_id_var
from cityops.core.policy import Principal


class AuditEntry(Base):
    """One write, by one actor, to one record."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(250), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(80), index=True)
    entity_type: Mapped[str] = mapped_column(String(80), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(120), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    client: Mapped[str | None] = mapped_column(String(100))
    request_id: Mapped[str | None] = mapped_column(String(64))


def snapshot(
    obj: Any, exclude: tuple[str, ...] = ("password_hash", "key_hash", "token_hash")
) -> dict[str, Any]:
    """Copy a mapped record's columns into a JSON-safe dict, leaving secrets out."""
    out: dict[str, Any] = {}
    for col in obj.__table__.columns:
        if col.key in exclude:
            continue
        value = getattr(obj, col.key)
        if isinstance(value, datetime) or hasattr(value, "isoformat"):
            value = value.isoformat()
        out[col.key] = value
    return out


def record(
    session: Session,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: Any = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    unit_id: int | None = None,
    client: str | None = None,
    request_id: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; it commits (or rolls back) with the write itself."""
    entry = AuditEntry(
        actor=principal.actor,
        actor_role=principal.role.value if principal.role else None,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        unit_id=unit_id,
        before=before,
        after=after,
        client=client or client_var.get(),
        request_id=request_id or request_id_var.get(),
    )
    session.add(entry)
    return entry
