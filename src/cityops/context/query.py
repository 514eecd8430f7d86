"""Query entities: type, id, idPattern, q, geo-queries, attrs; scoped and paginated."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select
from sqlalchemy.orm import Session

from cityops.context import geoquery, qlang, qlang_sql, typesel
from cityops.context.entities import LOCATION_IRI, check_uri
from cityops.context.errors import NgsiLdError, bad_request
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity
from cityops.context.order import OrderTerm, order_clauses, parse_order
from cityops.context.qlang_index import index_prefilter, parameterize
from cityops.context.scopeq import parse_scope_q, scope_condition
from cityops.core.db import driver_rows
from cityops.core.driver import SelectPlan, fetch_all, select_plan
from cityops.core.policy import Principal, scope_filter
from cityops.core.units.models import Unit


@dataclass
class EntityQuery:
    """A parsed entity query (expanded IRIs)."""

    types: Any = None  # typesel.parse_type_query's tree (expanded type names)
    ids: list[str] | None = None
    id_pattern: str | None = None
    q: Any = None  # qlang.QExpr
    geo: Any = None  # geoquery.GeoQuery
    attrs: list[str] | None = None  # entities must have at least one of these
    scope_q: Any = None  # scopeq.parse_scope_q's tree
    order: tuple[OrderTerm, ...] = ()  # orderBy (context.order)
    limit: int = 20
    offset: int = 0
    count: bool = False


def split(value: str | None) -> list[str] | None:
    """Split a comma-separated parameter (None when absent or empty)."""
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_query(
    params: dict[str, Any], ctx: ActiveContext, *, default_limit: int, max_limit: int
) -> EntityQuery:
    """Turn query parameters (or a Query body's members) into an EntityQuery."""
    query = EntityQuery(limit=default_limit)
    types = params.get("type")
    if types:
        query.types = typesel.parse_type_query(types, ctx)
    query.ids = [check_uri(i, "id") for i in split(params.get("id")) or []] or None
    query.id_pattern = params.get("idPattern") or None
    if query.id_pattern:
        try:
            re.compile(query.id_pattern)
        except re.error as err:
            raise bad_request(f"idPattern is not a valid regular expression: {err}") from err
    if params.get("q"):
        try:
            query.q = qlang.parse_q(params["q"])
        except ValueError as err:
            raise bad_request(f"q: {err}") from err
    if params.get("georel") or params.get("geometry") or params.get("coordinates"):
        try:
            query.geo = geoquery.parse_geoquery(
                params.get("georel") or "",
                params.get("geometry") or "",
                params.get("coordinates") or "",
                params.get("geoproperty"),
            )
        except ValueError as err:
            raise bad_request(f"geo-query: {err}") from err
    attrs = split(params.get("attrs"))
    if attrs and {"id", "type"} & set(attrs):
        raise bad_request("attrs names attributes; id and type are always there")
    query.attrs = [ctx.expand(a) for a in attrs] if attrs else None
    query.order = parse_order(params.get("orderBy"), ctx)
    if params.get("scopeQ"):
        query.scope_q = parse_scope_q(params["scopeQ"])
    query.limit = _int(params.get("limit"), "limit", default_limit)
    query.offset = _int(params.get("offset"), "offset", 0)
    if query.limit > max_limit:
        raise NgsiLdError("TooManyResults", f"limit may be at most {max_limit}")
    if query.limit < 0 or query.offset < 0:
        raise bad_request("limit and offset must not be negative")
    query.count = str(params.get("count", "")).lower() == "true"
    return query


def _int(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise bad_request(f"{name} must be an integer") from err


# Queries run on a Connection (the read paths: no ORM session to set up and commit, ~50 us a
# query) or inside a write's Session (batch query, subscription matching).
Reader = Session | Connection


def _connection(reader: Reader) -> Connection:
    return reader.connection() if isinstance(reader, Session) else reader


def _statement(
    session: Reader,
    tenant: str,
    principal: Principal,
    query: EntityQuery,
    ctx: ActiveContext,
    params: dict[str, Any] | None = None,
    columns: tuple[str, ...] | None = None,
    multi: bool = False,
) -> Select[Any]:
    # Core rows (attribute access like the ORM's, read-only): ORM loading cost a third of a
    # small query
    table_columns = ContextEntity.__table__.c
    picked = table_columns if columns is None else [table_columns[c] for c in columns]
    stmt = select(*picked).where(ContextEntity.tenant == tenant)
    if principal.unit_path is not None:
        stmt = stmt.outerjoin(Unit, Unit.id == ContextEntity.unit_id).where(
            scope_filter(principal, Unit.path)
        )
    if query.types:  # one type as `=`: an IN list is expanded by SQLAlchemy at each run
        dialect = _connection(session).dialect.name
        stmt = stmt.where(typesel.condition(query.types, multi=multi, dialect=dialect))
    if query.ids:
        stmt = stmt.where(ContextEntity.entity_id.in_(query.ids))
    if query.scope_q is not None:
        dialect = _connection(session).dialect.name
        stmt = stmt.where(scope_condition(query.scope_q, ContextEntity.scopes, dialect))
    if query.id_pattern:
        stmt = stmt.where(ContextEntity.entity_id.regexp_match(query.id_pattern))
    if query.attrs:  # entities holding at least one of them (SQLite's JSON_QUOTE of a
        # missing member is the text 'null', never SQL NULL: ask json_type there)
        if _connection(session).dialect.name == "sqlite":
            path = qlang_sql.sqlite_path
            held = [func.json_type(ContextEntity.attrs, path([i])) for i in query.attrs]
        else:
            held = [ContextEntity.attrs[iri] for iri in query.attrs]
        stmt = stmt.where(or_(*[h.isnot(None) for h in held]))
    if query.q is not None:
        dialect = _connection(session).dialect.name
        narrowed, residual = index_prefilter(
            session,
            query.q,
            ctx.expand,
            ContextEntity.pk,
            params=params,
        )
        if narrowed is not None:
            stmt = stmt.where(narrowed)
        if residual is not None:
            stmt = stmt.where(
                qlang_sql.compile_q(
                    residual, attrs_col=ContextEntity.attrs, expand=ctx.expand, dialect=dialect
                )
            )
    if query.geo is not None and _geoproperty(query.geo, ctx) == LOCATION_IRI:
        cond = geoquery.bbox_prefilter(
            query.geo,
            min_lon=ContextEntity.min_lon,
            min_lat=ContextEntity.min_lat,
            max_lon=ContextEntity.max_lon,
            max_lat=ContextEntity.max_lat,
        )
        if cond is not None:
            stmt = stmt.where(cond)
    return stmt


def _geoproperty(gq: Any, ctx: ActiveContext) -> str:
    name = getattr(gq, "geoproperty", None) or "location"
    return ctx.expand(name)


# Built statements of recent queries, by everything they are built from: dashboards, map
# layers and integrators send the same queries over and over, and building one (SQLAlchemy
# expressions for the type, scope, value-index and JSON conditions, plus the index probe that
# ranks the q terms) cost more than running it. A q made only of comparisons the value
# index answers exactly is kept by its shape, its literals bound at each run
# (`level==3` and `level==7` share one statement); any other q is kept with its values. The
# statement holds no result: every run reads the live data. Entries are rebuilt after
# STATEMENT_TTL_S, so the ranking of q terms follows the data.
STATEMENT_TTL_S = 30.0
STATEMENT_CACHE_SIZE = 512
_statements: dict[
    tuple[Any, ...], tuple[float, ActiveContext, Select[Any], Select[Any], SelectPlan | None]
] = {}


def _statements_of(
    session: Reader,
    tenant: str,
    principal: Principal,
    query: EntityQuery,
    ctx: ActiveContext,
    columns: tuple[str, ...] | None = None,
) -> tuple[Select[Any], Select[Any], SelectPlan | None, dict[str, Any]]:
    """The statement of a query without a geo-query, the one reading its page (and its plan
    for the driver's cursor), and the values of their parameters (cached, see above)."""
    conn = _connection(session)
    dialect = conn.dialect.name
    q_key, params = query.q, {}
    if query.q is not None:
        shaped = parameterize(query.q)
        if shaped is not None:
            q_key, params = shaped.key, shaped.params
            query = replace(query, q=shaped.expr)
    multi = _multi_typed(conn, tenant, query)
    key = (
        dialect,
        tenant,
        principal.is_authenticated,
        principal.unit_path,
        query.types,
        multi,
        tuple(query.ids or ()),
        query.id_pattern,
        tuple(query.attrs or ()),
        q_key,
        query.order,
        query.scope_q,
        query.limit,
        query.offset,
        id(ctx),  # the resolver keeps its contexts; the entry keeps this one and checks it
        columns,
    )
    try:
        hit = _statements.get(key)
    except TypeError:  # an unhashable literal in q: build it every time
        hit, key = None, ()
    now = time.monotonic()
    if hit is not None and hit[1] is ctx and now - hit[0] < STATEMENT_TTL_S:
        return hit[2], hit[3], hit[4], params
    stmt = _statement(session, tenant, principal, query, ctx, params, columns, multi)
    page = stmt.order_by(*_order(query, dialect)).limit(query.limit).offset(query.offset)
    plan = select_plan(conn, page)
    if key:
        if len(_statements) >= STATEMENT_CACHE_SIZE:
            _statements.pop(next(iter(_statements)), None)  # the oldest
        _statements[key] = (now, ctx, stmt, page, plan)
    return stmt, page, plan, params


_MULTI_PROBE = "SELECT 1 FROM ctx_entities WHERE tenant = {} AND types IS NOT NULL LIMIT 1"


def _multi_typed(conn: Connection, tenant: str, query: EntityQuery) -> bool:
    """Whether a type selection must look past `type` (the tenant holds an entity with
    several types): one probe of a partial index, on the driver (it runs with every query
    naming a type; the statement cache cannot keep it, a new entity changes it)."""
    if not query.types:
        return False
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    return bool(driver_rows(conn, _MULTI_PROBE.format(mark), (tenant,)))


def _order(query: EntityQuery, dialect: str) -> list[Any]:
    """ORDER BY of a query: its orderBy terms, then storage order (stable pages)."""
    return [*order_clauses(query.order, ContextEntity.__table__, dialect), ContextEntity.pk]


# The columns rendering an entity reads (render_entity, render_feature); the system
# timestamps only with options=sysAttrs. Leaving out the rest (keys, bounding box, unit) and
# the timestamps' conversion made a 20-entity page ~5% cheaper to serve.
RENDER_COLUMNS = ("entity_id", "type", "types", "attrs", "datasets", "scopes")
SYS_COLUMNS = ("created_at", "modified_at")


def render_columns(sys_attrs: bool) -> tuple[str, ...]:
    """The columns a query reads to render its entities (with options=sysAttrs, the times)."""
    return RENDER_COLUMNS + SYS_COLUMNS if sys_attrs else RENDER_COLUMNS


def run_page(
    session: Reader,
    tenant: str,
    principal: Principal,
    query: EntityQuery,
    ctx: ActiveContext,
    columns: tuple[str, ...] | None = None,
) -> tuple[list[Any], int | None, bool]:
    """run_query, and whether a next page holds anything (it reads one row more to tell)."""
    if query.limit <= 0:
        return (*run_query(session, tenant, principal, query, ctx, columns), False)
    peek = replace(query, limit=query.limit + 1)
    rows, total = run_query(session, tenant, principal, peek, ctx, columns)
    return rows[: query.limit], total, len(rows) > query.limit


def run_query(
    session: Reader,
    tenant: str,
    principal: Principal,
    query: EntityQuery,
    ctx: ActiveContext,
    columns: tuple[str, ...] | None = None,
) -> tuple[list[Any], int | None]:
    """Return one page of matching entities (read-only rows with the columns of
    ContextEntity as attributes: all of them, or `columns`) and, if asked, the total count."""
    conn = _connection(session)
    if query.geo is None:
        total = None
        stmt, page, plan, params = _statements_of(session, tenant, principal, query, ctx, columns)
        if query.count:
            counted = select(func.count()).select_from(stmt.subquery())
            total = session.scalar(counted, params) or 0
        return fetch_all(conn, page, params, plan), total
    multi = _multi_typed(conn, tenant, query)
    stmt = _statement(session, tenant, principal, query, ctx, columns=columns, multi=multi)
    geoprop = _geoproperty(query.geo, ctx)
    matched = [
        row
        for row in conn.execute(stmt.order_by(*_order(query, conn.dialect.name)))
        if (geo := row.attrs.get(geoprop, {}).get("value")) and geoquery.matches(query.geo, geo)
    ]
    page = matched[query.offset : query.offset + query.limit]
    return page, len(matched) if query.count else None
