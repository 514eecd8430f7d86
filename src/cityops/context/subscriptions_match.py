"""Match entity changes against NGSI-LD subscriptions (triggers, entities, watched attributes,
q, geoQ, scope) and build the notifications they get, on change or periodically."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import orjson
from sqlalchemy.orm import Session

from cityops.context import geoquery, typesel
from cityops.context.entities import ATTR_TYPES, NGSI_LD_NULL, iso, null_of
from cityops.context.events import EntityChanged
from cityops.context.http import JSONLD_REL
from cityops.context.join import Join, joined, parse_join
from cityops.context.jsonld import CORE_CONTEXT_URL, ActiveContext
from cityops.context.models import ContextEntity
from cityops.context.qlang import QExpr, parse_q
from cityops.context.qlang_eval import QEvaluator
from cityops.context.query import EntityQuery, run_query
from cityops.context.render import RenderOptions, compact_vocab, dataset_filter, render_entity
from cityops.context.subscriptions import DEFAULT_TRIGGERS
from cityops.context.subscriptions_models import ContextSubscription
from cityops.core.db import utcnow
from cityops.core.policy import Principal, in_scope


def event_triggers(event: EntityChanged) -> set[str]:
    """Name the notificationTrigger values an entity change fires."""
    if event.op == "create":  # a new entity's attributes are created with it
        return {"entityCreated", "attributeCreated"}
    if event.op == "delete":
        return {"entityDeleted", "attributeDeleted"} if event.deleted else {"entityDeleted"}
    fired = {"entityUpdated"}
    entity = event.entity or {}
    present = set(entity.get("attrs", {})) | set(entity.get("datasets", {}))
    if event.deleted or any(a not in present for a in event.attrs):
        fired.add("attributeDeleted")
    deleted = {d["attr"] for d in event.deleted}
    if event.op == "replace" or any(a in present and a not in deleted for a in event.attrs):
        fired |= {"attributeCreated", "attributeUpdated"}  # not told apart by the store
    return fired


@dataclass(frozen=True)
class Selector:
    """One item of `entities`: a type selection (expanded), and an id or an id pattern."""

    types: frozenset[str]  # entities of one of these types (empty: see `tree`)
    entity_id: str | None = None
    pattern: re.Pattern[str] | None = None
    tree: Any = None  # a selection with `;` (typesel), when `types` cannot say it

    def matches(self, entity_id: str, entity_types: Collection[str]) -> bool:
        """Say whether an entity of these types is selected."""
        if self.tree is not None:
            if not typesel.matches(self.tree, entity_types):
                return False
        elif self.types.isdisjoint(entity_types):
            return False
        if self.entity_id is not None and entity_id != self.entity_id:
            return False
        return self.pattern is None or self.pattern.search(entity_id) is not None


@dataclass
class LiveSubscription:
    """A stored subscription made ready for matching and delivery."""

    tenant: str
    sub_id: str
    doc: dict[str, Any]
    terms: ActiveContext  # expands q (the @context of the creating request)
    out: ActiveContext  # compacts notifications (jsonldContext, else the creating @context)
    is_active: bool
    expires_at: datetime | None
    principal: Principal  # the scope the subscription keeps
    selectors: list[Selector] = field(default_factory=list)
    watched: frozenset[str] | None = None
    triggers: frozenset[str] = frozenset(DEFAULT_TRIGGERS)
    q_expr: QExpr | None = None
    q: QEvaluator | None = None
    geo: geoquery.GeoQuery | None = None
    options: RenderOptions = RenderOptions()
    show_changes: bool = False  # notify the previous values of changed attributes
    join: Join | None = None  # linked entities in notifications
    errors: int = 0  # consecutive failed notifications when loaded
    modified_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Identify the subscription across tenants."""
        return (self.tenant, self.sub_id)

    @property
    def throttling(self) -> float:
        """Return the least seconds between two notifications (0: no throttling)."""
        return float(self.doc.get("throttling", 0))

    @property
    def time_interval(self) -> float:
        """Return the seconds between periodic notifications (0: notify on change)."""
        return float(self.doc.get("timeInterval", 0))

    def active(self, now: datetime) -> bool:
        """Say whether the subscription notifies now (active and not expired)."""
        return self.is_active and (self.expires_at is None or self.expires_at > now)

    def wants(self, event: EntityChanged, fired: set[str]) -> bool:
        """Say cheaply whether a change (and the triggers it fired) may concern this one."""
        if self.time_interval or self.triggers.isdisjoint(fired):
            return False
        if self.selectors:
            types = (event.entity or {}).get("types") or (event.entity_type,)
            if not any(s.matches(event.entity_id, types) for s in self.selectors):
                return False
        return self.watched is None or not self.watched.isdisjoint(event.attrs)

    def passes(self, attrs: dict[str, Any]) -> bool:
        """Test q and geoQ on an entity's attributes (keyed by expanded IRI)."""
        if self.q is not None and not self.q.matches(attrs):
            return False
        if self.geo is None:
            return True
        geometry = attrs.get(self.doc["geoQ"]["geoproperty"], {}).get("value")
        return bool(geometry) and geoquery.matches(self.geo, geometry)

    def queries(self, limit: int) -> list[EntityQuery]:
        """Return the entity queries of a periodic notification (one per entities item)."""
        return [
            EntityQuery(
                types=s.tree if s.tree is not None else typesel.any_of(sorted(s.types)),
                ids=[s.entity_id] if s.entity_id else None,
                id_pattern=s.pattern.pattern if s.pattern else None,
                q=self.q_expr,
                geo=self.geo,
                limit=limit,
            )
            for s in self.selectors
        ]


def _selectors(doc: dict[str, Any]) -> list[Selector]:
    out = []
    for item in doc.get("entities", []):
        plain = isinstance(item["type"], list)  # one type, or one of several
        out.append(
            Selector(
                frozenset(item["type"]) if plain else frozenset(),
                item.get("id"),
                re.compile(item["idPattern"]) if "idPattern" in item else None,
                None if plain else typesel.from_json(item["type"]),
            )
        )
    return out


def compile_live(
    row: ContextSubscription, resolve: Callable[[Any], ActiveContext]
) -> LiveSubscription:
    """Make a stored subscription ready for matching (resolves its @context)."""
    doc = row.doc
    terms = resolve(row.context)
    out = resolve(doc["jsonldContext"]) if "jsonldContext" in doc else terms
    notification = doc["notification"]
    if notification["endpoint"]["accept"] == "application/json" and out.link_url is None:
        out = resolve(None)  # a Link header can only name one URL: compact with the core
    live = LiveSubscription(
        tenant=row.tenant,
        sub_id=row.sub_id,
        doc=doc,
        terms=terms,
        out=out,
        is_active=row.is_active,
        expires_at=row.expires_at,
        principal=Principal(kind="system", id=0, name=row.owner, unit_path=row.owner_unit_path),
        selectors=_selectors(doc),
        triggers=frozenset(doc.get("notificationTrigger", DEFAULT_TRIGGERS)),
        options=RenderOptions(
            key_values=notification["format"] in ("keyValues", "simplified"),
            concise=notification["format"] == "concise",
            sys_attrs=notification.get("sysAttrs", False),
            attrs=frozenset(notification["attributes"]) if "attributes" in notification else None,
            pick=frozenset(notification["pick"]) if "pick" in notification else None,
            omit=frozenset(notification.get("omit", ())),
            datasets=dataset_filter(doc.get("datasetId")),
            lang=doc.get("lang"),
        ),
        show_changes=notification.get("showChanges", False),
        join=parse_join(notification),
        errors=row.consecutive_errors or 0,
        modified_at=row.modified_at,
    )
    if "watchedAttributes" in doc:
        live.watched = frozenset(doc["watchedAttributes"])
    if "q" in doc:
        live.q_expr = parse_q(unquote(doc["q"]))  # as in a URL: %20 is a space
        live.q = QEvaluator(live.q_expr, terms.expand)
    if "geoQ" in doc:
        geo = doc["geoQ"]
        live.geo = geoquery.parse_geoquery(
            geo["georel"], geo["geometry"], geo["coordinates"], geo["geoproperty"]
        )
    return live


# ------------------------------------------------------------------------------ notifications


def changed_data(
    sub: LiveSubscription,
    events: list[EntityChanged],
    unit_path: Callable[[int | None], str | None],
    reader: Callable[[], AbstractContextManager[Any]],
) -> list[dict[str, Any]]:
    """Test q, geoQ and scope on waiting changes; render each entity's latest state once
    (and those it links to, with a join: read on a `reader()`)."""
    latest: dict[str, EntityChanged] = {}
    for event in events:
        if event.entity is not None and not sub.passes(event.entity["attrs"]):
            continue
        scoped = sub.principal.unit_path is not None
        if scoped and not in_scope(sub.principal, unit_path(event.unit_id)):
            continue
        latest.pop(event.entity_id, None)  # keep the order of the latest changes
        latest[event.entity_id] = event
    data = [render_change(sub, e) for e in latest.values()]
    if sub.join is None or not data:
        return data
    with reader() as conn:
        return with_links(conn, sub, data)


def render_change(sub: LiveSubscription, event: EntityChanged) -> dict[str, Any]:
    """Render the entity of a change as the subscription asks (id, type, deletedAt if gone)."""
    snap = event.entity
    if snap is None:
        out = {"id": event.entity_id, "type": sub.out.compact(event.entity_type)}
        if sub.options.sys_attrs and event.times is not None:
            out["createdAt"], out["modifiedAt"] = event.times
        out["deletedAt"] = event.at
    else:
        row = ContextEntity(
            entity_id=snap["id"],
            type=snap["type"],
            types=snap.get("types"),
            attrs=snap["attrs"],
            datasets=snap.get("datasets") or None,
        )
        if sub.options.sys_attrs:
            row.modified_at = _when(event.at)
            row.created_at = _when(snap.get("created")) or row.modified_at
        out = render_entity(row, sub.out, sub.options)
        if _shows_changes(sub):
            for iri, before in event.previous.items():
                _show_previous(out.get(sub.out.compact(iri)), before, sub.out)
    # deleted instances: with attributeDeleted, or an entity's with showChanges
    if "attributeDeleted" not in sub.triggers and not (snap is None and _shows_changes(sub)):
        return out
    for gone in event.deleted:
        attr = gone["attr"]
        if sub.watched is not None and attr not in sub.watched:
            continue
        if sub.options.attrs is not None and attr not in sub.options.attrs:
            continue
        name = sub.out.compact(attr)
        null = _null_instance(gone, simplified=sub.options.key_values)
        was = gone.get("was") or {}
        if sub.options.sys_attrs and isinstance(null, dict):
            times = {k: was[k] for k in ("createdAt", "modifiedAt") if k in was}
            null |= times | {"deletedAt": event.at}
        if _shows_changes(sub):
            _show_previous(null, was, sub.out)
        held, dataset = out.get(name), gone.get("datasetId")
        if sub.options.key_values and (dataset or held is not None):
            # simplified multi-attribute: the instance's key in its dataset map is null
            kept = held["dataset"] if isinstance(held, dict) and "dataset" in held else {}
            if held is not None and not kept:
                kept = {"@none": held}
            out[name] = {"dataset": {**kept, dataset or "@none": null}}
        elif held is None:
            out[name] = null
        else:
            out[name] = [*(held if isinstance(held, list) else [held]), null]
    return out


def _when(value: Any) -> datetime | None:
    """A time as a snapshot or an event holds it (ISO text, stored text or a datetime)."""
    if value is None or isinstance(value, datetime):
        return value
    when = datetime.fromisoformat(str(value).replace(" ", "T").replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _shows_changes(sub: LiveSubscription) -> bool:
    return sub.show_changes and not (sub.options.key_values or sub.options.concise)


def _show_previous(shown: Any, before: dict[str, Any], ctx: ActiveContext) -> None:
    """Add to a notified attribute its value before the change: previousValue (or
    previousObject, previousLanguageMap, previousJson, previousVocab ...: GS CIM 009 5.2.14)."""
    member = ATTR_TYPES.get(before.get("type", "Property"), "value")
    if not isinstance(shown, dict) or member not in before:
        return
    value = compact_vocab(before[member], ctx) if member == "vocab" else before[member]
    shown["previous" + member[0].upper() + member[1:]] = value


def _null_instance(gone: dict[str, Any], *, simplified: bool) -> Any:
    """A deleted attribute instance as notifications carry it: NGSI-LD Null in its kind's
    member (GS CIM 009 4.5.0)."""
    if simplified:
        return NGSI_LD_NULL
    return null_of(gone["type"], gone.get("datasetId"))


def current_data(session: Session, sub: LiveSubscription, limit: int) -> list[dict[str, Any]]:
    """Render the entities a periodic subscription matches now (in its scope)."""
    found: dict[str, dict[str, Any]] = {}
    for query in sub.queries(limit):
        rows, _ = run_query(session, sub.tenant, sub.principal, query, sub.terms)
        for row in rows:
            if row.entity_id not in found:
                found[row.entity_id] = render_entity(row, sub.out, sub.options)
    return list(found.values())


def with_links(reader: Any, sub: LiveSubscription, data: list[Any]) -> list[Any]:
    """The entities of a notification with those they link to, as the subscription's join
    asks (read in its scope)."""
    if sub.join is None or not data:
        return data
    return joined(reader, sub.tenant, sub.principal, sub.out, sub.options, data, sub.join)


def message(sub: LiveSubscription, data: list[Any]) -> tuple[bytes, dict[str, str]]:
    """Build a Notification body and its HTTP headers (Link or @context, receiverInfo)."""
    endpoint = sub.doc["notification"]["endpoint"]
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": sub.sub_id,
        "notifiedAt": iso(utcnow()),
        "data": data,
    }
    headers = {item["key"]: item["value"] for item in endpoint.get("receiverInfo", [])}
    headers["Content-Type"] = endpoint["accept"]
    if endpoint["accept"] == "application/ld+json":  # the notification and each entity in
        context = sub.out.source if sub.out.source is not None else CORE_CONTEXT_URL
        body["@context"] = context  # it carry the @context (a receiver may store entities
        body["data"] = [{**item, "@context": context} for item in data]  # as they come)
    else:
        url = sub.out.link_url or CORE_CONTEXT_URL
        headers["Link"] = f'<{url}>; rel="{JSONLD_REL}"; type="application/ld+json"'
    if sub.tenant:
        headers["NGSILD-Tenant"] = sub.tenant
    return orjson.dumps(body), headers
