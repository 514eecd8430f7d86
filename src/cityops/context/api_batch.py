"""NGSI-LD batch operations: /ngsi-ld/v1/entityOperations/* (per-entity success and errors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from cityops.context import http
from cityops.context.api import run_store
from cityops.context.bulk import BulkResult, bulk_write, can_bulk, not_overwritten
from cityops.context.entities import (
    ParsedEntity,
    check_uri,
    parse_attributes,
    parse_entity,
    parse_types,
)
from cityops.context.errors import NgsiLdError, bad_request
from cityops.context.events import EntityChanged
from cityops.context.http import NgsiPrincipal
from cityops.context.jsonld import ActiveContext
from cityops.context.merge import check_fragment, merge_into
from cityops.context.params import render_options
from cityops.context.query import EntityQuery, parse_query, run_query
from cityops.context.render import render_entity
from cityops.context.store import EntityStore, WriteResult
from cityops.core.policy import Perm, authorize

router = APIRouter(prefix="/ngsi-ld/v1/entityOperations", tags=["NGSI-LD batch"])
Item = tuple[Any, ActiveContext]  # a batch item and its @context
MAX_BATCH = 10_000


class BatchOutcome:
    """Collects per-entity results of a batch."""

    def __init__(self) -> None:
        self.success: list[str] = []
        self.created: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.events: list[EntityChanged | WriteResult | list[Any]] = []

    def fail(self, entity_id: Any, err: NgsiLdError) -> None:
        """Record one entity's failure."""
        self.errors.append(
            {
                "entityId": entity_id if isinstance(entity_id, str) else str(entity_id),
                "error": err.body() | {"status": err.status},
            }
        )


def _each(
    store: EntityStore,
    items: list[Item],
    outcome: BatchOutcome,
    step: Callable[[EntityStore, Any, ActiveContext], tuple[str, Any, bool]],
) -> BatchOutcome:
    """Run `step` per item in its own savepoint: bad items are reported, good ones land.

    The items run in entity-id order (stable: one entity's items keep their order), the
    order in which grouped writes and bulk batches lock rows on PostgreSQL, so this batch
    cannot deadlock with them; the outcome lists them in the request's order."""
    ids = [item.get("id") if isinstance(item, dict) else item for item, _ in items]
    done: list[tuple[str, Any, bool] | NgsiLdError | None] = [None] * len(items)
    for i in sorted(range(len(items)), key=lambda i: ids[i] if isinstance(ids[i], str) else ""):
        try:
            with store.session.begin_nested():
                done[i] = step(store, *items[i])
        except NgsiLdError as err:
            done[i] = err
    for entity_id, result in zip(ids, done, strict=True):
        if isinstance(result, NgsiLdError):
            outcome.fail(entity_id, result)
        elif result is not None:
            ident, event, created = result
            kept = _kept(event)
            if kept:
                outcome.fail(ident, not_overwritten(kept))
            else:
                outcome.success.append(ident)
            if created:
                outcome.created.append(ident)
            if event:
                outcome.events.append(event)
    return outcome


def _kept(event: Any) -> list[str]:
    """The attributes a noOverwrite write left as they were."""
    if not isinstance(event, WriteResult):
        return []
    return [iri for iri, why in event.not_updated if why.startswith("noOverwrite")]


async def _array(request: Request) -> tuple[list[Item], BatchOutcome]:
    """The batch's items with their @context each; the outcome starts with the items that
    failed on their own @context (they go no further)."""
    body, contexts = await http.read_batch(request)
    if not isinstance(body, list):
        raise bad_request("a batch body must be a JSON array")
    if not body:
        raise bad_request("a batch body must not be empty")
    if len(body) > MAX_BATCH:
        raise NgsiLdError("PayloadTooLarge", f"at most {MAX_BATCH} entities per batch")
    outcome = BatchOutcome()
    items: list[Item] = []
    for item, ctx in zip(body, contexts, strict=True):
        if isinstance(ctx, NgsiLdError):
            outcome.fail(item.get("id") if isinstance(item, dict) else item, ctx)
        else:
            items.append((item, ctx))
    return items, outcome


def _report(outcome: BatchOutcome, *, ok_status: int, ok_body: Any = None) -> Response:
    if outcome.errors:
        return http.respond_plain({"success": outcome.success, "errors": outcome.errors}, 207)
    if ok_body is None:
        return Response(status_code=ok_status)
    return http.respond_plain(ok_body, ok_status)


async def _batch(
    request: Request,
    principal: Any,
    items: list[Item],
    step: Callable[[EntityStore, Any, ActiveContext], tuple[str, Any, bool]],
    outcome: BatchOutcome,
) -> BatchOutcome:
    return await run_store(request, principal, lambda s: _each(s, items, outcome, step), batch=True)


@router.post("/create")
async def batch_create(request: Request, principal: NgsiPrincipal) -> Response:
    """Create many entities; each failure is reported, the others are created."""
    items, outcome = await _array(request)

    def step(store: EntityStore, item: Any, ctx: ActiveContext) -> tuple[str, Any, bool]:
        parsed = parse_entity(item, ctx)
        return parsed.entity_id, store.create(parsed), True

    outcome = await _batch(request, principal, items, step, outcome)
    return _report(outcome, ok_status=201, ok_body=outcome.success)


@router.post("/upsert")
async def batch_upsert(request: Request, principal: NgsiPrincipal) -> Response:
    """Create or replace (options=update: update) many entities."""
    items, outcome = await _array(request)
    update = "update" in (request.query_params.get("options") or "")
    mode = "update" if update else "replace"
    outcome = await _bulk_or_each(request, principal, items, outcome, mode, create_missing=True)
    if outcome.errors or not outcome.created:
        return _report(outcome, ok_status=204)
    return _report(outcome, ok_status=201, ok_body=outcome.created)


def _parse_all(items: list[Item], outcome: BatchOutcome, *, need_type: bool) -> list[ParsedEntity]:
    parsed = []
    for item, ctx in items:
        try:
            if need_type:
                parsed.append(parse_entity(item, ctx))
                continue
            parsed.append(_fragment(item, ctx))
        except NgsiLdError as err:
            outcome.fail(item.get("id") if isinstance(item, dict) else item, err)
    return parsed


def _fragment(item: Any, ctx: ActiveContext) -> ParsedEntity:
    """An entity of a batch update: its id, attributes and the types it adds (if any)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise bad_request("each entity needs an id")
    attrs, datasets = parse_attributes(item, ctx)
    if item.get("type") is None:
        return ParsedEntity(item["id"], "", attrs, datasets)
    types = parse_types(item["type"], f"entity {item['id']}", ctx)
    return ParsedEntity(
        item["id"], types[0], attrs, datasets, None, types if len(types) > 1 else None
    )


async def _bulk_or_each(
    request: Request,
    principal: Any,
    items: list[Item],
    outcome: BatchOutcome,
    mode: str,
    *,
    create_missing: bool,
) -> BatchOutcome:
    """Write a batch with the bulk path (one statement per kind) or, if unsuitable, per entity."""
    start = len(outcome.errors)
    parsed = _parse_all(items, outcome, need_type=create_missing)
    if not can_bulk(parsed):
        del outcome.errors[start:]  # the step parses each item again, and reports it
        return await _batch(request, principal, items, _legacy_step(mode, create_missing), outcome)

    def work(store: EntityStore) -> BulkResult:
        return bulk_write(store, parsed, mode=mode, create_missing=create_missing)

    result = await run_store(request, principal, work, batch=True)
    outcome.success, outcome.created = result.success, result.created
    for entity_id, err in result.errors:
        outcome.fail(entity_id, err)
    return outcome


def _legacy_step(mode: str, create_missing: bool) -> Any:
    def step(store: EntityStore, item: Any, ctx: ActiveContext) -> tuple[str, Any, bool]:
        if create_missing:
            parsed = parse_entity(item, ctx)
            row = store.find(parsed.entity_id)
            if row is None:
                return parsed.entity_id, store.create(parsed), True
        else:
            parsed = _fragment(item, ctx)
            row = store.get(parsed.entity_id)
        if not store.visible(row):
            raise NgsiLdError("Forbidden", f"entity {parsed.entity_id} is outside your scope")
        if mode == "replace":
            return parsed.entity_id, store.replace(parsed, row), False
        write_mode = "append-keep" if mode == "update-keep" else "append"
        result = store.write_attrs(row, parsed.attrs, parsed.datasets, mode=write_mode)
        store.add_types(row, parsed.all_types)
        return parsed.entity_id, result, False

    return step


@router.post("/update")
async def batch_update(request: Request, principal: NgsiPrincipal) -> Response:
    """Update attributes of many existing entities (options=noOverwrite keeps existing ones)."""
    items, outcome = await _array(request)
    keep = "noOverwrite" in (request.query_params.get("options") or "")
    mode = "update-keep" if keep else "update"
    outcome = await _bulk_or_each(request, principal, items, outcome, mode, create_missing=False)
    return _report(outcome, ok_status=204)


@router.post("/merge")
async def batch_merge(request: Request, principal: NgsiPrincipal) -> Response:
    """Merge into many existing entities."""
    items, outcome = await _array(request)

    def step(store: EntityStore, item: Any, ctx: ActiveContext) -> tuple[str, Any, bool]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise bad_request("each entity needs an id")
        check_fragment(item, ctx)
        return item["id"], merge_into(store, store.get(item["id"]), item, ctx), False

    return _report(await _batch(request, principal, items, step, outcome), ok_status=204)


@router.post("/delete")
async def batch_delete(request: Request, principal: NgsiPrincipal) -> Response:
    """Delete many entities by id."""
    items, outcome = await _array(request)

    def step(store: EntityStore, item: Any, _ctx: ActiveContext) -> tuple[str, Any, bool]:
        if not isinstance(item, str):
            raise bad_request("a delete batch is an array of entity ids")
        return item, store.delete(item), False

    return _report(await _batch(request, principal, items, step, outcome), ok_status=204)


@router.post("/query")
async def batch_query(request: Request, principal: NgsiPrincipal) -> Response:
    """Query entities with a Query body (entities, attrs, q, geoQ)."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    body, ctx = await http.read_body(request)
    if not isinstance(body, dict) or body.get("type", "Query") != "Query":
        raise bad_request("the body must be a Query object")
    query = query_from_body(request, body, ctx)
    media = http.negotiate_plain(request)
    opts = render_options(request, ctx)
    tenant = http.tenant(request)

    def job() -> tuple[list[dict[str, Any]], int | None]:
        with request.app.state.db.session() as session:
            rows, total = run_query(session, tenant, principal, query, ctx)
            return [render_entity(r, ctx, opts) for r in rows], total

    items, total = await run_in_threadpool(job)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    return http.respond(request, items, ctx, media, headers=headers)


def query_from_body(request: Request, body: dict[str, Any], ctx: ActiveContext) -> EntityQuery:
    params: dict[str, Any] = dict(request.query_params)
    selectors = body.get("entities")
    if selectors is None:
        selectors = []
    elif not isinstance(selectors, list) or not selectors:
        raise bad_request("entities must be a non-empty array of {type, id, idPattern}")
    for selector in selectors:
        if not isinstance(selector, dict) or not isinstance(selector.get("type", ""), str):
            raise bad_request("each entity selector is an object of type, id and idPattern")
        if "id" in selector:
            check_uri(selector["id"], "entity selector id")
        if not isinstance(selector.get("idPattern", ""), str):
            raise bad_request("an entity selector's idPattern must be a string")
    if not isinstance(body.get("q", ""), str):
        raise bad_request("q must be a string")
    attrs = body.get("attrs")
    if attrs is not None and (
        not isinstance(attrs, list) or not attrs or not all(isinstance(a, str) for a in attrs)
    ):
        raise bad_request("attrs must be a non-empty array of attribute names")
    types = [s["type"] for s in selectors if isinstance(s, dict) and s.get("type")]
    ids = [s["id"] for s in selectors if isinstance(s, dict) and s.get("id")]
    patterns = [s["idPattern"] for s in selectors if isinstance(s, dict) and s.get("idPattern")]
    params |= {
        "type": ",".join(types) or None,
        "id": ",".join(ids) or None,
        "idPattern": "|".join(patterns) or None,
        "q": body.get("q"),
    }
    if body.get("attrs"):
        params["attrs"] = ",".join(body["attrs"])
    geo = body.get("geoQ")
    if isinstance(geo, dict):
        coords = geo.get("coordinates")
        params |= {
            "georel": geo.get("georel"),
            "geometry": geo.get("geometry"),
            "coordinates": coords if isinstance(coords, str) else _dump(coords),
            "geoproperty": geo.get("geoproperty"),
        }
    cfg = request.app.state.settings.ngsi_ld
    return parse_query(params, ctx, default_limit=cfg.default_limit, max_limit=cfg.max_limit)


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()
