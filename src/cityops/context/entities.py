"""Parse NGSI-LD entities and attributes into the stored (expanded, normalized) form.

Accepts the normalized and the concise representations (ETSI GS CIM 009, 4.5); keys are
expanded with the request's @context; values are validated (dates, GeoJSON) with errors that
name the attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from cityops.context.errors import bad_request
from cityops.context.geometry import GEO_TYPES, check_geometry
from cityops.context.jsonld import ActiveContext

ATTR_TYPES = {
    "Property": "value",
    "GeoProperty": "value",
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "JsonProperty": "json",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
    "VocabProperty": "vocab",
}
# Members of an attribute that are not sub-attributes (never expanded).
CORE_MEMBERS = frozenset(
    {
        "type",
        "value",
        "object",
        "languageMap",
        "json",
        "valueList",
        "objectList",
        "vocab",
        "observedAt",
        "unitCode",
        "datasetId",
        "createdAt",
        "modifiedAt",
        "deletedAt",
        "instanceId",
        "objectType",
        "lang",
    }
)
ENTITY_MEMBERS = frozenset(
    {"id", "type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt"}
)
LOCATION_IRI = "https://uri.etsi.org/ngsi-ld/location"
SCOPE_IRI = "https://uri.etsi.org/ngsi-ld/scope"
# the core context's geospatial attributes: always GeoProperties (GS CIM 009 4.7)
GEO_IRIS = frozenset(
    {
        LOCATION_IRI,
        "https://uri.etsi.org/ngsi-ld/observationSpace",
        "https://uri.etsi.org/ngsi-ld/operationSpace",
    }
)
# The form the store keeps times in (see iso()): such input needs no re-formatting.
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,5}[1-9])?Z")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_FORBIDDEN_NAME = re.compile(r"[<>\"'=;()\s]")


@dataclass
class ParsedEntity:
    """An entity as stored: type and attributes keyed by expanded IRI."""

    entity_id: str
    type: str
    attrs: dict[str, Any] = field(default_factory=dict)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    scopes: list[str] | None = None
    types: list[str] | None = None  # every type, when there are several (`type`: the first)

    @property
    def all_types(self) -> list[str]:
        """Every type the entity (or the fragment) names; none for a fragment without one."""
        return self.types or ([self.type] if self.type else [])


def iso(dt: datetime) -> str:
    """Format a datetime the way the store keeps it: UTC, 'Z', microseconds when present."""
    dt = dt.astimezone(UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_datetime(value: Any, what: str) -> datetime:
    """Parse an ISO 8601 date-time (with zone; naive means UTC) or raise BadRequestData."""
    if not isinstance(value, str):
        raise bad_request(f"{what} must be an ISO 8601 date-time string")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as err:
        raise bad_request(f"{what} is not an ISO 8601 date-time: {value!r}") from err
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def canonical_time(value: Any, what: str) -> str:
    """Return an ISO 8601 date-time in the stored form (UTC, 'Z'), or raise BadRequestData."""
    if type(value) is str and _is_canonical(value):
        return value
    return iso(parse_datetime(value, what))


@lru_cache(maxsize=4096)
def _is_canonical(value: str) -> bool:
    """Whether a time is already in the stored form (a batch's readings share a few times)."""
    if not _CANONICAL_TIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)  # validates the calendar (no 2026-02-30)
    except ValueError:
        return False  # parse_datetime names the problem
    return True


NGSI_LD_NULL = "urn:ngsi-ld:null"


def null_of(kind: str, dataset_id: str | None = None) -> dict[str, Any]:
    """A deleted attribute instance as NGSI-LD tells it: NGSI-LD Null in its kind's member
    (GS CIM 009 4.5.0; a languageMap holds it under @none)."""
    member = ATTR_TYPES.get(kind, "value")
    out = {
        "type": kind,
        member: {"@none": NGSI_LD_NULL} if member == "languageMap" else NGSI_LD_NULL,
    }
    if dataset_id:
        out["datasetId"] = dataset_id
    return out


def attribute_instances(value: Any) -> list[Any]:
    """The instances an attribute's value in a request body holds: an array of instance
    objects (several datasetIds), else the value itself as the one instance."""
    several = isinstance(value, list) and all(isinstance(v, dict) for v in value or [1])
    return value if several else [value]


def null_instance(value: Any) -> str | None:
    """If an attribute fragment is NGSI-LD Null (its value, object, json or vocab is
    'urn:ngsi-ld:null', or its languageMap is {"@none": 'urn:ngsi-ld:null'}), return its
    datasetId ('' for the default instance); else None. Such a fragment in an update deletes
    the instance (GS CIM 009 4.5.0)."""
    if value == NGSI_LD_NULL:
        return ""
    if not isinstance(value, dict):
        return None
    nulls = (value.get(k) == NGSI_LD_NULL for k in ("value", "object", "json", "vocab"))
    if any(nulls) or value.get("languageMap") == {"@none": NGSI_LD_NULL}:
        dataset = value.get("datasetId")
        return dataset if isinstance(dataset, str) else ""
    return None


def check_uri(value: Any, what: str) -> str:
    """Return the value if it is an absolute URI, else raise BadRequestData."""
    if not isinstance(value, str) or not _URI.match(value):
        raise bad_request(
            f"{what} must be an absolute URI (e.g. urn:ngsi-ld:Type:1), got {value!r}"
        )
    return value


def _infer_type(name_iri: str, value: dict[str, Any]) -> str:
    for kind, member in ATTR_TYPES.items():
        if member in value and kind not in ("GeoProperty",):
            if member == "value" and (name_iri == LOCATION_IRI or _looks_geo(value["value"])):
                return "GeoProperty"
            return kind
    return ""


def _looks_geo(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in GEO_TYPES and "coordinates" in value


def parse_attribute(
    name: str, value: Any, ctx: ActiveContext, *, partial: bool = False
) -> dict[str, Any]:
    """Normalize one attribute instance (normalized or concise input); `partial` allows no value."""
    if _FORBIDDEN_NAME.search(name):
        raise bad_request(f"attribute name {name!r} contains forbidden characters")
    iri = ctx.expand(name)
    if value is None:
        raise bad_request(f"attribute {name!r} is null")
    if type(value) is dict and value.get("type") == "Property" and value.keys() <= _PLAIN:
        plain = _plain_property(name, iri, value)
        if plain is not None:
            return plain
    if not isinstance(value, dict) or (_looks_geo(value) and "value" not in value):
        kind = "GeoProperty" if iri == LOCATION_IRI or _looks_geo(value) else "Property"
        value = {"type": kind, "value": value}
    kind = value.get("type") or _infer_type(iri, value)
    if not kind and partial:
        kind = ""
    elif kind not in ATTR_TYPES:
        if "type" in value:
            raise bad_request(f"attribute {name!r} has unknown type {value.get('type')!r}")
        kind = "GeoProperty" if iri == LOCATION_IRI else "Property"
        value = {"type": kind, "value": value}
    if kind and kind != "GeoProperty" and iri in GEO_IRIS:
        if kind != "Property" or not _looks_geo(value.get("value")):
            raise bad_request(f"attribute {name!r} must be a GeoProperty, not a {kind}")
        kind = "GeoProperty"  # a Property holding GeoJSON (as Smart Data Models' examples do)
    out: dict[str, Any] = {"type": kind} if kind else {}
    member = ATTR_TYPES.get(kind)
    if member and member not in value and not partial:
        raise bad_request(f"attribute {name!r} ({kind}) needs a {member!r} member")
    for key, item in value.items():
        if key == "type":
            continue
        out_key, out_value = _member(name, key, item, kind, ctx)
        if out_key:
            out[out_key] = out_value
    return out


# a Property with only these members and a scalar value: what most readings are
_PLAIN = frozenset({"type", "value", "observedAt", "unitCode", "createdAt", "modifiedAt"})
_SCALARS = (str, int, float, bool)


def _plain_property(name: str, iri: str, value: dict[str, Any]) -> dict[str, Any] | None:
    """parse_attribute's result for a plain Property with a scalar value (None for any
    other: the general path decides), without the general path's per-member dispatch."""
    if type(value.get("value")) not in _SCALARS or iri in GEO_IRIS:
        return None
    out: dict[str, Any] = {"type": "Property"}
    for key, item in value.items():
        if key == "observedAt":
            canonical = type(item) is str and _is_canonical(item)
            out[key] = item if canonical else canonical_time(item, f"attribute {name!r} observedAt")
        elif key == "value" or key == "unitCode":
            out[key] = item
    return out


def _member(name: str, key: str, item: Any, kind: str, ctx: ActiveContext) -> tuple[str, Any]:
    """Validate one member of an attribute; sub-attributes are expanded and parsed."""
    what = f"attribute {name!r}"
    if key in ("createdAt", "modifiedAt", "deletedAt", "instanceId"):
        return "", None  # system-generated, never taken from input
    if key == "value" and kind == "GeoProperty":
        return key, check_geometry(item, what)
    if key in ("value", "json", "valueList", "languageMap", "vocab", "objectList"):
        if item is None:
            raise bad_request(f"{what} has a null {key}")
        if key == "languageMap" and not isinstance(item, dict):
            raise bad_request(f"{what} languageMap must be an object of language: text")
        if key == "vocab":
            return key, [ctx.expand(v) for v in item] if isinstance(item, list) else ctx.expand(
                item
            )
        return key, item
    if key == "object":
        objs = item if isinstance(item, list) else [item]
        for obj in objs:
            check_uri(obj, f"{what} object")
        return key, item
    if key == "observedAt":
        return key, canonical_time(item, f"{what} observedAt")
    if key == "datasetId":
        if item == NGSI_LD_NULL:
            raise bad_request(f"{what} datasetId cannot be NGSI-LD Null")
        return key, check_uri(item, f"{what} datasetId")
    if key in ("unitCode", "lang", "objectType"):
        return key, item
    if key.startswith("@"):
        return "", None
    return ctx.expand(key), parse_attribute(key, item, ctx)


def parse_attributes(
    payload: dict[str, Any], ctx: ActiveContext, *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Parse every attribute of a payload: (default instances, {IRI: {datasetId: instance}})."""
    attrs: dict[str, Any] = {}
    datasets: dict[str, dict[str, Any]] = {}
    for name, value in payload.items():
        if name in ENTITY_MEMBERS:
            continue
        instances = value if _is_instance_list(value) else [value]
        iri = ctx.expand(name)
        for item in instances:
            parsed = parse_attribute(name, item, ctx, partial=partial)
            ds = parsed.get("datasetId")
            if ds is None:
                if iri in attrs:
                    raise bad_request(f"attribute {name!r} has two instances without datasetId")
                attrs[iri] = parsed
            else:
                datasets.setdefault(iri, {})[ds] = parsed
    return attrs, datasets


def _is_instance_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and ("type" in v or "datasetId" in v) for v in value)
    )


def parse_entity(payload: Any, ctx: ActiveContext) -> ParsedEntity:
    """Parse a whole entity for create/replace/upsert."""
    if not isinstance(payload, dict):
        raise bad_request("an entity must be a JSON object")
    entity_id = check_uri(payload.get("id"), "entity id")
    if payload.get("type") is None:
        raise bad_request(f"entity {entity_id} needs a 'type'")
    what = f"entity {entity_id}"
    types = parse_types(payload["type"], what, ctx)
    attrs, datasets = parse_attributes(payload, ctx)
    scopes = None if payload.get("scope") is None else parse_scope(payload["scope"], what)
    return ParsedEntity(
        entity_id, types[0], attrs, datasets, scopes, types if len(types) > 1 else None
    )


def added_types(body: dict[str, Any], entity_id: str, ctx: ActiveContext) -> list[str]:
    """The types an append, update or merge adds to an entity (GS CIM 009 4.16)."""
    if body.get("type") is None:
        return []
    return parse_types(body["type"], f"entity {entity_id}", ctx)


def parse_types(value: Any, what: str, ctx: ActiveContext) -> list[str]:
    """An entity's `type` member: one type name or a list of them (GS CIM 009 4.16),
    expanded, each once, in the order given."""
    one = type(value) is str and value and value not in KEYWORD_ALIASES and value[0] != "@"
    if one and not _FORBIDDEN_NAME.search(value):  # one type name: what most entities have
        return [ctx.expand(value)]
    names = value if isinstance(value, list) else [value]
    for kind in names:
        if not isinstance(kind, str) or not kind or _FORBIDDEN_NAME.search(kind):
            raise bad_request(f"{what}: 'type' must be a type name or a list of them")
        if kind in KEYWORD_ALIASES or kind.startswith("@"):
            raise bad_request(f"{what}: {kind!r} is a JSON-LD keyword, not a type name")
    if not names:
        raise bad_request(f"{what}: 'type' must name at least one type")
    return list(dict.fromkeys(ctx.expand(kind) for kind in names))


# the core @context's aliases of JSON-LD keywords: never a type's name
KEYWORD_ALIASES = frozenset({"id", "type"})
_SCOPE = re.compile(r"/[^/#+\s]+(/[^/#+\s]+)*")


def parse_scope(value: Any, what: str) -> list[str] | None:
    """A scope member (GS CIM 009 4.18): one scope or a list of them, each /a/b/c."""
    if value is None:
        return None
    scopes = value if isinstance(value, list) else [value]
    if not scopes or not all(isinstance(s, str) and _SCOPE.fullmatch(s) for s in scopes):
        raise bad_request(f"{what}: scope values must look like /a/b, got {value!r}")
    return list(dict.fromkeys(scopes))


def instance_time(attr: dict[str, Any], fallback: str) -> str:
    """The time a history instance is filed under: observedAt, else the write time."""
    return attr.get("observedAt") or fallback


def numeric_value(attr: dict[str, Any]) -> float | None:
    """The attribute's value as a number, for aggregation (None when not numeric)."""
    value = attr.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
