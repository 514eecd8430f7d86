"""Alert rules: create, edit (a new version each time), list, validate and try them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.alerts import compile as rc
from cityops.alerts import schemas as s
from cityops.alerts.models import AlertRule, AlertRuleVersion
from cityops.context.jsonld import ContextResolver
from cityops.core.audit import record, snapshot
from cityops.core.db import utcnow
from cityops.core.errors import InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize, can, scope_filter
from cityops.core.units.models import Unit

PARAM_FIELDS = tuple(s.RuleParams.model_fields)
RULE_FIELDS = ("name", "kind", "severity", "enabled", "public", "auto_clear", "unit_id")
TEXT_FIELDS = ("title_vi", "title_en", "description")


def _path(session: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise InvalidInput(f"No unit {unit_id}", code="unknown_unit")
    return unit.path


def _may_manage(principal: Principal, path: str | None) -> None:
    """Raise unless the caller runs operations there (operators and admins, not machines)."""
    authorize(principal, Perm.data_write, path, hide=False)
    authorize(principal, Perm.assigned_handle, path, hide=False)


def definition(rule: AlertRule) -> dict[str, Any]:
    """Return a rule's full definition (what a version freezes)."""
    out = {f: getattr(rule, f) for f in (*RULE_FIELDS, *TEXT_FIELDS)}
    out.update(rule.params or {})
    return out


def to_public(rule: AlertRule) -> s.RulePublic:
    """Shape a rule for the API."""
    return s.RulePublic(
        id=rule.id,
        version=rule.version,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
        created_by=rule.created_by,
        **definition(rule),
    )


def validate(session: Session, resolver: ContextResolver, body: s.RuleBase) -> list[s.RuleProblem]:
    """Dry-parse a rule: syntax (with positions), required fields, attributes the hub knows."""
    params = body.model_dump(include=set(PARAM_FIELDS))
    titles = {"title_vi": body.title_vi, "title_en": body.title_en}
    return rc.check_rule(session, resolver, body.kind, params, titles)


def _refuse(problems: list[s.RuleProblem]) -> None:
    if problems:
        first = problems[0]
        raise InvalidInput(
            f"{first.field}: {first.message}",
            code="invalid_rule",
            extra={"errors": [p.model_dump() for p in problems]},
        )


def _index_keys(rule: AlertRule, resolver: ContextResolver) -> None:
    params = rule.params or {}
    rule.entity_type = None
    rule.event_name = None
    if rule.kind in rc.ENTITY_KINDS:
        rule.entity_type = rc.type_context(resolver, params["entity_type"]).expand(
            params["entity_type"]
        )
    else:
        rule.event_name = params["event_name"]


def _version(session: Session, rule: AlertRule, actor: str) -> None:
    session.add(
        AlertRuleVersion(
            rule_id=rule.id, version=rule.version, definition=definition(rule), created_by=actor
        )
    )


def create_rule(
    session: Session,
    principal: Principal,
    resolver: ContextResolver,
    body: s.RuleCreate,
    *,
    check: bool = True,
    code: str | None = None,
) -> AlertRule:
    """Save a new rule (version 1) after checking it; 422 with positions when it is wrong."""
    _may_manage(principal, _path(session, body.unit_id))
    if check:
        _refuse(validate(session, resolver, body))
    params = body.model_dump(include=set(PARAM_FIELDS), exclude_none=True)
    rule = AlertRule(
        **body.model_dump(include={*RULE_FIELDS, *TEXT_FIELDS}),
        params=params,
        version=1,
        code=code,
        created_by=principal.actor,
    )
    _index_keys(rule, resolver)
    session.add(rule)
    session.flush()
    _version(session, rule, principal.actor)
    record(session, principal, "alerts.rule_created", "alert_rule", rule.id, after=snapshot(rule))
    return rule


def get_rule(session: Session, principal: Principal, rule_id: int) -> AlertRule:
    """Return a rule the caller may see (rules of their subtree; 404 otherwise)."""
    rule = session.get(AlertRule, rule_id)
    path = _path(session, rule.unit_id) if rule is not None else None
    if rule is None or not can(principal, Perm.data_read, path):
        authorize(principal, Perm.data_read, check_unit=False, hide=False)
        raise NotFound(f"No rule {rule_id} (or outside your scope)")
    return rule


def update_rule(
    session: Session,
    principal: Principal,
    resolver: ContextResolver,
    rule_id: int,
    body: s.RuleUpdate,
) -> AlertRule:
    """Change a rule: the change is checked, becomes a new version and is audited."""
    rule = get_rule(session, principal, rule_id)
    _may_manage(principal, _path(session, rule.unit_id))
    before = snapshot(rule)
    merged = {**definition(rule), **body.model_dump(exclude_unset=True, exclude={"params"})}
    if body.params is not None:
        merged = {k: v for k, v in merged.items() if k not in PARAM_FIELDS}
        merged.update(body.params.model_dump(exclude_none=True))
    candidate = s.RuleCreate.model_validate(merged)
    _path(session, candidate.unit_id)
    _refuse(validate(session, resolver, candidate))
    for f in (*RULE_FIELDS, *TEXT_FIELDS):
        setattr(rule, f, getattr(candidate, f))
    rule.params = candidate.model_dump(include=set(PARAM_FIELDS), exclude_none=True)
    _index_keys(rule, resolver)
    rule.version += 1
    rule.updated_at = utcnow()
    _version(session, rule, principal.actor)
    record(
        session,
        principal,
        "alerts.rule_updated",
        "alert_rule",
        rule.id,
        before=before,
        after=snapshot(rule),
    )
    return rule


def delete_rule(session: Session, principal: Principal, rule_id: int) -> None:
    """Delete a rule; its alerts stay (they keep the version that fired them)."""
    rule = get_rule(session, principal, rule_id)
    _may_manage(principal, _path(session, rule.unit_id))
    record(session, principal, "alerts.rule_deleted", "alert_rule", rule.id, before=snapshot(rule))
    session.delete(rule)


def list_rules(
    session: Session,
    principal: Principal,
    *,
    kind: str | None,
    enabled: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[AlertRule], int]:
    """List the rules of the caller's subtree (and province-wide ones for root users)."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    stmt = select(AlertRule).outerjoin(Unit, Unit.id == AlertRule.unit_id)
    stmt = stmt.where(scope_filter(principal, Unit.path))
    if kind:
        stmt = stmt.where(AlertRule.kind == kind)
    if enabled is not None:
        stmt = stmt.where(AlertRule.enabled == enabled)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AlertRule.id).offset(offset).limit(limit)).all()
    return list(rows), total


def versions(session: Session, principal: Principal, rule_id: int) -> list[AlertRuleVersion]:
    """List a rule's versions, oldest first."""
    get_rule(session, principal, rule_id)
    stmt = select(AlertRuleVersion).where(AlertRuleVersion.rule_id == rule_id)
    return list(session.scalars(stmt.order_by(AlertRuleVersion.version)).all())
