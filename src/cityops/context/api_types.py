"""NGSI-LD type and attribute discovery: /ngsi-ld/v1/types and /ngsi-ld/v1/attributes."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from cityops.context import http, typesel
from cityops.context.errors import not_found
from cityops.context.http import NgsiPrincipal
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity
from cityops.core.policy import Perm, Principal, authorize, scope_filter
from cityops.core.units.models import Unit

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD types and attributes"])


class Census:
    """Which types and attributes the caller's visible entities have."""

    def __init__(self) -> None:
        self.type_count: dict[str, int] = defaultdict(int)
        self.type_attrs: dict[str, set[str]] = defaultdict(set)
        self.attr_count: dict[str, int] = defaultdict(int)
        self.attr_kinds: dict[str, set[str]] = defaultdict(set)
        self.attr_types: dict[str, set[str]] = defaultdict(set)


def census(request: Request, principal: Principal) -> Census:
    """Count types and attributes over the entities the caller may see."""
    tenant = http.tenant(request)
    out = Census()
    with request.app.state.db.session() as session:
        stmt = select(ContextEntity.type, ContextEntity.types, ContextEntity.attrs).where(
            ContextEntity.tenant == tenant
        )
        if principal.unit_path is not None:
            stmt = stmt.outerjoin(Unit, Unit.id == ContextEntity.unit_id).where(
                scope_filter(principal, Unit.path)
            )
        for first, several, attrs in session.execute(stmt):
            kinds = typesel.of(first, several)  # an entity counts under each of its types
            for kind in kinds:
                out.type_count[kind] += 1
            for iri, attr in attrs.items():
                out.attr_count[iri] += 1
                out.attr_kinds[iri].add(attr.get("type", "Property"))
                for kind in kinds:
                    out.type_attrs[kind].add(iri)
                    out.attr_types[iri].add(kind)
    return out


async def _census(request: Request, principal: Principal) -> Census:
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    return await run_in_threadpool(census, request, principal)


def _details(request: Request) -> bool:
    return request.query_params.get("details", "").lower() == "true"


@router.get("/types")
async def list_types(request: Request, principal: NgsiPrincipal) -> Response:
    """List the entity types available (details=true for their attributes)."""
    ctx = http.query_context(request)
    data = await _census(request, principal)
    if _details(request):
        body: Any = [
            {
                "id": t,
                "type": "EntityType",
                "typeName": ctx.compact(t),
                "attributeNames": sorted(ctx.compact(a) for a in data.type_attrs[t]),
            }
            for t in sorted(data.type_count)
        ]
    else:
        body = {
            "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
            "type": "EntityTypeList",
            "typeList": sorted(ctx.compact(t) for t in data.type_count),
        }
    return http.respond(request, body, ctx, http.negotiate_plain(request))


@router.get("/types/{type_name:path}")
async def get_type(request: Request, type_name: str, principal: NgsiPrincipal) -> Response:
    """Describe one entity type: how many entities, which attributes of which kinds."""
    ctx = http.query_context(request)
    data = await _census(request, principal)
    iri = ctx.expand(type_name)
    if iri not in data.type_count:
        raise not_found(f"no entities of type {type_name}")
    details = [
        {
            "id": a,
            "type": "Attribute",
            "attributeName": ctx.compact(a),
            "attributeTypes": sorted(data.attr_kinds[a]),
        }
        for a in sorted(data.type_attrs[iri])
    ]
    body = {
        "id": iri,
        "type": "EntityTypeInfo",
        "typeName": ctx.compact(iri),
        "entityCount": data.type_count[iri],
        "attributeDetails": details,
    }
    return http.respond(request, body, ctx, http.negotiate_plain(request))


def _attribute(ctx: ActiveContext, data: Census, iri: str, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": iri,
        "type": "Attribute",
        "attributeName": ctx.compact(iri),
        "typeNames": sorted(ctx.compact(t) for t in data.attr_types[iri]),
    }
    if full:
        body |= {
            "attributeCount": data.attr_count[iri],
            "attributeTypes": sorted(data.attr_kinds[iri]),
        }
    return body


@router.get("/attributes")
async def list_attributes(request: Request, principal: NgsiPrincipal) -> Response:
    """List the attributes in use (details=true for their types)."""
    ctx = http.query_context(request)
    data = await _census(request, principal)
    if _details(request):
        body: Any = [_attribute(ctx, data, a, False) for a in sorted(data.attr_count)]
    else:
        body = {
            "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
            "type": "AttributeList",
            "attributeList": sorted(ctx.compact(a) for a in data.attr_count),
        }
    return http.respond(request, body, ctx, http.negotiate_plain(request))


@router.get("/attributes/{attr:path}")
async def get_attribute(request: Request, attr: str, principal: NgsiPrincipal) -> Response:
    """Describe one attribute: how often it is used, its kinds, the types that have it."""
    ctx = http.query_context(request)
    data = await _census(request, principal)
    iri = ctx.expand(attr)
    if iri not in data.attr_count:
        raise not_found(f"no attribute {attr}")
    return http.respond(
        request, _attribute(ctx, data, iri, True), ctx, http.negotiate_plain(request)
    )
