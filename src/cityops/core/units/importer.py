"""All-or-nothing unit imports: validate every row first, then upsert by code, parents first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.audit import record
from cityops.core.errors import InvalidInput
from cityops.core.policy import Perm, Principal, authorize, can
from cityops.core.units.geometry import GeometryError, validate_geometry
from cityops.core.units.models import Unit
from cityops.core.units.schemas import ROOT_PARENT_CODES, UnitCreate
from cityops.core.units.service import audit_snapshot, move_unit, resolve_parent

# Fields an import may set; a field a row leaves out or empty keeps its value on update.
FIELDS = ("name", "name_en", "level", "division_type", "valid_from", "valid_until", "source")
MAX_LISTED = 5


@dataclass
class RawUnit:
    """One unit as read from a file or package, before validation."""

    position: dict[str, int | str]  # {"feature": 3}, {"row": 5} or {"item": "..."}
    fields: dict[str, Any]
    errors: list[tuple[str | None, str]] = field(
        default_factory=list
    )  # (field, reason) found reading

    @property
    def where(self) -> str:
        """Name the place in the source, e.g. 'feature 3' or 'row 5'."""
        return " ".join(f"{k} {v}" for k, v in self.position.items())


@dataclass
class Problem:
    """Why one row or feature cannot be imported."""

    raw: RawUnit
    field: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as JSON: where, which unit code, which field, why."""
        return {
            **self.raw.position,
            "location": self.raw.where,
            "unit_code": self.raw.fields.get("code"),
            "field": self.field,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        code = self.raw.fields.get("code")
        label = f"{self.raw.where} (code {code!r})" if code else self.raw.where
        return f"{label}: {self.field + ': ' if self.field else ''}{self.reason}"


@dataclass
class ImportResult:
    """What an import did."""

    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        """Count the units in the source."""
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        return (
            f"{self.total} unit(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as JSON."""
        return {
            "source": self.source,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "total": self.total,
        }


@dataclass
class _Entry:
    raw: RawUnit
    code: str
    parent_code: str | None  # None: a root of the file (attached under `attach` if given)
    values: dict[str, Any]


def _parse(raw: RawUnit, source: str) -> tuple[_Entry | None, list[Problem]]:
    """Validate one row; return its entry (None without a usable code) and its problems."""
    problems = [Problem(raw, f, r) for f, r in raw.errors]
    values: dict[str, Any] = {}
    if "geometry" in raw.fields:
        try:
            values["geometry"] = validate_geometry(raw.fields["geometry"])
        except GeometryError as err:
            problems.append(Problem(raw, "geometry", str(err)))
    try:
        unit = UnitCreate(**{k: v for k, v in raw.fields.items() if k != "geometry"})
    except ValidationError as err:
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"]) or None
            problems.append(Problem(raw, loc, e["msg"]))
        code, parent = raw.fields.get("code"), raw.fields.get("parent_code")
        if not isinstance(code, str) or any(p.field == "code" for p in problems):
            return None, problems
        # Keep the row in the graph so that its children are not reported as orphans.
        parent = parent.strip() if isinstance(parent, str) else ""
        return _Entry(raw, code, None if parent in ROOT_PARENT_CODES else parent, {}), problems
    values |= unit.model_dump(include=set(FIELDS), exclude_unset=True)
    values.setdefault("source", source[:300])
    if unit.code in ROOT_PARENT_CODES:
        problems.append(Problem(raw, "code", f"code {unit.code!r} is reserved ('no parent')"))
    parent = (unit.parent_code or "").strip()
    return _Entry(raw, unit.code, None if parent in ROOT_PARENT_CODES else parent, values), problems


class _Graph:
    """The tree as it will be after the import: the file's parents over the database's."""

    def __init__(self, session: Session, entries: dict[str, _Entry], attach: Unit | None) -> None:
        rows = session.execute(select(Unit.id, Unit.code, Unit.parent_id, Unit.path)).all()
        code_of = {r.id: r.code for r in rows}
        self.db = {r.code: r for r in rows}
        self.db_parent = {r.code: code_of.get(r.parent_id) for r in rows}
        self.entries = entries
        self.attach = attach.code if attach else None

    def parent(self, code: str) -> str | None:
        """Return the parent code a unit will have after the import."""
        if code in self.entries:
            return self.entries[code].parent_code or self.attach
        return self.db_parent.get(code)

    def cycles(self) -> list[list[str]]:
        """Return every cycle (as a list of codes) the import would create."""
        done: set[str] = set()
        found: list[list[str]] = []
        for start in self.entries:
            walk: list[str] = []
            cur: str | None = start
            while cur is not None and cur not in done:
                if cur in walk:
                    found.append(walk[walk.index(cur) :])
                    break
                walk.append(cur)
                cur = self.parent(cur)
            done.update(walk)
        return found

    def generation(self, code: str) -> int:
        """Count the file's units above this one (parents are imported first)."""
        n, cur = 0, self.parent(code)
        while cur is not None and n <= len(self.entries):
            if cur in self.entries:
                n += 1
            cur = self.parent(cur)
        return n


def _check_links(principal: Principal, graph: _Graph) -> list[Problem]:
    problems: list[Problem] = []
    for code, e in graph.entries.items():
        row = graph.db.get(code)
        if row is not None and not can(principal, Perm.units_write, row.path):
            problems.append(
                Problem(e.raw, "code", "a unit with this code exists outside your scope")
            )
        p = e.parent_code
        if p is None and graph.attach is None and not can(principal, Perm.units_write, None):
            problems.append(Problem(e.raw, "parent_code", "a root unit is outside your scope"))
        if p is None or p in graph.entries:
            continue
        prow = graph.db.get(p)
        if prow is None or not can(principal, Perm.units_write, prow.path):
            problems.append(
                Problem(
                    e.raw,
                    "parent_code",
                    f"unknown parent code {p!r} (neither in this file nor in the database)",
                )
            )
    for cycle in graph.cycles():
        first = graph.entries.get(cycle[0]) or next(
            graph.entries[c] for c in cycle if c in graph.entries
        )
        loop = " → ".join([*cycle, cycle[0]])
        problems.append(Problem(first.raw, "parent_code", f"parent codes form a cycle: {loop}"))
    return problems


def validate_units(
    session: Session,
    raws: Sequence[RawUnit],
    principal: Principal,
    attach: Unit | None,
    source: str,
) -> tuple[dict[str, _Entry], _Graph, list[Problem]]:
    """Check every row (fields, geometry, duplicates, parents, cycles); collect all problems."""
    entries: dict[str, _Entry] = {}
    problems: list[Problem] = []
    for raw in raws:
        entry, found = _parse(raw, source)
        problems += found
        if entry is None:
            continue
        if entry.code in entries:
            first = entries[entry.code].raw.where
            problems.append(
                Problem(raw, "code", f"duplicate code {entry.code!r} (also at {first})")
            )
            continue
        entries[entry.code] = entry
    graph = _Graph(session, entries, attach)
    order = {id(raw): i for i, raw in enumerate(raws)}
    problems = sorted(problems + _check_links(principal, graph), key=lambda p: order[id(p.raw)])
    return entries, graph, problems


def refuse(source: str, problems: Sequence[Problem]) -> InvalidInput:
    """Build the error of a refused import: every problem listed, nothing imported."""
    shown = "; ".join(str(p) for p in problems[:MAX_LISTED])
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return InvalidInput(
        f"{source}: {len(problems)} problem(s), nothing was imported: {shown}{more}",
        code="unit_import_invalid",
        extra={"errors": [p.as_dict() for p in problems]},
    )


def import_units(
    session: Session,
    raws: Sequence[RawUnit],
    principal: Principal,
    *,
    source: str,
    parent_code: str | None = None,
) -> ImportResult:
    """Validate all units, then upsert them by code in this transaction (all or nothing)."""
    authorize(principal, Perm.units_write, check_unit=False)
    if not raws:
        raise InvalidInput(
            f"{source}: no units found", code="unit_import_invalid", extra={"errors": []}
        )
    attach = resolve_parent(session, principal, parent_code)
    if attach is not None:
        authorize(principal, Perm.units_write, attach.path)
    entries, graph, problems = validate_units(session, raws, principal, attach, source)
    if problems:
        raise refuse(source, problems)
    return _apply(session, principal, entries, graph, attach, source)


def _load(session: Session, codes: list[str]) -> dict[str, Unit]:
    found: dict[str, Unit] = {}
    for i in range(0, len(codes), 500):
        chunk = codes[i : i + 500]
        found.update((u.code, u) for u in session.scalars(select(Unit).where(Unit.code.in_(chunk))))
    return found


def _update(session: Session, unit: Unit, values: dict[str, Any], parent: Unit | None) -> None:
    for key, value in values.items():
        if getattr(unit, key) != value:
            setattr(unit, key, value)
    if (parent.id if parent else None) != unit.parent_id:
        move_unit(session, unit, parent)


def _apply(
    session: Session,
    principal: Principal,
    entries: dict[str, _Entry],
    graph: _Graph,
    attach: Unit | None,
    source: str,
) -> ImportResult:
    units = _load(session, list(entries))
    generations: dict[int, list[_Entry]] = {}
    for e in entries.values():
        generations.setdefault(graph.generation(e.code), []).append(e)
    created: list[Unit] = []
    changed: list[tuple[Unit, dict[str, Any]]] = []
    for gen in sorted(generations):
        fresh: list[tuple[Unit, Unit | None]] = []
        for e in generations[gen]:
            parent = attach if e.parent_code is None else units.get(e.parent_code)
            if parent is None and e.parent_code is not None:
                parent = units[e.parent_code] = _load(session, [e.parent_code])[e.parent_code]
            unit = units.get(e.code)
            if unit is None:
                unit = units[e.code] = Unit(
                    code=e.code,
                    parent_id=parent.id if parent else None,
                    path="/",
                    depth=parent.depth + 1 if parent else 0,
                    **e.values,
                )
                session.add(unit)
                fresh.append((unit, parent))
            else:
                changed.append((unit, audit_snapshot(unit)))
                _update(session, unit, e.values, parent)
        session.flush()
        for unit, parent in fresh:
            unit.path = f"{parent.path if parent else '/'}{unit.id}/"
        created += [u for u, _ in fresh]
    session.flush()
    return _audit(session, principal, source, attach, created, changed)


def _audit(
    session: Session,
    principal: Principal,
    source: str,
    attach: Unit | None,
    created: list[Unit],
    changed: list[tuple[Unit, dict[str, Any]]],
) -> ImportResult:
    result = ImportResult(source, created=len(created))
    for unit in created:
        record(
            session,
            principal,
            "unit.create",
            "unit",
            unit.id,
            after=audit_snapshot(unit),
            unit_id=unit.id,
        )
    for unit, before in changed:
        after = audit_snapshot(unit)
        if after == before:
            result.unchanged += 1
            continue
        result.updated += 1
        record(
            session,
            principal,
            "unit.update",
            "unit",
            unit.id,
            before=before,
            after=after,
            unit_id=unit.id,
        )
    record(
        session,
        principal,
        "unit.import",
        "unit",
        None,
        after=result.as_dict(),
        unit_id=attach.id if attach else None,
    )
    return result
