"""Tables of the field-reports module: categories, reports, their history, comments, photos."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from cityops.core.db import Base, JSONType, UTCDateTime, utcnow


class Category(Base):
    """A kind of report (an Open311 service): its names, attributes, default agency and SLA."""

    __tablename__ = "fr_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    group: Mapped[str | None] = mapped_column(String(100))
    group_en: Mapped[str | None] = mapped_column(String(100))
    keywords: Mapped[str | None] = mapped_column(String(300))
    # Open311 service-definition attributes: [{code, datatype, required, description, ...}]
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    default_agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    sla_hours: Mapped[float | None] = mapped_column(Float)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CategoryAgency(Base):
    """An agency that handles a category within its own unit (used by routing)."""

    __tablename__ = "fr_category_agencies"

    category_id: Mapped[int] = mapped_column(
        ForeignKey("fr_categories.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Report(Base):
    """A citizen's field report and where it stands."""

    __tablename__ = "fr_reports"
    __table_args__ = (
        # the operator queue and duplicate search: category + status + time, newest first
        Index("ix_fr_reports_category_status_created", "category_id", "status", "created_at"),
        Index("ix_fr_reports_lat_lon", "lat", "lon"),
        Index("ix_fr_reports_status_created", "status", "created_at", "due_at"),
        Index("ix_fr_reports_unit_status_created", "unit_id", "status", "created_at"),
        Index("ix_fr_reports_spam_flagged_created", "spam_flagged", "created_at"),
        # newest first with the status and due time at hand: the overdue queue and the capped
        # count read only this index, no table rows (also every created_at range)
        Index("ix_fr_reports_created_status_due", "created_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    # active_history: the statistics rollup (rollup.py) needs the old value of these fields
    category_id: Mapped[int] = mapped_column(
        ForeignKey("fr_categories.id", ondelete="RESTRICT"), index=True, active_history=True
    )
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True, active_history=True
    )
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_phone: Mapped[str | None] = mapped_column(String(50))
    reporter_email: Mapped[str | None] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    media_url: Mapped[str | None] = mapped_column(String(500))
    open311_token: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(20), default="normal")
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True, active_history=True
    )
    status_note: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("fr_reports.id", ondelete="SET NULL")
    )
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, active_history=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, index=True, active_history=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Working hours from receipt to resolution, and whether that met the due time.
    handling_hours: Mapped[float | None] = mapped_column(Float, active_history=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, active_history=True)
    rating: Mapped[int | None] = mapped_column(Integer, active_history=True)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, active_history=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # Deadline events already sent for the current assignment ("resolve.overdue", ...).
    alerts_sent: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Spam screening of anonymous submissions: 0-100, flagged at the configured threshold.
    spam_score: Mapped[int] = mapped_column(Integer, default=0)
    spam_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    device_id: Mapped[str | None] = mapped_column(String(64))


class DailyStat(Base):
    """Figures of one local day for one group (a category, an agency or a unit), kept by rollup.py.

    `received` is filed under the day of receipt, `processed`/`on_time`/`hours`/`timed` under
    the day of resolution, `ratings`/`rating_sum`/`satisfied` under the day of the rating, and
    always under the report's current category, agency (0: none) and unit.
    """

    __tablename__ = "fr_daily_stats"
    # on SQLite the rows live in primary-key order: a year of one dimension is one range
    __table_args__ = {"sqlite_with_rowid": False}

    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    received: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    timed: Mapped[int] = mapped_column(Integer, default=0)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)


class StatusChange(Base):
    """One step of a report's history: who moved it from where to where, and why."""

    __tablename__ = "fr_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("fr_reports.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(250))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)


class Comment(Base):
    """A note on a report: internal (staff only) or public (the reporter and everyone see it)."""

    __tablename__ = "fr_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("fr_reports.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(250))
    author_role: Mapped[str | None] = mapped_column(String(32))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Photo(Base):
    """A photo of a report, without metadata; its thumbnail is made on first view."""

    __tablename__ = "fr_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("fr_reports.id", ondelete="CASCADE"), index=True
    )
    file_key: Mapped[str] = mapped_column(String(64))
    # set only on photos stored before thumbnails were made on demand (files.derived now)
    thumb_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(250))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follower(Base):
    """Someone who gets the notices of a report: a merged duplicate's reporter or a follower."""

    __tablename__ = "fr_followers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("fr_reports.id", ondelete="CASCADE"), index=True
    )
    # the merged duplicate this follower came from (None: followed from the public page)
    from_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("fr_reports.id", ondelete="SET NULL")
    )
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    device_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlockedReporter(Base):
    """A reporter an admin blocked (by phone, email or device id), with a reason and expiry."""

    __tablename__ = "fr_blocked_reporters"
    __table_args__ = (Index("ix_fr_blocked_reporters_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(250))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubmissionHit(Base):
    """One anonymous public submission, counted by the per-client rate limit."""

    __tablename__ = "fr_submission_hits"
    __table_args__ = (
        Index("ix_fr_submission_hits_ip_at", "ip", "at"),
        Index("ix_fr_submission_hits_device_at", "device_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Session, "after_flush")
def _keep_daily_stats(session: Session, context: Any) -> None:
    """Keep the daily statistics rollup in step with every flush that touches a report."""
    from cityops.modules.field_reports.rollup import after_flush

    after_flush(session, context)
