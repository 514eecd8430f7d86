"""CAP 1.2: public alerts as Common Alerting Protocol messages, an Atom feed, validation."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from prometheus_client import Counter

from cityops.core.bus import Event

log = logging.getLogger("cityops.cap")

ALERT_EVENTS = ("alerts.alert_raised", "alerts.alert_updated", "alerts.alert_escalated")


def install(app: FastAPI) -> None:
    """Mount /cap (public) and publishing; issue messages as public alerts change."""
    from cityops.alerts.cap.routes import public_router, router

    app.state.cap_invalid = Counter(
        "cityops_cap_invalid_messages_total",
        "CAP messages refused because they did not validate (never served)",
        registry=app.state.metrics.registry,
    )
    app.include_router(public_router)
    app.include_router(router)
    for name in ALERT_EVENTS:
        app.state.bus.subscribe(name, _handler(app))


def _handler(app: FastAPI) -> Any:
    async def on_alert(event: Event) -> None:
        await run_in_threadpool(sync_alert, app, int(event.alert_id))  # type: ignore[attr-defined]

    return on_alert


def sync_alert(app: FastAPI, alert_id: int) -> None:
    """Issue the CAP message a public alert's new state calls for (Alert, Update, Cancel)."""
    from cityops.alerts.cap import service
    from cityops.alerts.cap.validate import CapInvalid
    from cityops.alerts.models import Alert
    from cityops.core.db import utcnow

    with service.ISSUING, app.state.db.session() as session:  # one message at a time per process
        alert = session.get(Alert, alert_id)
        if alert is None or (not alert.public and service.current(session, alert_id) is None):
            return
        try:
            service.issue(session, app.state.settings, alert, utcnow())
        except CapInvalid as err:
            app.state.cap_invalid.inc()
            log.error("CAP message for alert %s is invalid, not issued: %s", alert_id, err)
