"""Admin API to query the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from cityops.core.audit import AuditEntry
from cityops.core.deps import SessionDep, require
from cityops.core.policy import Perm, Principal, scope_filter
from cityops.core.units.models import Unit

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditPublic(BaseModel):
    """One audit entry."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    actor_role: str | None
    action: str
    entity_type: str
    entity_id: str | None
    unit_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    client: str | None
    request_id: str | None


class AuditList(BaseModel):
    """A page of audit entries, newest first."""

    items: list[AuditPublic]
    total: int


@router.get("")
def query_audit(
    principal: Annotated[Principal, Depends(require(Perm.audit_read))],
    session: SessionDep,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditList:
    """Query who did what, when, to which record (admin), newest first."""
    query = (
        select(AuditEntry)
        .outerjoin(Unit, Unit.id == AuditEntry.unit_id)
        .where(scope_filter(principal, Unit.path))
    )
    if actor:
        query = query.where(AuditEntry.actor.contains(actor, autoescape=True))
    if action:
        query = query.where(AuditEntry.action == action)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return AuditList(items=[AuditPublic.model_validate(r) for r in rows], total=total)
