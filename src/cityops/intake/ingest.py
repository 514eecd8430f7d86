"""Apply readings to the context store in one transaction and publish their events.

Every intake path (MQTT, POST /api/intake/readings, CSV import) ends here, so they share one
meaning:

- upsert: a missing entity is created, an existing one has the attributes appended;
- a bad reading is reported with its index, the good ones land (a batch is written on one
  savepoint; when a reading in it fails, the batch is written again one savepoint per reading);
- a value older than the stored one (by observedAt) is filed in the history only, so late or
  replayed messages never overwrite fresher state; a value identical to the stored one (same
  value and observedAt, e.g. a QoS 1 redelivery) is not written again;
- events go out after the commit, at most one EntityChanged per entity per batch.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from cityops.context import bulk, history
from cityops.context.entities import ParsedEntity, parse_attributes, parse_datetime
from cityops.context.errors import NgsiLdError, bad_request, not_found
from cityops.context.events import EntityChanged
from cityops.context.jsonld import ContextResolver
from cityops.context.models import ContextEntity
from cityops.context.store import EntityStore
from cityops.core.bus import EventBus
from cityops.core.db import Database
from cityops.core.policy import Principal
from cityops.intake.devices import DeviceTracker
from cityops.intake.payloads import as_relationships, resolve_context

log = logging.getLogger("cityops.intake")
_SYSTEM_MEMBERS = ("createdAt", "modifiedAt")


@dataclass
class Reading:
    """New attribute values of one entity, with who sent them and where they came from."""

    index: Any  # position in the source (message and item, row number...), for error reports
    tenant: str
    principal: Principal
    entity_id: str
    type: str | None  # expanded type; None: the entity must already exist
    attrs: dict[str, Any] = field(default_factory=dict)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] | None = None  # attributes to parse with the stored type's context
    context: Any = None  # the @context of `raw` (None: the default for the type)
    key_prefix: str | None = None  # the sender's API key prefix (device binding)

    @classmethod
    def of(
        cls,
        index: Any,
        tenant: str,
        principal: Principal,
        parsed: ParsedEntity,
        key_prefix: str | None = None,
    ) -> Reading:
        """Make a reading from a parsed entity."""
        return cls(
            index,
            tenant,
            principal,
            parsed.entity_id,
            parsed.type,
            parsed.attrs,
            parsed.datasets,
            key_prefix=key_prefix,
        )


@dataclass(frozen=True)
class ReadingError:
    """Why one reading did not land."""

    index: Any
    entity_id: str | None
    error: NgsiLdError


@dataclass
class IngestResult:
    """What a batch did: indexes that landed, entities created, errors, events."""

    landed: list[Any] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    errors: list[ReadingError] = field(default_factory=list)
    events: list[EntityChanged] = field(default_factory=list)


def merge_events(events: Sequence[EntityChanged]) -> list[EntityChanged]:
    """Keep one event per entity: the latest snapshot, the union of changed attributes."""
    merged: dict[tuple[str, str], EntityChanged] = {}
    for event in events:
        key = (event.tenant, event.entity_id)
        prev = merged.get(key)
        if prev is None:
            merged[key] = event
            continue
        op = "create" if prev.op == "create" else event.op
        attrs = sorted(set(prev.attrs) | set(event.attrs))
        merged[key] = dataclasses.replace(event, op=op, attrs=attrs)
    return list(merged.values())


def _content(attr: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attr.items() if k not in _SYSTEM_MEMBERS}


def split_by_time(
    current: dict[str, Any], new: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split new attributes into (fresh, stale); drop those identical to the stored ones."""
    fresh: dict[str, Any] = {}
    stale: dict[str, Any] = {}
    for iri, attr in new.items():
        old = current.get(iri)
        if old is not None and _content(old) == _content(attr):
            continue
        new_t, old_t = attr.get("observedAt"), (old or {}).get("observedAt")
        if new_t and old_t and parse_datetime(new_t, "observedAt") < parse_datetime(old_t, ""):
            stale[iri] = attr
        else:
            fresh[iri] = attr
    return fresh, stale


def file_history(store: EntityStore, pk: int, stale: dict[str, Any]) -> None:
    """File late values in the history only (the current state stays)."""
    for attr in stale.values():
        attr["createdAt"] = attr["modifiedAt"] = store.now_iso
    history.record(store.session, pk, list(stale.items()), store.now, store.now_iso)


class Ingestor:
    """Writes batches of readings (one transaction each) and publishes what changed."""

    def __init__(
        self,
        db: Database,
        bus: EventBus | None = None,
        resolver: ContextResolver | None = None,
        *,
        track_devices: bool = True,
    ) -> None:
        self.db = db
        self.bus = bus
        self.resolver = resolver or ContextResolver()
        self.devices = DeviceTracker(self.resolver) if track_devices else None

    def apply(self, readings: Sequence[Reading]) -> IngestResult:
        """Write readings in one transaction (blocking; call it in a worker thread)."""
        result = IngestResult()
        if not readings:
            return result
        events: list[EntityChanged] = []
        landed: list[Reading] = []
        with self.db.session(immediate=True) as session:
            groups: dict[tuple[str, Principal], list[Reading]] = {}
            for reading in readings:
                groups.setdefault((reading.tenant, reading.principal), []).append(reading)
            stores = {key: EntityStore(session, *key) for key in groups}
            for key, group in groups.items():
                self._group(stores[key], group, result, events, landed)
            if self.devices is not None:
                events.extend(self.devices.touch(session, stores, landed))
        result.events = merge_events(events)
        return result

    def _group(
        self,
        store: EntityStore,
        group: list[Reading],
        result: IngestResult,
        events: list[EntityChanged],
        landed: list[Reading],
    ) -> None:
        """Write a group on one savepoint; if any reading fails, redo them one by one."""
        try:
            with store.session.begin_nested():
                outcomes = self._bulk(store, group)
                if outcomes is None:
                    rows = self._prefetch(store, group)
                    outcomes = [self._upsert(store, r, rows) for r in group]
        except (NgsiLdError, SQLAlchemyError):
            history.forget_ids()  # attribute names added on the rolled-back savepoint
            rows = self._prefetch(store, group)
            for reading in group:
                found = self._one(store, reading, result, rows)
                if found is not None:
                    events.extend(found)
                    landed.append(reading)
            return
        for reading, (created, found) in zip(group, outcomes, strict=True):
            result.landed.append(reading.index)
            if created:
                result.created.append(reading.entity_id)
            events.extend(found)
            landed.append(reading)

    def _bulk(
        self, store: EntityStore, group: list[Reading]
    ) -> list[tuple[bool, list[EntityChanged]]] | None:
        """Write a group through the bulk writer (one SELECT, executemany UPDATE, one history
        INSERT); None when it does not suit (an entity twice, datasetId instances). Raises on
        the first bad reading, so the caller redoes the group one reading at a time."""
        ids = [r.entity_id for r in group]
        if len(set(ids)) != len(ids):
            return None
        existing = bulk.existing_rows(store, ids)
        outcomes: dict[str, tuple[bool, list[EntityChanged]]] = {}
        fresh_parts: list[ParsedEntity] = []
        for r in group:
            old = existing.get(r.entity_id)
            if old is None:
                outcomes[r.entity_id] = self._upsert(store, r, {r.entity_id: None})
                continue
            if r.raw is not None:
                ctx = resolve_context(self.resolver, r.context, old["type"])
                r.attrs, r.datasets = parse_attributes(as_relationships(r.raw), ctx)
                r.raw = None
            if r.datasets or old["datasets"]:
                return None
            self._check(store, r, old["type"], old["unit_id"])
            fresh, stale = split_by_time(old["attrs"], r.attrs)
            if stale:
                file_history(store, old["pk"], stale)
            outcomes[r.entity_id] = (False, [])
            if fresh:
                fresh_parts.append(ParsedEntity(r.entity_id, old["type"], fresh))
        written = bulk.bulk_write(
            store, fresh_parts, mode="update", create_missing=False, existing=existing
        )
        if written.errors:
            raise written.errors[0][1]
        for event in written.events:
            outcomes[event.entity_id] = (False, [event])
        return [outcomes[entity_id] for entity_id in ids]

    @staticmethod
    def _check(store: EntityStore, r: Reading, kind: str, unit_id: int | None) -> None:
        """Refuse a reading of an entity outside the sender's scope or of another type."""
        if not store.visible_path(unit_id):
            raise NgsiLdError("Forbidden", f"entity {r.entity_id} is outside your scope")
        if r.type is not None and r.type != kind:
            raise bad_request(f"entity {r.entity_id} has type {kind}, not {r.type}")
        store.check_write(unit_id, r.entity_id)

    @staticmethod
    def _prefetch(store: EntityStore, group: list[Reading]) -> dict[str, ContextEntity | None]:
        """Load the group's existing entities with one query per 500 ids."""
        ids = list(dict.fromkeys(r.entity_id for r in group))
        rows: dict[str, ContextEntity | None] = dict.fromkeys(ids)
        for i in range(0, len(ids), 500):
            stmt = select(ContextEntity).where(
                ContextEntity.tenant == store.tenant, ContextEntity.entity_id.in_(ids[i : i + 500])
            )
            rows |= {row.entity_id: row for row in store.session.scalars(stmt)}
        return rows

    def _one(
        self,
        store: EntityStore,
        reading: Reading,
        result: IngestResult,
        rows: dict[str, ContextEntity | None],
    ) -> list[EntityChanged] | None:
        try:
            with store.session.begin_nested():
                created, events = self._upsert(store, reading, rows)
        except NgsiLdError as err:
            result.errors.append(ReadingError(reading.index, reading.entity_id, err))
            rows.pop(reading.entity_id, None)  # look it up again: the savepoint rolled back
            return None
        except SQLAlchemyError:
            log.exception("intake: storing %s failed", reading.entity_id)
            history.forget_ids()
            err = NgsiLdError("InternalError", "the reading could not be stored")
            result.errors.append(ReadingError(reading.index, reading.entity_id, err))
            rows.pop(reading.entity_id, None)
            return None
        result.landed.append(reading.index)
        if created:
            result.created.append(reading.entity_id)
        return events

    def _upsert(
        self, store: EntityStore, r: Reading, rows: dict[str, ContextEntity | None]
    ) -> tuple[bool, list[EntityChanged]]:
        """Create the entity or append its attributes; return (created, events)."""
        row = rows[r.entity_id] if r.entity_id in rows else store.find(r.entity_id)
        if r.raw is not None:
            ctx = resolve_context(self.resolver, r.context, row.type if row else r.type)
            r.attrs, r.datasets = parse_attributes(as_relationships(r.raw), ctx)
            r.raw = None
        if row is None:
            if r.type is None:
                raise not_found(f"entity {r.entity_id} not found")
            event = store.create(ParsedEntity(r.entity_id, r.type, r.attrs, r.datasets))
            rows.pop(r.entity_id, None)  # the next reading of it finds the new row
            return True, [event]
        self._check(store, r, row.type, row.unit_id)
        fresh, stale = split_by_time(row.attrs, r.attrs)
        if stale:
            file_history(store, row.pk, stale)
        if not fresh and not r.datasets:
            return False, []
        return False, store.write_attrs(row, fresh, r.datasets, mode="append").events

    async def publish(self, events: Sequence[EntityChanged]) -> None:
        """Publish events on the bus (none without a bus, e.g. the CSV import)."""
        if self.bus is not None:
            await self.bus.publish_many(events)

    async def ingest(self, readings: Sequence[Reading]) -> IngestResult:
        """Write readings in a worker thread, then publish their events."""
        result = await run_in_threadpool(self.apply, readings)
        await self.publish(result.events)
        return result
