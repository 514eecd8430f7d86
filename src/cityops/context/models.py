"""Tables of the context-data hub: entities (current state) and attribute history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base, JSONType, UTCDateTime, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT for history.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# ctx_attr_values keeps the first characters of strings: equal strings share them
TEXT_PREFIX = 200


class ContextEntity(Base):
    """The current state of one NGSI-LD entity (attributes keyed by expanded IRI)."""

    __tablename__ = "ctx_entities"
    __table_args__ = (
        UniqueConstraint("tenant", "entity_id", name="uq_ctx_entities_tenant_entity_id"),
        Index("ix_ctx_entities_tenant_type", "tenant", "type"),
        Index("ix_ctx_entities_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),
        Index(
            "ix_ctx_entities_multi_typed",
            "tenant",
            sqlite_where=text("types IS NOT NULL"),
            postgresql_where=text("types IS NOT NULL"),
        ),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default="")
    entity_id: Mapped[str] = mapped_column(String(512))
    type: Mapped[str] = mapped_column(String(512))  # the first of its types
    # every type of an entity that has more than one (NGSI-LD multi-typing), else None
    types: Mapped[list[str] | None] = mapped_column(JSONType)
    # {expanded attribute IRI: normalized attribute (sub-attribute keys expanded too)}
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Further instances of multi-attributes: {IRI: {datasetId: attribute}}
    datasets: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    scopes: Mapped[list[str] | None] = mapped_column(JSONType)
    # bbox of the `location` GeoProperty, for spatial pre-filtering
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    # the administrative unit containing `location` (scope of users and keys)
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ContextAttributeName(Base):
    """A dictionary of attribute IRIs, so history rows carry a small integer."""

    __tablename__ = "ctx_attr_names"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iri: Mapped[str] = mapped_column(String(512), unique=True)


class ContextAttributeInstance(Base):
    """One past value of one attribute of one entity (the temporal store).

    On PostgreSQL the table is partitioned by month of observed_at (migration 0013,
    context/partitions.py), so its primary key there is (id, observed_at); ids still come
    from one sequence and stay unique.
    """

    __tablename__ = "ctx_attr_instances"
    __table_args__ = (
        # One reading per entity, attribute, time and dataset: a retried batch adds nothing,
        # a corrected value replaces the old one. Also the index of every series query.
        UniqueConstraint(
            "entity_pk",
            "attr_id",
            "observed_at",
            "dataset_id",
            name="uq_ctx_attr_instances_reading",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_pk: Mapped[int] = mapped_column(ForeignKey("ctx_entities.pk", ondelete="CASCADE"))
    attr_id: Mapped[int] = mapped_column(ForeignKey("ctx_attr_names.id"))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dataset_id: Mapped[str] = mapped_column(String(256), default="")  # "" = default instance
    value_num: Mapped[float | None] = mapped_column(Float)
    # the whole normalized attribute instance (value, unitCode, sub-attributes...)
    instance: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ContextAttributeValue(Base):
    """A searchable scalar of an entity's current attributes (context/value_index.py).

    One row per number or string found in an attribute's value/object/vocab (array items
    included) or languageMap members, so `q` comparisons find candidates through an index
    instead of reading every entity's JSON.
    """

    __tablename__ = "ctx_attr_values"
    __table_args__ = (
        Index("ix_ctx_attr_values_entity", "entity_pk", "attr"),
        Index("ix_ctx_attr_values_num", "attr", "value_num"),
        Index("ix_ctx_attr_values_text", "attr", "value_text"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_pk: Mapped[int] = mapped_column(ForeignKey("ctx_entities.pk", ondelete="CASCADE"))
    attr: Mapped[str] = mapped_column(String(512))  # expanded IRI
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(String(TEXT_PREFIX))
