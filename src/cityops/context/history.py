"""The temporal store: every change of an attribute is kept as an instance."""

from __future__ import annotations

import threading
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityops.context.entities import instance_time, null_of, numeric_value, parse_datetime
from cityops.context.models import ContextAttributeInstance, ContextAttributeName
from cityops.context.temporal_models import ContextAttributeDeletion
from cityops.core.db import driver_execute
from cityops.core.driver import executemany

H = ContextAttributeInstance.__table__
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


def record_deletions(
    session: Session, entity_pk: int, gone: list[dict[str, Any]], now: datetime, now_iso: str
) -> None:
    """File the deletion of attribute instances (EntityChanged.deleted's items: attr, type,
    datasetId; or `instance`, what to file) for the temporal API's timeproperty=deletedAt."""
    rows = [
        {
            "entity_pk": entity_pk,
            "attr_id": attr_id(session, item["attr"]),
            "dataset_id": item.get("datasetId") or "",
            "deleted_at": now,
            "instance": (item.get("instance") or null_of(item["type"], item.get("datasetId")))
            | {"deletedAt": now_iso},
        }
        for item in gone
    ]
    if rows:
        session.execute(insert(ContextAttributeDeletion), rows)


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
                "dataset_id": instance.get("datasetId") or "",
                "value_num": numeric_value(instance),
                "instance": instance,
            }
        )
    return insert_instances(session, rows)


@lru_cache(maxsize=4)
def _upsert(dialect: str) -> Any:
    """Build (once per dialect) the history upsert: a repeated reading replaces the stored one."""
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = ins(H)
    return stmt.on_conflict_do_update(
        index_elements=["entity_pk", "attr_id", "observed_at", "dataset_id"],
        set_={
            "value_num": stmt.excluded.value_num,
            "instance": stmt.excluded.instance,
            "modified_at": stmt.excluded.modified_at,
        },
    )


def insert_instances(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert history rows; a reading already stored (same entity, attribute, time, dataset)
    is replaced by the new value, so a retried batch adds no duplicates."""
    if not rows:
        return 0
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:  # one statement may not touch a row twice: the last reading wins
        unique[(row["entity_pk"], row["attr_id"], row["observed_at"], row["dataset_id"])] = row
    dialect = session.get_bind().dialect.name
    values = list(unique.values())
    conn = session.connection()  # Core executemany: the ORM bulk path costs ~1 ms a call
    if dialect == "postgresql" and len(values) > 1 and not conn.engine.echo:
        _upsert_pg(conn, values)
        return len(values)
    stmt = _upsert(dialect)
    for i in range(0, len(values), 2000):
        executemany(conn, stmt, values[i : i + 2000])
    return len(values)


_PG_COLUMNS = ("entity_pk", "attr_id", "observed_at", "modified_at", "dataset_id", "value_num")


@lru_cache(maxsize=1)
def _upsert_pg_sql() -> str:
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    record = ", ".join(f"{name} {H.c[name].type.compile(dialect=dialect)}" for name in _PG_COLUMNS)
    names = ", ".join((*_PG_COLUMNS, "instance"))
    return (
        f"INSERT INTO {H.name} ({names}) SELECT {names} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS v({record}, instance jsonb) "
        "ON CONFLICT (entity_pk, attr_id, observed_at, dataset_id) DO UPDATE SET "
        "value_num = excluded.value_num, instance = excluded.instance, "
        "modified_at = excluded.modified_at"
    )


def _upsert_pg(conn: Any, rows: list[dict[str, Any]]) -> None:
    """The history upsert on PostgreSQL as one statement over a JSON document of the rows:
    SQLAlchemy's many-row INSERT set up each row's parameters in Python, a fifth of a batch's
    time."""
    document = orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC).decode()
    driver_execute(conn, _upsert_pg_sql(), (document,))
