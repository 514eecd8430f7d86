"""Render stored entities for a client: compacted with its @context, in the form it asked for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cityops.context.entities import ATTR_TYPES, CORE_MEMBERS, LOCATION_IRI, iso
from cityops.context.jsonld import ActiveContext
from cityops.context.models import ContextEntity


@dataclass(frozen=True)
class RenderOptions:
    """What the client asked for (options, format, attrs, pick, omit, lang)."""

    key_values: bool = False
    concise: bool = False
    sys_attrs: bool = False
    attrs: frozenset[str] | None = None  # expanded IRIs to keep
    pick: frozenset[str] | None = None  # compacted names (incl. id/type) to keep
    omit: frozenset[str] = frozenset()
    lang: str | None = None
    datasets: frozenset[str] | None = None  # datasetIds of the instances to keep ('' default)


def dataset_filter(ids: list[str] | None) -> frozenset[str] | None:
    """RenderOptions.datasets from datasetIds as clients name them (@none: the default
    instance, kept as '')."""
    return frozenset("" if d == "@none" else d for d in ids) if ids else None


def _compact_attr(attr: dict[str, Any], ctx: ActiveContext, opts: RenderOptions) -> Any:
    kind = attr.get("type", "Property")
    if opts.key_values:
        return _simplified_value(attr, opts)
    out: dict[str, Any] = {}
    for key, item in attr.items():
        if key in ("createdAt", "modifiedAt") and not opts.sys_attrs:
            continue
        if key in CORE_MEMBERS:
            out[key] = compact_vocab(item, ctx) if key == "vocab" else item
        elif isinstance(item, dict):
            out[ctx.compact(key)] = _compact_attr(item, ctx, opts)
    if kind == "LanguageProperty" and opts.lang:
        tag, value = pick_lang(attr.get("languageMap", {}), opts.lang)
        out = (
            {"type": "Property", "value": value}
            | ({"lang": tag} if tag else {})
            | {k: v for k, v in out.items() if k not in ("type", "languageMap")}
        )
    if opts.concise:
        out.pop("type", None)
        if set(out) == {"value"}:
            return out["value"]
    return out


def compact_vocab(value: Any, ctx: ActiveContext) -> Any:
    """A VocabProperty's vocab (an IRI or a list of them) compacted."""
    return [ctx.compact(v) for v in value] if isinstance(value, list) else ctx.compact(value)


def pick_lang(language_map: dict[str, Any], lang: str) -> tuple[str | None, Any]:
    """The language tag and string a `lang` filter picks from a LanguageProperty's map: its
    ranges by weight (`fr-CH,fr;q=0.9,*;q=0.5`), each matching a tag exactly, then by prefix
    either way (fr-CH finds fr, fr finds fr-CH), `*` any; none matching, the @none string,
    else the first tag's. The tag is the map's (what the answer's `lang` says)."""
    ranges = []
    for order, item in enumerate(lang.split(",")):
        tag, _, weight = item.strip().partition(";")
        try:
            q = float(weight.strip()[2:]) if weight.strip().startswith("q=") else 1.0
        except ValueError:
            q = 1.0
        if tag.strip() and q > 0:
            ranges.append((-q, order, tag.strip().lower()))
    keys = {k.lower(): k for k in sorted(language_map) if k != "@none"}  # (PostgreSQL's
    # JSONB keeps no key order: "the first" is the first tag in order, on both databases)
    for _, _, wanted in sorted(ranges):
        if wanted == "*" and keys:
            key = next(iter(keys.values()))
            return key, language_map[key]
        found = keys.get(wanted) or next(
            (k for low, k in keys.items() if low.startswith(f"{wanted}-")), None
        )
        found = found or keys.get(wanted.split("-")[0])
        if found is not None:
            return found, language_map[found]
    if "@none" in language_map:
        return "@none", language_map["@none"]
    key = next(iter(keys.values()), None)
    return key, language_map.get(key) if key is not None else None


def _simplified_value(attr: dict[str, Any], opts: RenderOptions) -> Any:
    kind = attr.get("type", "Property")
    if kind == "LanguageProperty":
        lm = attr.get("languageMap", {})
        return pick_lang(lm, opts.lang)[1] if opts.lang else {"languageMap": lm}
    if kind == "VocabProperty":
        return {"vocab": attr.get("vocab")}
    if kind == "JsonProperty":
        return {"json": attr.get("json")}
    return attr.get(ATTR_TYPES.get(kind, "value"))


def _wanted(iri: str, name: str, opts: RenderOptions) -> bool:
    if opts.attrs is not None and iri not in opts.attrs:
        return False
    if opts.pick is not None and name not in opts.pick:
        return False
    return name not in opts.omit


def render_entity(row: ContextEntity, ctx: ActiveContext, opts: RenderOptions) -> dict[str, Any]:
    """Render one entity (without @context; the caller adds it or a Link header)."""
    out: dict[str, Any] = {}
    if _keep_member("id", opts):
        out["id"] = row.entity_id
    if _keep_member("type", opts):
        types = getattr(row, "types", None)  # several (GS CIM 009 4.16): a list
        out["type"] = [ctx.compact(t) for t in types] if types else ctx.compact(row.type)
    if row.scopes and _keep_member("scope", opts):
        out["scope"] = row.scopes if len(row.scopes) > 1 else row.scopes[0]
    datasets = row.datasets or {}
    every = opts.attrs is None and opts.pick is None and not opts.omit and opts.datasets is None
    if not datasets and every:  # the common case: each attribute once, all of them wanted
        compact = ctx.compact
        for iri, attr in row.attrs.items():
            out[compact(iri)] = _compact_attr(attr, ctx, opts)
    else:
        for iri in list(row.attrs) + [i for i in datasets if i not in row.attrs]:
            name = ctx.compact(iri)
            if not _wanted(iri, name, opts):
                continue
            keep = opts.datasets
            default = iri in row.attrs and (keep is None or "" in keep)
            instances = [("@none", row.attrs[iri])] if default else []
            instances += [
                (ds, a) for ds, a in datasets.get(iri, {}).items() if keep is None or ds in keep
            ]
            if not instances:
                continue
            if opts.key_values and instances[-1][0] != "@none":  # a multi-attribute, simplified:
                # {"dataset": {datasetId (@none: the default one): value}} (GS CIM 009 4.5.4)
                out[name] = {"dataset": {ds: _compact_attr(a, ctx, opts) for ds, a in instances}}
                continue
            rendered = [_compact_attr(a, ctx, opts) for _, a in instances]
            out[name] = rendered[0] if len(rendered) == 1 else rendered
    if opts.sys_attrs:  # the entity's times, in every format (attributes': not simplified)
        out["createdAt"] = iso(row.created_at)
        out["modifiedAt"] = iso(row.modified_at)
    return out


def _keep_member(name: str, opts: RenderOptions) -> bool:
    return (opts.pick is None or name in opts.pick) and name not in opts.omit


def render_feature(
    row: ContextEntity, ctx: ActiveContext, opts: RenderOptions, geoproperty: str = LOCATION_IRI
) -> dict[str, Any]:
    """Render an entity as a GeoJSON Feature (Accept: application/geo+json)."""
    body = render_entity(row, ctx, opts)
    geo = row.attrs.get(geoproperty) or {}
    props = {k: v for k, v in body.items() if k != "id"}
    return {
        "id": row.entity_id,
        "type": "Feature",
        "geometry": geo.get("value"),
        "properties": props,
    }
