"""Try a rule on the current entities: which sources meet its condition right now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import func, select

from cityops.alerts import rules
from cityops.alerts.compile import ENTITY_KINDS, compile_rule, fence_of_unit
from cityops.alerts.conditions import holds
from cityops.alerts.evaluate import event_source, location, passes_filter
from cityops.alerts.schemas import RuleTestHit, RuleTestResult
from cityops.context.models import ContextAttributeInstance as Inst
from cityops.context.models import ContextAttributeName, ContextEntity
from cityops.core.db import utcnow
from cityops.core.errors import InvalidInput
from cityops.core.policy import Principal, scope_filter
from cityops.core.units.models import Unit

MAX_ENTITIES = 10000


def _hit(rule: Any, row: ContextEntity) -> dict[str, Any] | None:
    """Return the values that make an entity meet the rule now (None: it does not)."""
    if rule.kind == "threshold":
        values = {n: (row.attrs.get(i) or {}).get("value") for n, i in rule.iris.items()}
        ok = holds(rule.terms, values) and (rule.q is None or rule.q.matches(row.attrs))
        return values if ok else None
    if rule.kind == "absence":
        silent = utcnow() - row.modified_at
        limit = timedelta(seconds=float(rule.params["silence_seconds"]))
        return {"silent_s": int(silent.total_seconds())} if silent >= limit else None
    if rule.kind == "geofence":
        lat, lon = location(row.attrs)
        if lat is None or lon is None or rule.fence is None:
            return None
        inside = bool(rule.fence.covers(Point(lon, lat)))
        return {"inside": inside} if inside == (rule.params["transition"] == "enter") else None
    return None  # rate_of_change: see _rises (it needs the history, not one state)


def _rises(session: Any, rule: Any, rows: list[ContextEntity]) -> dict[int, dict[str, Any]]:
    """Return, per entity pk, the change of the rule's attribute within its window when it
    meets the rule now: the current value against the oldest one of the window in the hub's
    history (what the engine compares with, had it seen every reading)."""
    attr = rule.params["attribute"]
    iri = rule.iris[attr]
    start = utcnow() - timedelta(seconds=float(rule.params["window_seconds"]))
    name = select(ContextAttributeName.id).where(ContextAttributeName.iri == iri)
    first = (
        select(Inst.entity_pk, func.min(Inst.observed_at).label("at"))
        .where(Inst.attr_id == name.scalar_subquery(), Inst.observed_at >= start)
        .where(Inst.entity_pk.in_([row.pk for row in rows]), Inst.dataset_id == "")
        .group_by(Inst.entity_pk)
        .subquery()
    )
    oldest = select(Inst.entity_pk, Inst.value_num).join(
        first,
        (Inst.entity_pk == first.c.entity_pk)
        & (Inst.observed_at == first.c.at)
        & (Inst.attr_id == name.scalar_subquery())
        & (Inst.dataset_id == ""),
    )
    base = {pk: value for pk, value in session.execute(oldest) if value is not None}
    delta, hits = float(rule.params["delta"]), {}
    for row in rows:
        value = (row.attrs.get(iri) or {}).get("value")
        if row.pk not in base or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if rule.q is not None and not rule.q.matches(row.attrs):
            continue
        change = float(value) - base[row.pk]
        if change >= delta if delta >= 0 else change <= delta:
            hits[row.pk] = {attr: value, "change": round(change, 6)}
    return hits


def _try_event(session: Any, rule: Any, event: dict[str, Any] | None) -> RuleTestResult:
    """Say whether a sample event passes an event rule's scope and filter (a count-window
    rule: whether it would count toward the window)."""
    if event is None:
        raise InvalidInput(
            "Rules on events are tried on a sample event: send {'event': {...its fields}}",
            code="event_required",
        )
    unit_id = event.get("unit_id") if isinstance(event.get("unit_id"), int) else None
    path = session.scalar(select(Unit.path).where(Unit.id == unit_id)) if unit_id else None
    in_scope = rule.unit_path is None or (path is not None and path.startswith(rule.unit_path))
    if not (in_scope and passes_filter(rule, event)):
        return RuleTestResult(checked=1, hits=[])
    name = rule.params["event_name"]
    hit = RuleTestHit(
        source_id=event_source(event, name), unit_id=unit_id, value={"event": name, **event}
    )
    return RuleTestResult(checked=1, hits=[hit])


def try_rule(
    app: Any, principal: Principal, rule_id: int, event: dict[str, Any] | None = None
) -> RuleTestResult:
    """Evaluate a rule on the entities of its type the caller may see (durations ignored;
    a rate of change over the hub's history of the rule's window), or on a sample event."""
    with app.state.db.session() as session:
        stored = rules.get_rule(session, principal, rule_id)
        path = session.scalar(select(Unit.path).where(Unit.id == stored.unit_id))
        rule = compile_rule(stored, app.state.context_resolver, path)
        if stored.kind not in ENTITY_KINDS:
            return _try_event(session, rule, event)
        if rule.fence is None and rule.params.get("fence_unit_id"):
            rule.fence = fence_of_unit(session, rule.params["fence_unit_id"])
        stmt = (
            select(ContextEntity)
            .outerjoin(Unit, Unit.id == ContextEntity.unit_id)
            .where(ContextEntity.type == stored.entity_type, scope_filter(principal, Unit.path))
        )
        if path is not None:
            stmt = stmt.where(Unit.path.startswith(path, autoescape=True))
        rows = list(session.scalars(stmt.limit(MAX_ENTITIES)))
        rises = _rises(session, rule, rows) if rule.kind == "rate_of_change" else {}
        hits = []
        for row in rows:
            value = rises.get(row.pk) if rule.kind == "rate_of_change" else _hit(rule, row)
            if value is not None:
                hits.append(RuleTestHit(source_id=row.entity_id, unit_id=row.unit_id, value=value))
        return RuleTestResult(checked=len(rows), hits=hits)
