"""Bulk writes for batches and device intake: one SELECT, executemany UPDATE/INSERT, one
history INSERT per batch instead of several statements per entity.

Semantics equal the per-entity path in store.py (which stays the fallback): each entity is
validated and scope-checked on its own; a bad one is reported and the good ones land.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import bindparam, select, update

from cityops.context import history, typesel, value_index
from cityops.context.entities import LOCATION_IRI, ParsedEntity, numeric_value, parse_datetime
from cityops.context.errors import NgsiLdError, not_found
from cityops.context.events import EntityChanged, entity_changed, snapshot
from cityops.context.models import ContextEntity
from cityops.context.store import EntityStore
from cityops.core.db import driver_rows
from cityops.core.driver import executemany

T = ContextEntity.__table__
CHUNK = 500


@dataclass
class BulkResult:
    """Per-entity outcome of a bulk write."""

    success: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    errors: list[tuple[str, NgsiLdError]] = field(default_factory=list)
    events: list[EntityChanged] = field(default_factory=list)


def can_bulk(parsed: list[ParsedEntity]) -> bool:
    """Say whether a batch suits the bulk path (distinct ids, no multi-attribute instances)."""
    ids = {p.entity_id for p in parsed}
    return len(ids) == len(parsed) and not any(p.datasets for p in parsed)


_COLS = (
    T.c.pk,
    T.c.entity_id,
    T.c.type,
    T.c.types,
    T.c.attrs,
    T.c.datasets,
    T.c.unit_id,
    T.c.scopes,
    T.c.created_at,
)
_NAMES = [c.key for c in _COLS]
_JSON = ("types", "attrs", "datasets", "scopes")


def existing_rows(store: EntityStore, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Load the stored entities of these ids (columns as a dict each), by entity id.

    On SQLite the rows come straight from the driver with the JSON columns decoded here:
    SQLAlchemy's result processing cost more than the query for a batch of 1,000."""
    found: dict[str, dict[str, Any]] = {}
    conn = store.session.connection()
    sqlite = conn.dialect.name == "sqlite"
    loads = orjson.loads
    if not sqlite:  # rows are locked in entity id order (code points: COLLATE "C"), the
        ids = sorted(ids)  # order grouped single-entity writes take (Database.write)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        if sqlite:
            sql = f"SELECT {', '.join(_NAMES)} FROM {T.name} WHERE tenant = ? AND entity_id IN "
            sql += f"({', '.join('?' * len(chunk))})"
            for row in driver_rows(conn, sql, (store.tenant, *chunk)):
                item = dict(zip(_NAMES, row, strict=True))
                for name in _JSON:  # JSON text ('null' for None), decoded here
                    text = item[name]
                    if isinstance(text, str | bytes):
                        item[name] = None if text == "null" else loads(text)
                found[row[1]] = item
            continue
        # locked for the write, in one order (concurrent writers cannot deadlock)
        stmt = select(*_COLS).where(T.c.tenant == store.tenant, T.c.entity_id.in_(chunk))
        if store.lock:
            stmt = stmt.order_by(T.c.entity_id.collate("C")).with_for_update()
        for row in conn.execute(stmt):
            found[row[1]] = dict(zip(_NAMES, row, strict=True))
    return found


def _merged(
    store: EntityStore, old: dict[str, Any], new: ParsedEntity, mode: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """New attrs of an existing entity ('replace' takes only the new, others overlay them,
    'update-keep' leaves those it has), with the instances applied and those they replaced."""
    before = old["attrs"]
    attrs = {} if mode == "replace" else dict(before)
    applied: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    now = store.now_iso
    keep = mode == "update-keep"
    for iri, attr in new.attrs.items():
        if iri in before:
            if keep:
                continue
            prior = previous[iri] = before[iri]
            attr["createdAt"] = prior.get("createdAt", now)
        else:
            attr["createdAt"] = now
        attr["modifiedAt"] = now
        attrs[iri] = applied[iri] = attr
    return attrs, applied, previous


def bulk_write(
    store: EntityStore,
    parsed: list[ParsedEntity],
    *,
    mode: str,
    create_missing: bool,
    existing: dict[str, dict[str, Any]] | None = None,
) -> BulkResult:
    """Write many entities: mode 'replace', 'update' or 'update-keep'; create the missing ones
    when `create_missing` (else report them as not found). `existing`: the rows already loaded
    with existing_rows (they are updated in place)."""
    result = BulkResult()
    if not can_bulk(parsed):
        raise ValueError("bulk_write needs distinct ids and default attribute instances only")
    if existing is None:
        existing = existing_rows(store, list(dict.fromkeys(p.entity_id for p in parsed)))
    updates: list[dict[str, Any]] = []
    changed: list[tuple[str, str, dict[str, Any]]] = []  # (entity id, iri, instance)
    to_create: list[ParsedEntity] = []
    indexed: list[tuple[int, str, Any, Any]] = []  # (pk, iri, new, previous): value index
    replaced: list[int] = []
    for item in parsed:
        old = existing.get(item.entity_id)
        try:
            if old is None:
                if not create_missing:
                    raise not_found(f"entity {item.entity_id} not found")
                to_create.append(item)
                continue
            if not store.visible_path(old["unit_id"]):
                raise not_found(f"entity {item.entity_id} not found")
            store.check_write(old["unit_id"], item.entity_id)
            before = old["attrs"]
            attrs, applied, previous = _merged(store, old, item, mode)
            updates.append(_update_row(store, old, item, attrs, before, mode))
            old["attrs"] = attrs
            entity_id, pk = item.entity_id, old["pk"]
            for iri, attr in applied.items():
                changed.append((entity_id, iri, attr))
                if mode != "replace":
                    indexed.append((pk, iri, attr, previous.get(iri)))
            if mode == "replace":
                replaced.append(pk)
                indexed.extend((pk, i, a, None) for i, a in attrs.items())
            if len(applied) < len(item.attrs):  # noOverwrite left some
                kept = [i for i in item.attrs if i not in applied]
                result.errors.append((entity_id, not_overwritten(kept)))
            else:
                result.success.append(entity_id)
            result.events.append(_event(store, old, item, sorted(applied), previous))
        except NgsiLdError as err:
            result.errors.append((item.entity_id, err))
    _flush_updates(store, updates, existing)
    value_index.reindex_changed(store.session, indexed, whole=replaced)
    pks = {eid: row["pk"] for eid, row in existing.items()}
    for item in to_create:
        try:
            with store.session.begin_nested():
                result.events.append(store.create(item))
            result.success.append(item.entity_id)
            result.created.append(item.entity_id)
        except NgsiLdError as err:
            result.errors.append((item.entity_id, err))
    _history(store, changed, pks)
    return result


def not_overwritten(iris: list[str]) -> NgsiLdError:
    """How a batch update with noOverwrite reports an entity whose attributes it kept (its
    other attributes are written): AlreadyExists, naming them."""
    return NgsiLdError(
        "AlreadyExists", f"attributes kept as they were (noOverwrite): {', '.join(iris)}"
    )


def _update_row(
    store: EntityStore,
    old: dict[str, Any],
    item: ParsedEntity,
    attrs: dict[str, Any],
    before: dict[str, Any],
    mode: str,
) -> dict[str, Any]:
    row = {
        "b_pk": old["pk"],
        "b_attrs": attrs,
        "b_modified_at": store.now,
    }
    if mode == "replace":
        row["b_type"], row["b_types"] = old["type"], old["types"] = item.type, item.types
    elif item.type and (item.types or old["types"] or item.type != old["type"]):
        # the types of an update are added (GS CIM 009 4.16)
        type_, types = typesel.added(old["type"], old["types"], item.all_types)
        if (type_, types) != (old["type"], old["types"]):
            row["b_type"], row["b_types"] = old["type"], old["types"] = type_, types
    if mode == "replace":  # the new entity has no dataset instances (see can_bulk)
        row["b_datasets"] = old["datasets"] = None
    if mode == "replace" or item.scopes is not None:
        row["b_scopes"] = old["scopes"] = item.scopes
    old_location, new_location = before.get(LOCATION_IRI), attrs.get(LOCATION_IRI)
    if new_location is not old_location and (new_location or {}).get("value") != (
        old_location or {}
    ).get("value"):
        unit_id, bbox = store.placement(attrs)
        store.check_write(unit_id, item.entity_id)
        row |= {
            "b_unit_id": unit_id,
            "b_min_lon": bbox[0],
            "b_min_lat": bbox[1],
            "b_max_lon": bbox[2],
            "b_max_lat": bbox[3],
        }
        old["unit_id"] = unit_id
    return row


def _flush_updates(
    store: EntityStore, updates: list[dict[str, Any]], existing: dict[str, dict[str, Any]]
) -> None:
    """Update the rows, one statement per set of columns: those whose location did not
    move leave the placement columns (and their indexes) alone, which most readings are."""
    conn = store.session.connection()
    kinds: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in updates:
        kinds.setdefault(tuple(row), []).append(row)
    for columns, rows in kinds.items():
        executemany(conn, _update_stmt(columns), rows)
    updates.clear()


@lru_cache(maxsize=16)
def _update_stmt(columns: tuple[str, ...]) -> Any:
    """UPDATE of these b_-named parameters' columns, by b_pk."""
    values = {name[2:]: bindparam(name) for name in columns if name != "b_pk"}
    return update(T).where(T.c.pk == bindparam("b_pk")).values(**values)


def _event(
    store: EntityStore,
    old: dict[str, Any],
    item: ParsedEntity,
    attrs: list[str],
    previous: dict[str, Any],
) -> EntityChanged:
    state = snapshot(
        item.entity_id, old["type"], old["types"], old["attrs"], old["datasets"], old["created_at"]
    )
    return entity_changed(
        op="update",
        tenant=store.tenant,
        entity_id=item.entity_id,
        entity_type=old["type"],
        attrs=attrs,
        unit_id=old["unit_id"],
        at=store.now_iso,
        entity=state,
        previous=previous,
    )


def _history(
    store: EntityStore, changed: list[tuple[str, str, dict[str, Any]]], pks: dict[str, int]
) -> None:
    rows = []
    attr_ids: dict[str, int] = {}
    times: dict[str, datetime] = {}  # a batch's readings mostly share their times
    for entity_id, iri, inst in changed:
        when = inst.get("observedAt")
        aid = attr_ids.get(iri)
        if aid is None:
            aid = attr_ids[iri] = history.attr_id(store.session, iri)
        at = store.now if not when else times.get(when)
        if at is None:
            at = times[when] = parse_datetime(when, "observedAt")
        rows.append(
            {
                "entity_pk": pks[entity_id],
                "attr_id": aid,
                "observed_at": at,
                "modified_at": store.now,
                "dataset_id": "",
                "value_num": numeric_value(inst),
                "instance": inst,
            }
        )
    history.insert_instances(store.session, rows)
