"""Merge-patch of an entity (PATCH /entities/{id}, batch merge): NGSI-LD 1.6+ semantics."""

from __future__ import annotations

from typing import Any

from cityops.context.entities import (
    ENTITY_MEMBERS,
    added_types,
    attribute_instances,
    null_instance,
    parse_attribute,
)
from cityops.context.events import EntityChanged
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity
from cityops.context.store import EntityStore, WriteResult


def check_fragment(body: dict[str, Any], ctx: ActiveContext) -> None:
    """Validate a merge fragment's attributes before anything is looked up (BadRequestData
    for a bad one, whether or not the entity exists)."""
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        for item in attribute_instances(value):
            if null_instance(item) is None:
                parse_attribute(name, item, ctx, partial=True)


def merge_into(
    store: EntityStore, row: ContextEntity, body: dict[str, Any], ctx: ActiveContext
) -> list[EntityChanged | WriteResult]:
    """Merge attributes into an entity: members merge, 'urn:ngsi-ld:null' deletes."""
    store.check_write(row.unit_id, row.entity_id)
    out: list[EntityChanged | WriteResult] = []
    store.add_types(row, added_types(body, row.entity_id, ctx))
    merged: dict[str, Any] = {}
    merged_ds: dict[str, dict[str, Any]] = {}
    deletes: list[tuple[str, str | None]] = []
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        iri = ctx.expand(name)
        for item in attribute_instances(value):
            dataset = null_instance(item)
            null = dataset is not None
            if not null:  # (a datasetId that is not a string is refused by parse_attribute)
                dataset = item.get("datasetId") if isinstance(item, dict) else None
                dataset = dataset if isinstance(dataset, str) else None
            held = (row.datasets or {}).get(iri, {}) if dataset else row.attrs
            current = held.get(dataset or iri)
            if null:  # NGSI-LD Null: that instance goes (if it is there)
                if current is not None:
                    deletes.append((iri, dataset or None))
                continue
            if current is None:
                attr = parse_attribute(name, item, ctx)
            else:
                partial = parse_attribute(name, item, ctx, partial=True)
                attr = {**current, **{k: v for k, v in partial.items() if k != "type" or v}}
            if dataset:
                merged_ds.setdefault(iri, {})[dataset] = attr
            else:
                merged[iri] = attr
    if merged or merged_ds:
        out.append(store.write_attrs(row, merged, merged_ds, mode="append"))
    for iri, dataset in deletes:
        out.append(store.delete_attr(row, iri, dataset, False))
    return out
