"""Weekly notifiable-disease case counts: import with per-row errors, list, and detection.

Every stored week is checked with EARS C1/C2/C3 (ears.py); a week that alarms becomes a
Signal (once) and a `health.outbreak_suspected` event, which the alerts engine consumes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.audit import record, snapshot
from cityops.core.errors import CityOpsError
from cityops.core.policy import Perm, Principal, can, scope_filter
from cityops.core.units.models import Unit
from cityops.modules.health import ears
from cityops.modules.health.choices import DISEASES, MIN_CASES
from cityops.modules.health.events import OutbreakSuspected, emit
from cityops.modules.health.models import CaseCount, Signal
from cityops.modules.health.schemas import CaseImportResult, CasePublic
from cityops.modules.health.weeks import parse_week, week_label, weeks_back
from cityops.modules.sector import RowError

Key = tuple[str, int, date]  # disease, unit id, week start
Good = tuple[int, str, Unit, date, int, int]  # row, disease, unit, week, cases, deaths


def _count(raw: Any, column: str) -> int:
    text = str(raw if raw is not None else "").strip()
    if text == "" and column == "deaths":
        return 0
    if not text.isdigit():
        raise ValueError(f"'{text}' không phải số nguyên không âm / not a whole number ≥ 0")
    return int(text)


class _Checker:
    """Checks upload rows one by one, caching units."""

    def __init__(self, session: Session, principal: Principal, today: date | None) -> None:
        self.session, self.principal, self.today = session, principal, today
        self.units: dict[str, Unit | None] = {}
        self.seen: dict[Key, int] = {}

    def unit(self, code: str) -> Unit | None:
        """Return a unit by code (cached), or None."""
        if code not in self.units:
            self.units[code] = self.session.scalar(select(Unit).where(Unit.code == code))
        return self.units[code]

    def check(self, number: int, row: dict[str, Any]) -> Good | RowError:
        """Return the row's checked values, or why it is refused."""

        def fail(column: str | None, message: str) -> RowError:
            return RowError(row=number, column=column, message=message)

        disease = str(row.get("disease") or "").strip().lower()
        if disease not in DISEASES:
            return fail("disease", f"Không có bệnh mã '{disease}' / unknown disease")
        code = str(row.get("unit_code") or "").strip()
        unit = self.unit(code)
        if unit is None or not can(self.principal, Perm.data_write, unit.path):
            return fail("unit_code", f"Đơn vị '{code}' không có hoặc ngoài phạm vi của bạn")
        try:
            week = parse_week(row.get("week"), self.today)
        except CityOpsError as err:
            return fail("week", err.detail)
        counts = []
        for column in ("cases", "deaths"):
            try:
                counts.append(_count(row.get(column), column))
            except ValueError as err:
                return fail(column, str(err))
        key = (disease, unit.id, week)
        if key in self.seen:
            return fail(None, f"Trùng bệnh, đơn vị và tuần với dòng {self.seen[key]} / duplicate")
        self.seen[key] = number
        return number, disease, unit, week, counts[0], counts[1]


def import_rows(
    session: Session,
    principal: Principal,
    rows: list[tuple[int, dict[str, Any]]],
    source: str,
    today: date | None = None,
) -> CaseImportResult:
    """Check every row, store the good ones (a week sent again replaces it), run detection."""
    checker = _Checker(session, principal, today)
    good: list[Good] = []
    errors: list[RowError] = []
    for number, row in rows:
        result = checker.check(number, row)
        (errors if isinstance(result, RowError) else good).append(result)  # type: ignore[arg-type]
    _store(session, principal, good, source)
    raised = detect(session, [(g[1], g[2].id, g[3]) for g in good], publish=True)
    return CaseImportResult(imported=len(good), errors=errors, signals=len(raised))


def _window(model: Any, keys: list[Key], back: int = 0) -> Any:
    """Select rows of `model` that may match the keys (one query; filter exactly in Python)."""
    weeks = [k[2] for k in keys]
    return select(model).where(
        model.disease.in_(sorted({k[0] for k in keys})),
        model.unit_id.in_(sorted({k[1] for k in keys})),
        model.week_start >= weeks_back(min(weeks), back),
        model.week_start <= max(weeks),
    )


def _store(session: Session, principal: Principal, good: list[Good], source: str) -> None:
    """Insert or replace the checked rows, each audited."""
    if not good:
        return
    keys = [(g[1], g[2].id, g[3]) for g in good]
    existing = {
        (r.disease, r.unit_id, r.week_start): r for r in session.scalars(_window(CaseCount, keys))
    }
    changes = []
    for _, disease, unit, week, cases, deaths in good:
        row = existing.get((disease, unit.id, week))
        before = snapshot(row) if row else None
        if row is None:
            row = CaseCount(disease=disease, unit_id=unit.id, week_start=week)
            session.add(row)
        row.cases, row.deaths, row.source, row.entered_by = cases, deaths, source, principal.actor
        changes.append((row, before, f"{disease}/{unit.code}/{week_label(week)}", unit.id))
    session.flush()
    for row, before, what, unit_id in changes:
        after = snapshot(row)
        record(
            session,
            principal,
            "health.cases_put",
            "health_case_count",
            what,
            before=before,
            after=after,
            unit_id=unit_id,
        )


def detect(session: Session, keys: list[Key], publish: bool) -> list[Signal]:
    """Run EARS on the given weeks; store a Signal for each new alarm (and queue its event)."""
    if not keys:
        return []
    counts: dict[tuple[str, int], dict[date, int]] = defaultdict(dict)
    for row in session.scalars(_window(CaseCount, keys, ears.HISTORY - 1)):
        counts[(row.disease, row.unit_id)][row.week_start] = row.cases
    known = {(r.disease, r.unit_id, r.week_start) for r in session.scalars(_window(Signal, keys))}
    raised: list[Signal] = []
    for disease, unit_id, week in sorted(set(keys)):
        series = counts[(disease, unit_id)]
        history = [
            series.get(weeks_back(week, back), 0) for back in range(ears.HISTORY - 1, -1, -1)
        ]
        result = ears.evaluate(history, MIN_CASES.get(disease, ears.MIN_CASES))
        if result.alarm and (disease, unit_id, week) not in known:
            raised.append(_raise(session, disease, unit_id, week, result, publish))
    return raised


def _raise(
    session: Session, disease: str, unit_id: int, week: date, result: ears.Ears, publish: bool
) -> Signal:
    signal = Signal(
        disease=disease,
        unit_id=unit_id,
        week_start=week,
        cases=result.cases,
        baseline_mean=result.baseline_mean,
        c1=result.c1,
        c2=result.c2,
        c3=result.c3,
        methods=",".join(result.methods),
    )
    session.add(signal)
    session.flush()
    if publish:
        unit = session.get(Unit, unit_id)
        assert unit is not None
        choice = DISEASES[disease]
        emit(
            session,
            OutbreakSuspected(
                signal_id=signal.id,
                disease=disease,
                disease_vi=choice.label_vi,
                disease_en=choice.label_en,
                unit_id=unit.id,
                unit_code=unit.code,
                unit_name=unit.name,
                week=week_label(week),
                week_start=week.isoformat(),
                cases=result.cases,
                baseline_mean=result.baseline_mean,
                c1=result.c1,
                c2=result.c2,
                c3=result.c3,
                methods=signal.methods,
            ),
        )
    return signal


def list_cases(
    session: Session,
    principal: Principal,
    disease: str | None,
    unit_code: str | None,
    start: date | None,
    end: date | None,
) -> list[CasePublic]:
    """Return weekly counts in the caller's scope, by week then commune."""
    query = (
        select(CaseCount, Unit)
        .join(Unit, Unit.id == CaseCount.unit_id)
        .where(scope_filter(principal, Unit.path))
        .order_by(CaseCount.week_start, Unit.code, CaseCount.disease)
    )
    if disease:
        query = query.where(CaseCount.disease == disease)
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if start:
        query = query.where(CaseCount.week_start >= start)
    if end:
        query = query.where(CaseCount.week_start <= end)
    return [
        CasePublic(
            disease=c.disease,
            disease_vi=DISEASES[c.disease].label_vi,
            unit_code=u.code,
            unit_name=u.name,
            week=week_label(c.week_start),
            week_start=c.week_start,
            cases=c.cases,
            deaths=c.deaths,
            source=c.source,
            entered_by=c.entered_by,
            entered_at=c.entered_at,
        )
        for c, u in session.execute(query)
    ]
