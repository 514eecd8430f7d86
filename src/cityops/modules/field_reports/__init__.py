"""Field reports (phản ánh hiện trường): citizens report, operators verify, agencies handle."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.modules import IntakeJob, ModuleContext, ModuleManifest, WidgetDescription


def setup(ctx: ModuleContext) -> None:
    """Register the module's routes, KPIs, events and deadline job."""
    from cityops.modules.field_reports import (
        moderation_routes,
        open311_routes,
        public_routes,
        routes,
    )
    from cityops.modules.field_reports.events import EVENT_TYPES, StatusChanged
    from cityops.modules.field_reports.jobs import deadline_job
    from cityops.modules.field_reports.kpis import KPIS
    from cityops.modules.field_reports.notices import notice_handler
    from cityops.modules.field_reports.rollup import configure

    configure(ctx.settings.field_reports.utc_offset_hours)

    routers = (
        routes.router,
        moderation_routes.router,
        public_routes.router,
        moderation_routes.public,
        open311_routes.router,
    )
    for router in routers:
        ctx.add_router(router)
    for kpi in KPIS:
        ctx.add_kpi(kpi)
    for event_type in EVENT_TYPES:
        ctx.add_event(event_type)
    ctx.bus.subscribe(StatusChanged, notice_handler(ctx.db, ctx.settings))
    interval = ctx.settings.field_reports.check_interval_s
    ctx.add_intake_job(
        IntakeJob("deadlines", interval, deadline_job(ctx.db, ctx.bus, ctx.settings))
    )
    ctx.add_widget(
        WidgetDescription(
            key="by_category",
            title_vi="Phản ánh theo lĩnh vực",
            title_en="Field reports by category",
            component="StatsTable",
            data_url="/api/field-reports/stats?by=category",
        )
    )


def seed_demo(session: Session) -> None:
    """Load the demo categories and a few hundred reports (after the core's demo data)."""
    from cityops.modules.field_reports.seed import seed_demo as seed

    seed(session)


MANIFEST = ModuleManifest(
    name="field_reports",
    title_vi="Phản ánh hiện trường",
    title_en="Field reports",
    setup=setup,
    description=(
        "Citizens' reports of urban problems, routed to the responsible agency and tracked to "
        "resolution in working hours; Open311 GeoReport v2 and NGSI-LD IssueReporting."
    ),
    seed_demo=seed_demo,
)
