"""A sample third-party module used by the module-contract tests (loaded via MODULES__EXTRA)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from cityops.core.bus import Event
from cityops.core.modules import (
    IntakeJob,
    KpiDescription,
    ModuleContext,
    ModuleManifest,
    WidgetDescription,
)
from cityops.core.scheduler import IntakeFailed

RUNS: list[str] = []

router = APIRouter(prefix="/api/sample", tags=["sample"])


@router.get("/ping")
def ping() -> dict[str, bool]:
    """Answer that the sample module is mounted."""
    return {"pong": True}


@dataclass(frozen=True, kw_only=True)
class SamplePinged(Event):
    """The sample module was pinged."""

    name = "sample.pinged"
    count: int = 1


KPI = KpiDescription(
    key="answers",
    title_vi="Số câu trả lời",
    title_en="Answers",
    unit="count",
    value_fn=lambda session, principal: 42,
)
WIDGET = WidgetDescription(
    key="answers",
    title_vi="Câu trả lời",
    title_en="Answers",
    component="KpiTile",
    data_url="/api/sample/ping",
)


def setup(ctx: ModuleContext) -> None:
    """Register the sample module's route, KPI, widget, event and two periodic jobs."""

    async def poll() -> None:
        RUNS.append("poll")
        await ctx.bus.publish(SamplePinged(count=len(RUNS)))

    async def flaky() -> None:
        RUNS.append("flaky")
        raise IntakeFailed("the vendor's server answered 503")

    ctx.add_intake_job(IntakeJob(key="poll", interval_s=0.05, run=poll))
    ctx.add_intake_job(IntakeJob(key="flaky", interval_s=0.05, run=flaky))
    ctx.add_router(router)
    ctx.add_kpi(KPI)
    ctx.add_widget(WIDGET)
    ctx.add_event(SamplePinged)


MANIFEST = ModuleManifest(
    name="sample",
    title_vi="Phân hệ mẫu",
    title_en="Sample module",
    setup=setup,
    description="Exercises the module contract in tests.",
)
