"""NGSI-LD temporal endpoints: /ngsi-ld/v1/temporal/entities (ETSI GS CIM 009, 6.18-6.22)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cityops.context import http, temporal_write
from cityops.context.api import run_store
from cityops.context.api_batch import query_from_body
from cityops.context.entities import check_uri, parse_attribute, parse_scope
from cityops.context.errors import bad_request, not_allowed, not_found
from cityops.context.http import NgsiPrincipal
from cityops.context.jsonld import ActiveContext
from cityops.context.params import NO_PARAMS, TEMPORAL_PARAMS, check_params, projections
from cityops.context.query import parse_query, run_page
from cityops.context.store import EntityStore
from cityops.context.temporal import Page, temporal_entities
from cityops.context.temporal_params import TemporalQuery, parse_temporal
from cityops.core.policy import Perm, Principal, authorize

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["NGSI-LD temporal"])


def _read(principal: Principal) -> None:
    authorize(principal, Perm.data_read, check_unit=False, hide=False)


def _media(request: Request) -> str:
    return http.negotiate_plain(request)


def _projected(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply pick/omit (GS CIM 009 4.21) to rendered temporal entities, leaving out those
    that kept nothing (pick=id keeps the ids; pick=speed the entities holding speed)."""
    pick, omit = projections(request.query_params)
    if pick is None and omit is None:
        return items
    out = []
    for item in items:
        kept = {
            k: v
            for k, v in item.items()
            if k == "@context" or ((pick is None or k in pick) and k not in (omit or ()))
        }
        if set(kept) - {"@context"}:
            out.append(kept)
    return out


def _in_window(items: list[dict[str, Any]], tq: TemporalQuery) -> list[dict[str, Any]]:
    """A temporal query with a time window answers only the entities with instances in it
    (GS CIM 009 5.7.4.4)."""
    if tq.timerel is None:
        return items
    return [item for item in items if set(item) - {"id", "type", "@context"}]


def _answer(
    request: Request,
    page: Page,
    body: Any,
    ctx: ActiveContext,
    tq: TemporalQuery,
    links: list[str] | None = None,
    **headers: str,
) -> Response:
    if isinstance(body, list):
        body = _projected(request, body)
    else:
        kept = _projected(request, [body])
        if not kept:
            raise not_found("the entity has none of the attributes asked for")
        body = kept[0]
    status = 200
    content_range = page.content_range(tq.last_n)
    if content_range:
        status, headers["Content-Range"] = 206, content_range
    media, links = _media(request), links or []
    return http.respond(request, body, ctx, media, status=status, headers=headers, links=links)


@router.get("/entities")
async def query_temporal(request: Request, principal: NgsiPrincipal) -> Response:
    """Query the temporal evolution of entities (type, id, q, geo-query, timerel, attrs...)."""
    check_params(request, TEMPORAL_PARAMS)
    _media(request)  # NotAcceptable before anything is read
    _read(principal)
    ctx = http.query_context(request)
    params = dict(request.query_params)
    settings = request.app.state.settings
    query = parse_query(
        params,
        ctx,
        default_limit=settings.ngsi_ld.default_limit,
        max_limit=settings.ngsi_ld.max_limit,
    )
    if not (query.types or query.attrs or query.q or query.geo or params.get("local") == "true"):
        # a whole history of everything is not a query (GS CIM 009 5.7.4; ids alone neither)
        raise bad_request("a temporal query needs type, attrs, q, a geo-query or local=true")
    tq = parse_temporal(params, ctx)
    _projected(request, [])
    tenant = http.tenant(request)

    def job() -> tuple[Page, int | None, bool]:
        with request.app.state.db.session() as session:
            rows, total, more = run_page(session, tenant, principal, query, ctx)
            page = temporal_entities(session, rows, ctx, tq, settings.temporal.max_instances)
            return page, total, more

    page, total, more = await request.app.state.db.run(job)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    links = http.page_links(request, query.offset, query.limit, more)
    return _answer(request, page, _in_window(page.items, tq), ctx, tq, links, **headers)


@router.post("/entities", status_code=201)
async def create_temporal(request: Request, principal: NgsiPrincipal) -> Response:
    """Create an entity from its history, or add the history to an existing one."""
    check_params(request, NO_PARAMS)
    body, ctx = await http.read_body(request)
    entity_id, kind, instances = temporal_write.parse_temporal_entity(body, ctx)
    scopes = parse_scope(body.get("scope"), f"entity {entity_id}")
    created, _ = await run_store(
        request,
        principal,
        lambda s: temporal_write.create_or_append(s, entity_id, kind, instances, scopes),
        entity=entity_id,
    )
    if not created:
        return Response(status_code=204)
    location = f"/ngsi-ld/v1/temporal/entities/{quote(entity_id, safe=':')}"
    return Response(status_code=201, headers={"Location": location})


@router.get("/entities/{entity_id:path}")
async def get_temporal(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Retrieve the temporal evolution of one entity."""
    check_params(request, TEMPORAL_PARAMS)
    _media(request)  # NotAcceptable before anything is read
    http.path_id(entity_id)
    _read(principal)
    ctx = http.query_context(request)
    tq = parse_temporal(dict(request.query_params), ctx)
    _projected(request, [])  # a bad pick/omit is refused before anything is read
    tenant = http.tenant(request)
    max_instances = request.app.state.settings.temporal.max_instances

    def job() -> Page:
        with request.app.state.db.session() as session:
            row = EntityStore(session, tenant, principal, lock=False).get(entity_id)
            return temporal_entities(session, [row], ctx, tq, max_instances)

    page = await request.app.state.db.run(job)
    item = page.items[0]
    if tq.attrs is not None and not set(item) - {"id", "type", "@context"}:
        raise not_found(f"entity {entity_id} has no history of the attributes asked for")
    return _answer(request, page, item, ctx, tq)


@router.patch("/entities/{entity_id:path}/attrs/{attr}/{instance_id}", status_code=204)
async def patch_instance(
    request: Request, entity_id: str, attr: str, instance_id: str, principal: NgsiPrincipal
) -> Response:
    """Modify one instance of an attribute's history."""
    http.path_id(entity_id)
    check_uri(instance_id, "instanceId")
    body, ctx = await http.read_body(request)
    if not isinstance(body, dict):
        raise bad_request("the body must be an attribute fragment (an object)")
    fragment = body.get(attr, body) if isinstance(body.get(attr), dict) else body
    fragment = {k: v for k, v in fragment.items() if k != "@context"}
    partial = parse_attribute(attr, fragment, ctx, partial=True)
    iri = ctx.expand(attr)
    await run_store(
        request,
        principal,
        lambda s: temporal_write.patch_instance(s, s.get(entity_id), iri, instance_id, partial),
        entity=entity_id,
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id:path}/attrs/{attr}/{instance_id}", status_code=204)
async def delete_instance(
    request: Request, entity_id: str, attr: str, instance_id: str, principal: NgsiPrincipal
) -> Response:
    """Delete one instance of an attribute's history."""
    http.path_id(entity_id)
    check_uri(instance_id, "instanceId")
    iri = http.query_context(request).expand(attr)
    await run_store(
        request,
        principal,
        lambda s: temporal_write.delete_instance(s, s.get(entity_id), iri, instance_id),
        entity=entity_id,
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id:path}/attrs/{attr}", status_code=204)
async def delete_attribute_history(
    request: Request, entity_id: str, attr: str, principal: NgsiPrincipal
) -> Response:
    """Delete an attribute's history (default instances, one datasetId, or all with deleteAll)."""
    http.path_id(entity_id)
    iri = http.query_context(request).expand(attr)
    dataset_id = request.query_params.get("datasetId")
    delete_all = request.query_params.get("deleteAll", "").lower() == "true"
    await run_store(
        request,
        principal,
        lambda s: temporal_write.delete_attr_history(
            s, s.get(entity_id), iri, dataset_id, delete_all
        ),
        entity=entity_id,
    )
    return Response(status_code=204)


@router.post("/entities/{entity_id:path}/attrs", status_code=204)
async def append_instances(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Add attribute instances to an entity's history."""
    http.path_id(entity_id)
    body, ctx = await http.read_body(request)
    if not isinstance(body, dict):
        raise bad_request("the body must be an object of attributes with their instances")
    instances = temporal_write.parse_instances(body, ctx)
    await run_store(
        request,
        principal,
        lambda s: temporal_write.append(s, s.get(entity_id), instances),
        entity=entity_id,
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id:path}", status_code=204)
async def delete_temporal(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Delete an entity and its whole history."""
    if not entity_id:  # the collection, /temporal/entities/
        raise not_allowed("name the entity to delete: /temporal/entities/{id}")
    http.path_id(entity_id)
    await run_store(request, principal, lambda s: s.delete(entity_id), entity=entity_id)
    return Response(status_code=204)


@router.post("/entityOperations/query")
async def query_temporal_batch(request: Request, principal: NgsiPrincipal) -> Response:
    """Query temporal evolution with a Query body (entities, attrs, q, geoQ, temporalQ)."""
    _read(principal)
    body, ctx = await http.read_body(request)
    if not isinstance(body, dict) or body.get("type", "Query") != "Query":
        raise bad_request("the body must be a Query object")
    temporal_q = body.get("temporalQ") or {}
    if not isinstance(temporal_q, dict):
        raise bad_request("temporalQ must be an object (timerel, timeAt, endTimeAt, lastN)")
    query = query_from_body(request, body, ctx)
    params: dict[str, Any] = dict(request.query_params)
    for name in ("timerel", "timeAt", "endTimeAt", "timeproperty", "lastN"):
        if temporal_q.get(name) is not None:
            params[name] = str(temporal_q[name])
    if body.get("attrs"):
        params["attrs"] = ",".join(body["attrs"])
    tq = parse_temporal(params, ctx)
    settings, tenant = request.app.state.settings, http.tenant(request)

    def job() -> tuple[Page, int | None, bool]:
        with request.app.state.db.session() as session:
            rows, total, more = run_page(session, tenant, principal, query, ctx)
            page = temporal_entities(session, rows, ctx, tq, settings.temporal.max_instances)
            return page, total, more

    page, total, _more = await request.app.state.db.run(job)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    return _answer(request, page, _in_window(page.items, tq), ctx, tq, **headers)
