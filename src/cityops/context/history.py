"""The temporal store: every change of an attribute is kept as an instance."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityops.context.entities import instance_time, numeric_value, parse_datetime
from cityops.context.models import ContextAttributeInstance, ContextAttributeName

_ids: dict[tuple[int, str], int] = {}
_lock = threading.Lock()


def attr_id(session: Session, iri: str) -> int:
    """Return the small integer id of an attribute IRI, creating it once."""
    engine: Engine = session.get_bind()  # type: ignore[assignment]
    key = (id(engine), iri)
    found = _ids.get(key)
    if found is not None:
        return found
    with _lock:
        found = session.scalar(
            select(ContextAttributeName.id).where(ContextAttributeName.iri == iri)
        )
        if found is None:
            try:
                with session.begin_nested():
                    session.execute(insert(ContextAttributeName).values(iri=iri))
            except IntegrityError:
                pass  # another process added it meanwhile
            found = session.scalar(
                select(ContextAttributeName.id).where(ContextAttributeName.iri == iri)
            )
        _ids[key] = int(found)  # type: ignore[arg-type]
        return int(found)  # type: ignore[arg-type]


def forget_ids() -> None:
    """Drop the cached attribute ids (tests that empty the tables)."""
    with _lock:
        _ids.clear()


def record(
    session: Session,
    entity_pk: int,
    changed: list[tuple[str, dict[str, Any]]],
    now: datetime,
    now_iso: str,
) -> int:
    """File one history instance per changed attribute instance; return how many."""
    rows: list[dict[str, Any]] = []
    for iri, instance in changed:
        when = instance_time(instance, now_iso)
        rows.append(
            {
                "entity_pk": entity_pk,
                "attr_id": attr_id(session, iri),
                "observed_at": now if when == now_iso else parse_datetime(when, "observedAt"),
                "modified_at": now,
                "dataset_id": instance.get("datasetId"),
                "value_num": numeric_value(instance),
                "instance": instance,
            }
        )
    if rows:
        session.execute(insert(ContextAttributeInstance), rows)
    return len(rows)
