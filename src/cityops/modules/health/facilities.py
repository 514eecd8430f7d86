"""Health facilities as context-hub entities, and their beds and occupancy.

Smart Data Models has no hospital type in the models CityOps ships, so a facility is a local
type, `MedicalFacility` (the NGSI-LD default vocabulary), whose attributes are the
PointOfInterest model's: name, category (hospital / health_centre / station), address,
location, capacity (planned beds), occupancy (occupied beds, with observedAt) and
occupationRate (%), wardId/wardName (the commune). Occupancy updates go through the hub, so
the temporal API (/ngsi-ld/v1/temporal/entities) keeps their history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityops.context.events import EntityChanged
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity
from cityops.core.policy import Principal
from cityops.core.units.models import Unit
from cityops.modules import sector as places
from cityops.modules.health.choices import LEVELS
from cityops.modules.health.schemas import (
    FacilityCreate,
    FacilityUpdate,
    OccupancyRow,
    OccupancySummary,
)

ENTITY_TYPE = "MedicalFacility"
PUBLIC_ATTRS = (
    "name",
    "category",
    "address",
    "capacity",
    "occupancy",
    "occupationRate",
    "telephone",
    "wardId",
    "wardName",
)


def context() -> ActiveContext:
    """The @context facilities are written and read with (PointOfInterest, built in)."""
    return places.context("PointOfInterest")


def type_iri() -> str:
    """The expanded type of facility entities."""
    return context().expand(ENTITY_TYPE)


def entity_id(code: str) -> str:
    """Return the NGSI-LD id of a facility."""
    return f"urn:ngsi-ld:{ENTITY_TYPE}:{code}"


def _rate(occupied: Any, beds: Any) -> float | None:
    if not isinstance(occupied, int | float) or not isinstance(beds, int | float) or not beds:
        return None
    return round(100.0 * occupied / beds, 1)


def payload(data: FacilityCreate, unit: Unit) -> dict[str, Any]:
    """Build the facility's entity (concise form)."""
    address = {"addressLocality": unit.name, "addressCountry": "VN"}
    if data.address:
        address["streetAddress"] = data.address
    body: dict[str, Any] = {
        "id": entity_id(data.code),
        "type": ENTITY_TYPE,
        "name": data.name,
        "category": [data.level.value],
        "address": address,
        "location": {"type": "Point", "coordinates": [data.lon, data.lat]},
        "capacity": data.beds,
        "wardId": unit.code,
        "wardName": unit.name,
        "dataProvider": "CityOps",
        "source": "health",
    }
    if data.telephone:
        body["telephone"] = data.telephone
    return body


def save(
    session: Session, principal: Principal, data: FacilityCreate, unit: Unit
) -> list[EntityChanged]:
    """Add a facility to the hub, or change it (its occupancy is kept)."""
    return places.upsert(session, principal, payload(data, unit), context(), unit)


def set_occupancy(
    session: Session, principal: Principal, code: str, data: FacilityUpdate
) -> list[EntityChanged]:
    """Record a facility's occupied beds (and beds) at a time; the hub keeps the history."""
    row = places.find(session, principal, entity_id(code), [type_iri()])
    current = places.values(row, context())
    beds = data.beds if data.beds is not None else current.get("capacity")
    when = places.observed(data.observed_at)
    attrs: dict[str, Any] = {
        "occupancy": {"type": "Property", "value": data.occupied_beds, "observedAt": when},
    }
    rate = _rate(data.occupied_beds, beds)
    if rate is not None:
        attrs["occupationRate"] = {"type": "Property", "value": rate, "observedAt": when}
    if data.beds is not None:
        attrs["capacity"] = {"type": "Property", "value": data.beds, "observedAt": when}
    return places.update_attrs(session, principal, row.entity_id, attrs, context())


def facility_rows(
    session: Session, principal: Principal, unit: Unit | None = None
) -> list[ContextEntity]:
    """Return the facilities the caller may see (under `unit` when given)."""
    return places.rows(session, principal, [type_iri()], unit)


def geojson(rows: list[ContextEntity], level: str | None = None) -> dict[str, Any]:
    """Render facilities as a GeoJSON FeatureCollection for the map."""
    features = [places.feature(r, context(), PUBLIC_ATTRS) for r in rows]
    if level:
        features = [f for f in features if level in (f["properties"].get("category") or [])]
    return places.collection(features)


def occupancy(rows: list[ContextEntity]) -> OccupancySummary:
    """Add up beds and occupied beds, in total and by facility level."""
    totals: dict[str, list[int]] = {level: [0, 0, 0] for level in LEVELS}
    for row in rows:
        props = places.values(row, context())
        level = (props.get("category") or ["?"])[0]
        if level not in totals:
            continue
        beds, occupied = props.get("capacity") or 0, props.get("occupancy") or 0
        totals[level][0] += 1
        totals[level][1] += int(beds)
        totals[level][2] += int(occupied)
    by_level = [
        OccupancyRow(
            level=level,
            label_vi=LEVELS[level].label_vi,
            label_en=LEVELS[level].label_en,
            facilities=n,
            beds=beds,
            occupied_beds=occupied,
            occupancy_rate=_rate(occupied, beds),
        )
        for level, (n, beds, occupied) in totals.items()
    ]
    beds = sum(r.beds for r in by_level)
    occupied = sum(r.occupied_beds for r in by_level)
    return OccupancySummary(
        facilities=sum(r.facilities for r in by_level),
        beds=beds,
        occupied_beds=occupied,
        occupancy_rate=_rate(occupied, beds),
        by_level=by_level,
    )
