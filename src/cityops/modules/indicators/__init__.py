"""Indicator engine (chỉ tiêu KT-XH): one catalogue, targets and values for every sector."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.modules import IntakeJob, ModuleContext, ModuleManifest, WidgetDescription


def setup(ctx: ModuleContext) -> None:
    """Register the module's routes, KPIs, events and late-report job."""
    from cityops.modules.indicators import routes
    from cityops.modules.indicators.events import EVENT_TYPES, ReportLate
    from cityops.modules.indicators.jobs import CHECK_INTERVAL_S, late_job
    from cityops.modules.indicators.kpis import KPIS
    from cityops.modules.indicators.reminders import reminder_handler

    ctx.add_router(routes.router)
    for kpi in KPIS:
        ctx.add_kpi(kpi)
    for event_type in EVENT_TYPES:
        ctx.add_event(event_type)
    ctx.bus.subscribe(ReportLate, reminder_handler(ctx.db, ctx.settings))
    ctx.add_intake_job(IntakeJob("late_reports", CHECK_INTERVAL_S, late_job(ctx.db, ctx.bus)))
    ctx.add_widget(
        WidgetDescription(
            key="dashboard",
            title_vi="Chỉ tiêu kinh tế - xã hội",
            title_en="Socio-economic indicators",
            component="IndicatorTable",
            data_url="/api/indicators/dashboard",
        )
    )


def seed_demo(session: Session) -> None:
    """Load the demo catalogue, 2026 targets and Jan-Oct 2026 values for province 68."""
    from cityops.modules.indicators.seed import seed_demo as seed

    seed(session)


MANIFEST = ModuleManifest(
    name="indicators",
    title_vi="Chỉ tiêu kinh tế - xã hội",
    title_en="Socio-economic indicators",
    setup=setup,
    description=(
        "One catalogue of indicators for every sector: yearly targets, monthly/quarterly/yearly "
        "values with revisions, aggregation up the unit tree, status against target, "
        "Excel/CSV exchange with agencies."
    ),
    seed_demo=seed_demo,
)
