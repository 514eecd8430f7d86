"""Turn units into their API shapes: the public record and the nested tree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.policy import Principal
from cityops.core.units.models import Unit
from cityops.core.units.schemas import UnitNode, UnitPublic
from cityops.core.units.service import get_by_code, is_current, scoped_query


def parent_codes(session: Session, units: Iterable[Unit]) -> dict[int, str]:
    """Map parent ids of these units to their codes (one query)."""
    ids = {u.parent_id for u in units if u.parent_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(ids)))
    return {unit_id: code for unit_id, code in rows}


def to_public(session: Session, units: Sequence[Unit]) -> list[UnitPublic]:
    """Turn units into their API form."""
    codes = parent_codes(session, units)
    return [
        UnitPublic(
            id=u.id,
            code=u.code,
            name=u.name,
            name_en=u.name_en,
            level=u.level,
            division_type=u.division_type,
            valid_from=u.valid_from,
            valid_until=u.valid_until,
            source=u.source,
            parent_code=codes.get(u.parent_id) if u.parent_id else None,
            path=u.path,
            depth=u.depth,
            has_geometry=bool(u.geometry),
            bbox=None if u.min_lon is None else [u.min_lon, u.min_lat, u.max_lon, u.max_lat],
            is_current=is_current(u),
            created_at=u.created_at,
            updated_at=u.updated_at,
        )
        for u in units
    ]


def tree(
    session: Session,
    principal: Principal,
    *,
    root_code: str | None = None,
    include_former: bool = False,
    at: date | None = None,
    max_depth: int | None = None,
) -> tuple[list[UnitNode], int]:
    """Build the nested tree of the caller's scope (or below `root_code`), and count it."""
    stmt = scoped_query(principal, include_former, at)
    # Depth 0 of `max_depth` is the starting unit: `root_code`, else the caller's own unit.
    top = principal.unit_path.count("/") - 2 if principal.unit_path else 0
    if root_code:
        root = get_by_code(session, principal, root_code)
        stmt = stmt.where(Unit.path.startswith(root.path, autoescape=True))
        top = root.depth
    if max_depth is not None:
        stmt = stmt.where(Unit.depth <= top + max_depth)
    nodes: dict[int, UnitNode] = {}
    tops: list[UnitNode] = []
    for u in session.scalars(stmt.order_by(Unit.depth, Unit.code)):
        node = UnitNode(
            id=u.id,
            code=u.code,
            name=u.name,
            level=u.level,
            division_type=u.division_type,
            is_current=is_current(u, at),
        )
        nodes[u.id] = node
        parent = nodes.get(u.parent_id) if u.parent_id is not None else None
        (parent.children if parent else tops).append(node)
    return tops, len(nodes)
