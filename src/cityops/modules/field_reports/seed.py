"""Demo data: seven categories and a few hundred reports around Phan Thiết, Đà Lạt, Bảo Lộc.

Every report goes through the real workflow at the time each step happened (a frozen clock
per step), so history, audit, due times, handling hours and the NGSI-LD projection are what
the live system would have produced. Deterministic (a fixed random seed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.auth.models import Agency, User
from cityops.core.auth.service import principal_for_user
from cityops.core.config import Settings, load_settings
from cityops.core.policy import Principal, system_principal
from cityops.modules.field_reports import workflow
from cityops.modules.field_reports.demo_data import CATEGORIES, PLACES, TEXTS, people
from cityops.modules.field_reports.events import take
from cityops.modules.field_reports.models import Category, CategoryAgency, Report
from cityops.modules.field_reports.projection import deferred
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.schemas import ReportCreate
from cityops.modules.field_reports.service import OutsideTerritory, create_report

REPORTS = 320
DAYS = 120
SYSTEM = system_principal("demo")
WEIGHTS = {spec["code"]: spec["weight"] for spec in CATEGORIES}


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


def _input(rng: random.Random, category: Category) -> ReportCreate:
    place = rng.choice(PLACES)
    street = rng.choice(place["streets"])
    text = rng.choice(TEXTS[category.code]).format(street=street, place=place["name"])
    name, phone = people(rng)
    answers = {
        a["code"]: rng.choice(a["values"])["key"]
        for a in category.attributes or []
        if a.get("values") and a.get("required")
    }
    return ReportCreate(
        category_code=category.code,
        description=text,
        lat=place["lat"] + rng.uniform(-0.015, 0.015),
        lon=place["lon"] + rng.uniform(-0.015, 0.015),
        address=f"{street}, {place['name']}",
        attributes=answers,
        reporter_name=name,
        reporter_phone=phone,
        anonymous=rng.random() < 0.15,
    )


def _step(rt: Runtime, start: datetime, rng: random.Random, low: float, high: float) -> Runtime:
    """Move the clock `low`-`high` working hours after `start`."""
    return rt.at(rt.calendar.add_hours(start, rng.uniform(low, high)))


def _life(
    session: Session, rt: Runtime, rng: random.Random, actors: Actors, report: Report
) -> None:
    """Play a report's life up to the present: verify, route, accept, work, resolve, rate."""
    now, cat = rt.now, session.get(Category, report.category_id)
    assert cat is not None
    t = _step(rt, report.created_at, rng, 0.2, 6)
    if t.now > now or (now - report.created_at < timedelta(days=3) and rng.random() < 0.4):
        return  # still waiting in the operators' queue
    if rng.random() < 0.07:
        kind = rng.choice(["invalid", "spam", "duplicate"])
        kind = "invalid" if kind == "duplicate" else kind
        workflow.reject(session, t, actors.operator, report, kind, "Nội dung không đúng phản ánh")
        return
    urgency = rng.choices(["normal", "urgent", "complex"], [0.8, 0.1, 0.1])[0]
    workflow.verify(session, t, actors.operator, report, urgency=urgency)
    if report.agency_id is None:
        return
    _handle(session, t, rng, actors, report, now)


def _handle(
    session: Session, t: Runtime, rng: random.Random, actors: Actors, report: Report, now: datetime
) -> None:
    handler = actors.handler(report.agency_id)
    t = _step(t, t.now, rng, 0.5, 9)
    if t.now > now:
        return
    if rng.random() < 0.04:
        workflow.give_back(session, t, handler, report, "Không thuộc thẩm quyền của đơn vị")
        t = _step(t, t.now, rng, 0.5, 4)
        if t.now > now:
            return
        workflow.assign(session, t, actors.operator, report, "SXD-LD", "Chuyển Sở Xây dựng xử lý")
        handler = actors.handler(report.agency_id)
        t = _step(t, t.now, rng, 0.5, 6)
        if t.now > now:
            return
    workflow.accept(session, t, handler, report, None)
    t = _step(t, t.now, rng, 0.2, 4)
    if t.now > now:
        return
    workflow.start(session, t, handler, report, None)
    if rng.random() < 0.05:
        return  # stuck with the agency: overdue on the dashboard
    allowed = t.calendar.hours_between(t.now, report.due_at) if report.due_at else 8
    late = rng.random() < 0.15
    factor = rng.uniform(1.05, 1.8) if late else rng.uniform(0.2, 0.95)
    t = t.at(t.calendar.add_hours(t.now, max(0.3, factor * allowed)))
    if t.now > now:
        return
    workflow.resolve(session, t, handler, report, "Đã kiểm tra, xử lý xong tại hiện trường.")
    _after(session, t, rng, report, now)


def _after(session: Session, t: Runtime, rng: random.Random, report: Report, now: datetime) -> None:
    """The reporter rates (most do), or the report closes itself after a week."""
    reporter = Principal(kind="anonymous", name=f"reporter:{report.tracking_code}")
    when = t.now + timedelta(hours=rng.uniform(2, 72))
    if rng.random() < 0.65 and when <= now:
        rating = rng.choices([5, 4, 3, 2, 1], [0.42, 0.3, 0.14, 0.09, 0.05])[0]
        workflow.rate(session, t.at(when), reporter, report, rating, None)
        return
    closing = t.now + timedelta(days=t.fr.auto_close_days)
    if closing <= now:
        workflow.auto_close(session, t.at(closing), SYSTEM, report)


def _created_at(rng: random.Random, rt: Runtime) -> datetime:
    day = rt.now - timedelta(days=rng.uniform(0, DAYS))
    local = day.astimezone(rt.calendar.tz)
    return local.replace(hour=rng.randint(6, 21), minute=rng.randint(0, 59))


def _one(
    session: Session, rt: Runtime, rng: random.Random, actors: Actors, cats: list[Category]
) -> None:
    category = rng.choices(cats, [WEIGHTS[c.code] for c in cats])[0]
    at = min(_created_at(rng, rt), rt.now)
    for _ in range(5):
        try:
            with session.begin_nested():
                report, _ = create_report(
                    session, rt.at(at), SYSTEM, _input(rng, category), "public"
                )
            break
        except OutsideTerritory:
            continue  # the jitter fell into the sea: try another point
    else:
        return
    _life(session, rt, rng, actors, report)


def seed_demo(session: Session, settings: Settings | None = None, count: int = REPORTS) -> int:
    """Load the demo categories and reports once; return how many reports were made."""
    if session.scalar(select(func.count()).select_from(Category)):
        return 0
    rt = Runtime.of(settings or load_settings(env="demo"))
    cats = list(seed_categories(session).values())
    rng, actors = random.Random(68), _actors(session)
    with deferred(session):
        for _ in range(count):
            _one(session, rt, rng, actors, cats)
    take(session)  # nobody listens to the demo's past events
    return session.scalar(select(func.count()).select_from(Report)) or 0
