"""The administrative-unit table: a tree of any depth, stored as data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base, JSONType, UTCDateTime, utcnow


class Unit(Base):
    """One administrative unit (province, district, commune, ...) and its place in the tree."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(40), index=True)
    division_type: Mapped[str | None] = mapped_column(String(60))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    # Materialised path of ids, "/1/7/42/": subtree = path LIKE '/1/7/%'.
    path: Mapped[str] = mapped_column(String(600), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
