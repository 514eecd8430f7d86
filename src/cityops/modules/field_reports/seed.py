"""Demo data: seven categories and a year of reports around Phan Thiết, Đà Lạt, Bảo Lộc.

The reports are generated in bulk by demo_year.py (each one's life follows the state machine,
with its history rows, due times and handling hours), then projected into the NGSI-LD hub.
Deterministic apart from the tracking-code suffixes (a fixed random seed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.auth.models import Agency, User
from cityops.core.auth.service import principal_for_user
from cityops.core.config import Settings, load_settings
from cityops.core.policy import Principal, system_principal
from cityops.modules.field_reports import rollup
from cityops.modules.field_reports.demo_data import CATEGORIES
from cityops.modules.field_reports.demo_year import DAYS, Who, Year, generate, places_of, routes_of
from cityops.modules.field_reports.events import take
from cityops.modules.field_reports.models import Category, CategoryAgency, Report
from cityops.modules.field_reports.projection import project_many
from cityops.modules.field_reports.runtime import Runtime

SYSTEM = system_principal("demo")


@dataclass
class Actors:
    """Who runs the demo's steps: the demo operator, the demo agency user, or the system."""

    operator: Principal
    by_agency: dict[int, Principal]

    def handler(self, agency_id: int | None) -> Principal:
        """Return the principal acting for an agency."""
        return self.by_agency.get(agency_id or 0, SYSTEM)


def _actors(session: Session) -> Actors:
    def user(name: str) -> User | None:
        return session.scalar(select(User).where(User.username == name))

    operator = user("vanhanh")
    staff = user("xaydung")
    by_agency = {}
    if staff is not None and staff.agency_id is not None:
        by_agency[staff.agency_id] = principal_for_user(session, staff)
    return Actors(principal_for_user(session, operator) if operator else SYSTEM, by_agency)


def seed_categories(session: Session) -> dict[str, Category]:
    """Create the demo categories with their agencies (skipping agencies that are missing)."""
    agencies = {a.code: a.id for a in session.scalars(select(Agency))}
    out = {}
    for spec in CATEGORIES:
        values = {
            k: v for k, v in spec.items() if k not in ("default_agency", "handlers", "weight")
        }
        category = Category(**values, default_agency_id=agencies.get(spec["default_agency"]))
        session.add(category)
        session.flush()
        for code in spec["handlers"]:
            if code in agencies:
                session.add(CategoryAgency(category_id=category.id, agency_id=agencies[code]))
        out[category.code] = category
    session.flush()
    return out


def _who(session: Session) -> Who:
    """Name the demo's actors as history rows name them."""

    def named(principal: Principal) -> tuple[str, str | None]:
        return principal.actor, principal.role.value if principal.role else None

    actors = _actors(session)
    handlers = {k: named(v) for k, v in actors.by_agency.items()}
    return Who(named(actors.operator), handlers, named(SYSTEM))


def seed_demo(session: Session, settings: Settings | None = None, days: int = DAYS) -> int:
    """Load the demo categories and a year of reports once; return how many reports were made."""
    if session.scalar(select(func.count()).select_from(Category)):
        return 0
    rt = Runtime.of(settings or load_settings(env="demo"))
    cats = list(seed_categories(session).values())
    places = places_of(session)
    if not places:
        return 0
    first = (session.scalar(select(func.max(Report.id))) or 0) + 1
    y = Year(rt, random.Random(68), cats, places, routes_of(session, cats, places), _who(session))
    y.next_id = first
    ids = generate(session, y, days)
    project_many(session, ids)
    session.flush()
    rollup.rebuild(session.connection(), rt.fr.utc_offset_hours)  # the bulk insert skipped it
    take(session)  # nobody listens to the demo's past events
    return session.scalar(select(func.count()).select_from(Report)) or 0
