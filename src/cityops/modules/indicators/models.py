"""Tables of the indicators module: the catalogue, yearly targets, values with revisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base, UTCDateTime, utcnow


class Indicator(Base):
    """One socio-economic indicator: what it measures, how often, how it adds up the tree."""

    __tablename__ = "ind_indicators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    unit_of_measure: Mapped[str] = mapped_column(String(60))
    group: Mapped[str | None] = mapped_column(String(100))
    frequency: Mapped[str] = mapped_column(String(20))
    aggregation: Mapped[str] = mapped_column(String(20))
    # For aggregation "weighted": the indicator whose values weigh the children.
    weight_code: Mapped[str | None] = mapped_column(String(40))
    # Flows (revenue, arrivals) add up over the year: status compares year-to-date sums.
    cumulative: Mapped[bool] = mapped_column(Boolean, default=False)
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    agency_code: Mapped[str | None] = mapped_column(String(64), index=True)
    # Day of the month after the period by which the value is due.
    deadline_day: Mapped[int] = mapped_column(Integer, default=10)
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Target(Base):
    """The yearly target of an indicator for one unit."""

    __tablename__ = "ind_targets"
    __table_args__ = (UniqueConstraint("indicator_id", "unit_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("ind_indicators.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(300))


class Value(Base):
    """One revision of the value of an indicator for a unit and a period; the newest counts."""

    __tablename__ = "ind_values"
    __table_args__ = (
        UniqueConstraint("indicator_id", "unit_id", "period", "revision"),
        Index("ix_ind_values_current", "indicator_id", "period", "is_current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("ind_indicators.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    value: Mapped[float] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(500))
    entered_by: Mapped[str] = mapped_column(String(250))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LateNotice(Base):
    """A report_late event already sent for an indicator, unit and period (sent once)."""

    __tablename__ = "ind_late_notices"

    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("ind_indicators.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
