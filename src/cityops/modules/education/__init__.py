"""Education (giáo dục): schools on the map, pupils, teachers, ratios, enrolment and results."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.modules import ModuleContext, ModuleManifest, WidgetDescription


def setup(ctx: ModuleContext) -> None:
    """Register the module's routes, KPIs and widgets."""
    from cityops.modules.education import routes
    from cityops.modules.education.kpis import KPIS

    ctx.add_router(routes.router)
    for kpi in KPIS:
        ctx.add_kpi(kpi)
    for key, title_vi, title_en, component, url in (
        ("schools", "Trường học", "Schools", "MapLayer", "/api/education/schools"),
        ("by_unit", "Giáo dục theo đơn vị", "Education by unit", "Table", "/api/education/summary"),
        (
            "by_level",
            "Giáo dục theo cấp học",
            "Education by level",
            "Table",
            "/api/education/summary?by=level",
        ),
    ):
        ctx.add_widget(WidgetDescription(key, title_vi, title_en, component, url))


def seed_demo(session: Session) -> None:
    """Load demo schools and two school years of figures."""
    from cityops.modules.education.seed import seed_demo as seed

    seed(session)


MANIFEST = ModuleManifest(
    name="education",
    title_vi="Giáo dục",
    title_en="Education",
    setup=setup,
    description=(
        "Schools as context-hub entities; yearly figures per school (pupils, teachers, "
        "classes, new entrants, attendance, exam results) with totals and ratios by unit, "
        "level and year."
    ),
    seed_demo=seed_demo,
)
