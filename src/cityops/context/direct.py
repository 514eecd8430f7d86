"""Direct dispatch of the NGSI-LD endpoints: the hub's machine traffic skips FastAPI's
per-request routing and dependency solving.

Every NGSI-LD entity endpoint takes only the request, its path parameters and the caller
(`NgsiPrincipal`), and returns a ready Response: it parses its own body and query string,
because NGSI-LD's rules (@context in a Link header or the body, ProblemDetails errors) are not
FastAPI's. For such an endpoint FastAPI's work per request (matching through the nested
routers three times, then solving the dependency graph) cost ~450 us of CPU, more than
updating the entity and its history in the database. `DirectRoutes` is one route placed first
in the app: it matches the same paths with the same compiled patterns, in the same order,
resolves the caller with the same `ngsi_principal`, and calls the same endpoint. The APIRoutes
stay registered behind it, so OpenAPI documents them, and any route that takes more than that
(query or body models, other dependencies) is still served by FastAPI: on such a match
`DirectRoutes` answers "no match" and FastAPI's router goes on from there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, get_route_path
from starlette.types import Receive, Scope, Send

from cityops.context.http import ngsi_principal

PREFIX = "/ngsi-ld/v1/"
_ROUTE = "cityops.direct_route"


@dataclass(frozen=True)
class _Entry:
    regex: re.Pattern[str]
    methods: frozenset[str]
    convertors: dict[str, Any]
    endpoint: Callable[..., Any] | None  # None: FastAPI serves it (it needs more than we pass)
    route: APIRoute  # what scope["route"] names (metrics and logs label requests by its path)


def direct_endpoint(route: APIRoute) -> bool:
    """Say whether the endpoint takes only `request`, path parameters and `principal`."""
    dep = route.dependant
    if dep.query_params or dep.header_params or dep.cookie_params or dep.body_params:
        return False
    if dep.request_param_name != "request" or route.dependencies:
        return False
    if dep.response_param_name or dep.background_tasks_param_name:
        return False
    subs = dep.dependencies
    if len(subs) != 1 or subs[0].call is not ngsi_principal or subs[0].name != "principal":
        return False
    return {p.name for p in dep.path_params} == set(route.param_convertors)


class DirectRoutes(BaseRoute):
    """The NGSI-LD routes, matched and called without FastAPI's per-request machinery."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self.entries = [
            _Entry(
                r.path_regex,
                frozenset(r.methods or ()),
                dict(r.param_convertors),
                r.endpoint if direct_endpoint(r) else None,
                r,
            )
            for r in routes
            if isinstance(r, APIRoute) and r.path.startswith(PREFIX)
        ]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = get_route_path(scope)
        if not path.startswith(PREFIX):
            return Match.NONE, {}
        method = scope["method"]
        if path.endswith("/") and _trailing_slash(path, method, scope):
            path = scope["path"] = scope["path"][:-1]  # FastAPI's routes behind see it too
        for entry in self.entries:
            found = entry.regex.match(path)
            if found is None or method not in entry.methods:
                continue
            if entry.endpoint is None:
                return Match.NONE, {}  # FastAPI's router serves it, in the same order
            params = {k: entry.convertors[k].convert(v) for k, v in found.groupdict().items()}
            path_params = dict(scope.get("path_params", {}))
            path_params.update(params)
            child = {"endpoint": entry.endpoint, "path_params": path_params, _ROUTE: entry.route}
            return Match.FULL, child
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = scope[_ROUTE]  # the APIRoute, as FastAPI would have set
        request = Request(scope, receive, send)
        principal = await ngsi_principal(request)
        response = await scope["endpoint"](
            request=request, principal=principal, **scope["path_params"]
        )
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        from starlette.routing import NoMatchFound

        raise NoMatchFound(name, path_params)  # url_for resolves through the APIRoutes


_COLLECTIONS = re.compile(
    r"(temporal/)?entities|subscriptions|types|attributes|jsonldContexts|"
    r"(temporal/)?entityOperations/\w+"
)
_ATTRS = re.compile(r"(temporal/)?entities/.*/attrs")  # (an empty id: BadRequestData)


def _trailing_slash(path: str, method: str, scope: Scope) -> bool:
    """Say whether a path's trailing slash is the collection's name in the spec's form
    (GS CIM 009 writes its resources `/entities/`, `/subscriptions/`, ...: clients send
    both forms). PUT/PATCH/DELETE of `/entities/` name an entity with an empty id, and keep
    the slash (BadRequestData); so does an attribute path other than POST/PATCH `.../attrs/`.
    """
    rest = path[len(PREFIX) : -1]
    if _COLLECTIONS.fullmatch(rest):
        return method in ("GET", "POST", "HEAD") or bool(scope.get("query_string"))
    return method in ("POST", "PATCH") and _ATTRS.fullmatch(rest) is not None


def install(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Put the direct dispatcher first in the app, over the routes of these routers (already
    included in the app, in this order, without a prefix of their own)."""
    app.router.routes.insert(0, DirectRoutes(r for router in routers for r in router.routes))
