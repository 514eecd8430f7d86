"""Blocked reporters: admins block a phone, email or device id; their submissions get 403."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityops.core import audit
from cityops.core.errors import Forbidden, NotFound
from cityops.core.policy import Principal
from cityops.modules.field_reports import moderation_schemas as ms
from cityops.modules.field_reports.models import BlockedReporter
from cityops.modules.field_reports.runtime import Runtime


def normalise(kind: str, value: str) -> str:
    """Return the form a phone, email or device id is stored and compared in."""
    value = value.strip()
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        return "0" + digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits
    return value.lower() if kind == "email" else value


def block_public(block: BlockedReporter, rt: Runtime) -> ms.BlockPublic:
    """Render a block, saying whether it is still in force."""
    active = block.expires_at is None or block.expires_at > rt.now
    return ms.BlockPublic(
        id=block.id,
        kind=block.kind,  # type: ignore[arg-type]
        value=block.value,
        reason=block.reason,
        expires_at=block.expires_at,
        active=active,
        created_by=block.created_by,
        created_at=block.created_at,
    )


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    block: BlockedReporter,
    before: dict[str, Any] | None,
) -> None:
    after = None if action == "unblock" else audit.snapshot(block)
    audit.record(
        session,
        principal,
        f"field_report.{action}",
        "field_report_block",
        block.id,
        before=before,
        after=after,
    )


def create_block(
    session: Session, rt: Runtime, principal: Principal, data: ms.BlockCreate
) -> BlockedReporter:
    """Block a reporter."""
    value = normalise(data.kind, data.value)
    block = BlockedReporter(
        kind=data.kind,
        value=value,
        reason=data.reason,
        expires_at=data.expires_at,
        created_by=principal.actor,
        created_at=rt.now,
    )
    session.add(block)
    session.flush()
    _audit(session, principal, "block", block, None)
    return block


def get_block(session: Session, block_id: int) -> BlockedReporter:
    """Fetch a block (404 when there is none)."""
    block = session.get(BlockedReporter, block_id)
    if block is None:
        raise NotFound(f"No block {block_id}")
    return block


def update_block(
    session: Session, principal: Principal, block: BlockedReporter, data: ms.BlockUpdate
) -> BlockedReporter:
    """Change a block's reason or expiry."""
    before = audit.snapshot(block)
    for key, value in data.model_dump(exclude_unset=True).items():
        if key != "reason" or value:
            setattr(block, key, value)
    session.flush()
    _audit(session, principal, "block_update", block, before)
    return block


def delete_block(session: Session, principal: Principal, block: BlockedReporter) -> None:
    """Lift a block."""
    before = audit.snapshot(block)
    _audit(session, principal, "unblock", block, before)
    session.delete(block)


def list_blocks(session: Session) -> list[BlockedReporter]:
    """List every block, newest first."""
    query = select(BlockedReporter).order_by(BlockedReporter.id.desc())
    return list(session.scalars(query))


def check_not_blocked(
    session: Session, rt: Runtime, phone: str | None, email: str | None, device_id: str | None
) -> None:
    """Refuse (403) a submission from a blocked phone, email or device id."""
    keys = [("phone", phone), ("email", email), ("device", device_id)]
    wanted = [(k, normalise(k, v)) for k, v in keys if v]
    if not wanted:
        return
    match = or_(*[(BlockedReporter.kind == k) & (BlockedReporter.value == v) for k, v in wanted])
    live = or_(BlockedReporter.expires_at.is_(None), BlockedReporter.expires_at > rt.now)
    if session.scalar(select(BlockedReporter.id).where(match, live).limit(1)) is not None:
        raise Forbidden(
            "Bạn đã bị tạm khóa gửi phản ánh; liên hệ Trung tâm IOC nếu có nhầm lẫn. / "
            "You are blocked from sending reports; contact the IOC if this is a mistake.",
            code="reporter_blocked",
        )
