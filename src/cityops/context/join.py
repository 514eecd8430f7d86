"""Linked entity retrieval (GS CIM 009 4.5.23): `join=inline` puts the entity a Relationship
points to inside it (`entity`; `entityList` for a ListRelationship or several objects),
`join=flat` answers the entities and those they link to side by side, each once.
`joinLevel` (default 1) says how many hops are followed.

It works on rendered entities (normalized or concise: a relationship is a member holding
`object` or `objectList`); linked entities are read with the caller's scope, so a link to an
entity the caller may not see stays a bare link. keyValues answers have no room for an
inlined entity: inline leaves them as they are (flat still adds the linked entities).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from cityops.context.errors import bad_request
from cityops.context.jsonld import ActiveContext
from cityops.context.query import EntityQuery, render_columns, run_query
from cityops.context.render import RenderOptions, render_entity
from cityops.core.policy import Principal

MAX_LEVEL = 5  # hops a client may ask for
MAX_LINKED = 1_000  # linked entities one answer may read

Fetch = Callable[[list[str]], dict[str, dict[str, Any]]]  # ids -> rendered entities


@dataclass(frozen=True)
class Join:
    """A join asked for: 'inline' or 'flat', and how many hops."""

    mode: str
    level: int = 1


def parse_join(params: Any) -> Join | None:
    """The join of a request's parameters (None: no join, or join=@none)."""
    mode = params.get("join")
    if mode is None or mode == "@none":
        return None
    if mode not in ("inline", "flat"):
        raise bad_request(f"join must be inline, flat or @none, got {mode!r}")
    raw = params.get("joinLevel", "1")
    try:
        level = int(raw)
    except (TypeError, ValueError) as err:
        raise bad_request(f"joinLevel must be a whole number, got {raw!r}") from err
    if not 1 <= level <= MAX_LEVEL:
        raise bad_request(f"joinLevel must be from 1 to {MAX_LEVEL}")
    return Join(mode, level)


def _links(entity: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, list[str]]]:
    """(relationship instance, member to fill, object ids) of a rendered entity."""
    for name, shown in entity.items():
        if name in ("id", "type", "scope", "@context"):
            continue
        for inst in shown if isinstance(shown, list) else [shown]:
            if not isinstance(inst, dict):
                continue
            if "objectList" in inst:
                items = inst["objectList"] if isinstance(inst["objectList"], list) else []
                ids = [i.get("object") if isinstance(i, dict) else i for i in items]
                yield inst, "entityList", [i for i in ids if isinstance(i, str)]
            elif "object" in inst:
                obj = inst["object"]
                if isinstance(obj, str):
                    yield inst, "entity", [obj]
                elif isinstance(obj, list):
                    yield inst, "entityList", [o for o in obj if isinstance(o, str)]


def apply(entities: list[dict[str, Any]], join: Join, fetch: Fetch) -> list[dict[str, Any]]:
    """Follow the links of rendered entities: inlined into them (the same list back) or
    added after them (flat: the list with the linked entities, each entity once)."""
    known: dict[str, dict[str, Any]] = {e["id"]: e for e in entities if "id" in e}
    out, listed = list(entities), set(known)
    level = entities
    for _ in range(join.level):
        wanted = [i for e in level for _, _, ids in _links(e) for i in ids]
        missing = [i for i in dict.fromkeys(wanted) if i not in known]
        room = MAX_LINKED - (len(known) - len(entities))
        if missing and room > 0:
            known |= fetch(missing[:room])
        next_level = []
        for entity in level:
            for inst, member, ids in _links(entity):
                found = [known[i] for i in ids if i in known]
                if join.mode == "inline" and found:
                    # a copy of it as it stands, per place it appears: entities linking
                    # to each other give a finite answer
                    inline = [orjson.loads(orjson.dumps(f)) for f in found]
                    inst[member] = inline[0] if member == "entity" else inline
                    next_level += inline
                elif join.mode == "flat":
                    for linked in found:
                        if linked["id"] not in listed:
                            listed.add(linked["id"])
                            out.append(linked)
                            next_level.append(linked)
        level = next_level
        if not level:
            break
    return out


def joined(
    reader: Any,
    tenant: str,
    principal: Principal,
    ctx: ActiveContext,
    opts: RenderOptions,
    entities: list[dict[str, Any]],
    join: Join,
) -> list[dict[str, Any]]:
    """apply() with the linked entities read in the caller's scope and rendered as the
    request asks."""
    columns = render_columns(opts.sys_attrs)

    def fetch(ids: list[str]) -> dict[str, dict[str, Any]]:
        query = EntityQuery(ids=ids, limit=len(ids))
        rows, _ = run_query(reader, tenant, principal, query, ctx, columns)
        return {row.entity_id: render_entity(row, ctx, opts) for row in rows}

    return apply(entities, join, fetch)
