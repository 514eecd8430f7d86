"""Read views: dossiers in scope, those about to be late, per-procedure figures, the 766 index."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.auth.models import Agency
from cityops.core.config import PublicServicesSettings
from cityops.core.policy import Principal, scope_filter
from cityops.core.units.models import Unit
from cityops.modules.indicators.aggregate import standing
from cityops.modules.indicators.models import Indicator
from cityops.modules.indicators.periods import parse
from cityops.modules.public_services.choices import INDEX_GROUPS
from cityops.modules.public_services.clock import add_working_days, local_tz
from cityops.modules.public_services.counters import counters, where, window
from cityops.modules.public_services.models import Dossier, Procedure, ProcedureMonth
from cityops.modules.public_services.schemas import (
    Counters,
    DossierList,
    DossierPublic,
    Index766,
    IndexGroupScore,
    NearDueItem,
    NearDueList,
    ProcedureStat,
    ProcedureStats,
)

INDEX_NOTE = (
    "Điểm theo nhóm = điểm tối đa x tỉ lệ (ước tính của CityOps; công thức chi tiết của QĐ "
    "766/QĐ-TTg chưa được đối chiếu). Group score = points x rate (CityOps' approximation; the "
    "decision's detailed formulas are not confirmed)."
)


def _public(d: Dossier, p: Procedure, a: Agency, u: Unit) -> DossierPublic:
    """Show a stored dossier with its procedure, agency and unit."""
    return DossierPublic(
        source=d.source,
        external_id=d.external_id,
        procedure_code=p.code,
        procedure_name=p.name,
        agency_code=a.code,
        agency_name=a.name,
        unit_code=u.code,
        unit_name=u.name,
        received_at=d.received_at,
        due_at=d.due_at,
        finished_at=d.finished_at,
        channel=d.channel,
        status=d.status,
        fee_vnd=d.fee_vnd,
        online_payment=d.online_payment,
        returned=d.returned,
        additional_request=d.additional_request,
        digitised=d.digitised,
        updated_at=d.updated_at,
    )


def list_dossiers(
    session: Session,
    principal: Principal,
    unit_code: str | None = None,
    status: str | None = None,
    external_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DossierList:
    """Return dossiers in the caller's scope, newest first."""
    query = (
        select(Dossier, Procedure, Agency, Unit)
        .join(Procedure, Procedure.id == Dossier.procedure_id)
        .join(Agency, Agency.id == Dossier.agency_id)
        .join(Unit, Unit.id == Dossier.unit_id)
        .where(scope_filter(principal, Unit.path))
    )
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if status:
        query = query.where(Dossier.status == status)
    if external_id:
        query = query.where(Dossier.external_id == external_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Dossier.received_at.desc(), Dossier.id.desc()).limit(limit).offset(offset)
    )
    items = [_public(*row) for row in rows]
    return DossierList(items=items, total=total)


def near_due(
    session: Session,
    principal: Principal,
    settings: PublicServicesSettings,
    now: datetime,
    unit_code: str | None = None,
    agency_code: str | None = None,
    limit: int = 100,
) -> NearDueList:
    """Return dossiers in progress that are late or due within the near-due window."""
    w = where(session, principal, unit_code, agency_code)
    limit_at = add_working_days(now, settings.near_due_working_days, local_tz(settings))
    query = (
        select(Dossier, Procedure.code, Procedure.name, Agency.code, Unit.code)
        .join(Procedure, Procedure.id == Dossier.procedure_id)
        .join(Agency, Agency.id == Dossier.agency_id)
        .join(Unit, Unit.id == Dossier.unit_id)
        .where(
            Dossier.finished_at.is_(None),
            Dossier.due_at < limit_at,
            Dossier.unit_id.in_(w.unit_ids),
        )
    )
    if w.agency is not None:
        query = query.where(Dossier.agency_id == w.agency.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = []
    for d, pcode, pname, acode, ucode in session.execute(
        query.order_by(Dossier.due_at).limit(limit)
    ):
        due = d.due_at
        items.append(
            NearDueItem(
                source=d.source,
                external_id=d.external_id,
                procedure_code=pcode,
                procedure_name=pname,
                agency_code=acode,
                unit_code=ucode,
                received_at=d.received_at,
                due_at=due,
                late=due < now,
                hours_left=round((due - now).total_seconds() / 3600, 1),
            )
        )
    return NearDueList(items=items, total=total)


def procedure_stats(
    session: Session,
    principal: Principal,
    settings: PublicServicesSettings,
    period: str,
    unit_code: str | None = None,
    limit: int = 50,
) -> ProcedureStats:
    """Return per-procedure processed counts, on-time rate and time, slowest first."""
    win = window(period, local_tz(settings))
    w = where(session, principal, unit_code, None)
    finished = func.sum(ProcedureMonth.finished)
    seconds = func.sum(ProcedureMonth.processing_s)
    query = (
        select(Procedure, finished, func.sum(ProcedureMonth.finished_late), seconds)
        .join(Procedure, Procedure.id == ProcedureMonth.procedure_id)
        .where(
            ProcedureMonth.month >= win.first,
            ProcedureMonth.month < win.after,
            ProcedureMonth.unit_id.in_(w.unit_ids),
        )
        .group_by(Procedure.id)
        .having(finished > 0)
        .order_by((seconds / finished).desc())
        .limit(limit)
    )
    items = []
    for proc, done, late, secs in session.execute(query):
        items.append(
            ProcedureStat(
                procedure_code=proc.code,
                procedure_name=proc.name,
                field=proc.field,
                processed=int(done),
                processed_late=int(late),
                on_time_rate=round(100.0 * (done - late) / done, 2),
                average_processing_days=round(secs / done / 86400, 2),
            )
        )
    return ProcedureStats(period=win.label, unit_code=w.unit.code, items=items)


def _entered_rate(session: Session, code: str, unit: Unit, months: list[str]) -> float | None:
    """Return the latest % an engine indicator holds for the unit within the months."""
    indicator = session.scalar(select(Indicator).where(Indicator.code == code))
    if indicator is None:
        return None
    for month in reversed(months):
        value = standing(session, indicator, unit, parse(month)).value
        if value is not None:
            return max(0.0, min(100.0, value))
    return None


def _months(first: date, last: datetime, tz: tzinfo) -> list[str]:
    """List the months 'YYYY-MM' from `first` to the month of the instant before `last`."""
    end = (last - timedelta(microseconds=1)).astimezone(tz).date()
    out, year, month = [], first.year, first.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def index766(
    session: Session,
    principal: Principal,
    settings: PublicServicesSettings,
    now: datetime,
    period: str | None = None,
    unit_code: str | None = None,
) -> Index766:
    """Score the Decision 766 groups: from dossiers where they can be, else from the engine."""
    c: Counters = counters(session, principal, settings, now, period, unit_code)
    unit = where(session, principal, c.unit_code, None).unit
    tz = local_tz(settings)
    months = _months(window(c.period, tz).first, c.as_of, tz)
    computed = {
        "progress": c.on_time_rate,
        "online": c.online_rate,
        "payment": c.online_payment_rate,
        "digitisation": c.digitised_rate,
    }
    groups = []
    for g in INDEX_GROUPS:
        if g.source == "dossiers":
            rate = computed[g.key]
        else:
            rate = _entered_rate(session, g.source, unit, months)
        score = None if rate is None else round(g.points * rate / 100, 2)
        groups.append(
            IndexGroupScore(
                key=g.key,
                label_vi=g.label_vi,
                label_en=g.label_en,
                points=g.points,
                rate=rate,
                score=score,
                source=g.source,
            )
        )
    scored = [g for g in groups if g.score is not None]
    return Index766(
        period=c.period,
        unit_code=c.unit_code,
        groups=groups,
        total=round(sum(g.score or 0 for g in scored), 2) if scored else None,
        scored_points=sum(g.points for g in scored),
        note=INDEX_NOTE,
    )
