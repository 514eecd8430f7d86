"""Tables of the education module: the yearly figures of each school.

Why a module table and not the indicator engine: the figures belong to a school (a hub
entity), while the engine stores one value per administrative unit. Keeping one row per school
and school year lets any unit's totals and ratios be computed correctly (pupil/teacher ratio
as a ratio of sums, graduation rate from candidates and passes), by commune, level and year.
Schools themselves are context-hub entities (type School), not rows here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base, UTCDateTime, utcnow


class SchoolYear(Base):
    """One school's figures for one school year (year = its first calendar year)."""

    __tablename__ = "edu_school_years"
    __table_args__ = (UniqueConstraint("school_code", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_code: Mapped[str] = mapped_column(String(60))
    # The school's commune and level that year (as the hub said when the figures came in).
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer, index=True)
    pupils: Mapped[int] = mapped_column(Integer)
    teachers: Mapped[int] = mapped_column(Integer)
    classes: Mapped[int] = mapped_column(Integer)
    new_entrants: Mapped[int | None] = mapped_column(Integer)
    attendance_rate: Mapped[float | None] = mapped_column(Float)
    exam_candidates: Mapped[int | None] = mapped_column(Integer)
    exam_passed: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(300))
    entered_by: Mapped[str] = mapped_column(String(250))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
