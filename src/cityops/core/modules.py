"""The module contract: a manifest, a setup(ctx) hook, and the registry modules fill.

A sector module is a package exposing `MANIFEST = ModuleManifest(...)`. Built-in modules live
in `cityops.modules.<name>`; third-party ones are named in CITYOPS_MODULES__EXTRA. The core
never imports a module by name: it discovers them here.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from cityops.core.bus import Event, EventBus
from cityops.core.policy import Principal

if TYPE_CHECKING:
    from cityops.core.config import Settings
    from cityops.core.db import Database

log = logging.getLogger("cityops.modules")

BUILTIN_PACKAGE = "cityops.modules"


@dataclass(frozen=True)
class KpiDescription:
    """A KPI as data: the dashboard shows every registered one without code changes."""

    key: str
    title_vi: str
    title_en: str
    unit: str
    value_fn: Callable[[Session, Principal], float | int | None]
    higher_is_better: bool = True


@dataclass(frozen=True)
class IntakeJob:
    """A periodic poller/importer for one source; run by the core's scheduler."""

    key: str
    interval_s: float
    run: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class RuleAction:
    """Something an alert rule may do (e.g. 'open a field report'), offered by a module."""

    key: str
    title_vi: str
    title_en: str
    run: Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class WidgetDescription:
    """A dashboard widget a module offers: which component shows which data URL."""

    key: str
    title_vi: str
    title_en: str
    component: str
    data_url: str


@dataclass(frozen=True)
class ModuleManifest:
    """What a module says about itself."""

    name: str
    title_vi: str
    title_en: str
    setup: Callable[[ModuleContext], None]
    description: str = ""
    seed_demo: Callable[[Session], None] | None = None


@dataclass
class Registry:
    """Everything the enabled modules registered."""

    modules: dict[str, ModuleManifest] = field(default_factory=dict)
    routers: list[APIRouter] = field(default_factory=list)
    kpis: dict[str, KpiDescription] = field(default_factory=dict)
    intake_jobs: dict[str, IntakeJob] = field(default_factory=dict)
    rule_actions: dict[str, RuleAction] = field(default_factory=dict)
    widgets: dict[str, WidgetDescription] = field(default_factory=dict)
    events: dict[str, type[Event]] = field(default_factory=dict)


class ModuleContext:
    """What `setup(ctx)` receives: the shared services and the registration calls."""

    def __init__(
        self, module: str, registry: Registry, settings: Settings, db: Database, bus: EventBus
    ) -> None:
        self.module = module
        self.settings = settings
        self.db = db
        self.bus = bus
        self._registry = registry

    def _key(self, kind: str, key: str, existing: dict[str, Any]) -> str:
        full = key if key.startswith(f"{self.module}.") else f"{self.module}.{key}"
        if full in existing:
            raise ValueError(f"{kind} {full!r} registered twice")
        return full

    def add_router(self, router: APIRouter) -> None:
        """Mount an APIRouter (its prefix should be /api/<module>)."""
        self._registry.routers.append(router)

    def add_kpi(self, kpi: KpiDescription) -> None:
        """Register a KPI for the dashboard and the leaders' view."""
        key = self._key("KPI", kpi.key, self._registry.kpis)
        self._registry.kpis[key] = kpi

    def add_intake_job(self, job: IntakeJob) -> None:
        """Register a periodic intake job."""
        key = self._key("intake job", job.key, self._registry.intake_jobs)
        self._registry.intake_jobs[key] = job

    def add_rule_action(self, action: RuleAction) -> None:
        """Register an action that alert rules may trigger."""
        key = self._key("rule action", action.key, self._registry.rule_actions)
        self._registry.rule_actions[key] = action

    def add_widget(self, widget: WidgetDescription) -> None:
        """Register a dashboard widget."""
        key = self._key("widget", widget.key, self._registry.widgets)
        self._registry.widgets[key] = widget

    def add_event(self, event_type: type[Event]) -> None:
        """Declare an event type this module publishes (name must start with the module's)."""
        if not event_type.name.startswith(f"{self.module}."):
            raise ValueError(f"event {event_type.name!r} must be named '{self.module}.<what>'")
        self._registry.events[event_type.name] = event_type


def discover(extra: list[str] | None = None) -> dict[str, ModuleManifest]:
    """Find every installed module: built-in subpackages plus the extra import paths."""
    found: dict[str, ModuleManifest] = {}
    package = importlib.import_module(BUILTIN_PACKAGE)
    paths = [
        f"{BUILTIN_PACKAGE}.{m.name}" for m in pkgutil.iter_modules(package.__path__) if m.ispkg
    ]
    for path in [*paths, *(extra or [])]:
        mod = importlib.import_module(path)
        manifest = getattr(mod, "MANIFEST", None)
        if not isinstance(manifest, ModuleManifest):
            raise ValueError(f"module package {path!r} has no MANIFEST = ModuleManifest(...)")
        if manifest.name in found:
            raise ValueError(f"two modules are named {manifest.name!r}")
        found[manifest.name] = manifest
    return found


def enabled_manifests(settings: Settings) -> dict[str, ModuleManifest]:
    """Discover modules and keep the ones the settings enable (sorted by name)."""
    available = discover(settings.modules.extra)
    wanted = settings.modules.enabled
    unknown = [n for n in [*(wanted or []), *settings.modules.disabled] if n not in available]
    if unknown:
        raise ValueError(
            f"CITYOPS_MODULES__ENABLED/DISABLED name unknown module(s) {unknown}; "
            f"installed: {sorted(available)}"
        )
    return {
        name: manifest
        for name, manifest in sorted(available.items())
        if (wanted is None or name in wanted) and name not in settings.modules.disabled
    }


def load_modules(settings: Settings, db: Database, bus: EventBus) -> Registry:
    """Run the enabled modules' setup into a fresh registry."""
    registry = Registry()
    for name, manifest in enabled_manifests(settings).items():
        manifest.setup(ModuleContext(name, registry, settings, db, bus))
        registry.modules[name] = manifest
        log.info("module %s enabled", name, extra={"cityops_module": name})
    return registry
