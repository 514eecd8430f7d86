"""Events the context hub publishes on the bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityops.context.entities import iso
from cityops.core.bus import Event


@dataclass(frozen=True, kw_only=True)
class EntityChanged(Event):
    """An entity was created, updated, replaced or deleted (attrs: the changed IRIs)."""

    name = "context.entity_changed"
    op: str
    tenant: str
    entity_id: str
    entity_type: str
    attrs: list[str] = field(default_factory=list)
    unit_id: int | None = None
    at: str = ""
    # the entity after the change, expanded and normalized (None after a delete)
    entity: dict[str, Any] | None = None
    # the attribute instances the change deleted: {"attr": IRI, "type": its type, and
    # "datasetId" for a dataset's instance} (notifications render them as NGSI-LD Null)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    # the default instances the change replaced, of the changed attributes that had one
    # (subscriptions with showChanges notify the previous values)
    previous: dict[str, Any] = field(default_factory=dict)
    # a deleted entity's createdAt and modifiedAt (ISO), for notifications with sysAttrs
    times: tuple[str, str] | None = None


def snapshot(
    entity_id: str,
    type_: str,
    types: list[str] | None,
    attrs: dict[str, Any],
    datasets: dict[str, Any] | None,
    created: Any,
) -> dict[str, Any]:
    """An entity's state as EntityChanged carries it: expanded, normalized; `created` as the
    store read it (a datetime, or SQLite's text), `types` only when there are several."""
    out = {"id": entity_id, "type": type_, "attrs": attrs, "datasets": datasets or {}}
    out["created"] = created
    if types:
        out["types"] = types
    return out


def row_changed(
    op: str,
    tenant: str,
    at: str,
    row: Any,
    attrs: list[str],
    deleted: list[dict[str, Any]] | None = None,
    previous: dict[str, Any] | None = None,
) -> EntityChanged:
    """The event of a change to one stored entity (its ORM row or store_rows.EntityRow): its
    state after the change, or after a delete its createdAt and modifiedAt instead."""
    state = None
    if op != "delete":
        state = snapshot(
            row.entity_id, row.type, row.types, row.attrs, row.datasets, row.created_at
        )
    return EntityChanged(
        op=op,
        tenant=tenant,
        entity_id=row.entity_id,
        entity_type=row.type,
        attrs=attrs,
        unit_id=row.unit_id,
        at=at,
        entity=state,
        deleted=deleted or [],
        previous=previous or {},
        times=(iso(row.created_at), iso(row.modified_at)) if op == "delete" else None,
    )


def entity_changed(**values: Any) -> EntityChanged:
    """EntityChanged(**values), made the way a batch of readings needs it: a frozen
    dataclass's __init__ sets each of its fields through object.__setattr__ (~1.5 us an
    event, 1,000 events a batch), this fills the instance's __dict__ at once. Same fields,
    same defaults (tests/context/test_events.py holds the two equal)."""
    event = object.__new__(EntityChanged)
    fields = {"attrs": [], "unit_id": None, "at": "", "entity": None, "deleted": [], "previous": {}}
    fields["times"] = None
    fields.update(values)
    event.__dict__.update(fields)
    return event
