"""Attractions, accommodation, destinations and events as context-hub entities.

Smart Data Models types: an attraction or an accommodation is a `PointOfInterest`
(dataModel.PointOfInterest; category ["attraction", <sub-category>] or ["accommodation",
<sub-category>], rooms as `capacity`), a destination a `TouristDestination` and an event an
`Event` (both dataModel.TourismDestinations, with `startDate`/`endDate`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from cityops.context.events import EntityChanged
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity
from cityops.core.policy import Principal
from cityops.core.units.models import Unit
from cityops.modules import sector
from cityops.modules.tourism.choices import Kind
from cityops.modules.tourism.schemas import EventCreate, Located, PlaceCreate

POI, DESTINATION, EVENT = "PointOfInterest", "TouristDestination", "Event"
TYPE_OF = {Kind.attraction: POI, Kind.accommodation: POI, Kind.destination: DESTINATION}
PUBLIC_PLACE = ("name", "description", "category", "address", "openingHours", "url")
PUBLIC_EVENT = ("name", "description", "category", "address", "startDate", "endDate", "url")
STAFF = (
    *PUBLIC_PLACE,
    "capacity",
    "starRating",
    "startDate",
    "endDate",
    "wardId",
    "wardName",
)


def context(entity_type: str) -> ActiveContext:
    """The built-in @context of a type (its Smart Data Models domain)."""
    return sector.context("PointOfInterest" if entity_type == POI else "TourismDestinations")


def type_iri(entity_type: str) -> str:
    """The expanded IRI of a type."""
    return context(entity_type).expand(entity_type)


def _common(data: Located, entity_type: str, unit: Unit) -> dict[str, Any]:
    address = {"addressLocality": unit.name, "addressCountry": "VN"}
    if data.address:
        address["streetAddress"] = data.address
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:{entity_type}:{data.code}",
        "type": entity_type,
        "name": data.name,
        "address": address,
        "location": {"type": "Point", "coordinates": [data.lon, data.lat]},
        "wardId": unit.code,
        "wardName": unit.name,
        "dataProvider": "CityOps",
        "source": "tourism",
    }
    optional = {"description": data.description, "url": data.url}
    return body | {k: v for k, v in optional.items() if v}


def place_payload(data: PlaceCreate, unit: Unit) -> dict[str, Any]:
    """Build an attraction, accommodation or destination entity (concise form)."""
    entity_type = TYPE_OF[data.kind]
    body = _common(data, entity_type, unit)
    body["category"] = [data.kind.value] + ([data.category] if data.category else [])
    optional = {
        "openingHours": data.opening_hours,
        "capacity": data.rooms,
        "starRating": data.star_rating,
    }
    return body | {k: v for k, v in optional.items() if v is not None}


def event_payload(data: EventCreate, unit: Unit) -> dict[str, Any]:
    """Build an event entity (concise form)."""
    body = _common(data, EVENT, unit)
    body["startDate"] = data.start_date.isoformat()
    body["endDate"] = data.end_date.isoformat()
    if data.category:
        body["category"] = [data.category]
    return body


def save_place(
    session: Session, principal: Principal, data: PlaceCreate, unit: Unit
) -> list[EntityChanged]:
    """Add a place to the hub, or change it."""
    ctx = context(TYPE_OF[data.kind])
    return sector.upsert(session, principal, place_payload(data, unit), ctx, unit)


def save_event(
    session: Session, principal: Principal, data: EventCreate, unit: Unit
) -> list[EntityChanged]:
    """Add an event to the hub, or change it."""
    return sector.upsert(session, principal, event_payload(data, unit), context(EVENT), unit)


def _kind_of(row: ContextEntity) -> str | None:
    if row.type == type_iri(EVENT):
        return "event"
    if row.type == type_iri(DESTINATION):
        return Kind.destination.value
    category = sector.values(row, context(POI)).get("category") or []
    found = [k for k in (Kind.attraction, Kind.accommodation) if k in category]
    return found[0].value if found else None


def features(
    rows: list[ContextEntity], keep: tuple[str, ...], kinds: set[str] | None = None
) -> list[dict[str, Any]]:
    """Render tourism entities as GeoJSON features with a `kind` property."""
    out = []
    for row in rows:
        kind = _kind_of(row)
        if kind is None or (kinds is not None and kind not in kinds):
            continue
        entity_type = EVENT if kind == "event" else TYPE_OF[Kind(kind)]
        feature = sector.feature(row, context(entity_type), keep)
        feature["properties"]["kind"] = kind
        out.append(feature)
    return out


def all_rows(
    session: Session, principal: Principal | None, unit: Unit | None = None
) -> list[ContextEntity]:
    """Return the tourism entities (in the caller's scope; None: every one, for the public)."""
    types = [type_iri(POI), type_iri(DESTINATION), type_iri(EVENT)]
    return sector.rows(session, principal, types, unit)


def upcoming(events: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Keep the events not yet over, soonest first."""
    left = [e for e in events if str(e["properties"].get("endDate", "")) >= today.isoformat()]
    return sorted(left, key=lambda e: str(e["properties"].get("startDate", "")))
