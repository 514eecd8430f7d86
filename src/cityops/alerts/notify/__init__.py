"""Notifications: e-mail, webhooks and the in-app feed, with preferences, retries and dead letters.

Other code calls `notify(session, settings.notify, topic=..., ...)` (re-exported here); it
writes in-app rows and queued deliveries in the caller's transaction.
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import Counter

from cityops.alerts.notify.dispatch import Contact, Outcome, notify, notify_contacts

__all__ = ["Contact", "Outcome", "install", "notify", "notify_contacts"]


def install(app: FastAPI) -> None:
    """Mount /api/notifications, subscribe to alert and incident events, run the worker."""
    from cityops.alerts.notify.handlers import subscribe_all
    from cityops.alerts.notify.routes import router
    from cityops.alerts.notify.worker import DeliveryWorker, run_worker

    results = Counter(
        "cityops_notify_deliveries_total",
        "Notification delivery attempts by channel and resulting status",
        ["channel", "status"],
        registry=app.state.metrics.registry,
    )
    app.state.notify_worker = DeliveryWorker(
        app.state.db,
        app.state.settings.notify,
        on_result=lambda channel, status: results.labels(channel, status).inc(),
    )
    app.include_router(router)
    subscribe_all(app)
    app.state.lifespan_hooks.append(run_worker)
