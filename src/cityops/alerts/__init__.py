"""Alerts: rules on live data and module events -> alerts -> incidents; notifications."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount /api/alerts and its rules, run the rule engine; register KPIs, widgets, events.

    Call it after the module registry exists (app.state.registry) and before the packages
    that build on alerts (incidents, notifications, CAP).
    """
    from cityops.alerts.engine import AlertEngine, run_engine
    from cityops.alerts.events import EVENT_TYPES
    from cityops.alerts.kpis import KPIS, WIDGETS
    from cityops.alerts.routes import router
    from cityops.alerts.rule_routes import router as rule_router
    from cityops.context.jsonld import ContextResolver

    state = app.state
    if getattr(state, "context_resolver", None) is None:
        cfg = state.settings.ngsi_ld
        state.context_resolver = ContextResolver(cfg.allow_remote_contexts, cfg.context_timeout_s)
    state.alert_engine = AlertEngine(
        state.db, state.bus, state.settings.alerts, state.context_resolver
    )
    app.include_router(rule_router)
    app.include_router(router)
    state.lifespan_hooks.append(run_engine)
    registry = state.registry
    for kpi in KPIS:
        registry.kpis[kpi.key] = kpi
    for widget in WIDGETS:
        registry.widgets[widget.key] = widget
    for event_type in EVENT_TYPES:
        registry.events[event_type.name] = event_type
