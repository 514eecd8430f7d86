"""Health (y tế): facilities on the map, bed occupancy, notifiable diseases, outbreak signals."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.modules import ModuleContext, ModuleManifest, WidgetDescription


def setup(ctx: ModuleContext) -> None:
    """Register the module's routes, KPIs, events and widgets."""
    from cityops.modules.health import routes
    from cityops.modules.health.events import EVENT_TYPES
    from cityops.modules.health.kpis import KPIS

    ctx.add_router(routes.router)
    for kpi in KPIS:
        ctx.add_kpi(kpi)
    for event_type in EVENT_TYPES:
        ctx.add_event(event_type)
    for key, title_vi, title_en, component, url in (
        ("facilities", "Cơ sở y tế", "Health facilities", "MapLayer", "/api/health/facilities"),
        ("occupancy", "Công suất giường bệnh", "Bed occupancy", "Summary", "/api/health/occupancy"),
        ("signals", "Tín hiệu dịch bệnh", "Outbreak signals", "Table", "/api/health/signals"),
    ):
        ctx.add_widget(WidgetDescription(key, title_vi, title_en, component, url))


def seed_demo(session: Session) -> None:
    """Load demo facilities, weekly cases with their signals, and vaccination coverage."""
    from cityops.modules.health.seed import seed_demo as seed

    seed(session)


MANIFEST = ModuleManifest(
    name="health",
    title_vi="Y tế",
    title_en="Health",
    setup=setup,
    description=(
        "Health facilities as context-hub entities with beds and occupancy history, weekly "
        "notifiable-disease cases by commune with EARS C1/C2/C3 outbreak detection, and "
        "vaccination coverage through the indicator engine."
    ),
    seed_demo=seed_demo,
)
