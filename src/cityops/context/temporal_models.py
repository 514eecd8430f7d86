"""Tables of the temporal store beyond raw history: rollups and the rollup job's watermark."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityops.context.models import BigId, ContextAttributeInstance
from cityops.core.db import Base, JSONType, UTCDateTime

HOURLY, DAILY = "PT1H", "P1D"
PERIOD_SECONDS = {HOURLY: 3600, DAILY: 86400}


class ContextAttributeRollup(Base):
    """Aggregates of one attribute (one datasetId) over one hour or one day."""

    __tablename__ = "ctx_attr_rollups"

    entity_pk: Mapped[int] = mapped_column(
        ForeignKey("ctx_entities.pk", ondelete="CASCADE"), primary_key=True
    )
    attr_id: Mapped[int] = mapped_column(ForeignKey("ctx_attr_names.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # PT1H | P1D
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(256), primary_key=True)  # '' = default
    count: Mapped[int] = mapped_column(Integer)  # every instance
    count_num: Mapped[int] = mapped_column(Integer)  # instances with a numeric value
    sum: Mapped[float | None] = mapped_column(Float)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    sumsq: Mapped[float | None] = mapped_column(Float)


class ContextAttributeDeletion(Base):
    """The deletion of one attribute instance of an entity: what the temporal API serves
    with timeproperty=deletedAt (GS CIM 009: an instance holding NGSI-LD Null, with its
    deletedAt). Kept apart from the readings so that history queries, rollups and
    aggregations never meet them; an entity's deletion takes them with it."""

    __tablename__ = "ctx_attr_deletions"
    __table_args__ = (Index("ix_ctx_attr_deletions_series", "entity_pk", "attr_id", "deleted_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_pk: Mapped[int] = mapped_column(ForeignKey("ctx_entities.pk", ondelete="CASCADE"))
    attr_id: Mapped[int] = mapped_column(ForeignKey("ctx_attr_names.id"))
    dataset_id: Mapped[str] = mapped_column(String(256), default="")  # "" = default instance
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    instance: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {type, value: Null, deletedAt}


class TemporalJobState(Base):
    """Where the rollup and retention job stands (one row)."""

    __tablename__ = "ctx_temporal_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # every history row written (modified_at) up to this time is in the rollups
    rolled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # hourly buckets that end by this time are complete (None: the job has not run)
    covered_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # raw instances observed before this time were deleted by retention
    raw_kept_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ran_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The rollup job finds new and corrected history rows by the time they were written.
Index("ix_ctx_attr_instances_modified_at", ContextAttributeInstance.modified_at)
