"""NGSI-LD entity endpoints: /ngsi-ld/v1/entities (ETSI GS CIM 009, clause 6.4-6.7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cityops.context import http
from cityops.context.entities import (
    ENTITY_MEMBERS,
    SCOPE_IRI,
    added_types,
    attribute_instances,
    null_instance,
    parse_attribute,
    parse_attributes,
    parse_entity,
    parse_scope,
)
from cityops.context.errors import NgsiLdError, bad_request, not_found
from cityops.context.events import EntityChanged
from cityops.context.http import NgsiPrincipal
from cityops.context.join import joined, parse_join
from cityops.context.jsonld import ActiveContext
from cityops.context.merge import merge_into
from cityops.context.params import (
    NO_PARAMS,
    QUERY_PARAMS,
    RETRIEVE_PARAMS,
    check_params,
    render_options,
)
from cityops.context.query import parse_query, render_columns, run_page, split
from cityops.context.render import render_entity, render_feature
from cityops.context.store import EntityStore, WriteResult
from cityops.core.policy import Perm, Principal, authorize

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD entities"])
T = TypeVar("T")


async def run_store(
    request: Request,
    principal: Principal,
    work: Callable[[EntityStore], T],
    *,
    batch: bool = False,
    entity: str | None = None,
) -> T:
    """Run store work in a transaction (a batch alone, in a worker thread; one entity's
    write grouped with the writes arriving with it, see Database.write); publish the events
    it made once committed. `entity`: the id of the one entity the work writes (on
    PostgreSQL grouped writes lock their entities in id order)."""
    tenant = http.tenant(request)
    db = request.app.state.db

    def job(session: Session) -> T:
        return work(EntityStore(session, tenant, principal))

    if batch:
        result = await run_in_threadpool(db.write_alone, job)
    else:
        result = await db.write(job, None if entity is None else (tenant, entity))
    await request.app.state.bus.publish_many(_events_of(result))
    return result


def _events_of(result: Any) -> list[EntityChanged]:
    if isinstance(result, EntityChanged):
        return [result]
    events = getattr(result, "events", None)
    if isinstance(events, list):
        return _events_of(events)
    if isinstance(result, tuple | list):
        return [e for item in result for e in _events_of(item)]
    return []


def _read(principal: Principal) -> None:
    authorize(principal, Perm.data_read, check_unit=False, hide=False)


@router.post("/entities", status_code=201)
async def create_entity(request: Request, principal: NgsiPrincipal) -> Response:
    """Create an entity."""
    check_params(request, NO_PARAMS)
    body, ctx = await http.read_body(request)
    parsed = parse_entity(body, ctx)
    await run_store(request, principal, lambda store: store.create(parsed), entity=parsed.entity_id)
    location = f"/ngsi-ld/v1/entities/{quote(parsed.entity_id, safe=':')}"
    return Response(status_code=201, headers={"Location": location})


@router.get("/entities")
async def query_entities(request: Request, principal: NgsiPrincipal) -> Response:
    """Query entities by type, id, idPattern, q, geo-query and attrs."""
    _read(principal)
    check_params(request, QUERY_PARAMS)
    ctx = http.query_context(request)
    neg = http.negotiate(request)
    cfg = request.app.state.settings.ngsi_ld
    query = parse_query(
        dict(request.query_params), ctx, default_limit=cfg.default_limit, max_limit=cfg.max_limit
    )
    opts, join = render_options(request, ctx), parse_join(request.query_params)
    tenant = http.tenant(request)
    columns = render_columns(opts.sys_attrs)

    def job() -> tuple[list[dict[str, Any]], int | None, bool]:
        with request.app.state.db.reading() as conn:
            rows, total, more = run_page(conn, tenant, principal, query, ctx, columns)
            if neg.media == "application/geo+json":
                geo = _geometry_property(request, ctx)
                return [render_feature(r, ctx, opts, geo) for r in rows], total, more
            rendered = [e for e in (render_entity(r, ctx, opts) for r in rows) if e]
            if join is not None:  # (pick/omit may leave an entity empty: it is not listed)
                rendered = joined(conn, tenant, principal, ctx, opts, rendered, join)
            return rendered, total, more

    items, total, more = await request.app.state.db.run(job)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    body: Any = items
    if neg.media == "application/geo+json":
        body = {"type": "FeatureCollection", "features": items}
    links = http.page_links(request, query.offset, query.limit, more)
    return http.respond(request, body, ctx, neg.media, headers=headers, links=links)


def _geometry_property(request: Request, ctx: Any) -> str:
    """A Feature's geometry: geometryProperty, else location (null where the entity lacks it)."""
    return ctx.expand(request.query_params.get("geometryProperty") or "location")


@router.get("/entities/{entity_id:path}")
async def get_entity(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Retrieve an entity by id."""
    http.path_id(entity_id)
    _read(principal)
    check_params(request, RETRIEVE_PARAMS)
    ctx = http.query_context(request)
    neg = http.negotiate(request)
    opts, join = render_options(request, ctx), parse_join(request.query_params)
    tenant = http.tenant(request)

    def job() -> Any:
        with request.app.state.db.session() as session:
            row = EntityStore(session, tenant, principal, lock=False).get(entity_id)
            if opts.attrs is not None and opts.attrs.isdisjoint(
                set(row.attrs) | set(row.datasets or {})
            ):  # GS CIM 009 5.7.1.4: nothing asked for is there
                raise not_found(f"entity {entity_id} has none of the attributes asked for")
            if neg.media == "application/geo+json":
                return render_feature(row, ctx, opts, _geometry_property(request, ctx))
            out = render_entity(row, ctx, opts)
            if not set(out) - {"@context"}:  # pick/omit left nothing of it
                raise not_found(f"entity {entity_id} has none of the members asked for")
            if join is None:
                return out
            linked = joined(session, tenant, principal, ctx, opts, [out], join)
            return linked if join.mode == "flat" else out

    return http.respond(request, await request.app.state.db.run(job), ctx, neg.media)


@router.delete("/entities/{entity_id:path}/attrs/{attr}", status_code=204)
async def delete_attribute(
    request: Request, entity_id: str, attr: str, principal: NgsiPrincipal
) -> Response:
    """Delete an attribute (one instance with datasetId, or all with deleteAll=true)."""
    http.path_id(entity_id)
    ctx = http.query_context(request)
    iri = ctx.expand(attr)
    dataset_id = request.query_params.get("datasetId")
    delete_all = request.query_params.get("deleteAll", "").lower() == "true"
    if iri == SCOPE_IRI:
        await run_store(
            request,
            principal,
            lambda s: s.write_scopes(s.get(entity_id, orm=False), None, "delete"),
            entity=entity_id,
        )
        return Response(status_code=204)
    await run_store(
        request,
        principal,
        lambda s: s.delete_attr(s.get(entity_id), iri, dataset_id, delete_all),
        entity=entity_id,
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id:path}", status_code=204)
async def delete_entity(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Delete an entity."""
    http.path_id(entity_id)
    await run_store(request, principal, lambda s: s.delete(entity_id), entity=entity_id)
    return Response(status_code=204)


@router.put("/entities/{entity_id:path}/attrs/{attr}", status_code=204)
async def replace_attribute(
    request: Request, entity_id: str, attr: str, principal: NgsiPrincipal
) -> Response:
    """Replace one attribute (the instance of the body's datasetId, else the default one)."""
    http.path_id(entity_id)
    body, ctx = await http.read_body(request)
    iri = attribute_iri(attr, ctx)
    parsed = parse_attribute(attr, _strip_context(body), ctx)
    dataset = parsed.get("datasetId")

    def work(s: EntityStore) -> WriteResult:
        row = s.get(entity_id)
        if dataset is not None:
            if dataset not in (row.datasets or {}).get(iri, {}):
                raise not_found(f"attribute {attr} has no instance {dataset} in {entity_id}")
            return s.write_attrs(row, {}, {iri: {dataset: parsed}}, mode="update")
        if iri not in row.attrs:
            raise not_found(f"attribute {attr} does not exist in {entity_id}")
        return s.write_attrs(row, {iri: parsed}, {}, mode="update")

    await run_store(request, principal, work, entity=entity_id)
    return Response(status_code=204)


@router.patch("/entities/{entity_id:path}/attrs/{attr}", status_code=204)
async def patch_attribute(
    request: Request, entity_id: str, attr: str, principal: NgsiPrincipal
) -> Response:
    """Partially update one attribute (the instance of the body's datasetId, else the
    default one); an NGSI-LD Null fragment deletes that instance."""
    http.path_id(entity_id)
    body, ctx = await http.read_body(request, merge=True)
    fragment = _strip_context(body)
    iri = attribute_iri(attr, ctx)
    dataset = null_instance(fragment)
    if dataset is not None:
        await run_store(
            request,
            principal,
            lambda s: s.delete_attr(s.get(entity_id), iri, dataset or None, False),
            entity=entity_id,
        )
        return Response(status_code=204)
    partial = parse_attribute(attr, fragment, ctx, partial=True)
    await run_store(
        request,
        principal,
        lambda s: s.patch_attr(s.get(entity_id, orm=False), iri, partial),
        entity=entity_id,
    )
    return Response(status_code=204)


def attribute_iri(attr: str, ctx: ActiveContext) -> str:
    """The IRI of the attribute a path names; BadRequestData for a JSON-LD keyword or an
    entity member (scope is changed through .../attrs, not as an attribute)."""
    iri = ctx.expand(attr)
    if attr.startswith("@") or iri == SCOPE_IRI or attr in ENTITY_MEMBERS:
        raise bad_request(f"{attr!r} is not an attribute name")
    return iri


def split_nulls(
    body: dict[str, Any], ctx: ActiveContext
) -> tuple[dict[str, Any], list[tuple[str, str | None]]]:
    """Take the NGSI-LD Null instances out of an attributes body: (the rest of the body,
    [(attribute IRI, datasetId or None)] to delete)."""
    rest: dict[str, Any] = {}
    deletes: list[tuple[str, str | None]] = []
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            rest[name] = value
            continue
        instances = attribute_instances(value)
        live = []
        for item in instances:
            dataset = null_instance(item)
            if dataset is None:
                live.append(item)
            else:
                deletes.append((ctx.expand(name), dataset or None))
        if live:
            rest[name] = live if instances is value else live[0]
    return rest, deletes


def _strip_context(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "@context"}
    return body


def _multi_status(result: WriteResult, ctx: ActiveContext, touched: list[str]) -> Response:
    if not result.not_updated:
        return Response(status_code=204)
    skipped = {iri for iri, _ in result.not_updated}
    body = {
        "updated": [ctx.compact(i) for i in touched if i not in skipped],
        "notUpdated": [
            {"attributeName": ctx.compact(i), "reason": r} for i, r in result.not_updated
        ],
    }
    return http.respond_plain(body, 207)


@router.post("/entities/{entity_id:path}/attrs")
async def append_attributes(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Append attributes (overwriting unless options=noOverwrite)."""
    http.path_id(entity_id)
    body, ctx = await http.read_body(request)
    if not isinstance(body, dict):
        raise bad_request("the body must be an object of attributes")
    attrs, datasets = parse_attributes(body, ctx)
    scopes = parse_scope(body.get("scope"), f"entity {entity_id}")
    types = added_types(body, entity_id, ctx)
    keep = "noOverwrite" in (split(request.query_params.get("options")) or [])
    mode = "append-keep" if keep else "append"

    def work(s: EntityStore) -> WriteResult:
        row = s.get(entity_id, orm=False)
        result = s.write_attrs(row, attrs, datasets, mode=mode)
        if scopes is not None:
            s.write_scopes(row, scopes, mode)
        s.add_types(row, types)
        return result

    result = await run_store(request, principal, work, entity=entity_id)
    return _multi_status(result, ctx, list(attrs) + list(datasets))


@router.patch("/entities/{entity_id:path}/attrs")
async def update_attributes(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Update existing attributes (others are reported as not updated); an NGSI-LD Null
    instance deletes that instance."""
    http.path_id(entity_id)
    body, ctx = await http.read_body(request, merge=True)
    if not isinstance(body, dict):
        raise bad_request("the body must be an object of attributes")
    body, deletes = split_nulls(body, ctx)
    attrs, datasets = parse_attributes(body, ctx)
    scopes = parse_scope(body.get("scope"), f"entity {entity_id}")
    types = added_types(body, entity_id, ctx)

    def work(s: EntityStore) -> WriteResult:
        row = s.get(entity_id, orm=bool(deletes))
        result = s.write_attrs(row, attrs, datasets, mode="update")
        if scopes is not None and not s.write_scopes(row, scopes, "update"):
            result.not_updated.append((SCOPE_IRI, "the entity has no scope to update"))
        s.add_types(row, types)
        for iri, dataset in deletes:
            try:
                result.events.append(s.delete_attr(row, iri, dataset, False))
            except NgsiLdError as err:
                if err.status != 404:
                    raise
                result.not_updated.append((iri, "attribute does not exist"))
        return result

    result = await run_store(request, principal, work, entity=entity_id)
    touched = list(attrs) + list(datasets) + [iri for iri, _ in deletes]
    return _multi_status(result, ctx, list(dict.fromkeys(touched)))


@router.put("/entities/{entity_id:path}", status_code=204)
async def replace_entity(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Replace an entity (type and every attribute)."""
    http.path_id(entity_id)
    body, ctx = await http.read_body(request)
    if isinstance(body, dict):
        body = {"id": entity_id} | body
    parsed = parse_entity(body, ctx)
    if parsed.entity_id != entity_id:
        raise bad_request("the id in the body differs from the id in the path")
    await run_store(request, principal, lambda s: s.replace(parsed), entity=parsed.entity_id)
    return Response(status_code=204)


@router.patch("/entities/{entity_id:path}", status_code=204)
async def merge_entity(request: Request, entity_id: str, principal: NgsiPrincipal) -> Response:
    """Merge into an entity: given attributes are merged, 'urn:ngsi-ld:null' deletes."""
    http.path_id(entity_id)
    body, ctx = await http.read_body(request, merge=True)
    if not isinstance(body, dict):
        raise bad_request("the body must be an object")
    await run_store(
        request, principal, lambda s: merge_into(s, s.get(entity_id), body, ctx), entity=entity_id
    )
    return Response(status_code=204)
