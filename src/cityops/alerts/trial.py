"""Try a rule on the current entities: which sources meet its condition right now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import select

from cityops.alerts import rules
from cityops.alerts.compile import ENTITY_KINDS, compile_rule, fence_of_unit
from cityops.alerts.conditions import holds
from cityops.alerts.evaluate import location
from cityops.alerts.schemas import RuleTestHit, RuleTestResult
from cityops.context.models import ContextEntity
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
    return None  # rate_of_change needs a history of readings, not one state


def try_rule(app: Any, principal: Principal, rule_id: int) -> RuleTestResult:
    """Evaluate a rule on the entities of its type the caller may see (durations ignored)."""
    with app.state.db.session() as session:
        stored = rules.get_rule(session, principal, rule_id)
        if stored.kind not in ENTITY_KINDS:
            raise InvalidInput(
                "Only rules on entities can be tried on the current state", code="not_testable"
            )
        path = session.scalar(select(Unit.path).where(Unit.id == stored.unit_id))
        rule = compile_rule(stored, app.state.context_resolver, path)
        if rule.fence is None and rule.params.get("fence_unit_id"):
            rule.fence = fence_of_unit(session, rule.params["fence_unit_id"])
        stmt = (
            select(ContextEntity)
            .outerjoin(Unit, Unit.id == ContextEntity.unit_id)
            .where(ContextEntity.type == stored.entity_type, scope_filter(principal, Unit.path))
        )
        if path is not None:
            stmt = stmt.where(Unit.path.startswith(path, autoescape=True))
        rows = session.scalars(stmt.limit(MAX_ENTITIES)).all()
        hits = []
        for row in rows:
            value = _hit(rule, row)
            if value is not None:
                hits.append(RuleTestHit(source_id=row.entity_id, unit_id=row.unit_id, value=value))
        return RuleTestResult(checked=len(rows), hits=hits)
