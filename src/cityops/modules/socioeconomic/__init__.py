"""Socio-economic indicators (chỉ tiêu kinh tế - xã hội): the provincial report's groups."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.modules import ModuleContext, ModuleManifest, WidgetDescription


def setup(ctx: ModuleContext) -> None:
    """Register the module's routes, KPIs and overview widget."""
    from cityops.modules.socioeconomic import routes
    from cityops.modules.socioeconomic.kpis import KPIS

    ctx.add_router(routes.router)
    for kpi in KPIS:
        ctx.add_kpi(kpi)
    ctx.add_widget(
        WidgetDescription(
            key="overview",
            title_vi="Kinh tế - xã hội theo nhóm chỉ tiêu",
            title_en="Socio-economic indicators by group",
            component="GroupedIndicatorTable",
            data_url="/api/socioeconomic/overview",
        )
    )


def seed_demo(session: Session) -> None:
    """Add the sector's indicators with 2026 demo targets and values for province 68."""
    from cityops.modules.socioeconomic.seed import seed_demo as seed

    seed(session)


MANIFEST = ModuleManifest(
    name="socioeconomic",
    title_vi="Kinh tế - xã hội",
    title_en="Socio-economic indicators",
    setup=setup,
    description=(
        "The provincial socio-economic report on the indicator engine: groups, targets, status "
        "against target, trends, and published figures of comparable provinces."
    ),
    seed_demo=seed_demo,
)
