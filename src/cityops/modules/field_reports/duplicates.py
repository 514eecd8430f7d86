"""Duplicates: find reports of the same category nearby, merge them, follow the main one.

The search prefilters in SQL with a bounding box on the (category, status, created_at) and
(lat, lon) indexes, then measures the great-circle distance of the few candidates left.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core import audit
from cityops.core.errors import Conflict, InvalidInput
from cityops.core.policy import Principal
from cityops.modules.field_reports import access
from cityops.modules.field_reports.choices import REJECTED, WITH_AGENCY, Status
from cityops.modules.field_reports.models import Follower, Report, StatusChange
from cityops.modules.field_reports.runtime import Runtime

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = 111_320.0
CANDIDATES = 500
# What an operator may merge into: a report still being looked at or handled.
OPEN = frozenset({Status.received, Status.verified, Status.returned}) | WITH_AGENCY
# What a citizen is offered to follow: verified by an operator and not finished.
FOLLOWABLE = OPEN - {Status.received}


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Near:
    """A report found near a point, and how far it is."""

    report: Report
    distance_m: float


def near(
    session: Session,
    *,
    category_id: int,
    lat: float,
    lon: float,
    radius_m: float,
    since: datetime,
    until: datetime,
    statuses: Collection[str],
    principal: Principal | None = None,
    exclude_id: int | None = None,
    limit: int = 20,
) -> list[Near]:
    """List reports of a category within `radius_m` of a point and a time span, nearest first."""
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(lat))))
    query = select(Report).where(
        Report.category_id == category_id,
        Report.status.in_(sorted(statuses)),
        Report.created_at >= since,
        Report.created_at <= until,
        Report.lat.between(lat - dlat, lat + dlat),
        Report.lon.between(lon - dlon, lon + dlon),
    )
    if exclude_id is not None:
        query = query.where(Report.id != exclude_id)
    if principal is not None:
        query = access.readable(query, principal)
    found = []
    for report in session.scalars(query.limit(CANDIDATES)):
        assert report.lat is not None and report.lon is not None
        distance = haversine_m(lat, lon, report.lat, report.lon)
        if distance <= radius_m:
            found.append(Near(report, round(distance, 1)))
    found.sort(key=lambda n: (n.distance_m, -n.report.id))
    return found[:limit]


def duplicates_of(
    session: Session, rt: Runtime, principal: Principal, report: Report
) -> list[Near]:
    """List the open reports that may be duplicates of a report, nearest first."""
    if report.lat is None or report.lon is None:
        return []
    window = timedelta(hours=rt.fr.duplicate_window_h)
    return near(
        session,
        category_id=report.category_id,
        lat=report.lat,
        lon=report.lon,
        radius_m=rt.fr.duplicate_radius_m,
        since=report.created_at - window,
        until=report.created_at + window,
        statuses=OPEN,
        principal=principal,
        exclude_id=report.id,
    )


def nearby_for_citizen(
    session: Session, rt: Runtime, category_id: int, lat: float, lon: float
) -> list[Near]:
    """List the verified open reports of a category near a citizen's point, nearest first."""
    return near(
        session,
        category_id=category_id,
        lat=lat,
        lon=lon,
        radius_m=rt.fr.duplicate_radius_m,
        since=rt.now - timedelta(hours=rt.fr.duplicate_window_h),
        until=rt.now,
        statuses=FOLLOWABLE,
        limit=10,
    )


def follower_count(session: Session, report: Report) -> int:
    """Count a report's followers."""
    count = select(func.count()).where(Follower.report_id == report.id)
    return session.scalar(count) or 0


def followers(session: Session, report: Report) -> list[Follower]:
    """List who follows a report (merged duplicates' reporters and citizens who followed it)."""
    query = select(Follower).where(Follower.report_id == report.id).order_by(Follower.id)
    return list(session.scalars(query))


def add_follower(
    session: Session, rt: Runtime, principal: Principal, report: Report, follower: Follower
) -> Follower:
    """Record a follower of a report (audited)."""
    if report.status in REJECTED:
        raise Conflict(
            f"Report {report.tracking_code} is closed as '{report.status}'; it cannot be followed",
            code="not_followable",
        )
    follower.report_id, follower.created_at = report.id, rt.now
    session.add(follower)
    session.flush()
    audit.record(
        session,
        principal,
        "field_report.follow",
        "field_report",
        report.tracking_code,
        after=audit.snapshot(follower),
        unit_id=report.unit_id,
    )
    return follower


def check_mergeable(report: Report, main: Report) -> None:
    """Refuse to merge a report into itself, into a closed one, or into a duplicate."""
    if main.id == report.id:
        raise InvalidInput("A report cannot be a duplicate of itself", code="duplicate_of")
    if main.status not in OPEN | {Status.resolved}:
        raise Conflict(
            f"Main report {main.tracking_code} is '{main.status}'; merge into an open report",
            code="main_report_closed",
        )


def record_merge(
    session: Session, rt: Runtime, principal: Principal, report: Report, main: Report
) -> None:
    """After a report is closed as a duplicate: its reporter follows the main one; history."""
    if report.reporter_phone or report.reporter_email or report.device_id:
        add_follower(
            session,
            rt,
            principal,
            main,
            Follower(
                from_report_id=report.id,
                name=report.reporter_name,
                phone=report.reporter_phone,
                email=report.reporter_email,
                device_id=report.device_id,
            ),
        )
    session.add(
        StatusChange(
            report_id=main.id,
            action="merge",
            from_status=main.status,
            to_status=main.status,
            at=rt.now,
            actor=principal.actor,
            actor_role=principal.role.value if principal.role else None,
            agency_id=main.agency_id,
            note=f"Gộp phản ánh trùng {report.tracking_code} (merged duplicate)",
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        "field_report.merge",
        "field_report",
        main.tracking_code,
        after={"merged": report.tracking_code},
        unit_id=main.unit_id,
    )
