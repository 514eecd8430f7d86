"""Check a rule's definition (with error positions) and compile it for the engine."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.conditions import ConditionError, Term, attributes, parse_condition
from cityops.alerts.models import AlertRule
from cityops.alerts.schemas import RuleProblem
from cityops.context.jsonld import ActiveContext, ContextResolver
from cityops.context.models import ContextEntity
from cityops.context.qlang import AttrPath, Compare, Exists, Pattern, QExpr, QSyntaxError, parse_q
from cityops.context.qlang_eval import QEvaluator
from cityops.core.units.models import Unit
from cityops.intake.payloads import resolve_context

ENTITY_KINDS = frozenset({"threshold", "rate_of_change", "absence", "geofence"})
EVENT_KINDS = frozenset({"count_window", "event"})
_REQUIRED = {
    "threshold": ("entity_type", "condition"),
    "rate_of_change": ("entity_type", "attribute", "delta", "window_seconds"),
    "absence": ("entity_type", "silence_seconds"),
    "count_window": ("event_name", "count", "radius_m", "window_seconds"),
    "event": ("event_name",),
    "geofence": ("entity_type", "transition"),
}
SAMPLE_ROWS = 500  # entities of a type read to learn its attributes


@dataclass
class CompiledRule:
    """A rule made ready for evaluation: parsed expressions, expanded names, its scope."""

    id: int
    version: int
    kind: str
    severity: str
    public: bool
    auto_clear: bool
    unit_id: int | None
    unit_path: str | None
    title_vi: str
    title_en: str
    params: dict[str, Any]
    terms: tuple[Term, ...] = ()
    q: QEvaluator | None = None
    iris: dict[str, str] = field(default_factory=dict)  # short attribute name -> IRI
    fence: BaseGeometry | None = None


def type_context(resolver: ContextResolver, entity_type: str) -> ActiveContext:
    """Return the @context entity attributes of a type are expanded with."""
    return resolve_context(resolver, None, entity_type)


def _q_names(expr: QExpr) -> list[str]:
    if isinstance(expr, Exists | Compare | Pattern):
        path: AttrPath = expr.path
        return [path.attr]
    return [name for term in expr.terms for name in _q_names(term)]


def _seen_attrs(session: Session, type_iri: str) -> set[str] | None:
    rows = session.scalars(
        select(ContextEntity.attrs).where(ContextEntity.type == type_iri).limit(SAMPLE_ROWS)
    ).all()
    if not rows:
        return None
    return {iri for attrs in rows for iri in attrs}


def _template_problems(params: dict[str, Any], titles: dict[str, str]) -> list[RuleProblem]:
    out = []
    for name, text in titles.items():
        try:
            list(string.Formatter().parse(text))
        except ValueError as err:
            out.append(RuleProblem(field=name, code="bad_template", message=str(err)))
    return out


def _names(
    kind: str, params: dict[str, Any]
) -> tuple[list[RuleProblem], list[tuple[str, str, int]]]:
    """Parse the expressions; return problems and (field, attribute, position) read."""
    problems: list[RuleProblem] = []
    names: list[tuple[str, str, int]] = []
    if kind == "threshold" and params.get("condition"):
        try:
            terms = parse_condition(params["condition"])
            names += [("condition", n, p) for n, p in attributes(terms)]
        except ConditionError as err:
            problems.append(
                RuleProblem(
                    field="condition", code="syntax", message=str(err), position=err.position
                )
            )
    if params.get("q") and kind in ENTITY_KINDS:
        try:
            names += [("q", n, params["q"].find(n)) for n in _q_names(parse_q(params["q"]))]
        except QSyntaxError as err:
            problems.append(
                RuleProblem(field="q", code="syntax", message=str(err), position=err.position)
            )
    if kind in ("rate_of_change", "absence") and params.get("attribute"):
        names.append(("attribute", params["attribute"], 0))
    return problems, names


def check_rule(
    session: Session,
    resolver: ContextResolver,
    kind: str,
    params: dict[str, Any],
    titles: dict[str, str],
) -> list[RuleProblem]:
    """List what is wrong with a rule definition (empty: it may be saved)."""
    problems = [
        RuleProblem(field=f, code="required", message=f"{kind} rules need '{f}'")
        for f in _REQUIRED[kind]
        if params.get(f) in (None, "")
    ]
    problems += _template_problems(params, titles)
    if kind == "geofence" and not (params.get("fence") or params.get("fence_unit_id")):
        problems.append(
            RuleProblem(field="fence", code="required", message="give fence or fence_unit_id")
        )
    if params.get("fence"):
        try:
            shape(params["fence"])
        except Exception as err:  # shapely raises several kinds for bad GeoJSON
            problems.append(RuleProblem(field="fence", code="bad_geometry", message=str(err)))
    syntax, names = _names(kind, params)
    problems += syntax
    if kind in ENTITY_KINDS and params.get("entity_type") and not syntax:
        problems += _unknown_attributes(session, resolver, params["entity_type"], names)
    return problems


def _unknown_attributes(
    session: Session, resolver: ContextResolver, entity_type: str, names: list[tuple[str, str, int]]
) -> list[RuleProblem]:
    ctx = type_context(resolver, entity_type)
    seen = _seen_attrs(session, ctx.expand(entity_type))
    if seen is None:
        return [
            RuleProblem(
                field="entity_type",
                code="unknown_entity_type",
                message=f"no entity of type {entity_type!r} has been seen by the context hub",
            )
        ]
    return [
        RuleProblem(
            field=fld,
            code="unknown_attribute",
            message=f"no {entity_type} entity has an attribute {name!r}",
            position=pos,
        )
        for fld, name, pos in names
        if ctx.expand(name) not in seen
    ]


def compile_rule(rule: AlertRule, resolver: ContextResolver, unit_path: str | None) -> CompiledRule:
    """Prepare a stored rule for the engine."""
    params = dict(rule.params or {})
    out = CompiledRule(
        rule.id,
        rule.version,
        rule.kind,
        rule.severity,
        rule.public,
        rule.auto_clear,
        rule.unit_id,
        unit_path,
        rule.title_vi,
        rule.title_en,
        params,
    )
    if rule.kind in ENTITY_KINDS:
        ctx = type_context(resolver, params["entity_type"])
        if params.get("condition"):
            out.terms = parse_condition(params["condition"])
            out.iris = {n: ctx.expand(n) for n, _ in attributes(out.terms)}
        if params.get("attribute"):
            out.iris[params["attribute"]] = ctx.expand(params["attribute"])
        if params.get("q"):
            out.q = QEvaluator(parse_q(params["q"]), ctx.expand)
    if params.get("fence"):
        out.fence = shape(params["fence"])
    return out


def fence_of_unit(session: Session, unit_id: int) -> BaseGeometry | None:
    """Return a unit's boundary as a shape (None when it has none)."""
    unit = session.get(Unit, unit_id)
    return shape(unit.geometry) if unit is not None and unit.geometry else None
