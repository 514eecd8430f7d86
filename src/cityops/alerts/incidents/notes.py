"""Comments and attachments of incidents (attachment bytes live in the core FileStore)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.incidents import access
from cityops.alerts.incidents.models import Incident, IncidentAttachment, IncidentComment
from cityops.alerts.incidents.service import get_incident
from cityops.alerts.incidents.timeline import log_change
from cityops.core.errors import CityOpsError, NotFound
from cityops.core.files import FileStore
from cityops.core.policy import Principal

MAX_ATTACHMENT_BYTES = 20_000_000
CONTENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)


class PayloadTooLarge(CityOpsError):
    """The upload is bigger than allowed."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedType(CityOpsError):
    """The upload's type is not accepted."""

    status_code = 415
    code = "unsupported_media_type"


def add_comment(
    session: Session, principal: Principal, code: str, body: str, now: datetime
) -> IncidentComment:
    """Add a note to an incident (managers, and agencies that own a task)."""
    incident, path = get_incident(session, principal, code)
    access.check_contribute(session, principal, incident, path)
    comment = IncidentComment(incident_id=incident.id, at=now, author=principal.actor, body=body)
    session.add(comment)
    session.flush()
    log_change(session, principal, incident, "comment", {"comment_id": comment.id}, now)
    return comment


def list_comments(session: Session, principal: Principal, code: str) -> list[IncidentComment]:
    """List an incident's comments, oldest first."""
    incident, _ = get_incident(session, principal, code)
    query = select(IncidentComment).where(IncidentComment.incident_id == incident.id)
    return list(session.scalars(query.order_by(IncidentComment.at, IncidentComment.id)))


def add_attachment(
    session: Session,
    store: FileStore,
    principal: Principal,
    code: str,
    upload: tuple[str, str, bytes],
    now: datetime,
) -> IncidentAttachment:
    """Store a file (name, content type, bytes) and attach it to an incident."""
    filename, content_type, data = upload
    incident, path = get_incident(session, principal, code)
    access.check_contribute(session, principal, incident, path)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(f"Files up to {MAX_ATTACHMENT_BYTES // 1_000_000} MB")
    if content_type not in CONTENT_TYPES:
        raise UnsupportedType(f"Files of type {content_type} are not accepted")
    ref = store.save(data, content_type)
    row = IncidentAttachment(
        incident_id=incident.id,
        file_key=ref.key,
        filename=filename[:255] or "file",
        content_type=content_type,
        size=ref.size,
        uploaded_at=now,
        uploaded_by=principal.actor,
    )
    session.add(row)
    session.flush()
    detail = {"attachment_id": row.id, "filename": row.filename, "size": row.size}
    log_change(session, principal, incident, "attachment", detail, now)
    return row


def list_attachments(session: Session, principal: Principal, code: str) -> list[IncidentAttachment]:
    """List an incident's attachments."""
    incident, _ = get_incident(session, principal, code)
    query = select(IncidentAttachment).where(IncidentAttachment.incident_id == incident.id)
    return list(session.scalars(query.order_by(IncidentAttachment.id)))


def get_attachment(
    session: Session, principal: Principal, code: str, attachment_id: int
) -> tuple[Incident, IncidentAttachment]:
    """Fetch one attachment of an incident the caller may read."""
    incident, _ = get_incident(session, principal, code)
    row = session.get(IncidentAttachment, attachment_id)
    if row is None or row.incident_id != incident.id:
        raise NotFound(f"No attachment {attachment_id} in incident {incident.code}")
    return incident, row
