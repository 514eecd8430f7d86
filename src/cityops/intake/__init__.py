"""Intake: adapters that feed the context hub (MQTT, HTTP readings, CSV, simulator)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from cityops.context.jsonld import ContextResolver

log = logging.getLogger("cityops.intake")


def install(app: FastAPI) -> None:
    """Mount the HTTP intake, watch device liveness, and run MQTT intake when enabled."""
    from cityops.intake.devices import device_watch
    from cityops.intake.ingest import Ingestor
    from cityops.intake.routes import router

    state = app.state
    if getattr(state, "context_resolver", None) is None:
        cfg = state.settings.ngsi_ld
        state.context_resolver = ContextResolver(cfg.allow_remote_contexts, cfg.context_timeout_s)
    state.intake = Ingestor(state.db, state.bus, state.context_resolver)
    app.include_router(router)
    state.lifespan_hooks.append(device_watch)
    if state.settings.mqtt.enabled:
        from cityops.intake.mqtt import mqtt_intake

        state.lifespan_hooks.append(mqtt_intake)
