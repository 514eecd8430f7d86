"""Read the temporal evolution of entities (NGSI-LD 4.5.7, 6.18-6.19): instances in SQL order.

Normalized: every attribute is an array of instances with an instanceId; temporalValues:
{"type", "values": [[value, time], ...]}; aggregatedValues: see temporal_aggregate. Instances
come back in ascending time; lastN keeps the newest N. A response holding more than
`max_instances` of one attribute is cut there and answered 206 with a Content-Range header.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.context.entities import ATTR_TYPES, iso
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextAttributeInstance as Inst
from cityops.context.models import ContextAttributeName, ContextEntity
from cityops.context.render import RenderOptions, _compact_attr
from cityops.context.temporal_aggregate import Agg, Plan, aggregate, render_aggregated
from cityops.context.temporal_models import ContextAttributeDeletion as Gone
from cityops.context.temporal_params import TemporalQuery

INSTANCE_PREFIX = "urn:ngsi-ld:attribute:instance:"
DELETION_PREFIX = "urn:ngsi-ld:attribute:deletion:"  # ids of ctx_attr_deletions rows
# the member of the simplified (temporalValues) form per attribute type
VALUES_MEMBER = {
    "Property": "values",
    "GeoProperty": "values",
    "Relationship": "objects",
    "LanguageProperty": "languageMaps",
    "JsonProperty": "jsons",
    "VocabProperty": "vocabs",
    "ListProperty": "valueLists",
    "ListRelationship": "objectLists",
}
# kinds whose simplified pairs hold their value in an object named by its member (GS CIM 009
# 4.5.9, as the ETSI suite's 020_15 expects: [{"json": {...}}, time], [{"vocab": "x"}, time])
WRAPPED = frozenset({"JsonProperty", "VocabProperty", "LanguageProperty"})


@dataclass
class Page:
    """Temporal entities ready to send and, when some attribute had more instances than one
    answer holds, the time range they were cut to (206 Partial Content)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    range: tuple[datetime, datetime] | None = None  # (start, end); reversed for lastN

    def content_range(self, last_n: int | None) -> str | None:
        """Return the Content-Range header of a partial answer (None when complete)."""
        if self.range is None:
            return None
        start, end = self.range
        return f"date-time {iso(start)}-{iso(end)}/{last_n or '*'}"


def cut_to_page(
    series: dict[tuple[int, int], list[Any]], cap: int, tq: TemporalQuery
) -> tuple[datetime, datetime] | None:
    """Cut the instances (ascending, per entity and attribute) of an answer that holds too
    many, in place, and return the range it covers (GS CIM 009 6.3.10; the ETSI suite's
    020_13, 020_14, 021_15). Every attribute is cut at one common time, so the client's next
    request (timeAt at the range's end) misses nothing: up to the earliest last instance of
    the series that reached the cap; with lastN, from the latest first instance, the range
    then running backwards (most recent first). The range starts at the window's own bound
    (timeAt after/between; with lastN, timeAt before or endTimeAt between), else at the
    answer's first (lastN: last) instance."""
    full = [rows for rows in series.values() if len(rows) > cap]
    if not full:
        return None
    if tq.last_n:
        bound = max(rows[-cap].at for rows in full)
        for key, rows in series.items():
            series[key] = [r for r in rows[-cap:] if r.at >= bound]
        times = [rows[-1].at for rows in series.values() if rows]
        start = tq.upper if tq.timerel in ("before", "between") else max(times, default=bound)
        return start or bound, bound
    bound = min(rows[cap - 1].at for rows in full)
    for key, rows in series.items():
        series[key] = [r for r in rows[:cap] if r.at <= bound]
    times = [rows[0].at for rows in series.values() if rows]
    start = tq.lower if tq.timerel in ("after", "between") else min(times, default=bound)
    return start or bound, bound


def attr_ids(session: Session, iris: frozenset[str] | None) -> list[int] | None:
    """Map requested attribute IRIs to their ids (None: every attribute)."""
    if iris is None:
        return None
    return list(
        session.scalars(select(ContextAttributeName.id).where(ContextAttributeName.iri.in_(iris)))
    )


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(ContextAttributeName.id, ContextAttributeName.iri).where(
            ContextAttributeName.id.in_(ids)
        )
    )
    return {i: iri for i, iri in rows}


def time_column(tq: TemporalQuery) -> Any:
    """Return the history column a timeproperty filters and orders on."""
    if tq.timeproperty == "deletedAt":
        return Gone.deleted_at
    return Inst.observed_at if tq.timeproperty == "observedAt" else Inst.modified_at


def fetch_instances(
    session: Session, pks: list[int], ids: list[int] | None, tq: TemporalQuery, cap: int
) -> dict[tuple[int, int], list[Any]]:
    """Return the instances per (entity, attribute) in ascending time, at most cap + 1 each."""
    if not pks or ids == []:
        return {}
    table = Gone if tq.timeproperty == "deletedAt" else Inst  # deletions are kept apart
    time = time_column(tq)
    order = (time.desc(), table.id.desc()) if tq.last_n else (time.asc(), table.id.asc())
    rank = func.row_number().over(partition_by=(table.entity_pk, table.attr_id), order_by=order)
    inner = select(
        table.id,
        table.entity_pk,
        table.attr_id,
        table.dataset_id,
        table.instance,
        time.label("at"),
        rank.label("rn"),
    ).where(table.entity_pk.in_(pks))
    if ids is not None:
        inner = inner.where(table.attr_id.in_(ids))
    if tq.datasets is not None:  # datasetId=a,@none
        inner = inner.where(table.dataset_id.in_(sorted(tq.datasets)))
    if tq.lower is not None:
        inner = inner.where(time >= tq.lower)
    if tq.upper is not None:
        inner = inner.where(time < tq.upper)
    sub = inner.subquery()
    want = min(tq.last_n, cap + 1) if tq.last_n else cap + 1
    stmt = select(sub).where(sub.c.rn <= want).order_by(sub.c.entity_pk, sub.c.attr_id, sub.c.rn)
    out: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for row in session.execute(stmt):
        out[(row.entity_pk, row.attr_id)].append(row)
    if tq.last_n:
        for rows in out.values():
            rows.reverse()
    return out


def _instance(row: Any, ctx: ActiveContext, tq: TemporalQuery) -> dict[str, Any]:
    out = _compact_attr(row.instance, ctx, RenderOptions(sys_attrs=tq.sys_attrs))
    prefix = DELETION_PREFIX if tq.timeproperty == "deletedAt" else INSTANCE_PREFIX
    out["instanceId"] = f"{prefix}{row.id}"
    if tq.timeproperty != "observedAt":
        out[tq.timeproperty] = iso(row.at)
    return out


def _simplified(rows: list[Any], ctx: ActiveContext) -> Any:
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        groups[row.dataset_id or ""].append(row)
    out = []
    for ds, members in groups.items():
        kind = members[-1].instance.get("type", "Property")
        member = ATTR_TYPES.get(kind, "value")
        values = []
        for row in members:
            value = row.instance.get(member)
            if kind == "VocabProperty":
                value = [ctx.compact(v) for v in value] if isinstance(value, list) else value
                value = ctx.compact(value) if isinstance(value, str) else value
            if kind in WRAPPED:  # its value is a JSON object or array itself
                value = {member: value}
            values.append([value, iso(row.at)])
        item: dict[str, Any] = {"type": kind, VALUES_MEMBER.get(kind, "values"): values}
        if ds:
            item["datasetId"] = ds
        out.append(item)
    return out[0] if len(out) == 1 else out


def _head(row: ContextEntity, ctx: ActiveContext, tq: TemporalQuery) -> dict[str, Any]:
    types = [ctx.compact(t) for t in row.types] if row.types else ctx.compact(row.type)
    out: dict[str, Any] = {"id": row.entity_id, "type": types}
    if row.scopes:
        out["scope"] = row.scopes if len(row.scopes) > 1 else row.scopes[0]
    if tq.sys_attrs:
        out["createdAt"] = iso(row.created_at)
        out["modifiedAt"] = iso(row.modified_at)
    return out


def _order(row: ContextEntity, names: dict[int, str], keys: Any) -> list[tuple[int, str]]:
    current = list(row.attrs)
    found = {(aid, names[aid]) for aid in keys if aid in names}
    return sorted(found, key=lambda f: (current.index(f[1]) if f[1] in current else 1e9, f[1]))


def temporal_entities(
    session: Session,
    rows: list[ContextEntity],
    ctx: ActiveContext,
    tq: TemporalQuery,
    max_instances: int,
) -> Page:
    """Render entities with their attribute history in the representation asked for."""
    page = Page()
    pks = [r.pk for r in rows]
    ids = attr_ids(session, tq.attrs)
    if tq.mode == "aggregatedValues":
        aggs, pl = aggregate(session, pks, ids, tq)
        page.items = [_aggregated(r, aggs, pl, session, ctx, tq) for r in rows]
        return page
    series = fetch_instances(session, pks, ids, tq, max_instances)
    names = _names(session, {aid for _, aid in series})
    page.range = cut_to_page(series, max_instances, tq)
    for row in rows:
        out = _head(row, ctx, tq)
        keys = [aid for pk, aid in series if pk == row.pk]
        for aid, iri in _order(row, names, keys):
            found = series[(row.pk, aid)]
            name = ctx.compact(iri)
            if tq.mode != "temporalValues":
                out[name] = [_instance(i, ctx, tq) for i in found]
            elif found:
                out[name] = _simplified(found, ctx)
            else:  # cut away by the page's range: the attribute is there, with no pairs
                kind = (row.attrs.get(iri) or {}).get("type", "Property")
                out[name] = {"type": kind, VALUES_MEMBER.get(kind, "values"): []}
        page.items.append(out)
    return page


def _aggregated(
    row: ContextEntity,
    aggs: dict[tuple[int, int, str, int], Agg],
    pl: Plan,
    session: Session,
    ctx: ActiveContext,
    tq: TemporalQuery,
) -> dict[str, Any]:
    out = _head(row, ctx, tq)
    grouped: dict[tuple[int, str], list[tuple[int, Agg]]] = defaultdict(list)
    for (pk, aid, ds, number), agg in aggs.items():
        if pk == row.pk:
            grouped[(aid, ds)].append((number, agg))
    names = _names(session, {aid for aid, _ in grouped})
    for aid, iri in _order(row, names, {aid for aid, _ in grouped}):
        items = []
        for ds in sorted(ds for a, ds in grouped if a == aid):
            kind = _kind(row, iri, ds)
            items.append(render_aggregated(kind, ds, grouped[(aid, ds)], tq, pl))
        out[ctx.compact(iri)] = items[0] if len(items) == 1 else items
    return out


def _kind(row: ContextEntity, iri: str, dataset_id: str) -> str:
    current = (
        (row.datasets or {}).get(iri, {}).get(dataset_id) if dataset_id else row.attrs.get(iri)
    )
    return (current or {}).get("type", "Property")
