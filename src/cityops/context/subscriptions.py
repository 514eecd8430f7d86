"""NGSI-LD subscriptions (ETSI GS CIM 009 v1.8, 5.2.12 and 5.8): validate, store, render.

A subscription is kept with entity types and attribute names expanded to IRIs (so it matches
the store, whatever @context a later request uses); `q` stays as written and is expanded with
the @context of the request that created it. Matching and delivery live in notifier.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.context import geoquery, typesel
from cityops.context.entities import check_uri, parse_datetime
from cityops.context.errors import NgsiLdError, bad_request, not_found
from cityops.context.join import parse_join
from cityops.context.jsonld import ActiveContext
from cityops.context.qlang import parse_q
from cityops.context.qlang_eval import QEvaluator
from cityops.context.subscriptions_models import ContextSubscription
from cityops.core.db import utcnow
from cityops.core.policy import Principal, in_scope, scope_filter

ID_PREFIX = "urn:ngsi-ld:Subscription:"
FORMATS = ("normalized", "keyValues", "simplified", "concise")
ACCEPTS = ("application/json", "application/ld+json")
TRIGGERS = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
DEFAULT_TRIGGERS = ["attributeCreated", "attributeUpdated"]  # GS CIM 009 5.2.12
MIN_TIME_INTERVAL_S = 1.0
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
# members kept in their own columns, not in the document
_COLUMNS = ("id", "type", "isActive", "expiresAt", "@context")


def _text(value: Any, what: str, limit: int = 1024) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise bad_request(f"{what} must be a non-empty string of at most {limit} characters")
    return value


def _names(value: Any, what: str, ctx: ActiveContext) -> list[str]:
    if not isinstance(value, list) or not value:
        raise bad_request(f"{what} must be a non-empty array of attribute names")
    return [ctx.expand(_text(v, f"every item of {what}", 512)) for v in value]


def _number(value: Any, what: str, low: float) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise bad_request(f"{what} must be a number of seconds, at least {low:g}")
    return value


def _selector(item: Any, ctx: ActiveContext) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise bad_request("every item of entities needs a type (and may give id or idPattern)")
    unknown = set(item) - {"type", "id", "idPattern"}
    if unknown:
        raise bad_request(f"entities items may have type, id, idPattern; not {sorted(unknown)}")
    # a type selection (GS CIM 009 4.17): `A`, `A,B`, `A|B`, `(A;B)|C` ...
    out: dict[str, Any] = {"type": typesel.to_json(typesel.parse_type_query(item["type"], ctx))}
    if "id" in item:
        out["id"] = check_uri(item["id"], "entities[].id")
    if "idPattern" in item:
        try:
            re.compile(_text(item["idPattern"], "entities[].idPattern"))
        except re.error as err:
            raise bad_request(f"entities[].idPattern is not a valid regex: {err}") from err
        out["idPattern"] = item["idPattern"]
    return out


def _entities(value: Any, ctx: ActiveContext) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise bad_request("entities must be a non-empty array of {type, id, idPattern}")
    return [_selector(item, ctx) for item in value]


def _q(value: Any, ctx: ActiveContext) -> str:
    try:
        QEvaluator(parse_q(unquote(_text(value, "q", 4096))), ctx.expand)
    except ValueError as err:
        raise bad_request(f"q: {err}") from err
    return value


def _geo_q(value: Any, ctx: ActiveContext) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("geoQ must be an object with geometry, coordinates and georel")
    try:
        parsed = geoquery.from_body({"geoQ": value})
    except ValueError as err:
        raise bad_request(f"geoQ: {err}") from err
    assert parsed is not None
    out = {k: value[k] for k in ("geometry", "coordinates", "georel")}
    return out | {"geoproperty": ctx.expand(parsed.geoproperty)}


def _key_values(value: Any, what: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise bad_request(f"{what} must be an array of {{key, value}}")
    for item in value:
        ok = isinstance(item, dict) and set(item) == {"key", "value"}
        if not ok or not all(isinstance(v, str) for v in item.values()):
            raise bad_request(f"every item of {what} must be {{key, value}} with string values")
        if "\r" in item["value"] or "\n" in item["value"]:
            raise bad_request(f"{what} values may not contain line breaks")
    return value


def _endpoint(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or "uri" not in value:
        raise bad_request("notification.endpoint must be an object with a uri")
    unknown = set(value) - {"uri", "accept", "receiverInfo", "notifierInfo"}
    if unknown:
        raise bad_request(f"notification.endpoint members not supported: {sorted(unknown)}")
    uri = _text(value["uri"], "notification.endpoint.uri", 2048)
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request(f"notification.endpoint.uri must be an http(s) URL, got {uri!r}")
    out: dict[str, Any] = {"uri": uri, "accept": value.get("accept", "application/json")}
    if out["accept"] not in ACCEPTS:
        raise bad_request(f"notification.endpoint.accept must be one of {list(ACCEPTS)}")
    for name in ("receiverInfo", "notifierInfo"):
        if name in value:
            out[name] = _key_values(value[name], f"notification.endpoint.{name}")
    for item in out.get("receiverInfo", []):
        if not _HEADER_NAME.match(item["key"]):
            raise bad_request(f"receiverInfo key {item['key']!r} is not an HTTP header name")
    return out


def _notification(value: Any, ctx: ActiveContext) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("notification must be an object with an endpoint")
    known = {"attributes", "format", "endpoint", "sysAttrs", "showChanges", "pick", "omit"}
    known |= {"join", "joinLevel"}
    unknown = set(value) - known - _STATUS_MEMBERS
    if unknown:
        raise bad_request(f"notification members not supported: {sorted(unknown)}")
    out: dict[str, Any] = {"endpoint": _endpoint(value.get("endpoint"))}
    out["format"] = value.get("format", "normalized")
    if out["format"] not in FORMATS:
        raise bad_request(f"notification.format must be one of {list(FORMATS)}")
    if "attributes" in value:
        out["attributes"] = _names(value["attributes"], "notification.attributes", ctx)
    for flag in ("sysAttrs", "showChanges"):  # GS CIM 009 5.2.14
        if value.get(flag) is not None:
            if not isinstance(value[flag], bool):
                raise bad_request(f"notification.{flag} must be true or false")
            out[flag] = value[flag]
    for member in ("pick", "omit"):  # names as notifications show them (id, type too)
        if value.get(member) is not None:
            names = value[member]
            names = names.split(",") if isinstance(names, str) else names
            out[member] = [_text(n, f"every item of notification.{member}", 512) for n in names]
            if not out[member]:
                raise bad_request(f"notification.{member} must name at least one member")
    join = parse_join(value)  # linked entities in the notification (GS CIM 009 4.5.23)
    if join is not None:
        out["join"], out["joinLevel"] = join.mode, join.level
    if "pick" in out and "omit" in out:
        raise bad_request("notification.pick and notification.omit cannot be used together")
    if ("pick" in out or "omit" in out) and "attributes" in out:
        raise bad_request("notification.attributes cannot be used with pick or omit")
    return out


def _dataset_ids(value: Any) -> list[str]:
    """The datasetIds of the attribute instances notified (GS CIM 009 4.5.5; @none: the
    default instance)."""
    ids = value if isinstance(value, list) else [value]
    if not ids:
        raise bad_request("datasetId must name at least one datasetId")
    return [d if d == "@none" else check_uri(d, "datasetId") for d in ids]


def _triggers(value: Any, _: ActiveContext) -> list[str]:
    if not isinstance(value, list) or not value or any(v not in TRIGGERS for v in value):
        raise bad_request(f"notificationTrigger must be a non-empty array of {list(TRIGGERS)}")
    return list(dict.fromkeys(value))


# notification members a client may send back from a GET (ignored: the system owns them)
_STATUS_MEMBERS = {"status", "timesSent", "timesFailed", "timesDropped", "consecutiveErrors"} | {
    "lastNotification",
    "lastSuccess",
    "lastFailure",
    "lastErrorReason",
}
_PARSERS: dict[str, Callable[[Any, ActiveContext], Any]] = {
    "subscriptionName": lambda v, _: _text(v, "subscriptionName", 256),
    "description": lambda v, _: _text(v, "description", 4096),
    "entities": _entities,
    "watchedAttributes": lambda v, c: _names(v, "watchedAttributes", c),
    "notificationTrigger": _triggers,
    "q": _q,
    "geoQ": _geo_q,
    "notification": _notification,
    "throttling": lambda v, _: _number(v, "throttling", 0.001),
    "timeInterval": lambda v, _: _number(v, "timeInterval", MIN_TIME_INTERVAL_S),
    "lang": lambda v, _: _text(v, "lang", 64),
    "jsonldContext": lambda v, _: check_uri(v, "jsonldContext"),
    "datasetId": lambda v, _: _dataset_ids(v),
}
_IGNORED = {"status"}  # output-only members a client may echo back


def parse_members(body: Any, ctx: ActiveContext, *, partial: bool) -> dict[str, Any]:
    """Check each member given and expand its names (None marks a member to remove)."""
    if not isinstance(body, dict):
        raise bad_request("a subscription must be a JSON object")
    if body.get("type", "Subscription") != "Subscription":
        raise bad_request("the type of a subscription must be 'Subscription'")
    unknown = set(body) - set(_PARSERS) - set(_COLUMNS) - _IGNORED
    if unknown:
        raise bad_request(f"unknown or unsupported subscription members: {sorted(unknown)}")
    out: dict[str, Any] = {}
    for name, value in body.items():
        if name in _PARSERS:
            removable = partial and name not in ("notification", "entities")
            out[name] = None if value is None and removable else _PARSERS[name](value, ctx)
    return out


def check_whole(doc: dict[str, Any]) -> None:
    """Apply the rules that span members (after a create or a merged update)."""
    if not doc.get("entities") and not doc.get("watchedAttributes"):
        raise bad_request("a subscription needs entities or watchedAttributes (or both)")
    if "notification" not in doc:
        raise bad_request("a subscription needs notification.endpoint.uri")
    if "throttling" in doc and "timeInterval" in doc:
        raise bad_request("throttling and timeInterval cannot be used together")
    if "timeInterval" in doc and "watchedAttributes" in doc:
        raise bad_request("watchedAttributes cannot be used with timeInterval")


def _expiry(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    expires = parse_datetime(value, "expiresAt")
    if expires <= now:
        raise bad_request(f"expiresAt must be in the future, got {value}")
    return expires


def _active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise bad_request("isActive must be true or false")
    return value


def _visible(session: Session, tenant: str, principal: Principal, sub_id: str) -> Any:
    row = session.scalar(
        select(ContextSubscription).where(
            ContextSubscription.tenant == tenant, ContextSubscription.sub_id == sub_id
        )
    )
    if row is None or not in_scope(principal, row.owner_unit_path):
        raise not_found(f"subscription {sub_id} not found")
    return row


def create(
    session: Session, tenant: str, principal: Principal, body: Any, ctx: ActiveContext
) -> ContextSubscription:
    """Validate and store a new subscription (AlreadyExists if its id is taken)."""
    doc = parse_members(body, ctx, partial=False)
    check_whole(doc)
    now = utcnow()
    sub_id = f"{ID_PREFIX}{uuid.uuid4()}"
    if "id" in body:
        sub_id = check_uri(_text(body["id"], "id", 256), "id")
    taken = select(ContextSubscription.pk).where(
        ContextSubscription.tenant == tenant, ContextSubscription.sub_id == sub_id
    )
    if session.scalar(taken) is not None:
        raise NgsiLdError("AlreadyExists", f"subscription {sub_id} already exists")
    if "isActive" in body:
        doc["isActive"] = _active(body["isActive"])  # read back only when given
    row = ContextSubscription(
        tenant=tenant,
        sub_id=sub_id,
        doc=doc,
        context=ctx.source,
        is_active=_active(body.get("isActive", True)),
        expires_at=_expiry(body.get("expiresAt"), now),
        owner=principal.actor,
        owner_unit_path=principal.unit_path,
        created_at=now,
        modified_at=now,
    )
    session.add(row)
    session.flush()
    return row


def update(
    session: Session, tenant: str, principal: Principal, sub_id: str, body: Any, ctx: ActiveContext
) -> ContextSubscription:
    """Change the members given (null removes an optional one); the id cannot change."""
    row = _visible(session, tenant, principal, sub_id)
    if isinstance(body, dict) and isinstance(body.get("notification"), dict):
        # members of notification not given keep their values (names are expanded already)
        old, given = row.doc["notification"], body["notification"]
        if isinstance(given.get("endpoint"), dict):
            given = given | {"endpoint": old["endpoint"] | given["endpoint"]}
        body = body | {"notification": old | given}
    changes = parse_members(body, ctx, partial=True)
    if body.get("id", sub_id) != sub_id:
        raise bad_request("the id of a subscription cannot be changed")
    doc = {k: v for k, v in row.doc.items() if changes.get(k, v) is not None}
    doc |= {k: v for k, v in changes.items() if v is not None}
    check_whole(doc)
    now = utcnow()
    if "isActive" in body:
        row.is_active = doc["isActive"] = _active(body["isActive"])
    if "expiresAt" in body:
        row.expires_at = _expiry(body["expiresAt"], now)
    row.doc, row.modified_at = doc, now
    return row


def delete(session: Session, tenant: str, principal: Principal, sub_id: str) -> None:
    """Delete a subscription."""
    session.delete(_visible(session, tenant, principal, sub_id))


def get(session: Session, tenant: str, principal: Principal, sub_id: str) -> ContextSubscription:
    """Return a subscription the caller may see, or raise ResourceNotFound."""
    return _visible(session, tenant, principal, sub_id)  # type: ignore[no-any-return]


def page(
    session: Session, tenant: str, principal: Principal, limit: int, offset: int, count: bool
) -> tuple[list[ContextSubscription], int | None]:
    """Return one page of the subscriptions the caller may see and, if asked, their number."""
    stmt = select(ContextSubscription).where(
        ContextSubscription.tenant == tenant,
        scope_filter(principal, ContextSubscription.owner_unit_path),
    )
    total = None
    if count:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(ContextSubscription.pk).limit(limit).offset(offset))
    return list(rows), total
