"""Rows and statements of the entity store (store.py): the lookup and update statements,
built once, a plain row for writes outside the ORM, the instances an entity holds, and what
a write did (WriteResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from shapely.geometry import shape
from sqlalchemy import Select, Update, bindparam, select, update
from sqlalchemy.orm import instrumentation

from cityops.context.events import EntityChanged
from cityops.context.models import ContextEntity


@dataclass
class WriteResult:
    """What a write did: the events to publish and the attributes it left alone."""

    events: list[EntityChanged] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)  # (attr IRI, reason)


def instances_of(row: ContextEntity, only: str | None = None) -> list[dict[str, Any]]:
    """The attribute instances of an entity (of one attribute IRI, if given), as
    EntityChanged.deleted lists them (`was`: the instance itself)."""
    out = [
        {"attr": iri, "type": attr.get("type", "Property"), "was": attr}
        for iri, attr in row.attrs.items()
        if only in (None, iri) and isinstance(attr, dict)
    ]
    for iri, by_ds in (row.datasets or {}).items():
        if only in (None, iri):
            out += [
                {"attr": iri, "type": a.get("type", "Property"), "datasetId": ds, "was": a}
                for ds, a in by_ds.items()
            ]
    return out


COLUMN_KEYS = tuple(c.key for c in ContextEntity.__table__.c)
PK = COLUMN_KEYS.index("pk")


class EntityRow:
    """A stored entity read for a write through write_attrs only: ContextEntity's column
    attributes, outside the ORM session (see EntityStore.find)."""

    __slots__ = COLUMN_KEYS

    def __init__(self, *values: Any) -> None:
        for key, value in zip(COLUMN_KEYS, values, strict=True):
            setattr(self, key, value)


MANAGER = instrumentation.manager_of_class(ContextEntity)


@lru_cache(maxsize=2)
def find_stmt(lock: bool) -> Select[Any]:
    """The entity lookup (locking the row with `lock`), built once: building it per call
    cost as much as running it."""
    table = ContextEntity.__table__
    stmt = select(*table.c).where(
        table.c.tenant == bindparam("f_tenant"), table.c.entity_id == bindparam("f_id")
    )
    return stmt.with_for_update() if lock else stmt


PLACE_COLUMNS = ("unit_id", "min_lon", "min_lat", "max_lon", "max_lat")


@lru_cache(maxsize=8)
def update_stmt(columns: tuple[str, ...]) -> Update:
    table = ContextEntity.__table__
    return (
        update(table)
        .where(table.c.pk == bindparam("u_pk"))
        .values({name: bindparam(f"u_{name}") for name in columns})
    )


def triples(pk: int, attrs: dict[str, Any]) -> list[tuple[int, str, Any]]:
    return [(pk, iri, attr) for iri, attr in attrs.items()]


def anchor(geo: dict[str, Any]) -> tuple[float, float, tuple[float | None, ...]]:
    """A GeoJSON geometry's point inside it (lon, lat: where its unit is looked up) and its
    bounding box."""
    if geo.get("type") == "Point":
        lon, lat = geo["coordinates"][0], geo["coordinates"][1]
        return lon, lat, (lon, lat, lon, lat)
    geom = shape(geo)
    point = geom.representative_point()
    return point.x, point.y, geom.bounds
