"""Administrative units: scoped reads, audited writes, moves that carry their subtree."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityops.core.audit import record, snapshot
from cityops.core.db import Base
from cityops.core.errors import Conflict, InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize, in_scope, scope_filter
from cityops.core.units.geometry import GeometryError, summary, validate_geometry
from cityops.core.units.models import Unit
from cityops.core.units.schemas import (
    ROOT_PARENT_CODES,
    UnitCreate,
    UnitUpdate,
)

MAX_PAGE = 1000


def unit_path(session: Session, unit_id: int | None) -> str | None:
    """Return the tree path of a unit ('/1/7/42/'), None for no unit; scope checks compare it."""
    if unit_id is None:
        return None
    return session.scalar(select(Unit.path).where(Unit.id == unit_id))


def fold(text: str | None) -> str:
    """Fold text for accent-insensitive search: 'Phan Thiết' -> 'phan thiet'."""
    text = (text or "").replace("đ", "d").replace("Đ", "D")
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def is_current(unit: Unit, at: date | None = None) -> bool:
    """Say whether a unit is valid on `at` (today by default)."""
    day = at or date.today()
    return (unit.valid_from is None or unit.valid_from <= day) and (
        unit.valid_until is None or unit.valid_until >= day
    )


def valid_on(at: date | None = None) -> ColumnElement[bool]:
    """Return a SQL condition keeping units valid on `at` (today by default)."""
    day = at or date.today()
    return and_(
        or_(Unit.valid_from.is_(None), Unit.valid_from <= day),
        or_(Unit.valid_until.is_(None), Unit.valid_until >= day),
    )


def audit_snapshot(unit: Unit) -> dict[str, Any]:
    """Copy a unit for the audit log, with its polygon reduced to type, bbox and hash."""
    data = snapshot(unit)
    data["geometry"] = summary(unit.geometry)
    return data


def scoped_query(
    principal: Principal, include_former: bool = True, at: date | None = None
) -> Select[Any]:
    """Start a query of the units the caller may read (valid on `at` unless include_former)."""
    authorize(principal, Perm.units_read, check_unit=False)
    stmt = select(Unit).where(scope_filter(principal, Unit.path))
    return stmt if include_former else stmt.where(valid_on(at))


def _not_found(code: str) -> NotFound:
    return NotFound(f"No administrative unit with code {code!r} in your scope", code="not_found")


def get_by_code(session: Session, principal: Principal, code: str) -> Unit:
    """Return the unit with this code; 404 when it is missing or outside the caller's scope."""
    authorize(principal, Perm.units_read, check_unit=False)
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not in_scope(principal, unit.path):
        raise _not_found(code)
    return unit


def list_units(
    session: Session,
    principal: Principal,
    *,
    level: str | None = None,
    parent_code: str | None = None,
    q: str | None = None,
    include_former: bool = False,
    at: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Unit], int]:
    """List units in scope, filtered by level, parent and an accent-insensitive name search."""
    stmt = scoped_query(principal, include_former, at)
    if level:
        stmt = stmt.where(Unit.level == level)
    if parent_code:
        stmt = stmt.where(Unit.parent_id == get_by_code(session, principal, parent_code).id)
    stmt = stmt.order_by(Unit.depth, Unit.code)
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    if not q:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        return list(session.scalars(stmt.limit(limit).offset(offset))), total
    # Accent-insensitive search works the same on every database when done here.
    needle = fold(q)
    rows = session.execute(stmt.with_only_columns(Unit.id, Unit.code, Unit.name, Unit.name_en))
    ids = [r.id for r in rows if r.code == q or needle in fold(r.name) or needle in fold(r.name_en)]
    page = ids[offset : offset + limit]
    by_id = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(page)))}
    return [by_id[i] for i in page], len(ids)


def children(
    session: Session,
    principal: Principal,
    code: str,
    *,
    include_former: bool = False,
    at: date | None = None,
) -> list[Unit]:
    """List the direct children of a unit, in code order."""
    parent = get_by_code(session, principal, code)
    stmt = scoped_query(principal, include_former, at).where(Unit.parent_id == parent.id)
    return list(session.scalars(stmt.order_by(Unit.code)))


def subtree(
    session: Session,
    principal: Principal,
    code: str,
    *,
    include_former: bool = True,
    at: date | None = None,
) -> list[Unit]:
    """List a unit and everything below it, parents before children."""
    root = get_by_code(session, principal, code)
    stmt = scoped_query(principal, include_former, at).where(
        Unit.path.startswith(root.path, autoescape=True)
    )
    return list(session.scalars(stmt.order_by(Unit.depth, Unit.code)))


def ancestors(session: Session, principal: Principal, code: str) -> list[Unit]:
    """List the in-scope ancestors of a unit, root first (the unit itself excluded)."""
    unit = get_by_code(session, principal, code)
    ids = [int(p) for p in unit.path.strip("/").split("/")[:-1] if p]
    if not ids:
        return []
    stmt = scoped_query(principal).where(Unit.id.in_(ids)).order_by(Unit.depth)
    return list(session.scalars(stmt))


def with_geometry(
    session: Session,
    principal: Principal,
    *,
    level: str | None = None,
    include_former: bool = False,
    at: date | None = None,
) -> list[Unit]:
    """List the units in scope that have a polygon, parents first."""
    stmt = scoped_query(principal, include_former, at).where(Unit.min_lon.is_not(None))
    if level:
        stmt = stmt.where(Unit.level == level)
    return list(session.scalars(stmt.order_by(Unit.depth, Unit.code)))


def checked_geometry(geometry: Any, label: str) -> dict[str, Any] | None:
    """Validate a unit's geometry; InvalidInput names the unit and the reason."""
    if geometry is None:
        return None
    try:
        return validate_geometry(geometry)
    except GeometryError as err:
        raise InvalidInput(f"{label}: {err}", code="invalid_geometry") from err


def resolve_parent(session: Session, principal: Principal, parent_code: str | None) -> Unit | None:
    """Find the parent named by a code ('', 'VN', None: none); 422 if the caller cannot see it."""
    if parent_code is None or parent_code.strip() in ROOT_PARENT_CODES:
        return None
    parent = session.scalar(select(Unit).where(Unit.code == parent_code.strip()))
    if parent is None or not in_scope(principal, parent.path):
        raise InvalidInput(
            f"Unknown parent code {parent_code!r} (no such unit in your scope)",
            code="unknown_parent_code",
        )
    return parent


def move_unit(session: Session, unit: Unit, new_parent: Unit | None) -> None:
    """Put a unit under a new parent and rewrite the path and depth of its whole subtree."""
    old_path = unit.path
    new_path = f"{new_parent.path if new_parent else '/'}{unit.id}/"
    delta = (new_parent.depth + 1 if new_parent else 0) - unit.depth
    below = select(Unit).where(Unit.path.startswith(old_path, autoescape=True), Unit.id != unit.id)
    for d in session.scalars(below):
        d.path = new_path + d.path[len(old_path) :]
        d.depth += delta
    unit.parent_id = new_parent.id if new_parent else None
    unit.path = new_path
    unit.depth += delta


def refuse_cycle(unit: Unit, new_parent: Unit | None) -> None:
    """Raise Conflict (unit_cycle) when `new_parent` is the unit itself or lies below it."""
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise Conflict(
            f"Cannot put unit {unit.code!r} under {new_parent.code!r}: "
            f"{new_parent.code!r} is {unit.code!r} itself or lies below it",
            code="unit_cycle",
        )


def create_unit(session: Session, principal: Principal, data: UnitCreate) -> Unit:
    """Create a unit under its parent (audited); refuse a taken or reserved code."""
    authorize(principal, Perm.units_write, check_unit=False)
    if data.code in ROOT_PARENT_CODES:
        raise InvalidInput(
            f"Code {data.code!r} is reserved (it means 'no parent')", code="reserved_code"
        )
    if session.scalar(select(Unit.id).where(Unit.code == data.code)) is not None:
        raise Conflict(f"A unit with code {data.code!r} already exists", code="unit_code_taken")
    parent = resolve_parent(session, principal, data.parent_code)
    authorize(principal, Perm.units_write, parent.path if parent else None)
    fields = data.model_dump(exclude={"parent_code", "geometry"})
    unit = Unit(
        **fields,
        geometry=checked_geometry(data.geometry, f"Unit {data.code!r}"),
        parent_id=parent.id if parent else None,
        path="/",
        depth=parent.depth + 1 if parent else 0,
    )
    session.add(unit)
    _flush(session, data.code)
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    _flush(session, data.code)
    record(
        session,
        principal,
        "unit.create",
        "unit",
        unit.id,
        after=audit_snapshot(unit),
        unit_id=unit.id,
    )
    return unit


def _flush(session: Session, code: str) -> None:
    try:
        session.flush()
    except IntegrityError as err:
        raise Conflict(f"Unit {code!r} clashes with existing data", code="unit_conflict") from err


def get_for_write(session: Session, principal: Principal, code: str) -> Unit:
    """Return a unit the caller may change (403 without units:write, 404 out of scope)."""
    authorize(principal, Perm.units_write, check_unit=False)
    unit = get_by_code(session, principal, code)
    authorize(principal, Perm.units_write, unit.path)
    return unit


def update_unit(session: Session, principal: Principal, code: str, data: UnitUpdate) -> Unit:
    """Change a unit: rename, re-date, replace its polygon, or move it with its subtree."""
    unit = get_for_write(session, principal, code)
    before = audit_snapshot(unit)
    fields = data.model_dump(exclude_unset=True)
    for required in ("name", "level"):
        if required in fields and fields[required] is None:
            raise InvalidInput(f"{required} cannot be null", code="invalid_input")
    if "parent_code" in fields:
        new_parent = resolve_parent(session, principal, fields.pop("parent_code"))
        if (new_parent.id if new_parent else None) != unit.parent_id:
            refuse_cycle(unit, new_parent)
            authorize(principal, Perm.units_write, new_parent.path if new_parent else None)
            move_unit(session, unit, new_parent)
    if "geometry" in fields:
        unit.geometry = checked_geometry(fields.pop("geometry"), f"Unit {code!r}")
    for key, value in fields.items():
        setattr(unit, key, value)
    if unit.valid_from and unit.valid_until and unit.valid_from > unit.valid_until:
        raise InvalidInput("valid_from must not be after valid_until", code="invalid_input")
    _flush(session, code)
    after = audit_snapshot(unit)
    if after != before:
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
    return unit


def references(session: Session, unit_id: int) -> dict[str, int]:
    """Count rows of other tables that keep this unit from being deleted."""
    counts: dict[str, int] = {}
    for table in Base.metadata.tables.values():
        if table.name == Unit.__tablename__:
            continue
        for fk in table.foreign_keys:
            target = fk.column
            if target.table.name != Unit.__tablename__ or target.name != "id":
                continue
            if (fk.ondelete or "").upper() in {"SET NULL", "CASCADE"}:
                continue
            n = session.scalar(select(func.count()).select_from(table).where(fk.parent == unit_id))
            if n:
                counts[table.name] = counts.get(table.name, 0) + int(n)
    return counts


def delete_unit(session: Session, principal: Principal, code: str) -> None:
    """Delete a unit that has no children and that nothing refers to (audited)."""
    unit = get_for_write(session, principal, code)
    n_children = session.scalar(select(func.count()).where(Unit.parent_id == unit.id)) or 0
    if n_children:
        raise Conflict(
            f"Unit {code!r} has {n_children} child unit(s); move or delete them first",
            code="unit_has_children",
        )
    used = references(session, unit.id)
    if used:
        uses = ", ".join(f"{n} in {t}" for t, n in sorted(used.items()))
        raise Conflict(
            f"Unit {code!r} is still referred to ({uses})",
            code="unit_in_use",
            extra={"references": used},
        )
    before = audit_snapshot(unit)
    session.delete(unit)
    try:
        session.flush()
    except IntegrityError as err:
        raise Conflict(f"Unit {code!r} is still referred to", code="unit_in_use") from err
    record(
        session,
        principal,
        "unit.delete",
        "unit",
        before["id"],
        before=before,
        unit_id=unit.parent_id,
    )
