"""The NGSI-LD projection: verified reports as Smart Data Models `IssueReporting` entities.

The report table is the source; the hub holds a public-safe copy written through the
EntityStore on every status change, so NGSI-LD clients (maps, subscriptions, open data) see
field reports like any other entity. Reporter identity is never projected; rejected reports
are removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.context.entities import iso, parse_entity
from cityops.context.jsonld import ActiveContext, ContextResolver
from cityops.context.store import EntityStore
from cityops.core.auth.models import Agency
from cityops.core.policy import system_principal
from cityops.core.units.models import Unit
from cityops.modules.field_reports.choices import FINISHED, REJECTED, STATUSES, Status
from cityops.modules.field_reports.events import emit
from cityops.modules.field_reports.models import Category, Report

ISSUE_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.IssueTracking/"
    "master/context.jsonld"
)
ENTITY_TYPE = "IssueReporting"
TENANT = ""
PROJECTOR = system_principal("field_reports.projection")
DEFERRED = "field_reports_projection_deferred"


@lru_cache
def issue_context() -> ActiveContext:
    """The IssueTracking @context (built in, works offline)."""
    return ContextResolver().resolve(ISSUE_CONTEXT)


def entity_id(report: Report) -> str:
    """Return the NGSI-LD id of a report's entity."""
    return f"urn:ngsi-ld:{ENTITY_TYPE}:{report.tracking_code}"


def _payload(session: Session, report: Report, category: Category) -> dict[str, Any]:
    """Build the public-safe entity (concise form): no reporter, no internal notes."""
    agency = session.get(Agency, report.agency_id) if report.agency_id else None
    unit = session.get(Unit, report.unit_id)
    body: dict[str, Any] = {
        "id": entity_id(report),
        "type": ENTITY_TYPE,
        "service_request_id": report.tracking_code,
        "service_code": category.code,
        "service_name": category.name,
        "category": [category.group or category.name],
        "description": report.description,
        "resolutionStatus": report.status,
        "status_notes": STATUSES[report.status].label_vi,
        "open311:type": "realtime",
        "requested_datetime": iso(report.created_at),
        "updated_datetime": iso(report.updated_at),
        "dataProvider": "CityOps",
        "source": "field_reports",
    }
    optional = {
        "address_string": report.address,
        "areaServed": unit.name if unit else None,
        "agency_responsible": agency.name if agency else None,
        "expected_datetime": iso(report.due_at) if report.due_at else None,
        "service_notice": report.resolution if report.status in FINISHED else None,
    }
    body |= {k: v for k, v in optional.items() if v}
    if report.lat is not None and report.lon is not None:
        body["location"] = {"type": "Point", "coordinates": [report.lon, report.lat]}
    return body


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Project each touched report once, at the end (bulk loads such as the demo seed)."""
    session.info[DEFERRED] = touched = set()
    try:
        yield
    finally:
        session.info.pop(DEFERRED, None)
    for report_id in sorted(touched):
        report = session.get(Report, report_id)
        if report is not None:
            project(session, report)


def project(session: Session, report: Report) -> None:
    """Write (or remove) the report's entity to match the report; queue the hub's events."""
    waiting = session.info.get(DEFERRED)
    if waiting is not None:
        waiting.add(report.id)
        return
    store = EntityStore(session, TENANT, PROJECTOR)
    row = store.find(entity_id(report))
    if report.status in REJECTED or report.status == Status.received:
        if row is not None:
            emit(session, store.delete(row.entity_id))
        return
    category = session.get(Category, report.category_id)
    assert category is not None
    parsed = parse_entity(_payload(session, report, category), issue_context())
    event = store.create(parsed) if row is None else store.replace(parsed, row)
    emit(session, event)


def project_many(session: Session, ids: list[int]) -> None:
    """Project many reports after a bulk load, reading them in chunks."""
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for report in session.scalars(select(Report).where(Report.id.in_(chunk))):
            project(session, report)
        session.flush()
