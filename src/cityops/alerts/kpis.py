"""KPIs and dashboard widgets of alerts: open alerts, open critical ones, time to acknowledge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.alerts.access import read_filter
from cityops.alerts.choices import ACTIVE, SEVERITIES
from cityops.alerts.models import Alert
from cityops.core.db import utcnow
from cityops.core.modules import KpiDescription, WidgetDescription
from cityops.core.policy import Principal
from cityops.core.units.models import Unit


def _open(session: Session, principal: Principal, *severity: str) -> int:
    stmt = (
        select(func.count(Alert.id))
        .outerjoin(Unit, Unit.id == Alert.unit_id)
        .where(read_filter(principal), Alert.status.in_(ACTIVE))
    )
    if severity:
        stmt = stmt.where(Alert.severity.in_(severity))
    return int(session.scalar(stmt) or 0)


def open_alerts(session: Session, principal: Principal) -> int:
    """Count the alerts still being handled (open, acknowledged, in progress)."""
    return _open(session, principal)


def open_critical(session: Session, principal: Principal) -> int:
    """Count the critical alerts still being handled."""
    return _open(session, principal, "critical")


def mean_time_to_acknowledge(session: Session, principal: Principal) -> float | None:
    """Average minutes from raising to acknowledging, over alerts raised in the last 7 days."""
    stmt = (
        select(Alert.raised_at, Alert.acknowledged_at)
        .outerjoin(Unit, Unit.id == Alert.unit_id)
        .where(
            read_filter(principal),
            Alert.acknowledged_at.is_not(None),
            Alert.raised_at >= utcnow() - timedelta(days=7),
        )
    )
    waits = [(ack - raised).total_seconds() / 60 for raised, ack in session.execute(stmt)]
    return round(sum(waits) / len(waits), 1) if waits else None


KPIS = (
    KpiDescription("alerts.open", "Cảnh báo đang mở", "Open alerts", "", open_alerts, False),
    KpiDescription(
        "alerts.open_critical",
        "Cảnh báo khẩn cấp đang mở",
        "Open critical alerts",
        "",
        open_critical,
        False,
    ),
    KpiDescription(
        "alerts.mtta",
        "Thời gian xác nhận trung bình (7 ngày)",
        "Mean time to acknowledge (7 days)",
        "min",
        mean_time_to_acknowledge,
        False,
    ),
)

WIDGETS = (
    WidgetDescription(
        "alerts.feed",
        "Cảnh báo trực tiếp",
        "Live alerts",
        "alert-feed",
        "/api/alerts?status=open&status=acknowledged&status=in_progress",
    ),
    WidgetDescription(
        "alerts.by_severity",
        "Cảnh báo theo mức độ",
        "Alerts by severity",
        "alert-severity",
        "/api/alerts/summary",
    ),
)


def open_by_severity(session: Session, principal: Principal) -> dict[str, int]:
    """Count the alerts still being handled, by severity (every severity listed)."""
    stmt = (
        select(Alert.severity, func.count(Alert.id))
        .outerjoin(Unit, Unit.id == Alert.unit_id)
        .where(read_filter(principal), Alert.status.in_(ACTIVE))
        .group_by(Alert.severity)
    )
    counts = {sev: n for sev, n in session.execute(stmt)}
    return {value: int(counts.get(value, 0)) for value in SEVERITIES}
