"""Write the temporal evolution of entities (NGSI-LD 6.18-6.22): file, change, delete instances.

A temporal POST files every instance in history; an instance newer than an attribute's current
value (by observedAt) also becomes the current value, through the entity store, which publishes
EntityChanged. Pure history appends publish nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cityops.context import history, rollups, typesel
from cityops.context.entities import (
    ENTITY_MEMBERS,
    ParsedEntity,
    check_uri,
    numeric_value,
    parse_attribute,
    parse_datetime,
)
from cityops.context.errors import NgsiLdError, bad_request, not_found
from cityops.context.events import EntityChanged
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextAttributeInstance as Inst
from cityops.context.models import ContextAttributeName, ContextEntity
from cityops.context.store import EntityStore, WriteResult
from cityops.context.temporal import INSTANCE_PREFIX
from cityops.context.temporal_models import ContextAttributeRollup

Instance = tuple[str, dict[str, Any]]  # (attribute IRI, normalized instance)


def parse_instances(body: dict[str, Any], ctx: ActiveContext) -> list[Instance]:
    """Parse the attributes of a temporal representation: each an instance or a list of them."""
    out: list[Instance] = []
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        many = isinstance(value, list) and all(isinstance(v, dict) for v in value)
        items = value if many else [value]
        if not items:
            raise bad_request(f"attribute {name!r} has no instances")
        for item in items:
            out.append((ctx.expand(name), parse_attribute(name, item, ctx)))
    return out


def parse_temporal_entity(body: Any, ctx: ActiveContext) -> tuple[str, str | None, list[Instance]]:
    """Parse a temporal entity: its id, expanded type and attribute instances."""
    if not isinstance(body, dict):
        raise bad_request("a temporal entity must be a JSON object")
    entity_id = check_uri(body.get("id"), "entity id")
    kind = body.get("type")
    if isinstance(kind, list) and len(kind) == 1:
        kind = kind[0]
    if kind is not None and (not isinstance(kind, str) or not kind):
        raise bad_request(f"entity {entity_id}: 'type' must be one type name")
    return entity_id, ctx.expand(kind) if kind else None, parse_instances(body, ctx)


def _when(instance: dict[str, Any], store: EntityStore) -> datetime:
    observed = instance.get("observedAt")
    return parse_datetime(observed, "observedAt") if observed else store.now


def _latest(
    instances: list[Instance], store: EntityStore
) -> tuple[dict[tuple[str, str | None], dict[str, Any]], list[Instance]]:
    """Split instances into the newest per (attribute, datasetId) and the rest."""
    newest: dict[tuple[str, str | None], dict[str, Any]] = {}
    rest: list[Instance] = []
    for iri, inst in instances:
        key = (iri, inst.get("datasetId"))
        held = newest.get(key)
        if held is None or _when(inst, store) > _when(held, store):
            if held is not None:
                rest.append((iri, held))
            newest[key] = inst
        elif _when(inst, store) == _when(held, store):
            newest[key] = inst  # one reading per time: the last one given wins
        else:
            rest.append((iri, inst))
    return newest, rest


def _file(store: EntityStore, row: ContextEntity, rest: list[Instance]) -> None:
    for _, inst in rest:
        inst["createdAt"] = inst["modifiedAt"] = store.now_iso
    history.record(store.session, row.pk, rest, store.now, store.now_iso)


def create_or_append(
    store: EntityStore,
    entity_id: str,
    kind: str | None,
    instances: list[Instance],
    scopes: list[str] | None = None,
) -> tuple[bool, list[EntityChanged | WriteResult]]:
    """Create the entity from its history, or add the history to it; say if it was created.
    `scopes`: the representation's scope (added to an existing entity's, never removing)."""
    row = store.find(entity_id)
    if row is not None:
        store.check_write(row.unit_id, entity_id)
        if kind is not None and kind not in typesel.of(row.type, row.types):
            raise bad_request(f"entity {entity_id} has another type")
        if scopes is not None:
            store.write_scopes(row, scopes, "append-keep")
        return False, [append(store, row, instances)]
    if kind is None:
        raise bad_request(f"entity {entity_id} does not exist yet: give its 'type'")
    newest, rest = _latest(instances, store)
    parsed = ParsedEntity(entity_id, kind, scopes=scopes)
    for (iri, ds), inst in newest.items():
        if ds is None:
            parsed.attrs[iri] = inst
        else:
            parsed.datasets.setdefault(iri, {})[ds] = inst
    event = store.create(parsed)
    created = store.find(entity_id)
    assert created is not None
    _file(store, created, rest)
    return True, [event]


def append(store: EntityStore, row: ContextEntity, instances: list[Instance]) -> WriteResult:
    """Add instances to an entity's history; newer ones also update its current state."""
    store.check_write(row.unit_id, row.entity_id)
    newest, rest = _latest(instances, store)
    attrs: dict[str, Any] = {}
    datasets: dict[str, dict[str, Any]] = {}
    for (iri, ds), inst in newest.items():
        current = row.attrs.get(iri) if ds is None else (row.datasets or {}).get(iri, {}).get(ds)
        if current is not None and _when(inst, store) < _current_time(current, store):
            rest.append((iri, inst))
        elif ds is None:
            attrs[iri] = inst
        else:
            datasets.setdefault(iri, {})[ds] = inst
    result = WriteResult()
    if attrs or datasets:
        result = store.write_attrs(row, attrs, datasets, mode="append")
    _file(store, row, rest)
    return result


def _current_time(current: dict[str, Any], store: EntityStore) -> datetime:
    stamp = current.get("observedAt") or current.get("modifiedAt")
    return parse_datetime(stamp, "observedAt") if stamp else store.now


def _attr_id(session: Session, iri: str) -> int | None:
    return session.scalar(select(ContextAttributeName.id).where(ContextAttributeName.iri == iri))


def delete_attr_history(
    store: EntityStore, row: ContextEntity, iri: str, dataset_id: str | None, delete_all: bool
) -> None:
    """Delete the history (and rollups) of one attribute: default instances, one dataset or all."""
    store.check_write(row.unit_id, row.entity_id)
    aid = _attr_id(store.session, iri)
    if aid is None:
        raise not_found(f"attribute {iri} has no history in entity {row.entity_id}")
    raw = delete(Inst).where(Inst.entity_pk == row.pk, Inst.attr_id == aid)
    roll = ContextAttributeRollup
    sums = delete(roll).where(roll.entity_pk == row.pk, roll.attr_id == aid)
    if not delete_all:
        raw = raw.where(Inst.dataset_id == (dataset_id or ""))
        sums = sums.where(roll.dataset_id == (dataset_id or ""))
    gone = store.session.execute(raw).rowcount + store.session.execute(sums).rowcount
    if not gone:
        raise not_found(f"attribute {iri} has no history in entity {row.entity_id}")


def _instance_row(store: EntityStore, row: ContextEntity, iri: str, instance_id: str) -> Inst:
    number = instance_id.removeprefix(INSTANCE_PREFIX)
    aid = _attr_id(store.session, iri)
    found = None
    if number.isdigit() and aid is not None:
        found = store.session.scalar(
            select(Inst).where(
                Inst.id == int(number), Inst.entity_pk == row.pk, Inst.attr_id == aid
            )
        )
    if found is None:
        raise not_found(f"instance {instance_id} of {iri} not found in entity {row.entity_id}")
    return found


def patch_instance(
    store: EntityStore, row: ContextEntity, iri: str, instance_id: str, partial: dict[str, Any]
) -> None:
    """Change members of one history instance (its value, observedAt, sub-attributes...)."""
    store.check_write(row.unit_id, row.entity_id)
    inst = _instance_row(store, row, iri, instance_id)
    before = rollups.SeriesPoint(row.pk, inst.attr_id, inst.dataset_id, inst.observed_at)
    merged = {**inst.instance, **{k: v for k, v in partial.items() if k != "type" or v}}
    if (merged.get("datasetId") or "") != inst.dataset_id:
        raise bad_request("the datasetId of an instance cannot change")
    if "observedAt" in partial:
        when = parse_datetime(merged["observedAt"], "observedAt")
        if when != inst.observed_at and _taken(store.session, inst, when):
            raise NgsiLdError("AlreadyExists", f"{iri} already has an instance at {when}")
        inst.observed_at = when
    merged["modifiedAt"] = store.now_iso
    inst.instance = merged
    inst.value_num = numeric_value(merged)
    inst.modified_at = store.now
    store.session.flush()
    after = before._replace(at=inst.observed_at)
    rollups.refresh(store.session, [before, after])


def _taken(session: Session, inst: Inst, when: datetime) -> bool:
    clash = select(Inst.id).where(
        Inst.entity_pk == inst.entity_pk,
        Inst.attr_id == inst.attr_id,
        Inst.dataset_id == inst.dataset_id,
        Inst.observed_at == when,
    )
    return session.scalar(clash) is not None


def delete_instance(store: EntityStore, row: ContextEntity, iri: str, instance_id: str) -> None:
    """Delete one history instance."""
    store.check_write(row.unit_id, row.entity_id)
    inst = _instance_row(store, row, iri, instance_id)
    point = rollups.SeriesPoint(row.pk, inst.attr_id, inst.dataset_id, inst.observed_at)
    store.session.delete(inst)
    store.session.flush()
    rollups.refresh(store.session, [point])
