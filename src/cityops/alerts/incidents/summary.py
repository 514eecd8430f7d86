"""The after-action summary written when an incident closes, as JSON and printable Markdown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.alerts.incidents.choices import HAZARDS, TaskStatus
from cityops.alerts.incidents.models import Incident, IncidentComment, IncidentTask
from cityops.alerts.incidents.tasks import finished_late
from cityops.core.units.models import Unit


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def _tasks(session: Session, incident: Incident) -> dict[str, Any]:
    rows = session.scalars(
        select(IncidentTask)
        .where(IncidentTask.incident_id == incident.id)
        .order_by(IncidentTask.position)
    ).all()
    late = [t for t in rows if finished_late(t)]
    return {
        "total": len(rows),
        "done": sum(t.status == TaskStatus.done for t in rows),
        "done_late": len(late),
        "skipped": sum(t.status == TaskStatus.skipped for t in rows),
        "unfinished": sum(t.status in {TaskStatus.todo, TaskStatus.in_progress} for t in rows),
        "late": [{"title_vi": t.title_vi, "title_en": t.title_en} for t in late],
        "items": [
            {
                "title_vi": t.title_vi,
                "title_en": t.title_en,
                "status": t.status,
                "due_at": t.due_at.isoformat() if t.due_at else None,
                "finished_at": t.finished_at.isoformat() if t.finished_at else None,
                "late": finished_late(t),
            }
            for t in rows
        ],
    }


def build_summary(
    session: Session, incident: Incident, notes: str, now: datetime
) -> dict[str, Any]:
    """Compute the after-action summary of a closing incident (durations, tasks, alerts)."""
    from cityops.alerts.incidents.linked import linked_alerts, ref

    unit = session.get(Unit, incident.unit_id)
    comments = session.scalar(
        select(func.count(IncidentComment.id)).where(IncidentComment.incident_id == incident.id)
    )
    return {
        "code": incident.code,
        "title_vi": incident.title_vi,
        "title_en": incident.title_en,
        "severity": incident.severity,
        "hazard": incident.hazard,
        "unit": {"code": unit.code, "name": unit.name} if unit else None,
        "sop": {"code": incident.sop_code, "version": incident.sop_version},
        "times": {
            "detected_at": incident.detected_at.isoformat(),
            "opened_at": incident.opened_at.isoformat(),
            "responding_at": incident.responding_at.isoformat() if incident.responding_at else None,
            "contained_at": incident.contained_at.isoformat() if incident.contained_at else None,
            "closed_at": (incident.closed_at or now).isoformat(),
        },
        "durations_minutes": {
            "detection_to_incident": _minutes(incident.detected_at, incident.opened_at),
            "incident_to_contained": _minutes(incident.opened_at, incident.contained_at),
            "contained_to_closed": _minutes(incident.contained_at, incident.closed_at),
            "detection_to_closed": _minutes(incident.detected_at, incident.closed_at),
        },
        "tasks": _tasks(session, incident),
        "alerts": [ref(a).model_dump() for a in linked_alerts(session, incident.id)],
        "comments": comments or 0,
        "notes": notes,
        "written_at": now.isoformat(),
    }


LABELS = {
    "vi": {
        "title": "Báo cáo tổng kết sự cố",
        "severity": "Mức độ",
        "hazard": "Loại sự cố",
        "unit": "Địa bàn",
        "sop": "Quy trình",
        "times": "Mốc thời gian",
        "detected_at": "Phát hiện",
        "opened_at": "Mở sự cố",
        "responding_at": "Bắt đầu ứng phó",
        "contained_at": "Kiểm soát được",
        "closed_at": "Kết thúc",
        "durations": "Thời gian (phút)",
        "detection_to_incident": "Từ phát hiện đến mở sự cố",
        "incident_to_contained": "Từ mở sự cố đến kiểm soát",
        "contained_to_closed": "Từ kiểm soát đến kết thúc",
        "detection_to_closed": "Tổng thời gian",
        "tasks": "Nhiệm vụ",
        "tasks_line": "{total} nhiệm vụ: {done} xong ({done_late} trễ hạn), {skipped} bỏ qua, "
        "{unfinished} chưa xong",
        "alerts": "Cảnh báo liên quan",
        "notes": "Ghi chú",
        "late": "trễ hạn",
        "none": "không có",
    },
    "en": {
        "title": "Incident after-action summary",
        "severity": "Severity",
        "hazard": "Hazard",
        "unit": "Area",
        "sop": "Procedure",
        "times": "Timeline",
        "detected_at": "Detected",
        "opened_at": "Incident opened",
        "responding_at": "Response started",
        "contained_at": "Contained",
        "closed_at": "Closed",
        "durations": "Durations (minutes)",
        "detection_to_incident": "Detection to incident",
        "incident_to_contained": "Incident to contained",
        "contained_to_closed": "Contained to closed",
        "detection_to_closed": "Total",
        "tasks": "Tasks",
        "tasks_line": "{total} tasks: {done} done ({done_late} late), {skipped} skipped, "
        "{unfinished} unfinished",
        "alerts": "Linked alerts",
        "notes": "Notes",
        "late": "late",
        "none": "none",
    },
}


def render_markdown(summary: dict[str, Any], lang: str) -> str:
    """Render a summary as printable Markdown in Vietnamese ('vi') or English ('en')."""
    t = LABELS[lang]
    title = summary["title_vi" if lang == "vi" else "title_en"]
    hazard = HAZARDS.get(summary.get("hazard") or "")
    hazard_label = (hazard.label_vi if lang == "vi" else hazard.label_en) if hazard else "—"
    unit = summary.get("unit") or {}
    sop = summary.get("sop") or {}
    lines = [
        f"# {t['title']} {summary['code']}",
        "",
        f"**{title}**",
        "",
        f"- {t['severity']}: {summary['severity']}",
        f"- {t['hazard']}: {hazard_label}",
        f"- {t['unit']}: {unit.get('name', '—')} ({unit.get('code', '—')})",
        f"- {t['sop']}: {sop.get('code') or '—'} v{sop.get('version') or '—'}",
        "",
        f"## {t['times']}",
        "",
    ]
    lines += [f"- {t[k]}: {v or '—'}" for k, v in summary["times"].items()]
    lines += ["", f"## {t['durations']}", ""]
    lines += [
        f"- {t[k]}: {'—' if v is None else v}" for k, v in summary["durations_minutes"].items()
    ]
    tasks = summary["tasks"]
    lines += ["", f"## {t['tasks']}", "", t["tasks_line"].format(**tasks), ""]
    for item in tasks["items"]:
        name = item["title_vi" if lang == "vi" else "title_en"]
        late = f" — {t['late']}" if item["late"] else ""
        lines.append(f"- [{item['status']}] {name}{late}")
    lines += ["", f"## {t['alerts']}", ""]
    alerts = summary["alerts"] or []
    lines += [
        f"- #{a['id']} [{a['severity']}] {a['title_vi' if lang == 'vi' else 'title_en']}"
        for a in alerts
    ] or [f"- {t['none']}"]
    lines += ["", f"## {t['notes']}", "", summary.get("notes") or t["none"], ""]
    return "\n".join(lines)
