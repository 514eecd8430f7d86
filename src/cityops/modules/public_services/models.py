"""Tables of the public-services module: procedures, dossiers, and the counts kept per month.

A province receives over a million dossiers a year. Reporting periods are whole months,
quarters or years, so the counters read two small tables that every write keeps up to date
(per month/unit/agency, and per month/unit/agency/procedure: about 1,500 and 20,000 rows a year
for a province of 124 communes) instead of scanning the dossiers; only dossiers in progress
are read one by one, through a partial index on (unit, due time) of the open ones.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base, UTCDateTime, utcnow


class Procedure(Base):
    """An administrative procedure (thủ tục hành chính) of the national procedure database."""

    __tablename__ = "ps_procedures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Dossier(Base):
    """One dossier (hồ sơ) as the one-stop system reports it; (source, external_id) is unique."""

    __tablename__ = "ps_dossiers"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_ps_dossiers_source_external_id"),
        Index(
            "ix_ps_dossiers_open",
            "unit_id",
            "due_at",
            "received_at",
            sqlite_where=text("finished_at IS NULL"),
            postgresql_where=text("finished_at IS NULL"),
        ),
        # Covers "in progress at the end of a past period" (finished after it, received before).
        Index(
            "ix_ps_dossiers_finished",
            "finished_at",
            "received_at",
            "due_at",
            "unit_id",
            sqlite_where=text("finished_at IS NOT NULL"),
            postgresql_where=text("finished_at IS NOT NULL"),
        ),
        Index("ix_ps_dossiers_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("ps_procedures.id", ondelete="RESTRICT"), index=True
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    # Indexed only by ix_ps_dossiers_open: another index led by unit_id would draw SQLite's
    # planner away from that partial covering index (measured: 10x slower counters).
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    fee_vnd: Mapped[int | None] = mapped_column(BigInteger)
    online_payment: Mapped[bool] = mapped_column(Boolean, default=False)
    returned: Mapped[bool] = mapped_column(Boolean, default=False)
    additional_request: Mapped[bool] = mapped_column(Boolean, default=False)
    digitised: Mapped[bool] = mapped_column(Boolean, default=False)
    near_due_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonthCount(Base):
    """What happened in one local month (its first day) for a unit and agency (kept on upsert)."""

    __tablename__ = "ps_month_counts"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    received: Mapped[int] = mapped_column(Integer, default=0)
    received_online: Mapped[int] = mapped_column(Integer, default=0)
    with_fee: Mapped[int] = mapped_column(Integer, default=0)
    paid_online: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    additional: Mapped[int] = mapped_column(Integer, default=0)
    digitised: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[int] = mapped_column(Integer, default=0)
    finished_early: Mapped[int] = mapped_column(Integer, default=0)
    finished_on_time: Mapped[int] = mapped_column(Integer, default=0)
    finished_late: Mapped[int] = mapped_column(Integer, default=0)
    processing_s: Mapped[int] = mapped_column(BigInteger, default=0)


class ProcedureMonth(Base):
    """Dossiers of one procedure finished in a local month, for a unit and agency."""

    __tablename__ = "ps_procedure_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("ps_procedures.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    finished: Mapped[int] = mapped_column(Integer, default=0)
    finished_late: Mapped[int] = mapped_column(Integer, default=0)
    processing_s: Mapped[int] = mapped_column(BigInteger, default=0)
