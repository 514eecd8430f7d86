"""The periodic sweep: durations that elapsed with no new reading, silent sources, escalation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select

from cityops.alerts import writer
from cityops.alerts.compile import CompiledRule
from cityops.alerts.evaluate import Pass
from cityops.alerts.models import Alert, AlertRuleState
from cityops.context.models import ContextEntity
from cityops.core.audit import record, snapshot


def _firing(rule: CompiledRule, st: AlertRuleState, value: dict[str, Any]) -> writer.Firing:
    words = {"entity": st.source_id.rsplit(":", 1)[-1], "entity_id": st.source_id}
    return writer.Firing(
        rule,
        "entity",
        st.source_id,
        st.unit_id,
        st.data.get("lat"),
        st.data.get("lon"),
        value,
        words,
    )


def due_thresholds(p: Pass, rule: CompiledRule) -> None:
    """Fire threshold rules whose condition has held for `for_seconds` with no new reading."""
    since = p.now - timedelta(seconds=float(rule.params.get("for_seconds") or 0))
    stmt = select(AlertRuleState).where(
        AlertRuleState.rule_id == rule.id,
        AlertRuleState.pending_since.is_not(None),
        AlertRuleState.pending_since <= since,
    )
    for st in p.session.scalars(stmt):
        if st.data.get("firing"):
            continue
        st.data = {**st.data, "firing": True}
        st.updated_at = p.now
        p.fire(_firing(rule, st, dict(st.data.get("value") or {})))


def seed_absence(p: Pass, rule: CompiledRule, type_iri: str) -> None:
    """Start watching the existing entities of an absence rule's type (last seen: their change)."""
    known = select(AlertRuleState.source_id).where(AlertRuleState.rule_id == rule.id)
    rows = p.session.execute(
        select(ContextEntity.entity_id, ContextEntity.unit_id, ContextEntity.modified_at).where(
            and_(ContextEntity.type == type_iri, ContextEntity.entity_id.not_in(known))
        )
    )
    for entity_id, unit_id, modified_at in rows:
        st = p.state(rule.id, entity_id, unit_id)
        st.last_seen = min(modified_at, p.now)
        st.updated_at = p.now
    p.session.flush()


def silent_sources(p: Pass, rule: CompiledRule) -> None:
    """Fire absence rules for sources silent for `silence_seconds`."""
    since = p.now - timedelta(seconds=float(rule.params["silence_seconds"]))
    stmt = select(AlertRuleState).where(
        AlertRuleState.rule_id == rule.id,
        AlertRuleState.last_seen.is_not(None),
        AlertRuleState.last_seen <= since,
    )
    for st in p.session.scalars(stmt):
        if st.data.get("firing") or not p.in_scope(rule, st.unit_id):
            continue
        st.data = {**st.data, "firing": True}
        st.updated_at = p.now
        silent = int((p.now - st.last_seen).total_seconds()) if st.last_seen else None
        p.fire(_firing(rule, st, {"last_seen": st.last_seen.isoformat(), "silent_s": silent}))


def escalate_unacknowledged(p: Pass, minutes: float) -> None:
    """Escalate open critical alerts nobody acknowledged within `minutes` (again each period)."""
    cutoff = p.now - timedelta(minutes=minutes)
    stmt = select(Alert).where(
        Alert.status == "open", Alert.severity == "critical", Alert.acknowledged_at.is_(None)
    )
    for alert in p.session.scalars(stmt):
        since = alert.escalated_at or alert.raised_at
        if since > cutoff:
            continue
        before = snapshot(alert)
        alert.escalation_level += 1
        alert.escalated_at = alert.updated_at = p.now
        writer.timeline(
            p.session,
            alert,
            writer.ENGINE,
            "escalated",
            p.now,
            from_status=alert.status,
            note=f"unacknowledged for {minutes:g} min",
            data={"level": alert.escalation_level},
        )
        record(
            p.session,
            writer.ENGINE,
            "alerts.escalate",
            "alert",
            alert.id,
            before=before,
            after=snapshot(alert),
            unit_id=alert.unit_id,
        )
        p.events.append(writer.escalated_event(alert, p.now))
