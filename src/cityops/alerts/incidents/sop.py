"""SOP templates: list, create, change (each change is a new, audited version), demo set."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.incidents.models import SopTemplate
from cityops.alerts.incidents.schemas import SopCreate, SopPublic, SopUpdate
from cityops.alerts.incidents.sop_demo import DEMO_TEMPLATES
from cityops.core import audit
from cityops.core.db import utcnow
from cityops.core.errors import Conflict, NotFound
from cityops.core.policy import Perm, Principal, authorize, system_principal


def public(t: SopTemplate) -> SopPublic:
    """Describe a template."""
    return SopPublic.model_validate(t)


def list_templates(
    session: Session, principal: Principal, *, hazard: str | None, include_inactive: bool
) -> list[SopTemplate]:
    """List templates, optionally of one hazard."""
    authorize(principal, Perm.data_read, check_unit=False)
    query = select(SopTemplate).order_by(SopTemplate.hazard, SopTemplate.code)
    if hazard:
        query = query.where(SopTemplate.hazard == hazard)
    if not include_inactive:
        query = query.where(SopTemplate.is_active.is_(True))
    return list(session.scalars(query))


def find_template(session: Session, code: str) -> SopTemplate | None:
    """Find a template by code."""
    return session.scalar(select(SopTemplate).where(SopTemplate.code == code))


def get_template(session: Session, principal: Principal, code: str) -> SopTemplate:
    """Fetch a template by code (404 if none)."""
    authorize(principal, Perm.data_read, check_unit=False)
    template = find_template(session, code)
    if template is None:
        raise NotFound(f"No SOP template {code}")
    return template


def _check_editor(principal: Principal) -> None:
    # Templates serve the whole province: only province-level staff edit them.
    authorize(principal, Perm.data_write, None, hide=False)


def create_template(session: Session, principal: Principal, data: SopCreate) -> SopTemplate:
    """Create a template (version 1)."""
    _check_editor(principal)
    if find_template(session, data.code) is not None:
        raise Conflict(f"An SOP template {data.code} exists", code="duplicate_code")
    values = data.model_dump(mode="json")
    template = SopTemplate(**values, version=1, created_at=utcnow(), updated_at=utcnow())
    session.add(template)
    session.flush()
    audit.record(
        session,
        principal,
        "sop.create",
        "sop_template",
        template.code,
        after=audit.snapshot(template),
    )
    return template


def update_template(
    session: Session, principal: Principal, code: str, data: SopUpdate
) -> SopTemplate:
    """Change a template; the version goes up and the audit log keeps the old one."""
    _check_editor(principal)
    template = get_template(session, principal, code)
    before = audit.snapshot(template)
    changes: dict[str, Any] = data.model_dump(mode="json", exclude_unset=True)
    for key, value in changes.items():
        if value is not None:
            setattr(template, key, value)
    template.version += 1
    template.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        principal,
        "sop.update",
        "sop_template",
        template.code,
        before=before,
        after=audit.snapshot(template),
    )
    return template


def seed_templates(session: Session) -> int:
    """Add the missing demo templates (flood, landslide, ...); return how many were added."""
    added = 0
    for data in DEMO_TEMPLATES:
        if find_template(session, data["code"]) is None:
            create_template(session, system_principal("demo"), SopCreate.model_validate(data))
            added += 1
    return added
