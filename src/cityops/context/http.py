"""HTTP plumbing of the NGSI-LD API: content types, @context, tenants, auth, responses."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import mimeparse
import orjson
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from cityops.context.entities import check_uri
from cityops.context.errors import NgsiLdError, bad_request, invalid_request, not_allowed
from cityops.context.jsonld import CORE_CONTEXT_URL, ActiveContext, ContextError, ContextResolver
from cityops.core.auth import key_cache
from cityops.core.config import Settings
from cityops.core.policy import Principal, Role

log = logging.getLogger("cityops.ngsi_ld")

JSONLD_REL = "http://www.w3.org/ns/json-ld#context"
_LINK = re.compile(r"<([^>]+)>\s*;(.*)")
_TENANT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
OPEN_ACCESS = Principal(kind="system", id=0, name="ngsi-ld-open-access", role=Role.integrator)


def resolver(request: Request) -> ContextResolver:
    """Return the app's @context resolver (one per app)."""
    state = request.app.state
    if getattr(state, "context_resolver", None) is None:
        cfg = state.settings.ngsi_ld
        state.context_resolver = ContextResolver(cfg.allow_remote_contexts, cfg.context_timeout_s)
    return state.context_resolver


def _link_context(request: Request) -> str | None:
    header = request.headers.get("link")
    if not header:
        return None
    for part in header.split(","):
        match = _LINK.match(part.strip())
        if match and JSONLD_REL in match.group(2):
            return match.group(1)
    raise bad_request("the Link header has no JSON-LD @context relation")


def resolve(request: Request, context: Any) -> ActiveContext:
    """Resolve a @context, turning load failures into NGSI-LD errors."""
    try:
        return resolver(request).resolve(context)
    except ContextError as err:
        if err.unavailable:
            raise NgsiLdError("LdContextNotAvailable", err.detail) from err
        raise invalid_request(err.detail) from err


def query_context(request: Request) -> ActiveContext:
    """The @context of a request without a body (from the Link header, else core)."""
    return resolve(request, _link_context(request))


async def read_body(request: Request, *, merge: bool = False) -> tuple[Any, ActiveContext]:
    """Read a JSON(-LD) body and its @context, enforcing the NGSI-LD content-type rules."""
    media, body = await _json_body(request, merge=merge)
    link = _link_context(request)
    if media == "application/ld+json":
        if link:
            raise bad_request("with application/ld+json the @context goes in the body, not a Link")
        contexts = [
            b.get("@context")
            for b in (body if isinstance(body, list) else [body])
            if isinstance(b, dict)
        ]
        if not contexts or any(c is None for c in contexts):
            raise bad_request("application/ld+json bodies must carry an @context")
        return body, resolve(request, contexts[0])
    if _has_context(body):
        raise bad_request("with application/json the @context must come in a Link header")
    return body, resolve(request, link)


async def read_batch(request: Request) -> tuple[Any, list[ActiveContext | NgsiLdError]]:
    """Read a batch body: the JSON value and, for each item of an array, its @context (or
    the error that item alone gets: an application/ld+json entity without one, an
    application/json entity with one, a context that does not load). Items that are not
    objects (the ids of a delete batch) get the request's context."""
    media, body = await _json_body(request)
    link = _link_context(request)
    if media == "application/ld+json" and link:
        raise bad_request("with application/ld+json the @context goes in the body, not a Link")
    default = resolve(request, link)
    if not isinstance(body, list):
        return body, []
    contexts: list[ActiveContext | NgsiLdError] = []
    for item in body:
        context = item.get("@context") if isinstance(item, dict) else None
        if not isinstance(item, dict):
            contexts.append(default)
        elif media == "application/json":
            contexts.append(
                bad_request("with application/json the @context must come in a Link header")
                if context is not None
                else default
            )
        elif context is None:
            contexts.append(bad_request("application/ld+json entities must carry an @context"))
        else:
            try:
                contexts.append(resolve(request, context))
            except NgsiLdError as err:
                contexts.append(err)
    return body, contexts


async def _json_body(request: Request, *, merge: bool = False) -> tuple[str, Any]:
    """The request's media type and its body parsed as JSON (size and type checked)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    allowed = {"application/json", "application/ld+json"}
    if merge:
        allowed.add("application/merge-patch+json")
    if media not in allowed:
        raise NgsiLdError("UnsupportedMediaType", f"Content-Type must be one of {sorted(allowed)}")
    limit = request.app.state.settings.ngsi_ld.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise NgsiLdError("PayloadTooLarge", f"the body is larger than {limit} bytes")
    raw = await request.body()
    if len(raw) > limit:
        raise NgsiLdError("PayloadTooLarge", f"the body is larger than {limit} bytes")
    try:
        return media, orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise invalid_request(f"the body is not valid JSON: {err}") from err


def _has_context(body: Any) -> bool:
    items = body if isinstance(body, list) else [body]
    return any(isinstance(b, dict) and "@context" in b for b in items)


def tenant(request: Request) -> str:
    """The NGSILD-Tenant of the request ('' = the default tenant)."""
    value = request.headers.get("ngsild-tenant", "")
    if value and not _TENANT.match(value):
        raise bad_request("NGSILD-Tenant must be 1-64 letters, digits, '-' or '_'")
    return value


async def ngsi_principal(request: Request) -> Principal:
    """Identify the caller: API key or bearer token (or open access when configured).

    An API key's principal is cached (no database round trip and no worker-thread hop per
    request; core.auth.key_cache)."""
    settings: Settings = request.app.state.settings
    if settings.ngsi_ld.open_access:
        return OPEN_ACCESS
    token = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not token and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    if not token:
        token = request.cookies.get(settings.auth.cookie_name)
    if not token:
        raise NgsiLdError("Unauthorized", "send an API key (X-API-Key) or a bearer token")
    state = request.app.state
    hit = key_cache.cached(state, token)
    if hit is not None:
        return hit
    return await run_in_threadpool(key_cache.key_principal, state, token)


NgsiPrincipal = Annotated[Principal, Depends(ngsi_principal)]


@dataclass
class Negotiated:
    """The representation a client accepts."""

    media: str  # application/json | application/ld+json | application/geo+json


# What the entity endpoints serve, in the order of preference among types a client names
# with equal q; matched only through a wildcard (*/*, application/*), JSON comes first, as
# NGSI-LD makes it the default.
ENTITY_MEDIA = ("application/ld+json", "application/geo+json", "application/json")
PLAIN_MEDIA = ("application/ld+json", "application/json")


def accepted(request: Request, offers: Sequence[str]) -> str | None:
    """The offer an Accept header prefers (RFC 9110 12.5.1: q-values, the most specific
    range deciding each offer's q), or None when it accepts none of them."""
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return "application/json" if "application/json" in offers else offers[0]
    try:
        ranges = [mimeparse.parse_media_range(r) for r in accept.split(",") if r.strip()]
    except (mimeparse.MimeTypeParseException, ValueError):
        return None
    best, best_key = None, (0.0, False, 0)
    for rank, media in enumerate(offers):
        q, fitness = mimeparse.quality_and_fitness_parsed(media, ranges)
        named = fitness >= 110  # type and subtype named, not a wildcard
        order = len(offers) - rank if named else int(media == "application/json")
        key = (q, named, order)
        if q > 0 and key > best_key:
            best, best_key = media, key
    return best


def negotiate(request: Request) -> Negotiated:
    """Pick the response media type from Accept (NotAcceptable if none fits)."""
    media = accepted(request, ENTITY_MEDIA)
    if media is None:
        raise NgsiLdError(
            "NotAcceptable", "Accept must allow application/json or application/ld+json"
        )
    return Negotiated(media)


def negotiate_plain(request: Request) -> str:
    """The response media type of an operation without a GeoJSON form (subscriptions,
    temporal): JSON or JSON-LD; NotAcceptable when the client takes only GeoJSON."""
    media = accepted(request, PLAIN_MEDIA)
    if media is None:
        negotiate(request)  # accepts none of the three: the general answer
        raise NgsiLdError("NotAcceptable", "GeoJSON is served for entities only; accept JSON")
    return media


def respond(
    request: Request,
    body: Any,
    ctx: ActiveContext,
    media: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    links: Sequence[str] = (),
) -> Response:
    """Serialise a body, adding @context (ld+json) or a Link header (json, geo+json).
    `links`: more Link header fields (page_links), each a header line of its own."""
    headers = dict(headers or {})
    context = ctx.source if ctx.source is not None else CORE_CONTEXT_URL
    if media == "application/ld+json":
        if isinstance(body, list):
            body = [b | {"@context": context} for b in body]
        elif isinstance(body, dict):
            body = body | {"@context": context}
    else:
        if media == "application/geo+json" and isinstance(body, dict):
            # GeoJSON-LD: the Feature (FeatureCollection) carries its @context as a foreign
            # member, as the ETSI suite's 018_05 expects
            body = body | {"@context": context if isinstance(context, list) else [context]}
        url = ctx.link_url or CORE_CONTEXT_URL
        headers["Link"] = f'<{url}>; rel="{JSONLD_REL}"; type="application/ld+json"'
    response = Response(orjson.dumps(body), status_code=status, media_type=media, headers=headers)
    for link in links:
        response.headers.append("Link", link)
    return response


def page_links(request: Request, offset: int, limit: int, more: bool) -> list[str]:
    """Link header fields to the previous and the next page of a paginated answer (RFC 8288
    rel="prev" / rel="next", GS CIM 009 pagination): the same request with `offset` moved by
    `limit`. `more`: whether a next page holds anything."""
    if limit <= 0:
        return []
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    links = []
    for rel, start in (("prev", max(offset - limit, 0)), ("next", offset + limit)):
        if (rel == "prev" and offset > 0) or (rel == "next" and more):
            query = urlencode([*kept, ("limit", str(limit)), ("offset", str(start))])
            # written without spaces (RFC 8288 allows either): the ETSI suite's 031_02
            # compares one link byte for byte
            links.append(f'<{request.url.path}?{query}>;rel="{rel}";type="application/ld+json"')
    return links


def respond_plain(body: Any, status: int = 200) -> Response:
    """Serialise a JSON body without @context (batch results, 207 reports)."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def path_id(entity_id: str) -> str:
    """The entity id of a request path, checked: BadRequestData unless an absolute URI;
    `/entities/{id}/attrs/` without an attribute name is no resource (405)."""
    if entity_id.endswith(("/attrs", "/attrs/")):
        raise not_allowed("name the attribute: .../attrs/{name}")
    return check_uri(entity_id, "entity id")
