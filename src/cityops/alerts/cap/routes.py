"""CAP endpoints: the public feed and messages (no login), and publishing by operators."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from cityops.alerts.access import check_act, unit_path
from cityops.alerts.cap import intake, service
from cityops.alerts.cap.feed import CAP_TYPE, build_feed, message_url
from cityops.alerts.cap.schemas import CapImported, CapMessagePublic, PublishCap
from cityops.alerts.cap.validate import CapInvalid
from cityops.alerts.service import get_alert
from cityops.core.db import utcnow
from cityops.core.deps import CurrentUser, SessionDep
from cityops.core.errors import CityOpsError, Conflict, InvalidInput, NotFound

log = logging.getLogger("cityops.cap")


class UnsupportedCapType(CityOpsError):
    """The body is not sent as XML."""

    status_code = 415
    code = "unsupported_media_type"


public_router = APIRouter(prefix="/cap", tags=["cap"])
router = APIRouter(prefix="/api/alerts", tags=["cap"])


@public_router.get("/feed.atom", response_class=Response)
def cap_feed(request: Request, session: SessionDep) -> Response:
    """Serve the Atom feed of current public alerts as CAP 1.2 messages (no login)."""
    now = utcnow()
    messages = service.feed_messages(session, request.app.state.settings, now)
    base = str(request.base_url)
    body = build_feed(request.app.state.settings, messages, base, now)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@public_router.get("/alerts/{identifier}.xml", response_class=Response)
def cap_message(session: SessionDep, identifier: str) -> Response:
    """Serve one CAP 1.2 message by its identifier (no login)."""
    message = service.by_identifier(session, identifier)
    if message is None:
        raise NotFound(f"No CAP message {identifier}")
    return Response(message.xml.encode("utf-8"), media_type=f"{CAP_TYPE}; charset=utf-8")


def _public(request: Request, message: service.CapMessage) -> CapMessagePublic:
    return CapMessagePublic(
        identifier=message.identifier,
        alert_id=message.alert_id,
        msg_type=message.msg_type,
        sent_at=message.sent_at,
        references=message.references,
        url=message_url(str(request.base_url), message),
    )


@router.post("/{alert_id}/publish-cap", status_code=201)
async def publish_cap(
    request: Request, principal: CurrentUser, alert_id: int, data: PublishCap | None = None
) -> CapMessagePublic:
    """Publish this alert as a CAP 1.2 message (Update if already published)."""
    app = request.app
    overrides = (data or PublishCap()).model_dump(mode="json", exclude_none=True)

    def work() -> CapMessagePublic:
        with service.ISSUING, app.state.db.session() as session:
            alert = get_alert(session, principal, alert_id)
            check_act(principal, alert, unit_path(session, alert.unit_id), manage=True)
            if alert.status in service.ENDED:
                raise Conflict(f"Alert {alert_id} has ended ({alert.status})", code="alert_ended")
            try:
                message = service.issue(session, app.state.settings, alert, utcnow(), overrides)
            except CapInvalid as err:
                app.state.cap_invalid.inc()
                log.error("CAP message for alert %s is invalid: %s", alert_id, err)
                raise InvalidInput(
                    "The CAP message would not be valid CAP 1.2",
                    code="cap_invalid",
                    extra={"errors": err.errors},
                ) from err
            assert message is not None  # forced: always a message
            return _public(request, message)

    return await run_in_threadpool(work)


MAX_CAP_BYTES = 1_000_000
CAP_CONTENT_TYPES = ("application/xml", "text/xml", "application/cap+xml")


@router.post("/cap", status_code=201)
async def import_cap(request: Request, principal: CurrentUser) -> CapImported:
    """Take a CAP 1.2 message from another system: Alert raises, Update changes, Cancel clears."""
    if request.headers.get("content-type", "").split(";")[0].strip() not in CAP_CONTENT_TYPES:
        raise UnsupportedCapType("Send the CAP message as application/xml")
    data = await request.body()
    if len(data) > MAX_CAP_BYTES:
        raise InvalidInput("CAP messages up to 1 MB", code="payload_too_large")
    app = request.app

    def work() -> tuple[CapImported, Any]:
        with app.state.db.session() as session:
            try:
                alert, event, what = intake.import_message(
                    session, principal, data, app.state.settings.units.root_code, utcnow()
                )
            except CapInvalid as err:
                raise InvalidInput(
                    "Not a valid CAP 1.2 message", code="cap_invalid", extra={"errors": err.errors}
                ) from err
            return intake.describe(alert, what), event

    answer, event = await run_in_threadpool(work)
    await app.state.bus.publish(event)
    return answer


@router.get("/{alert_id}/cap")
def list_cap_messages(
    request: Request, session: SessionDep, principal: CurrentUser, alert_id: int
) -> list[CapMessagePublic]:
    """List the CAP messages issued for this alert, oldest first."""
    get_alert(session, principal, alert_id)
    rows = service.messages_of(session, alert_id)
    return [_public(request, m) for m in rows]
