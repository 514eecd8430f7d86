"""Demo alert rules for the simulated Lâm Đồng stations and the modules' events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.models import AlertRule
from cityops.alerts.rules import create_rule
from cityops.alerts.schemas import RuleCreate
from cityops.context.jsonld import ContextResolver
from cityops.core.policy import system_principal

FLOOD = {"entity_type": "FloodMonitoring", "kind": "threshold", "public": True, "auto_clear": True}

DEMO_RULES: tuple[dict[str, Any], ...] = (
    {
        **FLOOD,
        "code": "demo-flood-level-1",
        "name": "Mực nước vượt báo động I trong 10 phút",
        "severity": "major",
        "condition": "currentLevel>alertLevel1",
        "for_seconds": 600,
        "title_vi": "Mực nước tại trạm {entity} vượt báo động I ({currentLevel} m)",
        "title_en": "Water level at {entity} above alert level I ({currentLevel} m)",
    },
    {
        **FLOOD,
        "code": "demo-flood-level-3",
        "name": "Mực nước vượt báo động III",
        "severity": "critical",
        "condition": "currentLevel>alertLevel3",
        "title_vi": "Lũ khẩn cấp: mực nước tại trạm {entity} vượt báo động III ({currentLevel} m)",
        "title_en": "Flood emergency: {entity} above alert level III ({currentLevel} m)",
    },
    {
        "code": "demo-pm25",
        "name": "PM2.5 trên 55 µg/m³ trong 1 giờ",
        "kind": "threshold",
        "severity": "warning",
        "entity_type": "AirQualityObserved",
        "condition": "pm25>55",
        "for_seconds": 3600,
        "auto_clear": True,
        "title_vi": "Bụi mịn PM2.5 cao kéo dài tại {entity} ({pm25} µg/m³)",
        "title_en": "PM2.5 high for an hour at {entity} ({pm25} µg/m³)",
    },
    {
        "code": "demo-device-offline",
        "name": "Thiết bị không gửi dữ liệu 15 phút",
        "kind": "absence",
        "severity": "minor",
        "entity_type": "Device",
        "attribute": "dateLastValueReported",
        "silence_seconds": 900,
        "auto_clear": True,
        "title_vi": "Thiết bị {entity} mất tín hiệu",
        "title_en": "Device {entity} is offline",
    },
    {
        "code": "demo-flood-reports",
        "name": "5 phản ánh ngập trong bán kính 300 m trong 1 giờ",
        "kind": "count_window",
        "severity": "major",
        "event_name": "field_reports.report_created",
        "filter": {"category_code": "PA-NGAP"},
        "count": 5,
        "radius_m": 300,
        "window_seconds": 3600,
        "title_vi": "{count} phản ánh ngập úng tập trung trong bán kính 300 m",
        "title_en": "{count} flooding reports within 300 m",
    },
    {
        "code": "demo-report-overdue",
        "name": "Phản ánh quá hạn xử lý",
        "kind": "event",
        "severity": "warning",
        "event_name": "field_reports.overdue",
        "title_vi": "Phản ánh {tracking_code} quá hạn xử lý",
        "title_en": "Field report {tracking_code} is overdue",
    },
    {
        "code": "demo-indicator-missed",
        "name": "Chỉ tiêu không đạt kế hoạch",
        "kind": "event",
        "severity": "info",
        "event_name": "indicators.target_missed",
        "title_vi": "Chỉ tiêu {indicator} kỳ {period} tại {unit_code} chưa đạt kế hoạch",
        "title_en": "Indicator {indicator} for {period} in {unit_code} is below target",
    },
    {
        "code": "demo-indicator-late",
        "name": "Đơn vị chậm báo cáo chỉ tiêu",
        "kind": "event",
        "severity": "warning",
        "event_name": "indicators.report_late",
        "title_vi": "{unit_code} chưa báo cáo chỉ tiêu {indicator} kỳ {period} (hạn {deadline})",
        "title_en": "{unit_code} has not reported {indicator} for {period} (due {deadline})",
    },
    {
        "code": "demo-outbreak",
        "name": "Nghi ổ dịch tại xã/phường",
        "kind": "event",
        "severity": "major",
        "event_name": "health.outbreak_suspected",
        "title_vi": "Nghi bùng phát {disease_vi} tại {unit_name} tuần {week} ({cases} ca)",
        "title_en": "Suspected {disease_en} outbreak in {unit_name}, week {week} ({cases} cases)",
    },
    {
        "code": "demo-dossier-overdue",
        "name": "Hồ sơ thủ tục hành chính quá hạn",
        "kind": "event",
        "severity": "info",
        "event_name": "public_services.dossier_overdue",
        "title_vi": "Hồ sơ {external_id} ({procedure_code}) tại {unit_code} đã quá hạn",
        "title_en": "Dossier {external_id} ({procedure_code}) in {unit_code} is overdue",
    },
)


def seed_demo_rules(session: Session, resolver: ContextResolver) -> int:
    """Add the demo rules that are missing (by code); return how many were added."""
    principal = system_principal("demo")
    have = set(session.scalars(select(AlertRule.code).where(AlertRule.code.is_not(None))))
    added = 0
    for spec in DEMO_RULES:
        if spec["code"] in have:
            continue
        body = RuleCreate.model_validate({k: v for k, v in spec.items() if k != "code"})
        create_rule(session, principal, resolver, body, check=False, code=spec["code"])
        added += 1
    return added
