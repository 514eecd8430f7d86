"""The rule engine: bus handlers enqueue, one worker evaluates in batches, a sweep runs timers.

Handlers only look the event up in the rule index (by entity type or event name) and put it
on a bounded asyncio queue, so publishing never waits for rules. One worker takes what is
queued (up to `batch_size`), evaluates it in a thread with one database transaction (rule
state and alerts together), then publishes the alert events. On SQLite a batch is first
evaluated read-only; only one that changes something is evaluated again under the write lock,
so the many batches that change nothing never queue behind the ingest's writes. The same
worker runs the sweep every `sweep_interval_s`, so no two writers ever race on a rule's state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from cityops.alerts import evaluate as ev
from cityops.alerts import prefilter, sweep
from cityops.alerts.compile import ENTITY_KINDS, CompiledRule, compile_rule, fence_of_unit
from cityops.alerts.models import AlertRule, AlertRuleState
from cityops.alerts.prefilter import KnownPairs
from cityops.context.events import EntityChanged
from cityops.context.jsonld import ContextResolver
from cityops.core.bus import Event, EventBus
from cityops.core.config import AlertsSettings
from cityops.core.db import Database, utcnow
from cityops.core.units.models import Unit

log = logging.getLogger("cityops.alerts.engine")
Item = ev.EntityItem | ev.EventItem


def _retrying(work: Callable[[], list[Event]], attempts: int = 5) -> list[Event]:
    """Run a transaction again when SQLite says another writer holds the database."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as err:
            if "locked" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return []


class RuleIndex:
    """The enabled rules, compiled, by entity type and by event name."""

    def __init__(self, rules: list[CompiledRule], types: dict[int, str]) -> None:
        self.rules = rules
        self.by_type: dict[str, list[CompiledRule]] = defaultdict(list)
        self.by_event: dict[str, list[CompiledRule]] = defaultdict(list)
        self.type_of = types  # rule id -> expanded entity type
        for rule in rules:
            if rule.kind in ENTITY_KINDS:
                self.by_type[types[rule.id]].append(rule)
            else:
                self.by_event[rule.params["event_name"]].append(rule)
        self.plans = prefilter.plans(self.by_type)


class AlertEngine:
    """Evaluates alert rules on entity changes and module events."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        settings: AlertsSettings,
        resolver: ContextResolver,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.bus, self.settings, self.resolver = db, bus, settings, resolver
        self.clock = clock
        self.queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=settings.queue_size)
        self.index = RuleIndex([], {})
        self.unit_paths: dict[int, str] = {}
        self.known = KnownPairs()  # (rule, source) pairs with a state row
        self.dropped = 0
        self._dirty = True
        self._lock = asyncio.Lock()
        self._inflight = 0

    # --- the index -------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Reload the rules before the next evaluation (call after a rule changed)."""
        self._dirty = True

    def load(self) -> RuleIndex:
        """Read and compile the enabled rules (a broken one is logged and skipped)."""
        compiled, types = [], {}
        with self.db.session() as session:
            self.unit_paths = {i: p for i, p in session.execute(select(Unit.id, Unit.path))}
            pairs = select(AlertRuleState.rule_id, AlertRuleState.source_id)
            self.known = KnownPairs((r, src) for r, src in session.execute(pairs))
            for rule in session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True))):
                try:
                    path = self.unit_paths.get(rule.unit_id) if rule.unit_id else None
                    c = compile_rule(rule, self.resolver, path)
                    if (
                        rule.kind == "geofence"
                        and c.fence is None
                        and c.params.get("fence_unit_id")
                    ):
                        c.fence = fence_of_unit(session, c.params["fence_unit_id"])
                except Exception:
                    log.exception("alert rule %s does not compile; skipped", rule.id)
                    continue
                compiled.append(c)
                if rule.entity_type:
                    types[rule.id] = rule.entity_type
        self.index = RuleIndex(compiled, types)
        self._dirty = False
        return self.index

    # --- intake from the bus ---------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Queue an event some rule may care about (never blocks, never touches the DB)."""
        if event.name.startswith("alerts."):
            return
        if isinstance(event, EntityChanged):
            if event.entity is None or (
                not self._dirty and event.entity_type not in self.index.by_type
            ):
                return
            attrs = event.entity.get("attrs", {})
            item: Item = ev.EntityItem(
                event.entity_id, event.entity_type, event.unit_id, attrs, event.attrs
            )
        elif self._dirty or event.name in self.index.by_event:
            item = ev.EventItem(event.name, event.to_dict()["data"])
        else:
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("alert engine queue full; %d changes dropped so far", self.dropped)
        self.queue.put_nowait(item)

    # --- evaluation ------------------------------------------------------------------------

    def _keys(self, items: list[Item]) -> set[tuple[int, str]]:
        keys: set[tuple[int, str]] = set()
        for item in items:
            if isinstance(item, ev.EntityItem):  # only pairs with a state row need loading
                keys |= {(rid, item.entity_id) for rid in self.known.rules_of(item.entity_id)}
            else:
                keys |= {(r.id, "*") for r in self.index.by_event.get(item.name, ())}
        return keys

    def process(self, items: list[Item], now: datetime | None = None) -> list[Event]:
        """Evaluate a batch in one transaction; return the alert events to publish."""
        if self._dirty:
            self.load()
        return _retrying(lambda: self._process(items, now or self.clock()))

    def _process(self, items: list[Item], now: datetime) -> list[Event]:
        if self.db.dialect == "sqlite" and not self._read_only(items, now):
            return []  # nothing to write: no wait for the write lock the ingest holds
        with self.db.session(immediate=True) as session:
            p = ev.Pass(session, now, self.unit_paths, self.known)
            p.preload(self._keys(items))
            for item in items:
                self._evaluate(p, item)
        return p.events

    def _read_only(self, items: list[Item], now: datetime) -> bool:
        """Evaluate without writing; say whether a pass that writes is needed."""
        with self.db.session() as session, session.no_autoflush:
            p = ev.Pass(session, now, self.unit_paths, self.known, read_only=True)
            p.preload(self._keys(items))
            try:
                for item in items:
                    self._evaluate(p, item)
                return p.changed()
            except ev.NeedsWrite:
                return True
            finally:
                session.rollback()  # a change is made again by the pass that writes

    def _evaluate(self, p: ev.Pass, item: Item) -> None:
        if isinstance(item, ev.EntityItem):
            plan = self.index.plans.get(item.entity_type)
            if plan is None:
                return
            for rule in plan.pick(item.attrs, self.known.rules_of(item.entity_id)):
                if p.in_scope(rule, item.unit_id):
                    ev.ENTITY_EVALUATORS[rule.kind](p, rule, item)
            return
        for rule in self.index.by_event.get(item.name, ()):
            if p.in_scope(rule, item.data.get("unit_id")) and ev.passes_filter(rule, item.data):
                ev.EVENT_EVALUATORS[rule.kind](p, rule, item)

    def sweep(self, now: datetime | None = None) -> list[Event]:
        """Fire elapsed durations and silent sources, escalate; return the events."""
        if self._dirty:
            self.load()
        return _retrying(lambda: self._sweep(now or self.clock()))

    def _sweep(self, now: datetime) -> list[Event]:
        with self.db.session() as session:
            p = ev.Pass(session, now, self.unit_paths, self.known)
            for rule in self.index.rules:
                if rule.kind == "threshold" and rule.params.get("for_seconds"):
                    sweep.due_thresholds(p, rule)
                elif rule.kind == "absence":
                    sweep.seed_absence(p, rule, self.index.type_of[rule.id])
                    sweep.silent_sources(p, rule)
            sweep.escalate_unacknowledged(p, self.settings.escalation_minutes)
        return p.events

    async def _publish(self, events: list[Event]) -> None:
        for event in events:
            await self.bus.publish(event)

    async def flush(self) -> None:
        """Evaluate everything published so far, and let the handlers of its alerts finish."""
        drain = getattr(self.bus, "drain", None)
        while True:
            if drain is not None:
                await drain()
            if self.queue.empty() and not self._inflight:
                return
            await self._batch()
            await asyncio.sleep(0.001)  # let a batch the worker took finish

    async def run_sweep(self, now: datetime | None = None) -> None:
        """Run the sweep now and publish what it raised."""
        async with self._lock:
            events = await run_in_threadpool(self.sweep, now)
        await self._publish(events)

    async def _batch(self, first: Item | None = None) -> None:
        self._inflight += 1
        try:
            async with self._lock:
                items = [] if first is None else [first]
                while not self.queue.empty() and len(items) < self.settings.batch_size:
                    items.append(self.queue.get_nowait())
                if items:
                    await self._publish(await run_in_threadpool(self.process, items))
        finally:
            self._inflight -= 1 + (first is not None)

    async def run(self) -> None:
        """Work until cancelled: evaluate queued changes as they come, sweep on schedule."""
        next_sweep = time.monotonic() + self.settings.sweep_interval_s
        while True:
            try:
                timeout = max(0.0, next_sweep - time.monotonic())
                item = await asyncio.wait_for(self.queue.get(), timeout)
                self._inflight += 1  # counted until its batch is published (see flush)
                await self._batch(item)
            except TimeoutError:
                pass
            except Exception:
                log.exception("alert engine batch failed")
            if time.monotonic() >= next_sweep:
                try:
                    await self.run_sweep()
                except Exception:
                    log.exception("alert engine sweep failed")
                next_sweep = time.monotonic() + self.settings.sweep_interval_s


def engine_of(app: Any) -> AlertEngine:
    """Return the app's alert engine."""
    return app.state.alert_engine


@asynccontextmanager
async def run_engine(app: FastAPI) -> AsyncIterator[None]:
    """Subscribe the engine to the bus and run its worker while the app serves."""
    engine = engine_of(app)
    if not engine.settings.engine_enabled:
        yield
        return
    engine.queue = asyncio.Queue(maxsize=engine.settings.queue_size)
    engine._lock = asyncio.Lock()
    try:
        await run_in_threadpool(engine.load)
    except SQLAlchemyError:  # the database is down: serve anyway (/readyz says so), load later
        log.warning("alert rules not loaded at start; they load with the next event", exc_info=True)
        engine.invalidate()
    unsubscribe = engine.bus.subscribe("*", engine.on_event)
    task = asyncio.create_task(engine.run(), name="alerts:engine")
    try:
        yield
    finally:
        unsubscribe()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
