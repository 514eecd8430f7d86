"""Tables of the health module: weekly case counts and the outbreak signals raised on them.

Facilities are not here: they are context-hub entities (type MedicalFacility).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base, UTCDateTime, utcnow


class CaseCount(Base):
    """Cases of one notifiable disease in one commune in one ISO week (Monday = week_start)."""

    __tablename__ = "health_case_counts"
    __table_args__ = (UniqueConstraint("disease", "unit_id", "week_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disease: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    week_start: Mapped[date] = mapped_column(Date, index=True)
    cases: Mapped[int] = mapped_column(Integer)
    deaths: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str | None] = mapped_column(String(300))
    entered_by: Mapped[str] = mapped_column(String(250))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Signal(Base):
    """An outbreak signal: a commune's weekly count broke out of its usual range (EARS)."""

    __tablename__ = "health_signals"
    __table_args__ = (UniqueConstraint("disease", "unit_id", "week_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disease: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date] = mapped_column(Date, index=True)
    cases: Mapped[int] = mapped_column(Integer)
    baseline_mean: Mapped[float] = mapped_column(Float)
    c1: Mapped[float] = mapped_column(Float)
    c2: Mapped[float] = mapped_column(Float)
    c3: Mapped[float] = mapped_column(Float)
    methods: Mapped[str] = mapped_column(String(20))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
