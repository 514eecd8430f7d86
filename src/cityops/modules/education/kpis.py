"""KPIs of the education module, as data: each computed in the caller's scope."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityops.core.errors import CityOpsError
from cityops.core.modules import KpiDescription
from cityops.core.policy import Principal
from cityops.modules.education.choices import Level
from cityops.modules.education.summary import summary


def pupil_teacher_ratio(session: Session, principal: Principal) -> float | None:
    """Pupils per teacher over every school in scope, latest school year."""
    try:
        return summary(session, principal, None, None, "level").total.pupils_per_teacher
    except CityOpsError:
        return None


def graduation_rate(session: Session, principal: Principal) -> float | None:
    """Share of upper-secondary exam candidates who graduated, latest year with results, in %."""
    try:
        years = summary(session, principal, None, None, "year", Level.upper_secondary).items
    except CityOpsError:
        return None
    with_exams = [y for y in years if y.exam_candidates]
    return with_exams[-1].pass_rate if with_exams else None


KPIS = (
    KpiDescription(
        "pupil_teacher_ratio",
        "Số học sinh trên một giáo viên",
        "Pupils per teacher",
        "học sinh/giáo viên",
        pupil_teacher_ratio,
        False,
    ),
    KpiDescription(
        "graduation_rate",
        "Tỉ lệ tốt nghiệp THPT",
        "Upper-secondary graduation rate",
        "%",
        graduation_rate,
    ),
)
