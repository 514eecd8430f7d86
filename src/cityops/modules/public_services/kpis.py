"""KPIs of public services, as data: this year's figures for the caller's unit."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from cityops.core.config import PublicServicesSettings
from cityops.core.db import utcnow
from cityops.core.errors import CityOpsError
from cityops.core.modules import KpiDescription
from cityops.core.policy import Principal
from cityops.modules.public_services.counters import counters

Value = Callable[[Session, Principal], float | int | None]

# counter field (also the KPI key), title_vi, title_en, unit; rates: higher is better
FIGURES = (
    ("on_time_rate", "Tỉ lệ hồ sơ giải quyết đúng hạn", "Dossiers processed on time", "%"),
    ("in_progress_near_late", "Hồ sơ sắp đến hạn", "Dossiers near-late", "count"),
    ("in_progress_late", "Hồ sơ đang giải quyết quá hạn", "Dossiers in progress, late", "count"),
    ("online_rate", "Tỉ lệ hồ sơ nộp trực tuyến", "Dossiers submitted online", "%"),
)


def _figure(settings: PublicServicesSettings, name: str) -> Value:
    def value(session: Session, principal: Principal) -> float | int | None:
        try:
            found = counters(session, principal, settings, utcnow())
        except CityOpsError:
            return None
        return getattr(found, name)

    value.__doc__ = f"This year's {name} for the caller's unit."
    return value


def make_kpis(settings: PublicServicesSettings) -> tuple[KpiDescription, ...]:
    """Return the module's KPIs, bound to the instance's settings."""
    return tuple(
        KpiDescription(key, vi, en, unit, _figure(settings, key), unit == "%")
        for key, vi, en, unit in FIGURES
    )
