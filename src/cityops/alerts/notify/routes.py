"""HTTP API of notifications: /api/notifications (feed, preferences, webhooks, dead letters)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Query, Request, Response

from cityops.alerts.notify import schemas as s
from cityops.alerts.notify import service, webhooks
from cityops.alerts.notify.choices import DeliveryStatus
from cityops.core.deps import CurrentUser, SessionDep, require
from cityops.core.policy import Perm, Principal

router = APIRouter(prefix="/api/notifications", tags=["notifications"])

Admin = Annotated[Principal, Depends(require(Perm.users_manage))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


async def wake_worker(app: FastAPI) -> None:
    """Tell the app's delivery worker to look for due deliveries now."""
    worker = getattr(app.state, "notify_worker", None)
    if worker is not None:
        worker.wake()


def _allowlist(request: Request) -> list[str]:
    return request.app.state.settings.notify.webhook_allowlist


# --- in-app feed ---------------------------------------------------------------------------


@router.get("")
def list_notifications(
    session: SessionDep,
    principal: CurrentUser,
    unread_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> s.NotificationList:
    """List your notifications, newest first, with your unread count."""
    rows, total, unread = service.list_feed(
        session, principal, unread_only=unread_only, limit=limit, offset=offset
    )
    items = [s.NotificationPublic.model_validate(r) for r in rows]
    return s.NotificationList(items=items, total=total, unread=unread)


@router.get("/unread-count")
def unread_count(session: SessionDep, principal: CurrentUser) -> s.UnreadCount:
    """Count your unread notifications."""
    return s.UnreadCount(unread=service.unread_count(session, principal))


@router.post("/read-all")
def mark_all_read(session: SessionDep, principal: CurrentUser) -> s.UnreadCount:
    """Mark all your notifications read."""
    service.mark_all_read(session, principal)
    return s.UnreadCount(unread=0)


@router.post("/{notification_id}/read")
def mark_read(
    session: SessionDep, principal: CurrentUser, notification_id: int
) -> s.NotificationPublic:
    """Mark one of your notifications read."""
    row = service.mark_read(session, principal, notification_id)
    return s.NotificationPublic.model_validate(row)


# --- preferences ---------------------------------------------------------------------------


@router.get("/preferences")
def get_preferences(session: SessionDep, principal: CurrentUser) -> s.PreferencePublic:
    """Show what you are notified about, how, and your quiet hours."""
    return service.get_preferences(session, principal)


@router.put("/preferences")
def put_preferences(
    session: SessionDep, principal: CurrentUser, data: s.PreferenceUpdate
) -> s.PreferencePublic:
    """Save what you are notified about (never wider than your scope), how, and when not."""
    return service.put_preferences(session, principal, data)


# --- webhook targets (admins) --------------------------------------------------------------


@router.get("/webhooks")
def list_webhooks(session: SessionDep, principal: Admin) -> s.WebhookList:
    """List the webhook targets (admins)."""
    items = [webhooks.public(t) for t in webhooks.list_targets(session, principal)]
    return s.WebhookList(items=items, total=len(items))


@router.post("/webhooks", status_code=201)
def create_webhook(
    request: Request, session: SessionDep, principal: Admin, data: s.WebhookCreate
) -> s.WebhookPublic:
    """Add a webhook target; internal addresses are refused unless allowlisted (admins)."""
    target = webhooks.create_target(session, principal, data, _allowlist(request))
    return webhooks.public(target)


@router.get("/webhooks/{webhook_id}")
def get_webhook(session: SessionDep, principal: Admin, webhook_id: int) -> s.WebhookPublic:
    """Show one webhook target (admins)."""
    return webhooks.public(webhooks.get_target(session, principal, webhook_id))


@router.patch("/webhooks/{webhook_id}")
def update_webhook(
    request: Request, session: SessionDep, principal: Admin, webhook_id: int, data: s.WebhookUpdate
) -> s.WebhookPublic:
    """Change a webhook target (admins)."""
    target = webhooks.update_target(session, principal, webhook_id, data, _allowlist(request))
    return webhooks.public(target)


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(session: SessionDep, principal: Admin, webhook_id: int) -> Response:
    """Delete a webhook target and its queued deliveries (admins)."""
    webhooks.delete_target(session, principal, webhook_id)
    return Response(status_code=204)


# --- deliveries and dead letters (admins) --------------------------------------------------


@router.get("/deliveries")
def list_deliveries(
    session: SessionDep,
    principal: Admin,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> s.DeliveryList:
    """List e-mail and webhook deliveries, newest first (admins)."""
    rows, total = service.list_deliveries(
        session, principal, status=status, limit=limit, offset=offset
    )
    return s.DeliveryList(items=[s.DeliveryPublic.model_validate(r) for r in rows], total=total)


@router.get("/dead-letters")
def list_dead_letters(
    session: SessionDep, principal: Admin, limit: Limit = 50, offset: Offset = 0
) -> s.DeliveryList:
    """List deliveries that failed every attempt (admins)."""
    rows, total = service.list_deliveries(
        session, principal, status=DeliveryStatus.dead, limit=limit, offset=offset
    )
    return s.DeliveryList(items=[s.DeliveryPublic.model_validate(r) for r in rows], total=total)


@router.post("/dead-letters/{delivery_id}/retry")
def retry_dead_letter(
    request: Request,
    tasks: BackgroundTasks,
    session: SessionDep,
    principal: Admin,
    delivery_id: int,
) -> s.DeliveryPublic:
    """Queue a dead letter again for a new round of attempts (admins)."""
    row = service.retry_dead(session, principal, delivery_id)
    tasks.add_task(wake_worker, request.app)
    return s.DeliveryPublic.model_validate(row)
