"""NGSI-LD subscription endpoints: /ngsi-ld/v1/subscriptions (ETSI GS CIM 009, 6.10-6.11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cityops.context import http, subscriptions, typesel
from cityops.context.entities import check_uri, iso
from cityops.context.errors import NgsiLdError, bad_request, not_allowed
from cityops.context.events import EntityChanged
from cityops.context.http import NgsiPrincipal
from cityops.context.jsonld import ActiveContext, ContextError
from cityops.context.notifier import Notifier
from cityops.context.params import NO_PARAMS, check_params
from cityops.context.query import parse_query
from cityops.context.subscriptions import DEFAULT_TRIGGERS
from cityops.context.subscriptions_match import LiveSubscription
from cityops.context.subscriptions_models import ContextSubscription
from cityops.core import netguard
from cityops.core.db import utcnow
from cityops.core.policy import Perm, Principal, authorize

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD subscriptions"])
T = TypeVar("T")
ALLOWLIST_SETTING = "CITYOPS_NGSI_LD__NOTIFICATION_ALLOWLIST"


def install(app: FastAPI) -> None:
    """Mount these routes and run the notifier (fed by the bus) while the app serves."""
    app.include_router(router)
    notifier = app.state.ngsi_notifier = Notifier(app)
    app.state.lifespan_hooks.append(notifier.lifespan)
    app.state.bus.subscribe(EntityChanged, notifier.on_change)


def _read(principal: Principal) -> None:
    authorize(principal, Perm.data_read, check_unit=False, hide=False)


def _notifier(request: Request) -> Notifier:
    return request.app.state.ngsi_notifier  # type: ignore[no-any-return]


async def _in_db(request: Request, work: Callable[[Session], T]) -> T:
    """Run database work in a worker thread and one transaction."""

    def job() -> T:
        with request.app.state.db.session() as session:
            return work(session)

    return await run_in_threadpool(job)


def _ready(notifier: Notifier, row: ContextSubscription) -> LiveSubscription:
    """Compile a stored subscription, or refuse it (and roll back) if its @context fails."""
    try:
        return notifier.compile(row)
    except ContextError as err:
        kind = "LdContextNotAvailable" if err.unavailable else "BadRequestData"
        raise NgsiLdError(kind, f"the subscription's @context: {err.detail}") from err


async def _guard_endpoint(request: Request, body: Any) -> None:
    """Refuse a notification endpoint on an internal address the operator did not allow."""
    endpoint = (body.get("notification") or {}) if isinstance(body, dict) else {}
    uri = (endpoint.get("endpoint") or {}).get("uri") if isinstance(endpoint, dict) else None
    if not isinstance(uri, str):
        return  # absent or malformed: the subscription parser says what is wrong
    allowlist = request.app.state.settings.ngsi_ld.notification_allowlist
    try:
        await run_in_threadpool(
            netguard.check_url, uri, allowlist, must_resolve=False, setting=ALLOWLIST_SETTING
        )
    except netguard.OutboundRefused as err:
        raise bad_request(f"notification.endpoint.uri: {err}") from err


def status_of(row: ContextSubscription, now: datetime) -> str:
    """Say whether a subscription is active, paused or expired."""
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active" if row.is_active else "paused"


def _compact_doc(doc: dict[str, Any], ctx: ActiveContext) -> dict[str, Any]:
    out = dict(doc)
    if "entities" in doc:
        out["entities"] = [
            s | {"type": typesel.to_text(typesel.from_json(s["type"]), ctx.compact)}
            for s in doc["entities"]
        ]
    if "watchedAttributes" in doc:
        out["watchedAttributes"] = [ctx.compact(a) for a in doc["watchedAttributes"]]
    if "geoQ" in doc:
        out["geoQ"] = doc["geoQ"] | {"geoproperty": ctx.compact(doc["geoQ"]["geoproperty"])}
    notification = dict(doc["notification"])
    if "attributes" in notification:
        notification["attributes"] = [ctx.compact(a) for a in notification["attributes"]]
    out["notification"] = notification
    return out


def render(row: ContextSubscription, ctx: ActiveContext, record: dict[str, Any]) -> dict[str, Any]:
    """Render a subscription for a client, with its delivery record."""
    out: dict[str, Any] = {"id": row.sub_id, "type": "Subscription"}
    out |= _compact_doc(row.doc, ctx)
    out.pop("isActive", None)
    if "isActive" in row.doc or not row.is_active:
        out["isActive"] = row.is_active
    if row.expires_at is not None:
        out["expiresAt"] = iso(row.expires_at)
    out.setdefault("notificationTrigger", DEFAULT_TRIGGERS)
    out["status"] = status_of(row, utcnow())
    out["notification"] = out["notification"] | {
        k: iso(v) if isinstance(v, datetime) else v for k, v in record.items() if v is not None
    }
    return out


def _one(sub_id: str) -> None:
    """A path naming one subscription: without an id (`/subscriptions/`) it names the
    collection, which cannot be changed or deleted (405)."""
    if not sub_id:
        raise not_allowed("name the subscription: /subscriptions/{id}")
    check_uri(sub_id, "subscription id")


def _media(request: Request) -> str:
    return http.negotiate_plain(request)


@router.post("/subscriptions", status_code=201)
async def create_subscription(request: Request, principal: NgsiPrincipal) -> Response:
    """Create a subscription: notifications go to its endpoint."""
    check_params(request, NO_PARAMS)
    _read(principal)
    body, ctx = await http.read_body(request)
    await _guard_endpoint(request, body)
    tenant, notifier = http.tenant(request), _notifier(request)
    live = await _in_db(
        request,
        lambda s: _ready(notifier, subscriptions.create(s, tenant, principal, body, ctx)),
    )
    notifier.put(live)
    location = f"/ngsi-ld/v1/subscriptions/{quote(live.sub_id, safe=':')}"
    return Response(status_code=201, headers={"Location": location})


@router.get("/subscriptions")
async def list_subscriptions(request: Request, principal: NgsiPrincipal) -> Response:
    """List the subscriptions the caller may see (limit, offset, count)."""
    check_params(request, frozenset({"limit", "offset", "count"}))
    _read(principal)
    ctx, media, tenant = http.query_context(request), _media(request), http.tenant(request)
    cfg = request.app.state.settings.ngsi_ld
    params = {k: request.query_params.get(k) for k in ("limit", "offset", "count")}
    paging = parse_query(params, ctx, default_limit=cfg.default_limit, max_limit=cfg.max_limit)
    peek = paging.limit + 1 if paging.limit > 0 else 0  # one more tells if a next page exists
    rows, total = await _in_db(
        request,
        lambda s: subscriptions.page(s, tenant, principal, peek, paging.offset, paging.count),
    )
    more, rows = len(rows) > paging.limit, rows[: paging.limit]
    notifier = _notifier(request)
    body = [render(row, ctx, notifier.record(row)) for row in rows]
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    links = http.page_links(request, paging.offset, paging.limit, more)
    return http.respond(request, body, ctx, media, headers=headers, links=links)


@router.get("/subscriptions/{sub_id:path}")
async def get_subscription(request: Request, sub_id: str, principal: NgsiPrincipal) -> Response:
    """Retrieve a subscription with its status and delivery record."""
    check_uri(sub_id, "subscription id")
    _read(principal)
    ctx, media, tenant = http.query_context(request), _media(request), http.tenant(request)
    row = await _in_db(request, lambda s: subscriptions.get(s, tenant, principal, sub_id))
    body = render(row, ctx, _notifier(request).record(row))
    return http.respond(request, body, ctx, media)


@router.patch("/subscriptions/{sub_id:path}", status_code=204)
async def update_subscription(request: Request, sub_id: str, principal: NgsiPrincipal) -> Response:
    """Update members of a subscription (null removes an optional member)."""
    _one(sub_id)
    _read(principal)
    body, ctx = await http.read_body(request, merge=True)
    await _guard_endpoint(request, body)
    tenant, notifier = http.tenant(request), _notifier(request)
    live = await _in_db(
        request,
        lambda s: _ready(notifier, subscriptions.update(s, tenant, principal, sub_id, body, ctx)),
    )
    notifier.put(live)
    return Response(status_code=204)


@router.delete("/subscriptions/{sub_id:path}", status_code=204)
async def delete_subscription(request: Request, sub_id: str, principal: NgsiPrincipal) -> Response:
    """Delete a subscription."""
    _one(sub_id)
    _read(principal)
    tenant = http.tenant(request)
    await _in_db(request, lambda s: subscriptions.delete(s, tenant, principal, sub_id))
    _notifier(request).remove((tenant, sub_id))
    return Response(status_code=204)
