"""A year of demo reports, generated in bulk: the life of each one follows the state machine.

About 15-25 reports a day over Lâm Đồng's towns (most in Phan Thiết and Đà Lạt), flooding
peaking in the rainy season (August-October), handling times in working hours against each
category's due time, ratings, overdue ones, rejections and merged duplicates. Rows and their
history are built in memory and inserted in bulk (a few seconds for ~7,000 reports); the
per-step audit entries of the live workflow are not written for this made-up past.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from cityops.core.auth.passwords import digest
from cityops.core.units.locate import locate
from cityops.modules.field_reports import codes, sla
from cityops.modules.field_reports.demo_data import CATEGORIES, PLACES, TEXTS, people
from cityops.modules.field_reports.models import Category, Follower, Report, StatusChange
from cityops.modules.field_reports.routing import route
from cityops.modules.field_reports.runtime import Runtime

DAYS = 365
DAILY = 17.0  # reports a day outside the flood season, weekdays
FLOOD_BY_MONTH = {5: 1.5, 6: 2.0, 7: 3.0, 8: 5.0, 9: 6.5, 10: 5.0, 11: 2.0}  # else 0.4 a day
PLACE_WEIGHTS = [30, 12, 26, 14, 18]  # Phan Thiết, Mũi Né, Xuân Hương, Lâm Viên, Bảo Lộc
CHUNK = 2000
OPTIONAL = (
    "reporter_email", "media_url", "open311_token", "agency_id", "status_note",
    "duplicate_of_id", "resolution", "verified_at", "assigned_at", "accepted_at",
    "resolved_at", "closed_at", "accept_due_at", "due_at", "handling_hours", "on_time",
    "rating", "rating_comment", "rated_at", "device_id",
)  # fmt: skip
WEIGHTS: dict[str, float] = {spec["code"]: spec["weight"] for spec in CATEGORIES}


@dataclass
class Who:
    """The actors named in history: operator, the handler of each agency, the system."""

    operator: tuple[str, str | None]
    handlers: dict[int, tuple[str, str | None]]
    system: tuple[str, str | None]

    def handler(self, agency_id: int | None) -> tuple[str, str | None]:
        """Return (actor, role) of whoever works for an agency in the demo."""
        return self.handlers.get(agency_id or 0, self.system)


@dataclass
class Life:
    """One report being played: its row, its history rows, and the clock."""

    row: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)

    def step(
        self, action: str, to: str, at: datetime, who: tuple[str, str | None], **kw: Any
    ) -> None:
        """Record a transition at `at` by `who` (with optional note and agency)."""
        self.steps.append(
            {
                "action": action,
                "from_status": self.row["status"] if self.steps else None,
                "to_status": to,
                "at": at,
                "actor": who[0],
                "actor_role": who[1],
                "agency_id": kw.get("agency_id", self.row.get("agency_id")),
                "note": kw.get("note"),
            }
        )
        self.row["status"], self.row["updated_at"] = to, at


@dataclass
class Year:
    """What the generator needs: categories, places with their units, routes, actors, clock."""

    rt: Runtime
    rng: random.Random
    cats: list[Category]
    places: list[tuple[dict[str, Any], int]]
    routes: dict[tuple[int, int], int | None]
    who: Who
    next_id: int = 1
    secret: str = field(default_factory=lambda: digest("demo"))


def places_of(session: Session) -> list[tuple[dict[str, Any], int]]:
    """Return each demo place with the unit containing its centre (skipping unmapped ones)."""
    out = []
    for place in PLACES:
        unit = locate(session, place["lat"], place["lon"]).unit
        if unit is not None:
            out.append((place, unit.id))
    return out


def routes_of(
    session: Session, cats: list[Category], places: list[tuple[dict[str, Any], int]]
) -> dict[tuple[int, int], int | None]:
    """Work out once where each category's reports from each place go."""
    out: dict[tuple[int, int], int | None] = {}
    for cat in cats:
        for _place, unit_id in places:
            agency = route(session, Report(unit_id=unit_id, category_id=cat.id), cat)
            out[(cat.id, unit_id)] = agency.id if agency else None
    return out


def daily_counts(rng: random.Random, rt: Runtime, days: int) -> Iterator[tuple[datetime, int, int]]:
    """Yield (local midnight, ordinary reports, flood reports) for each day of the period."""
    today = rt.now.astimezone(rt.calendar.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        weekend = 0.75 if day.isoweekday() >= 6 else 1.0
        rainy = 1.15 if 5 <= day.month <= 11 else 1.0
        ordinary = _poisson(rng, DAILY * weekend * rainy)
        yield day, ordinary, _poisson(rng, FLOOD_BY_MONTH.get(day.month, 0.4))


def _poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson count (normal approximation above 10)."""
    if mean > 10:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def new_row(y: Year, cat: Category, at: datetime) -> dict[str, Any]:
    """Make the row of a report received at `at` (not yet numbered)."""
    rng = y.rng
    place, unit_id = rng.choices(y.places, [PLACE_WEIGHTS[PLACES.index(p)] for p, _ in y.places])[0]
    street = rng.choice(place["streets"])
    name, phone = people(rng)
    answers = {
        a["code"]: rng.choice(a["values"])["key"]
        for a in cat.attributes or []
        if a.get("values") and a.get("required")
    }
    number, y.next_id = y.next_id, y.next_id + 1
    year = at.astimezone(y.rt.calendar.tz).year
    return {
        "id": number,
        "tracking_code": codes.make_code(year, number),
        "category_id": cat.id,
        "description": rng.choice(TEXTS[cat.code]).format(street=street, place=place["name"]),
        "lat": place["lat"] + rng.uniform(-0.006, 0.006),
        "lon": place["lon"] + rng.uniform(-0.006, 0.006),
        "address": f"{street}, {place['name']}",
        "unit_id": unit_id,
        "reporter_name": name,
        "reporter_phone": phone,
        "anonymous": rng.random() < 0.15,
        "secret_hash": y.secret,
        "source": rng.choices(["public", "staff", "open311"], [0.8, 0.12, 0.08])[0],
        "attributes": answers,
        "status": "received",
        "urgency": "normal",
        "created_at": at,
        "updated_at": at,
        "reopen_count": 0,
        "alerts_sent": [],
        "spam_score": 0,
        "spam_flagged": False,
    } | dict.fromkeys(OPTIONAL)


def play(y: Year, life: Life, cat: Category) -> None:
    """Play a report's life up to now: verify, route, accept, work, resolve, rate or close."""
    rt, rng, row = y.rt, y.rng, life.row
    life.step("submit", "received", row["created_at"], y.who.system)
    t = rt.calendar.add_hours(row["created_at"], rng.uniform(0.2, 6))
    recent = rt.now - row["created_at"] < timedelta(days=3)
    if rng.random() < 0.025:  # an advertisement: the spam score flags it
        row["description"] += " Liên hệ vay tiền nhanh: http://vaynhanh.example"
        row |= {"spam_score": 100, "spam_flagged": True, "source": "public"}
    if t > rt.now or (recent and rng.random() < 0.4):
        return  # still in the operators' queue
    if row["spam_flagged"] or rng.random() < 0.05:
        kind = "spam" if row["spam_flagged"] else "invalid"
        row["closed_at"] = t
        note = "Nội dung không đúng phản ánh" if kind == "invalid" else "Tin rác quảng cáo"
        life.step(f"mark_{kind}", kind, t, y.who.operator, note=note)
        return
    row["urgency"] = rng.choices(["normal", "urgent", "complex"], [0.8, 0.1, 0.1])[0]
    row["verified_at"] = t
    life.step("verify", "verified", t, y.who.operator)
    agency_id = y.routes.get((cat.id, row["unit_id"]))
    if agency_id is None:
        return
    _assign(y, life, cat, agency_id, t, "route")
    _handle(y, life, cat, t)


def _assign(y: Year, life: Life, cat: Category, agency_id: int, t: datetime, action: str) -> None:
    due = sla.due_times(y.rt, cat, life.row["urgency"], t)
    life.row |= {"agency_id": agency_id, "assigned_at": t, "accepted_at": None} | due
    note = "Tự động chuyển theo lĩnh vực và địa bàn (automatic routing)"
    life.step(action, "assigned", t, y.who.operator, note=note if action == "route" else None)


def _handle(y: Year, life: Life, cat: Category, t: datetime) -> None:
    rt, rng, row = y.rt, y.rng, life.row
    who = y.who.handler(row["agency_id"])
    t = rt.calendar.add_hours(t, rng.uniform(0.5, 9))
    if t > rt.now:
        return
    row["accepted_at"] = t
    life.step("accept", "accepted", t, who)
    t = rt.calendar.add_hours(t, rng.uniform(0.2, 4))
    if t > rt.now:
        return
    life.step("start", "in_progress", t, who)
    if rng.random() < 0.15 and rt.now - row["created_at"] < timedelta(days=45):
        return  # stuck with the agency: overdue on the dashboard
    allowed = rt.calendar.hours_between(t, row["due_at"]) if row.get("due_at") else 8
    factor = rng.uniform(1.05, 1.8) if rng.random() < 0.15 else rng.uniform(0.2, 0.95)
    t = rt.calendar.add_hours(t, max(0.3, factor * allowed))
    if t > rt.now:
        return
    handling = round(rt.calendar.hours_between(row["created_at"], t), 2)
    resolution = "Đã kiểm tra, xử lý xong tại hiện trường."
    row |= {"resolution": resolution, "resolved_at": t, "handling_hours": handling}
    row["on_time"] = row.get("due_at") is None or t <= row["due_at"]
    life.step("resolve", "resolved", t, who, note=resolution)
    _after(y, life, t)


def _after(y: Year, life: Life, t: datetime) -> None:
    """The reporter rates (most do), or the report closes itself after a week."""
    rng, row = y.rng, life.row
    when = t + timedelta(hours=rng.uniform(2, 72))
    reporter = ("anonymous", None)
    if rng.random() < 0.65 and when <= y.rt.now:
        rating = rng.choices([5, 4, 3, 2, 1], [0.42, 0.3, 0.14, 0.09, 0.05])[0]
        row |= {"rating": rating, "rated_at": when, "closed_at": when}
        life.step("rate", "closed", when, reporter)
        return
    closing = t + timedelta(days=y.rt.fr.auto_close_days)
    if closing <= y.rt.now:
        row["closed_at"] = closing
        note = f"Tự động đóng sau {y.rt.fr.auto_close_days} ngày (closed automatically)"
        life.step("auto_close", "closed", closing, y.who.system, note=note)


def _instant(y: Year, day: datetime) -> datetime:
    """Pick a time of day people report at (mostly 6:00-22:00 local)."""
    return day.replace(hour=y.rng.randint(6, 21), minute=y.rng.randint(0, 59))


def _status_at(life: Life, at: datetime) -> str | None:
    """Return a report's status at an instant of its history (None before it existed)."""
    status = None
    for step in life.steps:
        if step["at"] > at:
            break
        status = step["to_status"]
    return status


class Merger:
    """Makes a few reports duplicates of an open report of the same category and place."""

    OPEN = ("verified", "assigned", "accepted", "in_progress")

    def __init__(self, y: Year) -> None:
        self.y = y
        self.latest: dict[tuple[int, int], Life] = {}
        self.followers: list[dict[str, Any]] = []

    def offer(self, life: Life) -> None:
        """Merge this new report into a recent open one nearby (sometimes); else remember it."""
        row, y = life.row, self.y
        key = (row["category_id"], row["unit_id"])
        main = self.latest.get(key)
        t = y.rt.calendar.add_hours(row["created_at"], y.rng.uniform(0.2, 4))
        if (
            main is None
            or y.rng.random() > 0.08
            or t > y.rt.now
            or row["created_at"] - main.row["created_at"] > timedelta(hours=48)
            or _status_at(main, t) not in self.OPEN
        ):
            self.latest[key] = life
            return
        self._merge(life, main, t)

    def _merge(self, life: Life, main: Life, t: datetime) -> None:
        row, y = life.row, self.y
        row |= {"lat": main.row["lat"] + y.rng.uniform(-0.0003, 0.0003), "lon": main.row["lon"]}
        row |= {"duplicate_of_id": main.row["id"], "closed_at": t}
        del life.steps[1:]
        row["status"] = "received"
        for key in ("verified_at", "agency_id", "assigned_at", "accepted_at", "due_at"):
            row[key] = None
        row |= {"accept_due_at": None, "resolved_at": None, "handling_hours": None}
        row |= {"on_time": None, "rating": None, "rated_at": None, "resolution": None}
        note = f"Trùng với phản ánh {main.row['tracking_code']}"
        life.step("mark_duplicate", "duplicate", t, y.who.operator, note=note)
        status = _status_at(main, t) or "verified"
        main.steps.append(
            {
                "action": "merge",
                "from_status": status,
                "to_status": status,
                "at": t,
                "actor": y.who.operator[0],
                "actor_role": y.who.operator[1],
                "agency_id": main.row.get("agency_id"),
                "note": f"Gộp phản ánh trùng {row['tracking_code']} (merged duplicate)",
            }
        )
        self.followers.append(
            {
                "report_id": main.row["id"],
                "from_report_id": row["id"],
                "name": row["reporter_name"],
                "phone": row["reporter_phone"],
                "created_at": t,
            }
        )


def lives(y: Year, merger: Merger, days: int = DAYS) -> Iterator[Life]:
    """Yield every report of the period, played up to now, oldest first."""
    flood = next((c for c in y.cats if c.code == "PA-NGAP"), None)
    others = [c for c in y.cats if c is not flood]
    weights = [WEIGHTS.get(c.code, 1) for c in others]
    for day, ordinary, flooded in daily_counts(y.rng, y.rt, days):
        picks = y.rng.choices(others, weights, k=ordinary) + [flood] * (flooded if flood else 0)
        made = sorted(((_instant(y, day), c) for c in picks if c), key=lambda p: p[0])
        for at, cat in made:
            if at > y.rt.now:
                continue
            life = Life(new_row(y, cat, at))
            play(y, life, cat)
            merger.offer(life)
            yield life


def insert_rows(session: Session, batch: list[Life]) -> None:
    """Insert reports and their history in bulk (ids chosen by the generator)."""
    conn = session.connection()  # Core executemany: one statement for the whole batch
    conn.execute(insert(Report.__table__), [life.row for life in batch])
    steps = [s | {"report_id": life.row["id"]} for life in batch for s in life.steps]
    conn.execute(insert(StatusChange.__table__), steps)


def fix_sequences(session: Session) -> None:
    """Move PostgreSQL's id sequences past the ids the bulk insert chose."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("fr_reports", "fr_status_changes", "fr_followers"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )


def generate(session: Session, y: Year, days: int = DAYS) -> list[int]:
    """Generate and insert the year's reports; return the ids of those still live.

    Live: not finished, or finished within the last two weeks; only these are projected into
    the NGSI-LD hub by the seed (projecting each entity takes milliseconds; the live system
    projects every report as it changes).
    """
    merger = Merger(y)
    made = list(lives(y, merger, days))  # merges add steps to earlier reports: insert after
    for i in range(0, len(made), CHUNK):
        insert_rows(session, made[i : i + CHUNK])
    if merger.followers:
        session.connection().execute(insert(Follower.__table__), merger.followers)
    fix_sequences(session)
    recent = y.rt.now - timedelta(days=14)
    return [
        life.row["id"]
        for life in made
        if life.row["closed_at"] is None or life.row["closed_at"] >= recent
    ]
