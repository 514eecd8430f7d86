"""Events the context hub publishes on the bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
