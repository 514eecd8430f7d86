"""Schools as context-hub entities.

Smart Data Models has no school type in the models CityOps ships, so a school is a local type,
`School` (the NGSI-LD default vocabulary), with the PointOfInterest model's attributes: name,
category (the level: mam_non / tieu_hoc / thcs / thpt), address, location, wardId/wardName
(the commune).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityops.context.events import EntityChanged
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity
from cityops.core.policy import Principal
from cityops.core.units.models import Unit
from cityops.modules import sector
from cityops.modules.education.schemas import SchoolCreate

ENTITY_TYPE = "School"
PUBLIC_ATTRS = ("name", "category", "address", "wardId", "wardName")


def context() -> ActiveContext:
    """The @context schools are written and read with (PointOfInterest, built in)."""
    return sector.context("PointOfInterest")


def type_iri() -> str:
    """The expanded type of school entities."""
    return context().expand(ENTITY_TYPE)


def entity_id(code: str) -> str:
    """Return the NGSI-LD id of a school."""
    return f"urn:ngsi-ld:{ENTITY_TYPE}:{code}"


def code_of(entity: str) -> str:
    """Return a school's code from its NGSI-LD id."""
    return entity.rsplit(":", 1)[-1]


def payload(data: SchoolCreate, unit: Unit) -> dict[str, Any]:
    """Build the school's entity (concise form)."""
    address = {"addressLocality": unit.name, "addressCountry": "VN"}
    if data.address:
        address["streetAddress"] = data.address
    return {
        "id": entity_id(data.code),
        "type": ENTITY_TYPE,
        "name": data.name,
        "category": [data.level.value],
        "address": address,
        "location": {"type": "Point", "coordinates": [data.lon, data.lat]},
        "wardId": unit.code,
        "wardName": unit.name,
        "dataProvider": "CityOps",
        "source": "education",
    }


def save(
    session: Session, principal: Principal, data: SchoolCreate, unit: Unit
) -> list[EntityChanged]:
    """Add a school to the hub, or change it."""
    return sector.upsert(session, principal, payload(data, unit), context(), unit)


def school_rows(
    session: Session, principal: Principal, unit: Unit | None = None
) -> list[ContextEntity]:
    """Return the schools the caller may see (under `unit` when given)."""
    return sector.rows(session, principal, [type_iri()], unit)


def get(session: Session, principal: Principal, code: str) -> ContextEntity:
    """Return a school in the caller's scope, or raise NotFound."""
    return sector.find(session, principal, entity_id(code), [type_iri()])


def level_of(row: ContextEntity) -> str:
    """Return the level of a school entity."""
    category = sector.values(row, context()).get("category") or [""]
    return category[0] if isinstance(category, list) else str(category)


def geojson(rows: list[ContextEntity], level: str | None = None) -> dict[str, Any]:
    """Render schools as a GeoJSON FeatureCollection for the map."""
    features = [sector.feature(r, context(), PUBLIC_ATTRS) for r in rows]
    if level:
        features = [f for f in features if level in (f["properties"].get("category") or [])]
    return sector.collection(features)
