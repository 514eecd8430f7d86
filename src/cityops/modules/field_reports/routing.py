"""Routing: which agency gets a verified report, by category and administrative unit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.auth.models import Agency
from cityops.core.units.service import unit_path
from cityops.modules.field_reports.models import Category, CategoryAgency, Report


def _chain_ids(session: Session, unit_id: int) -> list[int]:
    """Return the ids of a unit's ancestors and itself, root first."""
    path = unit_path(session, unit_id) or ""
    return [int(p) for p in path.strip("/").split("/") if p]


def candidates(session: Session, category: Category) -> list[Agency]:
    """Return the active agencies handling a category (its handlers and its default agency)."""
    ids = set(
        session.scalars(
            select(CategoryAgency.agency_id).where(CategoryAgency.category_id == category.id)
        )
    )
    if category.default_agency_id is not None:
        ids.add(category.default_agency_id)
    if not ids:
        return []
    rows = session.scalars(select(Agency).where(Agency.id.in_(ids), Agency.is_active.is_(True)))
    return list(rows)


def route(session: Session, report: Report, category: Category) -> Agency | None:
    """Pick the agency for a report: the handler in the nearest unit above (or at) its unit.

    Among the category's agencies, the one whose unit is the deepest ancestor of the report's
    unit wins (a ward's office before the province's department); on a tie the category's
    default agency, then the oldest agency. With no agency on the unit's chain the default
    agency gets it; with no default agency the report waits in the operators' queue.
    """
    agencies = candidates(session, category)
    depth = {unit_id: i for i, unit_id in enumerate(_chain_ids(session, report.unit_id))}
    on_chain = [a for a in agencies if a.unit_id in depth]
    if on_chain:
        return max(
            on_chain,
            key=lambda a: (depth[a.unit_id], a.id == category.default_agency_id, -a.id),
        )
    if category.default_agency_id is None:
        return None
    return next((a for a in agencies if a.id == category.default_agency_id), None)
