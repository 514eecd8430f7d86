"""Dossier intake: check each item, upsert by (source, external_id), keep the counts current.

Every batch is checked item by item: a bad item comes back with its row number and reason and
the good ones land. A dossier sent again updates the stored one (never a copy), and the monthly
counts move by the difference between its old and its new state.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cityops.core.audit import record
from cityops.core.auth.models import Agency
from cityops.core.policy import Perm, Principal, can
from cityops.core.units.models import Unit
from cityops.modules.public_services.choices import OPEN_STATUSES
from cityops.modules.public_services.clock import as_utc
from cityops.modules.public_services.models import Dossier, Procedure
from cityops.modules.public_services.schemas import DossierCreate, IntakeResult, RowError
from cityops.modules.public_services.summary import Deltas, apply_deltas, contributions

FUTURE_SLACK = timedelta(minutes=5)
STORED = (
    "procedure_id",
    "agency_id",
    "unit_id",
    "received_at",
    "due_at",
    "finished_at",
    "channel",
    "status",
    "fee_vnd",
    "online_payment",
    "returned",
    "additional_request",
    "digitised",
)


class RowProblem(Exception):
    """An item that cannot be stored, with the column at fault."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass
class Lookups:
    """Procedures, agencies and units by code, loaded once per batch."""

    session: Session
    principal: Principal
    procedures: dict[str, Procedure | None] = field(default_factory=dict)
    agencies: dict[str, Agency | None] = field(default_factory=dict)
    units: dict[str, Unit | None] = field(default_factory=dict)

    def procedure(self, item: DossierCreate) -> Procedure:
        """Return the item's procedure, adding it to the catalogue when the item names it."""
        code = item.procedure_code
        if code not in self.procedures:
            self.procedures[code] = self.session.scalar(
                select(Procedure).where(Procedure.code == code)
            )
        found = self.procedures[code]
        if found is None:
            if not item.procedure_name:
                raise RowProblem("procedure_code", f"Không có thủ tục '{code}' / unknown procedure")
            found = Procedure(
                code=code,
                name=item.procedure_name,
                field=item.procedure_field,
                level=item.procedure_level,
            )
            self.session.add(found)
            self.session.flush()
            record(
                self.session,
                self.principal,
                "public_services.procedure_create",
                "ps_procedure",
                code,
                after={"code": code, "name": found.name, "field": found.field},
            )
            self.procedures[code] = found
        return found

    def agency(self, code: str) -> Agency:
        """Return an agency by code or raise a row problem."""
        if code not in self.agencies:
            self.agencies[code] = self.session.scalar(select(Agency).where(Agency.code == code))
        found = self.agencies[code]
        if found is None:
            raise RowProblem("agency_code", f"Không có cơ quan '{code}' / unknown agency")
        return found

    def unit(self, code: str) -> Unit:
        """Return a unit the caller may write for, or raise a row problem."""
        if code not in self.units:
            self.units[code] = self.session.scalar(select(Unit).where(Unit.code == code))
        found = self.units[code]
        if found is None or not can(self.principal, Perm.data_write, found.path):
            raise RowProblem(
                "unit_code",
                f"Đơn vị '{code}' không có hoặc ngoài phạm vi của bạn / unknown or out of scope",
            )
        return found


def _times(item: DossierCreate, tz: tzinfo, now: datetime) -> dict[str, datetime | None]:
    """Return the item's times in UTC after checking their order and that none is future."""
    received = as_utc(item.received_at, tz)
    due = as_utc(item.due_at, tz) if item.due_at else None
    finished = as_utc(item.finished_at, tz) if item.finished_at else None
    if received > now + FUTURE_SLACK:
        raise RowProblem("received_at", "Ngày tiếp nhận ở tương lai / received in the future")
    if finished is not None and finished > now + FUTURE_SLACK:
        raise RowProblem("finished_at", "Ngày hoàn thành ở tương lai / finished in the future")
    if due is not None and due < received:
        raise RowProblem("due_at", "Hạn giải quyết trước ngày tiếp nhận / due before received")
    if finished is not None and finished < received:
        raise RowProblem("finished_at", "Hoàn thành trước ngày tiếp nhận / before received")
    is_open = item.status in OPEN_STATUSES
    if is_open and finished is not None:
        raise RowProblem("finished_at", f"Hồ sơ '{item.status}' chưa thể có ngày hoàn thành")
    if not is_open and finished is None:
        raise RowProblem("finished_at", f"Hồ sơ '{item.status}' cần ngày hoàn thành / needed")
    return {"received_at": received, "due_at": due, "finished_at": finished}


def check_item(raw: Any, lookups: Lookups, tz: tzinfo, now: datetime) -> tuple[str, str, dict]:
    """Validate one raw item; return (source, external_id, stored fields) or raise RowProblem."""
    try:
        item = DossierCreate.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        column = str(first["loc"][0]) if first.get("loc") else None
        raise RowProblem(column, f"{first['msg']}") from err
    times = _times(item, tz, now)
    unit = lookups.unit(item.unit_code)
    agency = lookups.agency(item.agency_code)
    procedure = lookups.procedure(item)
    values = item.model_dump(include=set(STORED) - {"procedure_id", "agency_id", "unit_id"})
    values |= times | {"procedure_id": procedure.id, "agency_id": agency.id, "unit_id": unit.id}
    return item.source, item.external_id, values


def _existing(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Dossier]:
    """Load the stored dossiers among the keys (in chunks)."""
    found: dict[tuple[str, str], Dossier] = {}
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    for source, ids in by_source.items():
        for i in range(0, len(ids), 500):
            rows = session.scalars(
                select(Dossier).where(
                    Dossier.source == source, Dossier.external_id.in_(ids[i : i + 500])
                )
            )
            found.update({(d.source, d.external_id): d for d in rows})
    return found


def upsert(
    session: Session, principal: Principal, items: list[tuple[int, Any]], tz: tzinfo, now: datetime
) -> IntakeResult:
    """Check and store numbered raw items; duplicates of a stored dossier update it."""
    lookups = Lookups(session, principal)
    good: dict[tuple[str, str], dict] = {}
    rows: dict[tuple[str, str], int] = {}
    errors: list[RowError] = []
    for number, raw in items:
        try:
            source, external_id, values = check_item(raw, lookups, tz, now)
        except RowProblem as problem:
            ext = raw.get("external_id") if isinstance(raw, dict) else None
            errors.append(
                RowError(
                    row=number,
                    external_id=None if ext is None else str(ext),
                    column=problem.column,
                    message=problem.message,
                )
            )
            continue
        good[(source, external_id)] = values
        rows[(source, external_id)] = number
    existing = _existing(session, list(good))
    errors += _foreign(session, principal, existing, good, rows)
    counts = _store(session, good, existing, tz, now)
    if counts["created"] or counts["updated"]:
        record(
            session,
            principal,
            "public_services.dossiers_upsert",
            "ps_dossier_batch",
            None,
            after={
                "created": counts["created"],
                "updated": counts["updated"],
                "dossiers": [f"{s}/{e}" for s, e in counts["changed_keys"]],
            },
        )
    return IntakeResult(
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        errors=sorted(errors, key=lambda e: e.row),
    )


def _foreign(
    session: Session,
    principal: Principal,
    existing: dict[tuple[str, str], Dossier],
    good: dict[tuple[str, str], dict],
    rows: dict[tuple[str, str], int],
) -> list[RowError]:
    """Refuse (and drop from `good`) updates of stored dossiers outside the caller's scope."""
    errors = []
    for key, old in existing.items():
        unit = session.get(Unit, old.unit_id)
        if key in good and unit is not None and not can(principal, Perm.data_write, unit.path):
            del good[key]
            message = "Hồ sơ đã có, thuộc đơn vị ngoài phạm vi của bạn / stored out of your scope"
            errors.append(RowError(row=rows[key], external_id=key[1], message=message))
    return errors


def _store(
    session: Session,
    good: dict[tuple[str, str], dict],
    existing: dict[tuple[str, str], Dossier],
    tz: tzinfo,
    now: datetime,
) -> dict:
    """Insert new dossiers, update changed ones, and move the counts by the difference."""
    deltas: Deltas = {}
    inserts, updates, changed = [], [], []
    unchanged = 0
    for key, values in good.items():
        old = existing.get(key)
        if old is not None:
            before = {name: getattr(old, name) for name in STORED}
            if before == values:
                unchanged += 1
                continue
            _add(deltas, contributions(before, tz), -1)
            reset = before["due_at"] != values["due_at"]
            flags = {"near_due_sent": False, "overdue_sent": False} if reset else {}
            updates.append({"id": old.id, **values, **flags, "updated_at": now})
        else:
            inserts.append(
                {"source": key[0], "external_id": key[1], **values, "updated_at": now}
                | {"near_due_sent": False, "overdue_sent": False}
            )
        _add(deltas, contributions(values, tz), 1)
        changed.append(key)
    if inserts:
        session.execute(Dossier.__table__.insert(), inserts)
    if updates:
        session.execute(update(Dossier), updates)
    apply_deltas(session, deltas)
    created = len(inserts)
    return {
        "created": created,
        "updated": len(updates),
        "unchanged": unchanged,
        "changed_keys": changed,
    }


def _add(deltas: Deltas, parts: list, sign: int) -> None:
    """Add (or subtract) a dossier's contributions to the pending count changes."""
    for model, key, metrics in parts:
        bucket = deltas.setdefault((model, key), Counter())
        for name, value in metrics.items():
            bucket[name] += sign * value
