"""create_app(settings) -> FastAPI: the core routers plus every enabled module."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from cityops import __version__, intake, web
from cityops import context as context_hub
from cityops.alerts import cap, incidents, notify
from cityops.alerts import install as install_alerts
from cityops.core.audit_routes import router as audit_router
from cityops.core.auth import passwords
from cityops.core.auth.people_routes import router as people_router
from cityops.core.auth.routes import router as auth_router
from cityops.core.bus import InProcessBus
from cityops.core.config import Settings, get_settings
from cityops.core.db import Database
from cityops.core.errors import install_error_handlers
from cityops.core.modules import load_modules
from cityops.core.modules_routes import router as modules_router
from cityops.core.ops import install_ops, setup_logging
from cityops.core.scheduler import run_jobs
from cityops.core.units.public_routes import router as units_public_router
from cityops.core.units.routes import router as units_router

log = logging.getLogger("cityops")

DESCRIPTION = """
**CityOps** — open intelligent operations center (IOC) for a province and its lower
administrative levels. *Trung tâm giám sát, điều hành đô thị thông minh mã nguồn mở.*

Authenticate with a bearer token (`POST /api/auth/token`, or the Authorize button here) or
with an API key in the `X-API-Key` header (`cityops create-api-key`). Errors are
`{"detail": ..., "code": ...}` with a stable `code`.
"""


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the application: settings, database, bus, core routes, enabled modules."""
    settings = settings or get_settings()
    setup_logging(settings)
    passwords.configure(settings.secret_key)
    db = db or Database(
        settings.database_url, echo=settings.db_echo, sqlite_cache_mb=settings.sqlite_cache_mb
    )
    bus = InProcessBus()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("CityOps %s starting (env=%s, db=%s)", __version__, settings.env, db.dialect)
        async with AsyncExitStack() as stack:
            stack.enter_context(db.background_checkpoints())
            # background services (notifiers, intake, schedulers) run while the app serves
            for hook in app.state.lifespan_hooks:
                await stack.enter_async_context(hook(app))
            yield
        await bus.close()

    app = FastAPI(
        title="CityOps API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        # CityOps reports on /metrics (Prometheus) and ships no OpenTelemetry SDK, so FastAPI's
        # native telemetry could never export; off, it no longer looks up the global providers
        # on every request (~1.5% of serving a small NGSI-LD query)
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    # factories of async context managers entered at start-up and left at shutdown
    app.state.lifespan_hooks = []
    app.state.db = db
    app.state.bus = bus
    install_error_handlers(app)
    install_ops(app)
    # machine traffic first (routes match in order): NGSI-LD and device intake
    context_hub.install(app)
    intake.install(app)
    for router in (
        auth_router,
        people_router,
        units_public_router,  # before /api/units/{code}
        units_router,
        audit_router,
        modules_router,
    ):
        app.include_router(router)
    registry = load_modules(settings, db, bus)
    app.state.registry = registry
    app.state.lifespan_hooks.append(run_jobs)
    for router in registry.routers:
        app.include_router(router)
    # before install_alerts: /api/alerts/{id}/promote and /publish-cap must win over its
    # POST /api/alerts/{id}/{action}
    notify.install(app)  # notifications: feed, preferences, webhooks, delivery worker
    incidents.install(app)  # after the registry: adds its KPIs and events to it
    cap.install(app)  # CAP 1.2 feed of public alerts
    install_alerts(app)  # alert rules, the rule engine and the alert lifecycle
    web.install(app)  # last: its fallback serves the client routes no API route took
    return app
