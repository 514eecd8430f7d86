"""Tourism (du lịch): attractions, accommodation and events on the map; arrivals, occupancy."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.modules import ModuleContext, ModuleManifest, WidgetDescription


def setup(ctx: ModuleContext) -> None:
    """Register the module's routes, KPIs and widgets."""
    from cityops.modules.tourism import routes
    from cityops.modules.tourism.kpis import KPIS

    ctx.add_router(routes.router)
    for kpi in KPIS:
        ctx.add_kpi(kpi)
    for key, title_vi, title_en, component, url in (
        ("places", "Điểm du lịch, lưu trú", "Tourism places", "MapLayer", "/api/tourism/places"),
        ("stats", "Khách du lịch theo tháng", "Tourists by month", "Chart", "/api/tourism/stats"),
    ):
        ctx.add_widget(WidgetDescription(key, title_vi, title_en, component, url))


def seed_demo(session: Session) -> None:
    """Load demo places, events and two years of monthly tourism figures."""
    from cityops.modules.tourism.seed import seed_demo as seed

    seed(session)


MANIFEST = ModuleManifest(
    name="tourism",
    title_vi="Du lịch",
    title_en="Tourism",
    setup=setup,
    description=(
        "Attractions, accommodation, destinations and events as Smart Data Models entities "
        "in the context hub; monthly arrivals, room occupancy and revenue through the "
        "indicator engine; a public visitor guide."
    ),
    seed_demo=seed_demo,
)
