"""The counts kept per month: what one dossier adds to them, and applying the changes."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityops.core.db import Base
from cityops.modules.public_services.choices import Channel
from cityops.modules.public_services.clock import local_day
from cityops.modules.public_services.models import MonthCount, ProcedureMonth

Deltas = dict[tuple[type[Base], tuple[Any, ...]], Counter[str]]
COUNT_METRICS = (
    "received",
    "received_online",
    "with_fee",
    "paid_online",
    "returned",
    "additional",
    "digitised",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "processing_s",
)
MONTH_METRICS = ("finished", "finished_late", "processing_s")
KEYS = {
    MonthCount: ("month", "unit_id", "agency_id"),
    ProcedureMonth: ("month", "unit_id", "agency_id", "procedure_id"),
}
METRICS = {MonthCount: COUNT_METRICS, ProcedureMonth: MONTH_METRICS}


def _month(value: datetime, tz: tzinfo) -> date:
    """Return the first day of the local month of an instant."""
    return local_day(value, tz).replace(day=1)


def outcome(finished: datetime, due: datetime | None, tz: tzinfo) -> str:
    """Classify a finished dossier: 'late' after its due time, 'early' on an earlier day."""
    if due is None:
        return "on_time"
    if finished > due:
        return "late"
    return "early" if local_day(finished, tz) < local_day(due, tz) else "on_time"


def contributions(d: dict[str, Any], tz: tzinfo) -> list[tuple[type[Base], tuple, dict]]:
    """Return what a dossier (its stored fields) adds to the monthly counts."""
    fee = d["fee_vnd"] or 0
    received = {
        "received": 1,
        "received_online": int(d["channel"] == Channel.online),
        "with_fee": int(fee > 0 or bool(d["online_payment"])),
        "paid_online": int(bool(d["online_payment"])),
        "returned": int(bool(d["returned"])),
        "additional": int(bool(d["additional_request"])),
        "digitised": int(bool(d["digitised"])),
    }
    who = (d["unit_id"], d["agency_id"])
    parts: list[tuple[type[Base], tuple, dict]] = [
        (MonthCount, (_month(d["received_at"], tz), *who), received)
    ]
    finished = d["finished_at"]
    if finished is not None:
        kind = outcome(finished, d["due_at"], tz)
        seconds = int((finished - d["received_at"]).total_seconds())
        month = _month(finished, tz)
        parts.append(
            (
                MonthCount,
                (month, *who),
                {"finished": 1, f"finished_{kind}": 1, "processing_s": seconds},
            )
        )
        parts.append(
            (
                ProcedureMonth,
                (month, *who, d["procedure_id"]),
                {"finished": 1, "finished_late": int(kind == "late"), "processing_s": seconds},
            )
        )
    return parts


def apply_deltas(session: Session, deltas: Deltas) -> None:
    """Add the changes to the count rows (creating rows as needed), one statement per table."""
    for model in (MonthCount, ProcedureMonth):
        rows = []
        for (kind, key), change in deltas.items():
            if kind is not model or not any(change.values()):
                continue
            row = dict(zip(KEYS[model], key, strict=True))
            row.update({m: change.get(m, 0) for m in METRICS[model]})
            rows.append(row)
        if rows:
            session.execute(_bump(session, model), rows)


def _bump(session: Session, model: type[Base]) -> Any:
    """Build INSERT ... ON CONFLICT DO UPDATE SET metric = metric + excluded.metric."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(model)
    table = model.__table__
    return stmt.on_conflict_do_update(
        index_elements=list(KEYS[model]),
        set_={m: table.c[m] + stmt.excluded[m] for m in METRICS[model]},
    )
