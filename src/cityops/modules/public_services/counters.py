"""The one-stop counters for a period, a unit and an agency, read from the kept counts.

received       dossiers received in the period
carried_over   received before the period and not finished before it
to_process     received + carried_over
processed      finished in the period: early (an earlier day than due), on time, late
in_progress    to_process - processed, split at `as_of` (the period's end, or now) into
               late (past due), near-late (due within the near-due window), not yet due
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, defer

from cityops.core.auth.models import Agency
from cityops.core.config import PublicServicesSettings
from cityops.core.errors import InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize
from cityops.core.units.models import Unit
from cityops.modules.indicators.periods import Frequency, parse
from cityops.modules.public_services.clock import add_working_days, day_start, local_tz
from cityops.modules.public_services.models import Dossier, MonthCount
from cityops.modules.public_services.schemas import Counters
from cityops.modules.public_services.summary import COUNT_METRICS

_MONTHS = {Frequency.monthly: 1, Frequency.quarterly: 3, Frequency.yearly: 12}


@dataclass(frozen=True)
class Window:
    """A reporting period as local days [first, after) and UTC instants [start, end)."""

    label: str
    first: date
    after: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Where:
    """Whose dossiers to count: a unit's subtree (its unit ids), optionally one agency."""

    unit: Unit
    unit_ids: list[int]
    agency: Agency | None


def window(period: str, tz: tzinfo) -> Window:
    """Turn '2026', '2026-Q3' or '2026-10' into its local days and UTC bounds."""
    p = parse(period)
    months = _MONTHS[p.frequency]
    first_month = p.last_month - months + 1
    first = date(p.year, first_month, 1)
    after = date(p.year + 1, 1, 1) if p.last_month == 12 else date(p.year, p.last_month + 1, 1)
    return Window(str(p), first, after, day_start(first, tz), day_start(after, tz))


def home_unit(session: Session, principal: Principal, unit_code: str | None) -> Unit:
    """Return the unit asked for, else the caller's, else the root; checked in scope."""
    query = select(Unit).options(defer(Unit.geometry))  # polygons are large and unused here
    if unit_code:
        query = query.where(Unit.code == unit_code)
    elif principal.unit_id is not None:
        query = query.where(Unit.id == principal.unit_id)
    else:
        query = query.where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1)
    unit = session.scalar(query)
    if unit is None:
        raise NotFound(f"No unit {unit_code!r}", code="unknown_unit")
    authorize(principal, Perm.data_read, unit.path)
    return unit


def where(
    session: Session, principal: Principal, unit_code: str | None, agency_code: str | None
) -> Where:
    """Resolve the unit (the caller's by default, checked in scope) and the agency."""
    unit = home_unit(session, principal, unit_code)
    ids = list(session.scalars(select(Unit.id).where(Unit.path.startswith(unit.path))))
    agency = None
    if agency_code:
        agency = session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise NotFound(f"No agency {agency_code!r}", code="unknown_agency")
    return Where(unit, ids, agency)


def _sums(session: Session, w: Where, first: date | None, after: date) -> dict[str, int]:
    """Sum the monthly counts of the scope over the months in [first, after)."""
    cols = [func.coalesce(func.sum(getattr(MonthCount, m)), 0) for m in COUNT_METRICS]
    query = select(*cols).where(MonthCount.month < after, MonthCount.unit_id.in_(w.unit_ids))
    if first is not None:
        query = query.where(MonthCount.month >= first)
    if w.agency is not None:
        query = query.where(MonthCount.agency_id == w.agency.id)
    row = session.execute(query).one()
    return {m: int(v) for m, v in zip(COUNT_METRICS, row, strict=True)}


def _open_split(session: Session, w: Where, as_of: datetime, near: datetime) -> tuple[int, int]:
    """Count dossiers in progress at `as_of` that are late, and near-late (due before `near`)."""
    was_received = Dossier.received_at < as_of
    late_now = and_(was_received, Dossier.due_at < as_of)
    soon = and_(was_received, Dossier.due_at >= as_of, Dossier.due_at < near)
    late = func.coalesce(func.sum(case((late_now, 1), else_=0)), 0)
    near_late = func.coalesce(func.sum(case((soon, 1), else_=0)), 0)
    # Open dossiers: only the columns of the partial index on the open ones, so it covers the
    # query. Finished after as_of: through the finished-time index ("+ 0" keeps SQLite off the
    # unit index, which would read every dossier of the units).
    still_open = [Dossier.finished_at.is_(None), Dossier.unit_id.in_(w.unit_ids)]
    finished_later = [Dossier.finished_at >= as_of, (Dossier.unit_id + 0).in_(w.unit_ids)]
    agency = [Dossier.agency_id == w.agency.id] if w.agency is not None else []
    totals = [0, 0]
    for state in (still_open, finished_later):
        row = session.execute(select(late, near_late).where(*state, *agency)).one()
        totals = [totals[0] + int(row[0]), totals[1] + int(row[1])]
    return totals[0], totals[1]


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _rates(inside: dict[str, int]) -> dict[str, float | None]:
    """Return the period's rates (%) and average processing time (days)."""
    done = inside["finished"]
    return {
        "on_time_rate": _rate(inside["finished_early"] + inside["finished_on_time"], done),
        "online_rate": _rate(inside["received_online"], inside["received"]),
        "online_payment_rate": _rate(inside["paid_online"], inside["with_fee"]),
        "returned_rate": _rate(inside["returned"], inside["received"]),
        "additional_request_rate": _rate(inside["additional"], inside["received"]),
        "digitised_rate": _rate(inside["digitised"], inside["received"]),
        "average_processing_days": (
            round(inside["processing_s"] / done / 86400, 2) if done else None
        ),
    }


def counters(
    session: Session,
    principal: Principal,
    settings: PublicServicesSettings,
    now: datetime,
    period: str | None = None,
    unit_code: str | None = None,
    agency_code: str | None = None,
) -> Counters:
    """Count dossiers the way one-stop offices do, for a period (default: this year)."""
    tz = local_tz(settings)
    win = window(period or str(now.astimezone(tz).year), tz)
    if win.start > now:
        raise InvalidInput(f"The period {win.label} has not begun", code="future_period")
    w = where(session, principal, unit_code, agency_code)
    before = _sums(session, w, None, win.first)
    inside = _sums(session, w, win.first, win.after)
    carried = before["received"] - before["finished"]
    to_process = inside["received"] + carried
    in_progress = to_process - inside["finished"]
    as_of = min(win.end, now)
    late, near = _open_split(
        session, w, as_of, add_working_days(as_of, settings.near_due_working_days, tz)
    )
    return Counters(
        period=win.label,
        unit_code=w.unit.code,
        agency_code=w.agency.code if w.agency else None,
        as_of=as_of,
        received=inside["received"],
        carried_over=carried,
        to_process=to_process,
        in_progress=in_progress,
        in_progress_late=late,
        in_progress_near_late=near,
        in_progress_not_due=in_progress - late - near,
        processed=inside["finished"],
        processed_early=inside["finished_early"],
        processed_on_time=inside["finished_on_time"],
        processed_late=inside["finished_late"],
        **_rates(inside),
    )
