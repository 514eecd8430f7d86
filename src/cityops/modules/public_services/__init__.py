"""Public services (dịch vụ công): one-stop dossiers, their counters and the 766 index."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.modules import IntakeJob, ModuleContext, ModuleManifest, WidgetDescription

WIDGETS = (
    ("counters", "Tình hình giải quyết hồ sơ", "Dossier counters", "CounterBoard", "counters"),
    ("near_due", "Hồ sơ sắp đến hạn, quá hạn", "Dossiers about to be late", "DueList", "near-due"),
    (
        "index_766",
        "Chỉ số phục vụ (QĐ 766)",
        "Service index (Decision 766)",
        "ScoreBars",
        "index-766",
    ),
)


def setup(ctx: ModuleContext) -> None:
    """Register the module's routes, KPIs, events, due check and (if configured) poller."""
    from cityops.modules.public_services import routes
    from cityops.modules.public_services.events import EVENT_TYPES
    from cityops.modules.public_services.jobs import due_job, poll_job
    from cityops.modules.public_services.kpis import make_kpis

    conf = ctx.settings.public_services
    ctx.add_router(routes.router)
    for kpi in make_kpis(conf):
        ctx.add_kpi(kpi)
    for event_type in EVENT_TYPES:
        ctx.add_event(event_type)
    ctx.add_intake_job(
        IntakeJob("due_check", conf.check_interval_s, due_job(ctx.db, ctx.bus, ctx.settings))
    )
    if conf.source_url:
        ctx.add_intake_job(
            IntakeJob("poller", conf.poll_interval_s, poll_job(ctx.db, ctx.settings))
        )
    for key, title_vi, title_en, component, path in WIDGETS:
        url = f"/api/public-services/{path}"
        ctx.add_widget(WidgetDescription(key, title_vi, title_en, component, url))


def seed_demo(session: Session) -> None:
    """Load a demo year of dossiers for province 68 (scaled from Bình Thuận's 2024 figures)."""
    from cityops.modules.public_services.seed import seed_demo as seed

    seed(session)


MANIFEST = ModuleManifest(
    name="public_services",
    title_vi="Dịch vụ công",
    title_en="Public services",
    setup=setup,
    description=(
        "Administrative-procedure dossiers from the one-stop system: the counters one-stop "
        "offices keep, dossiers about to be late, and the Decision 766/QĐ-TTg index."
    ),
    seed_demo=seed_demo,
)
