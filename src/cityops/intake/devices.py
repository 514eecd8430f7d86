"""The device registry: Smart Data Models `Device` entities in the hub, kept up to date by intake.

A reading belongs to a device when it has a `refDevice` relationship, when it is the Device
entity itself, or when its sender's API key prefix is the `apiKeyPrefix` of exactly one
Device. A Device bound to a key prefix only takes liveness from that key. Intake sets
`dateLastValueReported` (at most once a minute), `deviceState` ("online") and `batteryLevel`
(when a reading carries one); a periodic sweep sets `deviceState` to "offline" when a device
has been silent for CITYOPS_MQTT__DEVICE_OFFLINE_MINUTES.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityops.context.entities import parse_datetime
from cityops.context.errors import NgsiLdError
from cityops.context.events import EntityChanged
from cityops.context.jsonld import ContextResolver
from cityops.context.models import ContextEntity
from cityops.context.store import EntityStore
from cityops.core.db import Database, utcnow
from cityops.core.policy import Principal, system_principal
from cityops.intake.payloads import sdm_context

if TYPE_CHECKING:
    from cityops.intake.ingest import Reading

log = logging.getLogger("cityops.intake.devices")
DEVICE_CONTEXT = sdm_context("Device")
TOUCH_EVERY_S = 60.0
KEY_MAP_TTL_S = 60.0
SWEEP_EVERY_S = 60.0
WATCHER = system_principal("device-watch")


@dataclass(frozen=True)
class DeviceTerms:
    """Expanded IRIs of the Device attributes intake maintains."""

    type: str
    last: str
    state: str
    battery: str
    key_prefix: str


def device_terms(resolver: ContextResolver) -> DeviceTerms:
    """Expand the Device terms with the built-in Smart Data Models Device context."""
    ctx = resolver.resolve(DEVICE_CONTEXT)
    return DeviceTerms(
        *(
            ctx.expand(t)
            for t in ("Device", "dateLastValueReported", "deviceState", "batteryLevel")
        ),
        key_prefix=ctx.expand("apiKeyPrefix"),
    )


def _value(attrs: dict[str, Any], iri: str) -> Any:
    return (attrs.get(iri) or {}).get("value")


def _ref_device(attrs: dict[str, Any]) -> str | None:
    for iri, attr in attrs.items():
        if iri.endswith("/refDevice") and attr.get("type") == "Relationship":
            obj = attr.get("object")
            return obj if isinstance(obj, str) else None
    return None


def _battery(attrs: dict[str, Any]) -> float | None:
    for iri, attr in attrs.items():
        value = attr.get("value")
        if iri.endswith("/batteryLevel") and isinstance(value, int | float):
            return float(value)
    return None


@dataclass
class _Seen:
    store: EntityStore
    key_prefix: str | None
    battery: float | None = None
    own_state: bool = False  # the device reported its deviceState itself


class DeviceTracker:
    """Marks the devices behind a batch of readings as seen (inside the batch's transaction)."""

    def __init__(self, resolver: ContextResolver) -> None:
        self.terms = device_terms(resolver)
        self._key_maps: dict[str, tuple[float, dict[str, str | None]]] = {}

    def _by_key(self, session: Session, tenant: str, prefix: str) -> str | None:
        """Return the one Device bound to an API key prefix (cached for a minute)."""
        expires, mapping = self._key_maps.get(tenant, (0.0, {}))
        if expires < time.monotonic():
            mapping = {}
            stmt = select(ContextEntity.entity_id, ContextEntity.attrs).where(
                ContextEntity.tenant == tenant, ContextEntity.type == self.terms.type
            )
            for entity_id, attrs in session.execute(stmt):
                bound = _value(attrs, self.terms.key_prefix)
                if isinstance(bound, str):
                    mapping[bound] = None if bound in mapping else entity_id  # None: ambiguous
            self._key_maps[tenant] = (time.monotonic() + KEY_MAP_TTL_S, mapping)
        return mapping.get(prefix)

    def device_of(self, session: Session, reading: Reading) -> str | None:
        """Return the id of the Device a reading comes from, if any."""
        if reading.type == self.terms.type:
            return reading.entity_id
        ref = _ref_device(reading.attrs)
        if ref is not None:
            return ref
        if reading.key_prefix:
            return self._by_key(session, reading.tenant, reading.key_prefix)
        return None

    def touch(
        self,
        session: Session,
        stores: dict[tuple[str, Principal], EntityStore],
        readings: Sequence[Reading],
    ) -> list[EntityChanged]:
        """Update lastSeen, state and battery of the devices behind the readings."""
        seen: dict[tuple[str, str], _Seen] = {}
        for r in readings:
            device = self.device_of(session, r)
            if device is None:
                continue
            entry = seen.setdefault(
                (r.tenant, device), _Seen(stores[(r.tenant, r.principal)], r.key_prefix)
            )
            if r.type == self.terms.type:
                entry.own_state = entry.own_state or self.terms.state in r.attrs
                continue
            battery = _battery(r.attrs)
            entry.battery = battery if battery is not None else entry.battery
        events: list[EntityChanged] = []
        for tenant in {t for t, _ in seen}:
            ids = [d for t, d in seen if t == tenant]
            rows = session.scalars(
                select(ContextEntity).where(
                    ContextEntity.tenant == tenant, ContextEntity.entity_id.in_(ids)
                )
            )
            for row in rows:
                events.extend(self._mark(row, seen[(tenant, row.entity_id)]))
        return events

    def _mark(self, row: ContextEntity, seen: _Seen) -> list[EntityChanged]:
        t, store = self.terms, seen.store
        if row.type != t.type:
            return []
        bound = _value(row.attrs, t.key_prefix)
        if bound and seen.key_prefix and bound != seen.key_prefix:
            return []  # another key's device: no liveness from this sender
        changes: dict[str, Any] = {}
        last = _value(row.attrs, t.last)
        age = _age_s(store.now, last)
        if _value(row.attrs, t.state) != "online" and not seen.own_state:
            changes[t.state] = {"type": "Property", "value": "online"}
        if changes or age is None or age >= TOUCH_EVERY_S:
            changes[t.last] = {"type": "Property", "value": store.now_iso}
        if seen.battery is not None and _value(row.attrs, t.battery) != seen.battery:
            changes[t.battery] = {"type": "Property", "value": seen.battery}
        if not changes:
            return []
        try:
            with store.session.begin_nested():
                return store.write_attrs(row, changes, {}, mode="append").events
        except NgsiLdError as err:
            log.debug("device %s not updated: %s", row.entity_id, err.detail)
            return []


def _age_s(now: datetime, stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return (now - parse_datetime(stamp, "dateLastValueReported")).total_seconds()
    except NgsiLdError:
        return None


def sweep_offline(
    db: Database, resolver: ContextResolver, offline_after: timedelta, now: datetime | None = None
) -> list[EntityChanged]:
    """Mark devices silent for longer than `offline_after` as offline; return the events."""
    terms = device_terms(resolver)
    now = now or utcnow()
    events: list[EntityChanged] = []
    with db.session() as session:
        stores: dict[str, EntityStore] = {}
        rows = session.scalars(select(ContextEntity).where(ContextEntity.type == terms.type))
        for row in rows.all():
            age = _age_s(now, _value(row.attrs, terms.last))
            if age is None or age < offline_after.total_seconds():
                continue
            if _value(row.attrs, terms.state) == "offline":
                continue
            store = stores.get(row.tenant) or stores.setdefault(
                row.tenant, EntityStore(session, row.tenant, WATCHER)
            )
            offline = {terms.state: {"type": "Property", "value": "offline"}}
            events.extend(store.write_attrs(row, offline, {}, mode="append").events)
            log.info("device %s is offline (silent for %.0f min)", row.entity_id, age / 60)
    return events


@asynccontextmanager
async def device_watch(app: FastAPI) -> AsyncIterator[None]:
    """Run the offline sweep every minute while the app serves."""

    async def loop() -> None:
        """Sweep, publish, sleep, forever."""
        minutes = app.state.settings.mqtt.device_offline_minutes
        ingestor = app.state.intake
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                events = await run_in_threadpool(
                    sweep_offline, app.state.db, ingestor.resolver, timedelta(minutes=minutes)
                )
                await ingestor.publish(events)
            except Exception:
                log.exception("device offline sweep failed")

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
