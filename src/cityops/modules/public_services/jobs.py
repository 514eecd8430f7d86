"""The periodic near-due / overdue check, and the poller of a one-stop system's feed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cityops.core.auth.models import Agency
from cityops.core.bus import EventBus
from cityops.core.config import PublicServicesSettings, Settings
from cityops.core.db import Database, utcnow
from cityops.core.policy import system_principal
from cityops.core.scheduler import IntakeFailed
from cityops.core.units.models import Unit
from cityops.modules.public_services.clock import add_working_days, local_tz
from cityops.modules.public_services.events import DossierNearDue, DossierOverdue, emit, take
from cityops.modules.public_services.models import Dossier, Procedure
from cityops.modules.public_services.schemas import IntakeResult
from cityops.modules.public_services.service import upsert

BATCH = 2000


def check_due(session: Session, settings: PublicServicesSettings, now: datetime) -> int:
    """Queue overdue and near-due events once per dossier in progress (and due time)."""
    limit = add_working_days(now, settings.near_due_working_days, local_tz(settings))
    query = (
        select(Dossier, Procedure.code, Agency.code, Unit.code)
        .join(Procedure, Procedure.id == Dossier.procedure_id)
        .join(Agency, Agency.id == Dossier.agency_id)
        .join(Unit, Unit.id == Dossier.unit_id)
        .where(Dossier.finished_at.is_(None), Dossier.due_at < limit)
        .order_by(Dossier.due_at)
    )
    sent = 0
    overdue_ids, near_ids = [], []
    for d, pcode, acode, ucode in session.execute(query):
        late = d.due_at < now
        if (late and d.overdue_sent) or (not late and d.near_due_sent):
            continue
        kind = DossierOverdue if late else DossierNearDue
        emit(
            session,
            kind(
                source=d.source,
                external_id=d.external_id,
                procedure_code=pcode,
                agency_code=acode,
                unit_id=d.unit_id,
                unit_code=ucode,
                due_at=d.due_at,
            ),
        )
        (overdue_ids if late else near_ids).append(d.id)
        sent += 1
    if overdue_ids:
        session.execute(
            update(Dossier)
            .where(Dossier.id.in_(overdue_ids))
            .values(overdue_sent=True, near_due_sent=True)
        )
    if near_ids:
        session.execute(update(Dossier).where(Dossier.id.in_(near_ids)).values(near_due_sent=True))
    return sent


def run_check(db: Database, settings: PublicServicesSettings, now: datetime | None = None) -> list:
    """Run the due check now in one transaction; return every event it queued."""
    with db.session() as session:
        check_due(session, settings, now or utcnow())
        return take(session)


def due_job(db: Database, bus: EventBus, settings: Settings) -> Callable[[], Awaitable[None]]:
    """Make the job: check due times in a worker thread, then publish the events."""

    async def job() -> None:
        for event in await run_in_threadpool(run_check, db, settings.public_services):
            await bus.publish(event)

    return job


async def fetch(settings: PublicServicesSettings) -> list:
    """Read the one-stop feed: a JSON list of dossiers, or {"items": [...]}."""
    headers = {"Accept": "application/json"}
    if settings.source_token:
        headers["Authorization"] = f"Bearer {settings.source_token}"
    try:
        async with httpx.AsyncClient(timeout=settings.source_timeout_s) as client:
            response = await client.get(str(settings.source_url), headers=headers)
            response.raise_for_status()
            body = response.json()
    except (httpx.HTTPError, ValueError) as err:
        raise IntakeFailed(f"dossier feed {settings.source_url}: {err}") from err
    items = body.get("items") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise IntakeFailed("dossier feed: expected a list or {'items': [...]}")
    return items


def store_feed(db: Database, settings: PublicServicesSettings, items: list) -> IntakeResult:
    """Upsert polled items in batches, as the 'poller' system principal."""
    principal = system_principal("public_services.poller")
    tz = local_tz(settings)
    total = IntakeResult(created=0, updated=0, unchanged=0, errors=[])
    for i in range(0, len(items), BATCH):
        chunk = [(n, item) for n, item in enumerate(items[i : i + BATCH], start=i + 1)]
        with db.session() as session:
            part = upsert(session, principal, chunk, tz, utcnow())
        total.created += part.created
        total.updated += part.updated
        total.unchanged += part.unchanged
        total.errors += part.errors
    return total


def poll_job(db: Database, settings: Settings) -> Callable[[], Awaitable[None]]:
    """Make the poller job (registered only when a source URL is configured)."""

    async def job() -> None:
        items = await fetch(settings.public_services)
        await run_in_threadpool(store_feed, db, settings.public_services, items)

    return job
