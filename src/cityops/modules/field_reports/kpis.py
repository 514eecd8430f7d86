"""KPIs of field reports, as data: each computed in the caller's scope."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.db import utcnow
from cityops.core.modules import KpiDescription
from cityops.core.policy import Principal
from cityops.core.units.models import Unit
from cityops.modules.field_reports.access import read_filter
from cityops.modules.field_reports.choices import FINISHED, WITH_AGENCY
from cityops.modules.field_reports.models import Report


def _count(session: Session, principal: Principal, *conds: object) -> int:
    query = (
        select(func.count(Report.id))
        .join(Unit, Unit.id == Report.unit_id)
        .where(read_filter(principal), *conds)  # type: ignore[arg-type]
    )
    return session.scalar(query) or 0


def open_reports(session: Session, principal: Principal) -> int:
    """Count reports not yet resolved or rejected."""
    return _count(session, principal, Report.status.not_in(list(FINISHED)))


def overdue_reports(session: Session, principal: Principal) -> int:
    """Count reports still with an agency past their due time."""
    return _count(
        session, principal, Report.status.in_(list(WITH_AGENCY)), Report.due_at < utcnow()
    )


def on_time_rate(session: Session, principal: Principal) -> float | None:
    """Share of reports resolved in the last 30 days that met their due time, in %."""
    since = utcnow() - timedelta(days=30)
    done = _count(session, principal, Report.resolved_at >= since)
    if not done:
        return None
    on_time = _count(session, principal, Report.resolved_at >= since, Report.on_time.is_(True))
    return round(100 * on_time / done, 1)


def satisfaction(session: Session, principal: Principal) -> float | None:
    """Average rating (1-5) given by reporters in the last 90 days."""
    since = utcnow() - timedelta(days=90)
    query = (
        select(func.avg(Report.rating))
        .join(Unit, Unit.id == Report.unit_id)
        .where(read_filter(principal), Report.rated_at >= since, Report.rating.is_not(None))
    )
    value = session.scalar(query)
    return None if value is None else round(float(value), 2)


KPIS = (
    KpiDescription(
        "open", "Phản ánh đang xử lý", "Open field reports", "count", open_reports, False
    ),
    KpiDescription(
        "overdue", "Phản ánh quá hạn", "Overdue field reports", "count", overdue_reports, False
    ),
    KpiDescription(
        "on_time_rate",
        "Tỉ lệ xử lý đúng hạn (30 ngày)",
        "On-time rate (30 days)",
        "%",
        on_time_rate,
    ),
    KpiDescription(
        "satisfaction",
        "Mức hài lòng của người dân (90 ngày)",
        "Citizen satisfaction (90 days)",
        "điểm/5",
        satisfaction,
    ),
)
