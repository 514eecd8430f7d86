"""Turn device payloads (NGSI-LD entities, keyValues readings) into parsed entities.

A payload without an `@context` is read with the built-in Smart Data Models context that
defines its entity type (AirQualityObserved -> dataModel.Environment, Device ->
dataModel.Device, TrafficFlowObserved -> dataModel.Transportation, ...), else with the NGSI-LD
core context alone. Following the Smart Data Models convention, an attribute named `ref...`
whose plain value is a URI (or a list of URIs) is a Relationship.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from cityops.context.entities import (
    ATTR_TYPES,
    ParsedEntity,
    check_uri,
    iso,
    parse_datetime,
    parse_entity,
)
from cityops.context.errors import NgsiLdError, bad_request
from cityops.context.geometry import GEO_TYPES
from cityops.context.jsonld import (
    DATA,
    SDM_URL_FORMS,
    ActiveContext,
    ContextError,
    ContextResolver,
)

SDM_IRI = re.compile(r"^https://smartdatamodels\.org/dataModel\.([A-Za-z]+)/")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


@lru_cache
def _type_domains() -> dict[str, str]:
    """Map every entity type a built-in Smart Data Models context defines to its domain."""
    found: dict[str, str] = {}
    for folder in sorted((DATA / "smart-data-models").iterdir()):
        terms = json.loads((folder / "context.jsonld").read_text(encoding="utf-8"))["@context"]
        for term, value in terms.items():
            iri = value.get("@id") if isinstance(value, dict) else value
            if term[:1].isupper() and isinstance(iri, str) and iri.endswith("/" + term):
                found.setdefault(term, folder.name)
    return found


def sdm_context(domain: str) -> str:
    """Return the canonical URL of a Smart Data Models domain's context."""
    return SDM_URL_FORMS[0].format(s=domain)


def default_context(type_name: str | None) -> str | None:
    """Return the built-in context for an entity type (short name or IRI), None for core only."""
    if not type_name:
        return None
    match = SDM_IRI.match(type_name)
    if match and match.group(1) in set(_type_domains().values()):
        return sdm_context(match.group(1))
    domain = _type_domains().get(type_name)
    return sdm_context(domain) if domain else None


def resolve_context(
    resolver: ContextResolver, context: Any, type_name: str | None
) -> ActiveContext:
    """Resolve the payload's @context, else the default one for its type."""
    try:
        return resolver.resolve(context if context is not None else default_context(type_name))
    except ContextError as err:
        kind = "LdContextNotAvailable" if err.unavailable else "InvalidRequest"
        raise NgsiLdError(kind, err.detail) from err


def as_relationships(payload: dict[str, Any]) -> dict[str, Any]:
    """Turn `refX: "urn:..."` (keyValues) into Relationships; leave the rest alone."""
    out = dict(payload)
    for name, value in payload.items():
        if not name.startswith("ref") or name[3:4].islower():
            continue
        objs = value if isinstance(value, list) else [value]
        if objs and all(isinstance(o, str) and _URI.match(o) for o in objs):
            out[name] = {"type": "Relationship", "object": value}
    return out


def entity_items(payload: Any) -> list[Any]:
    """Return the entities of an MQTT entities payload (one object or an array)."""
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list) and payload:
        return payload
    raise bad_request("the payload must be an entity object or a non-empty array of entities")


def parse_item(resolver: ContextResolver, item: Any, envelope_context: Any = None) -> ParsedEntity:
    """Parse one NGSI-LD entity (normalized, concise or keyValues) with its @context."""
    if not isinstance(item, dict):
        raise bad_request("an entity must be a JSON object")
    kind = item.get("type")
    ctx = resolve_context(
        resolver, item.get("@context", envelope_context), kind if isinstance(kind, str) else None
    )
    return parse_entity(as_relationships(item), ctx)


def _is_normalized(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    return value.get("type") in ATTR_TYPES or any(m in value for m in ATTR_TYPES.values())


def _is_geo(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in GEO_TYPES and "coordinates" in value


def stamp_observed(attrs: dict[str, Any], observed_at: str | None) -> dict[str, Any]:
    """Give every plain or Property value an observedAt (geometry and relationships keep none)."""
    if observed_at is None:
        return attrs
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        if _is_geo(value) or (isinstance(value, dict) and value.get("type") == "Relationship"):
            out[name] = value
        elif _is_normalized(value):
            is_property = value.get("type", "Property") == "Property" and "value" in value
            out[name] = {"observedAt": observed_at, **value} if is_property else value
        else:
            out[name] = {"type": "Property", "value": value, "observedAt": observed_at}
    return out


def observed_time(value: Any, what: str) -> str | None:
    """Normalize an optional ISO 8601 observation time (naive means UTC)."""
    if value is None or value == "":
        return None
    return iso(parse_datetime(value, what))


def parse_reading(
    resolver: ContextResolver, reading: Any, context: Any, now_iso: str
) -> ParsedEntity:
    """Parse one keyValues reading {entity_id, type, attrs, observed_at} into an entity."""
    if not isinstance(reading, dict):
        raise bad_request("a reading must be an object with entity_id, type and attrs")
    entity_id = check_uri(reading.get("entity_id"), "entity_id")
    kind = reading.get("type")
    if not isinstance(kind, str) or not kind:
        raise bad_request(f"reading of {entity_id} needs a 'type'")
    attrs = reading.get("attrs")
    if not isinstance(attrs, dict) or not attrs:
        raise bad_request(f"reading of {entity_id} needs 'attrs': an object of attribute values")
    if {"id", "type", "@context"} & set(attrs):
        raise bad_request("attrs may not contain 'id', 'type' or '@context'")
    observed = observed_time(reading.get("observed_at"), "observed_at") or now_iso
    body = {"id": entity_id, "type": kind, **stamp_observed(as_relationships(attrs), observed)}
    return parse_entity(body, resolve_context(resolver, context, kind))
