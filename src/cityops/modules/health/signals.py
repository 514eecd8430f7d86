"""Reading outbreak signals, in the caller's scope."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.policy import Principal, scope_filter
from cityops.core.units.models import Unit
from cityops.modules.health.choices import DISEASES
from cityops.modules.health.models import Signal
from cityops.modules.health.schemas import SignalPublic
from cityops.modules.health.weeks import week_label

RECENT_WEEKS = 4


def list_signals(
    session: Session, principal: Principal, disease: str | None, since: date | None
) -> list[SignalPublic]:
    """Return signals in the caller's scope, newest week first."""
    query = (
        select(Signal, Unit)
        .join(Unit, Unit.id == Signal.unit_id)
        .where(scope_filter(principal, Unit.path))
        .order_by(Signal.week_start.desc(), Unit.code, Signal.disease)
    )
    if disease:
        query = query.where(Signal.disease == disease)
    if since:
        query = query.where(Signal.week_start >= since)
    out = []
    for s, u in session.execute(query):
        choice = DISEASES[s.disease]
        out.append(
            SignalPublic(
                id=s.id,
                disease=s.disease,
                disease_vi=choice.label_vi,
                disease_en=choice.label_en,
                unit_code=u.code,
                unit_name=u.name,
                week=week_label(s.week_start),
                week_start=s.week_start,
                cases=s.cases,
                baseline_mean=s.baseline_mean,
                c1=s.c1,
                c2=s.c2,
                c3=s.c3,
                methods=s.methods.split(","),
                raised_at=s.raised_at,
            )
        )
    return out


def communes_with_signals(session: Session, principal: Principal, today: date) -> int:
    """Count communes in scope with a signal in the last RECENT_WEEKS weeks."""
    since = today - timedelta(weeks=RECENT_WEEKS)
    return (
        session.scalar(
            select(func.count(func.distinct(Signal.unit_id)))
            .join(Unit, Unit.id == Signal.unit_id)
            .where(scope_filter(principal, Unit.path), Signal.week_start >= since)
        )
        or 0
    )
