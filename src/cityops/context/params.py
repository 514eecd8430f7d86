"""Query parameters of the NGSI-LD entity reads: which ones an operation takes, and the
rendering options (options, format, attrs, pick/omit projections, lang) they ask for."""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.requests import Request

from cityops.context.errors import bad_request, invalid_request
from cityops.context.jsonld import ActiveContext
from cityops.context.query import split
from cityops.context.render import RenderOptions, dataset_filter

# Query parameters of GET /entities and GET /entities/{id} (GS CIM 009 6.4.3.2, 6.5.3.1).
# Some are accepted and not acted on (context sources, entityMap, expandValues): the
# answer is then what a broker without those features gives. Any other name is refused.
_SHARED_PARAMS = frozenset(
    {"attrs", "pick", "omit", "options", "format", "lang", "geometryProperty", "local"}
    | {"csf", "datasetId", "join", "joinLevel", "containedBy", "entityMap", "expandValues"}
)
QUERY_PARAMS = _SHARED_PARAMS | {
    "orderBy",
    "type",
    "id",
    "idPattern",
    "q",
    "georel",
    "geometry",
    "coordinates",
    "geoproperty",
    "limit",
    "offset",
    "count",
    "scopeQ",
    "collation",
}
RETRIEVE_PARAMS = _SHARED_PARAMS | {"type"}
TEMPORAL_PARAMS = QUERY_PARAMS | {
    "timerel",
    "timeAt",
    "endTimeAt",
    "timeproperty",
    "lastN",
    "aggrMethods",
    "aggrPeriodDuration",
}
NO_PARAMS: frozenset[str] = frozenset()
OPTIONS = frozenset({"keyValues", "simplified", "concise", "normalized", "sysAttrs"})
FORMATS = frozenset({"", "keyValues", "simplified", "concise", "normalized"})


def check_params(request: Request, allowed: frozenset[str]) -> None:
    """Refuse a query parameter the operation does not define (InvalidRequest)."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise invalid_request(f"unknown query parameters: {', '.join(unknown)}")


_PROJECTED = re.compile(r"[^\s{}(),|;\[\]\"'=<>!~]+")


def projection(value: str | None, what: str) -> list[str] | None:
    """Parse a pick/omit projection list (GS CIM 009 4.21): names separated by ',' or '|'.
    A `{...}` term projects linked entities, which need `join` (not served): refused, as
    is any empty or malformed term."""
    if value is None:
        return None
    if "{" in value or "}" in value:
        raise bad_request(f"{what}: projecting linked entities ({{...}}) needs join")
    names = re.split(r"[,|]", value)
    for name in names:
        if not _PROJECTED.fullmatch(name):
            raise bad_request(f"{what}: {name!r} is not an attribute name ({value!r})")
    return names


def projections(params: Mapping[str, str]) -> tuple[list[str] | None, list[str] | None]:
    """The pick and omit lists of a request, checked: neither goes with attrs, and they
    cannot name the same member."""
    pick, omit = projection(params.get("pick"), "pick"), projection(params.get("omit"), "omit")
    if (pick is not None or omit is not None) and params.get("attrs"):
        raise bad_request("pick and omit cannot be used with attrs")
    if pick and omit and set(pick) & set(omit):
        raise bad_request("pick and omit name the same member")
    return pick, omit


def render_options(request: Request, ctx: ActiveContext) -> RenderOptions:
    """Read options/format/attrs/pick/omit/lang from the query string."""
    params = request.query_params
    options = set(split(params.get("options")) or [])
    fmt = params.get("format", "")
    if options - OPTIONS or fmt not in FORMATS:
        bad = sorted(options - OPTIONS) + ([fmt] if fmt not in FORMATS else [])
        raise invalid_request(f"unknown options or format: {', '.join(bad)}")
    attrs = split(params.get("attrs"))
    datasets = split(params.get("datasetId"))
    pick, omit = projections(params)
    return RenderOptions(
        key_values=bool({"keyValues", "simplified"} & options)
        or fmt in ("keyValues", "simplified"),
        concise="concise" in options or fmt == "concise",
        sys_attrs="sysAttrs" in options,
        attrs=frozenset(ctx.expand(a) for a in attrs) if attrs else None,
        pick=frozenset(pick) if pick else None,
        omit=frozenset(omit or ()),
        lang=params.get("lang"),
        datasets=dataset_filter(datasets),
    )
