"""Merge-patch of an entity (PATCH /entities/{id}, batch merge): NGSI-LD 1.6+ semantics."""

from __future__ import annotations

from typing import Any

from cityops.context.entities import ENTITY_MEMBERS, parse_attribute
from cityops.context.events import EntityChanged
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity
from cityops.context.store import EntityStore, WriteResult

NULL = "urn:ngsi-ld:null"


def _is_null(value: Any) -> bool:
    if value == NULL:
        return True
    return isinstance(value, dict) and value.get("value") == NULL and len(value) <= 2


def merge_into(
    store: EntityStore, row: ContextEntity, body: dict[str, Any], ctx: ActiveContext
) -> list[EntityChanged | WriteResult]:
    """Merge attributes into an entity: members merge, 'urn:ngsi-ld:null' deletes."""
    store.check_write(row.unit_id, row.entity_id)
    out: list[EntityChanged | WriteResult] = []
    if isinstance(body.get("type"), str) and ctx.expand(body["type"]) != row.type:
        row.type = ctx.expand(body["type"])
    merged: dict[str, Any] = {}
    deletes: list[str] = []
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        iri = ctx.expand(name)
        if _is_null(value):
            if iri in row.attrs:
                deletes.append(iri)
            continue
        current = row.attrs.get(iri)
        if current is None:
            merged[iri] = parse_attribute(name, value, ctx)
            continue
        partial = parse_attribute(name, value, ctx, partial=True)
        merged[iri] = {**current, **{k: v for k, v in partial.items() if k != "type" or v}}
    if merged:
        out.append(store.write_attrs(row, merged, {}, mode="append"))
    for iri in deletes:
        out.append(store.delete_attr(row, iri, None, False))
    return out
