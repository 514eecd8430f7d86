"""Tables of NGSI-LD subscriptions: what each subscriber asked for and how delivery goes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base, JSONType, UTCDateTime, utcnow


class ContextSubscription(Base):
    """One NGSI-LD subscription (members kept with expanded IRIs) and its delivery record."""

    __tablename__ = "ctx_subscriptions"
    __table_args__ = (
        UniqueConstraint("tenant", "sub_id", name="uq_ctx_subscriptions_tenant_sub_id"),
        Index("ix_ctx_subscriptions_tenant_owner_unit_path", "tenant", "owner_unit_path"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default="")
    sub_id: Mapped[str] = mapped_column(String(512))
    # the Subscription members, types and attribute names expanded to IRIs
    doc: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # the @context of the creating request (compacts notifications unless jsonldContext is set)
    context: Mapped[Any] = mapped_column(JSONType, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # who created it, and the administrative scope it keeps (None: unscoped)
    owner: Mapped[str] = mapped_column(String(256))
    owner_unit_path: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # delivery record, updated in batches by the notifier
    times_sent: Mapped[int] = mapped_column(Integer, default=0)
    times_failed: Mapped[int] = mapped_column(Integer, default=0)
    times_dropped: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_notification: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(512))
