"""Incidents promoted from alerts, standard operating procedure templates and their tasks."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount /api/incidents, /api/sop-templates and promotion; register KPIs and events.

    Call it after the module registry exists (app.state.registry), like the other KPIs.
    """
    from cityops.alerts.incidents.events import EVENT_TYPES
    from cityops.alerts.incidents.kpis import KPIS
    from cityops.alerts.incidents.routes import router

    app.include_router(router)
    registry = app.state.registry
    for kpi in KPIS:
        registry.kpis[kpi.key] = kpi
    for event_type in EVENT_TYPES:
        registry.events[event_type.name] = event_type
