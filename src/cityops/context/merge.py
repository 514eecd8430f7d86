"""Merge-patch of an entity (PATCH /entities/{id}, batch merge): NGSI-LD 1.6+ semantics."""

from __future__ import annotations

from typing import Any

from cityops.context.entities import ENTITY_MEMBERS, null_instance, parse_attribute
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
        for item in _instances(value):
            if null_instance(item) is None:
                parse_attribute(name, item, ctx, partial=True)


def _instances(value: Any) -> list[Any]:
    """The instances of an attribute's value in a body (an array of instance objects, or one)."""
    several = isinstance(value, list) and all(isinstance(v, dict) for v in value or [1])
    return value if several else [value]


def merge_into(
    store: EntityStore, row: ContextEntity, body: dict[str, Any], ctx: ActiveContext
) -> list[EntityChanged | WriteResult]:
    """Merge attributes into an entity: members merge, 'urn:ngsi-ld:null' deletes."""
    store.check_write(row.unit_id, row.entity_id)
    out: list[EntityChanged | WriteResult] = []
    if isinstance(body.get("type"), str) and ctx.expand(body["type"]) != row.type:
        row.type = ctx.expand(body["type"])
    merged: dict[str, Any] = {}
    merged_ds: dict[str, dict[str, Any]] = {}
    deletes: list[tuple[str, str | None]] = []
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        iri = ctx.expand(name)
        for item in _instances(value):
            dataset = null_instance(item)
            if dataset is not None:  # NGSI-LD Null: that instance goes (if it is there)
                held = (row.datasets or {}).get(iri, {}) if dataset else row.attrs
                if (dataset or iri) in held:
                    deletes.append((iri, dataset or None))
                continue
            dataset = item.get("datasetId") if isinstance(item, dict) else None
            current = (row.datasets or {}).get(iri, {}).get(dataset) if dataset else None
            if not dataset:
                current = row.attrs.get(iri)
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
