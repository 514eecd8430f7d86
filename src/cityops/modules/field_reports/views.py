"""Render reports for staff (identity as their role allows) and for citizens (never)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from cityops.core.auth.models import Agency
from cityops.core.policy import Principal
from cityops.core.units.models import Unit
from cityops.modules.field_reports import schemas as s
from cityops.modules.field_reports.access import sees_reporter
from cityops.modules.field_reports.choices import MODERATED, STATUSES, URGENCIES
from cityops.modules.field_reports.models import Category, Comment, Photo, Report, StatusChange
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.sla import is_overdue

API = "/api/field-reports"


class Lookup:
    """Caches the categories, agencies and units a page of reports refers to."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.category = cache(lambda i: session.get(Category, i))
        self.agency = cache(lambda i: session.get(Agency, i) if i else None)
        self.units: dict[int, Unit] = {}  # filled by prefetch()
        self.unit = cache(lambda i: self.units.get(i) or session.get(Unit, i) if i else None)
        self.prefetched: dict[int, list[Photo]] | None = None
        self.code_of = cache(
            lambda i: (
                session.scalar(select(Report.tracking_code).where(Report.id == i)) if i else None
            )
        )


def prefetch(lookup: Lookup, reports: list[Report]) -> None:
    """Load the photos and units of a page of reports in two queries (not two per report)."""
    found: dict[int, list[Photo]] = {r.id: [] for r in reports}
    query = select(Photo).where(Photo.report_id.in_(list(found))).order_by(Photo.id)
    for photo in lookup.session.scalars(query):
        found[photo.report_id].append(photo)
    lookup.prefetched = found
    unit_ids = sorted({r.unit_id for r in reports})
    # names only: a unit's boundary is large and reports never show it
    names = load_only(Unit.id, Unit.code, Unit.name, Unit.path)
    query = select(Unit).options(names).where(Unit.id.in_(unit_ids))
    lookup.units = {u.id: u for u in lookup.session.scalars(query)}


def photo_public(photo: Photo, base: str) -> s.PhotoPublic:
    """Render a photo with its URLs under `base` (the report's URL)."""
    return s.PhotoPublic(
        id=photo.id,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size=photo.size,
        url=f"{base}/photos/{photo.id}",
        thumb_url=f"{base}/photos/{photo.id}?thumb=true",
        created_at=photo.created_at,
    )


def photos_of(session: Session, report: Report, base: str) -> list[s.PhotoPublic]:
    """List a report's photos with their URLs under `base`."""
    rows = session.scalars(select(Photo).where(Photo.report_id == report.id).order_by(Photo.id))
    return [photo_public(p, base) for p in rows]


def staff_url(report: Report) -> str:
    """Return the staff API URL of a report."""
    return f"{API}/reports/{report.tracking_code}"


def comment_public(comment: Comment, *, for_citizen: bool = False) -> s.CommentPublic:
    """Render a comment (citizens do not see who wrote it)."""
    return s.CommentPublic(
        id=comment.id,
        body=comment.body,
        public=comment.public,
        author="Cán bộ xử lý" if for_citizen else comment.author,
        created_at=comment.created_at,
    )


def _reporter(principal: Principal, report: Report) -> s.ReporterPublic | None:
    if not sees_reporter(principal, report):
        return None
    return s.ReporterPublic(
        name=report.reporter_name, phone=report.reporter_phone, email=report.reporter_email
    )


def report_public(
    lookup: Lookup, rt: Runtime, principal: Principal, report: Report
) -> s.ReportPublic:
    """Render a report for staff."""
    category, agency = lookup.category(report.category_id), lookup.agency(report.agency_id)
    unit = lookup.unit(report.unit_id)
    status, urgency = STATUSES[report.status], URGENCIES[report.urgency]
    fields: dict[str, Any] = {
        k: getattr(report, k)
        for k in s.ReportPublic.model_fields
        if hasattr(report, k) and k not in ("attributes", "photos")
    }
    return s.ReportPublic(
        **fields,
        category_code=category.code,
        category_name=category.name,
        attributes=report.attributes or {},
        unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None,
        status_label_vi=status.label_vi,
        status_label_en=status.label_en,
        status_colour=status.colour,
        urgency_label_vi=urgency.label_vi,
        agency_code=agency.code if agency else None,
        agency_name=agency.name if agency else None,
        reporter=_reporter(principal, report),
        duplicate_of=lookup.code_of(report.duplicate_of_id),
        overdue=is_overdue(report, rt.now),
        photos=_photos(lookup, report),
    )


def _photos(lookup: Lookup, report: Report) -> list[s.PhotoPublic]:
    if lookup.prefetched is None or report.id not in lookup.prefetched:
        return photos_of(lookup.session, report, staff_url(report))
    return [photo_public(p, staff_url(report)) for p in lookup.prefetched[report.id]]


def history(
    session: Session, report: Report, *, for_citizen: bool = False
) -> list[s.StatusChangePublic]:
    """List a report's steps; citizens see no actors, notes or agencies."""
    lookup = Lookup(session)
    rows = session.scalars(
        select(StatusChange)
        .where(StatusChange.report_id == report.id)
        .order_by(StatusChange.at, StatusChange.id)
    )
    out = []
    for row in rows:
        agency = lookup.agency(row.agency_id)
        out.append(
            s.StatusChangePublic(
                action=row.action,
                from_status=row.from_status,
                to_status=row.to_status,
                at=row.at,
                actor=None if for_citizen else row.actor,
                note=None if for_citizen else row.note,
                agency_code=None if for_citizen or agency is None else agency.code,
            )
        )
    return out


def comments(session: Session, report: Report, *, public_only: bool) -> list[s.CommentPublic]:
    """List a report's comments (only the public ones for citizens)."""
    query = select(Comment).where(Comment.report_id == report.id)
    if public_only:
        query = query.where(Comment.public.is_(True))
    rows = session.scalars(query.order_by(Comment.created_at, Comment.id))
    return [comment_public(c, for_citizen=public_only) for c in rows]


def citizen_view(session: Session, report: Report) -> s.CitizenView:
    """Render a report for anyone holding its tracking code: no reporter, no internal notes."""
    lookup = Lookup(session)
    category, agency = lookup.category(report.category_id), lookup.agency(report.agency_id)
    status = STATUSES[report.status]
    moderated = report.status in MODERATED
    base = f"{API}/public/reports/{report.tracking_code}"
    unit = lookup.unit(report.unit_id)
    return s.CitizenView(
        tracking_code=report.tracking_code,
        category_code=category.code,
        category_name=category.name,
        description=report.description if moderated else None,
        address=report.address if moderated else None,
        lat=report.lat if moderated else None,
        lon=report.lon if moderated else None,
        unit_name=unit.name if unit else None,
        status=report.status,
        status_label_vi=status.label_vi,
        status_label_en=status.label_en,
        status_colour=status.colour,
        agency_name=agency.name if agency else None,
        resolution=report.resolution,
        created_at=report.created_at,
        updated_at=report.updated_at,
        due_at=report.due_at,
        resolved_at=report.resolved_at,
        rating=report.rating,
        comments=comments(session, report, public_only=True),
        history=history(session, report, for_citizen=True),
        photos=photos_of(session, report, base) if moderated else [],
        **_main_of(session, report),
    )


def _main_of(session: Session, report: Report) -> dict[str, Any]:
    """Name the main report of a merged duplicate and its status (empty otherwise)."""
    main = session.get(Report, report.duplicate_of_id) if report.duplicate_of_id else None
    if main is None:
        return {}
    label = STATUSES[main.status]
    return {
        "duplicate_of": main.tracking_code,
        "main_status": main.status,
        "main_status_label_vi": label.label_vi,
        "main_status_label_en": label.label_en,
    }
