"""The alert rules API: /api/alerts/rules (CRUD, versions, validate, test)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cityops.alerts import rules
from cityops.alerts import schemas as s
from cityops.alerts.engine import engine_of
from cityops.alerts.trial import try_rule
from cityops.core.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/alerts/rules", tags=["alert rules"])


def _resolver(request: Request):  # noqa: ANN202
    return request.app.state.context_resolver


@router.get("")
def list_rules(
    session: SessionDep,
    principal: CurrentUser,
    kind: s.Kind | None = None,
    enabled: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> s.RuleList:
    """List the alert rules of your scope."""
    rows, total = rules.list_rules(
        session, principal, kind=kind, enabled=enabled, offset=offset, limit=limit
    )
    return s.RuleList(items=[rules.to_public(r) for r in rows], total=total)


@router.post("/validate")
def validate_rule(
    request: Request, body: s.RuleCreate, session: SessionDep, principal: CurrentUser
) -> s.RuleValidation:
    """Check a rule without saving it: syntax errors with positions, unknown attributes."""
    problems = rules.validate(session, _resolver(request), body)
    return s.RuleValidation(valid=not problems, errors=problems)


@router.post("", status_code=201)
def create_rule(
    request: Request, body: s.RuleCreate, session: SessionDep, principal: CurrentUser
) -> s.RulePublic:
    """Create a rule (422 with the error positions when it does not parse)."""
    rule = rules.create_rule(session, principal, _resolver(request), body)
    session.commit()
    engine_of(request.app).invalidate()
    return rules.to_public(rule)


@router.get("/{rule_id}")
def get_rule(rule_id: int, session: SessionDep, principal: CurrentUser) -> s.RulePublic:
    """Show a rule."""
    return rules.to_public(rules.get_rule(session, principal, rule_id))


@router.patch("/{rule_id}")
def update_rule(
    request: Request, rule_id: int, body: s.RuleUpdate, session: SessionDep, principal: CurrentUser
) -> s.RulePublic:
    """Change a rule; the change becomes a new version."""
    rule = rules.update_rule(session, principal, _resolver(request), rule_id, body)
    session.commit()
    engine_of(request.app).invalidate()
    return rules.to_public(rule)


@router.delete("/{rule_id}", status_code=204)
def delete_rule(
    request: Request, rule_id: int, session: SessionDep, principal: CurrentUser
) -> Response:
    """Delete a rule (its alerts stay)."""
    rules.delete_rule(session, principal, rule_id)
    session.commit()
    engine_of(request.app).invalidate()
    return Response(status_code=204)


@router.get("/{rule_id}/versions")
def rule_versions(
    rule_id: int, session: SessionDep, principal: CurrentUser
) -> list[s.RuleVersionPublic]:
    """List a rule's versions, oldest first."""
    return [
        s.RuleVersionPublic(
            version=v.version,
            definition=v.definition,
            created_at=v.created_at,
            created_by=v.created_by,
        )
        for v in rules.versions(session, principal, rule_id)
    ]


@router.post("/{rule_id}/test")
async def test_rule(
    request: Request, rule_id: int, principal: CurrentUser, body: s.RuleTestBody | None = None
) -> s.RuleTestResult:
    """Try a rule: the entities that meet it now, or whether a sample event would match it."""
    event = body.event if body is not None else None
    return await run_in_threadpool(try_rule, request.app, principal, rule_id, event)
