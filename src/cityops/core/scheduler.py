"""Runs the periodic jobs modules register (IntakeJob) while the app serves."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cityops.core.modules import IntakeJob

log = logging.getLogger("cityops.scheduler")


class IntakeFailed(Exception):
    """A source could not be read this time (raise it `from` the vendor's error)."""


async def _loop(key: str, job: IntakeJob, app: FastAPI) -> None:
    failures = app.state.metrics.job_runs
    while True:
        started = time.monotonic()
        try:
            await job.run()
            failures.labels(key, "ok").inc()
        except asyncio.CancelledError:
            raise
        except IntakeFailed as err:
            failures.labels(key, "failed").inc()
            log.warning("job %s failed: %s", key, err, extra={"job": key})
        except Exception:
            failures.labels(key, "error").inc()
            log.exception("job %s crashed", key, extra={"job": key})
        await asyncio.sleep(max(0.0, job.interval_s - (time.monotonic() - started)))


@asynccontextmanager
async def run_jobs(app: FastAPI) -> AsyncIterator[None]:
    """Start one task per registered job; cancel them at shutdown."""
    tasks = [
        asyncio.create_task(_loop(key, job, app), name=f"job:{key}")
        for key, job in app.state.registry.intake_jobs.items()
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
