"""The table of CAP 1.2 messages issued for public alerts (each stored as validated XML)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base, JSONType, UTCDateTime, utcnow


class CapMessage(Base):
    """One CAP message (Alert, Update or Cancel) about one alert, exactly as served."""

    __tablename__ = "cap_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(160), unique=True, index=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    msg_type: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # CAP <references>: "sender,identifier,sent" of the previous message, space separated
    references: Mapped[str | None] = mapped_column(Text)
    # The operator's choices at publish time (urgency, certainty, instruction, area)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The alert as this message described it (a change of these makes an Update)
    alert_status: Mapped[str] = mapped_column(String(20))
    alert_severity: Mapped[str] = mapped_column(String(20))
    alert_title: Mapped[str] = mapped_column(String(500))
    xml: Mapped[str] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
