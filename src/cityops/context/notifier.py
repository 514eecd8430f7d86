"""Deliver NGSI-LD notifications off the request path.

The bus handler only tests a change cheaply (trigger, entities, watched attributes) and puts
it in a bounded outbox, one queue per subscription; a dispatcher task starts one delivery at
a time per subscription: q and geoQ are tested and the entities rendered in a worker thread,
the changes waiting are coalesced (latest state per entity), and the notification is POSTed
with retries and exponential back-off, a few at a time. Throttled subscriptions wait their
turn while changes pile up and coalesce; periodic (timeInterval) ones query the store. The
delivery record is kept in memory and written to the database once a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import Counter
from sqlalchemy import select

from cityops.context.events import EntityChanged
from cityops.context.jsonld import ContextError, ContextResolver
from cityops.context.subscriptions_match import (
    LiveSubscription,
    changed_data,
    compile_live,
    current_data,
    event_triggers,
    message,
    with_links,
)
from cityops.context.subscriptions_models import ContextSubscription
from cityops.context.subscriptions_record import Tally, delivery_record, write_tallies
from cityops.core import netguard
from cityops.core.bus import Event
from cityops.core.db import utcnow
from cityops.core.units.service import unit_path

log = logging.getLogger("cityops.ngsi_ld.notifier")
Key = tuple[str, str]  # (tenant, subscription id)
BATCH = 500  # changes folded into one notification, at most
FLUSH_S = 1.0  # how often the delivery record is written


class Outbox:
    """Changes waiting per subscription, bounded in total; when full the oldest one goes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting: dict[Key, deque[EntityChanged]] = {}
        self.size = 0

    def put(self, key: Key, event: EntityChanged) -> Key | None:
        """Queue a change; return the subscription whose oldest change was dropped, if any."""
        dropped = None
        if self.size >= self.limit:
            # the subscription's own oldest change, else one of the longest queue's
            dropped = key if key in self.waiting else max(self.waiting, key=self._length)
            self.take(dropped, 1)
        self.waiting.setdefault(key, deque()).append(event)
        self.size += 1
        return dropped

    def _length(self, key: Key) -> int:
        return len(self.waiting[key])

    def take(self, key: Key, most: int) -> list[EntityChanged]:
        """Remove and return up to `most` of a subscription's oldest changes."""
        queue = self.waiting.get(key)
        if not queue:
            return []
        out = [queue.popleft() for _ in range(min(most, len(queue)))]
        if not queue:
            del self.waiting[key]
        self.size -= len(out)
        return out


class Notifier:
    """Matches entity changes to subscriptions and delivers the notifications of one app."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.cfg = app.state.settings.ngsi_ld
        self.subs: dict[Key, LiveSubscription] = {}
        self.on_change_subs: dict[str, list[LiveSubscription]] = {}
        self.periodic: list[LiveSubscription] = []
        self.outbox = Outbox(self.cfg.notification_queue_size)
        self.tallies: dict[Key, Tally] = {}
        self.errors: dict[Key, int] = {}
        self.busy: set[Key] = set()
        self.next_at: dict[Key, float] = {}  # monotonic: throttled until / periodic due
        self.unit_paths: dict[int, str | None] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.running = False
        self.wake = asyncio.Event()
        self.gate = asyncio.Semaphore(self.cfg.notification_concurrency)
        self.client: httpx.AsyncClient | None = None
        self._touched: set[Key] | None = None
        self.counter = Counter(
            "cityops_ngsi_notifications_total",
            "NGSI-LD notifications by result (sent, failed after retries, dropped from the queue)",
            ["result"],
            registry=app.state.metrics.registry,
        )
        for result in ("sent", "failed", "dropped"):
            self.counter.labels(result)

    # --- the subscriptions known to this process ---------------------------------------------

    def resolver(self) -> ContextResolver:
        """Return the app's @context resolver (one per app, shared with the API)."""
        state = self.app.state
        if getattr(state, "context_resolver", None) is None:
            state.context_resolver = ContextResolver(
                self.cfg.allow_remote_contexts, self.cfg.context_timeout_s
            )
        return state.context_resolver  # type: ignore[no-any-return]

    def compile(self, row: ContextSubscription) -> LiveSubscription:
        """Make a stored subscription ready for matching (blocking: call from a thread)."""
        return compile_live(row, self.resolver().resolve)

    def put(self, live: LiveSubscription) -> None:
        """Start (or restart) matching a subscription created or changed here."""
        old = self.subs.get(live.key)
        if old is not None and old.time_interval != live.time_interval:
            self.next_at.pop(live.key, None)  # periodic <-> on change: start afresh
        self.subs[live.key] = live
        self.errors.setdefault(live.key, live.errors)
        self._touch(live.key)

    def remove(self, key: Key) -> None:
        """Stop matching a deleted subscription and forget what waits for it."""
        self.subs.pop(key, None)
        self.outbox.take(key, self.outbox.limit)
        self.next_at.pop(key, None)
        self._touch(key)

    def _touch(self, key: Key) -> None:
        if self._touched is not None:
            self._touched.add(key)
        self._reindex()

    def _reindex(self) -> None:
        by_tenant: dict[str, list[LiveSubscription]] = {}
        for sub in self.subs.values():
            if not sub.time_interval:
                by_tenant.setdefault(sub.tenant, []).append(sub)
        self.on_change_subs = by_tenant
        self.periodic = [s for s in self.subs.values() if s.time_interval]
        if self.running:
            self.wake.set()

    def record(self, row: ContextSubscription) -> dict[str, Any]:
        """Return the delivery record of a subscription, including what is not yet written."""
        return delivery_record(row, self.tallies.get((row.tenant, row.sub_id)))

    async def reload(self) -> None:
        """Reload every subscription from the database (changes made by other processes)."""
        self._touched = set()
        try:
            loaded = await asyncio.to_thread(self._load_all)
        finally:
            touched, self._touched = self._touched, None
        keep = {k: self.subs[k] for k in touched if k in self.subs}
        self.subs = {k: v for k, v in loaded.items() if k not in touched} | keep
        for key in list(self.outbox.waiting):
            if key not in self.subs:
                self.outbox.take(key, self.outbox.limit)
        for live in self.subs.values():
            self.errors.setdefault(live.key, live.errors)
        self.unit_paths.clear()
        self._reindex()

    def _load_all(self) -> dict[Key, LiveSubscription]:
        out: dict[Key, LiveSubscription] = {}
        with self.app.state.db.session() as session:
            for row in session.scalars(select(ContextSubscription)):
                known = self.subs.get((row.tenant, row.sub_id))
                if known is not None and known.modified_at == row.modified_at:
                    out[known.key] = known
                    continue
                try:
                    live = self.compile(row)
                except (ContextError, ValueError) as err:
                    log.warning("subscription %s cannot be loaded: %s", row.sub_id, err)
                    continue
                out[live.key] = live
        return out

    # --- the bus handler ---------------------------------------------------------------------

    def on_change(self, event: Event) -> None:
        """Queue an entity change for the subscriptions it may concern (never blocks)."""
        if not self.running or not isinstance(event, EntityChanged):
            return
        subs = self.on_change_subs.get(event.tenant)
        if not subs:
            return
        now, fired = utcnow(), event_triggers(event)
        for sub in subs:
            if sub.active(now) and sub.wants(event, fired):
                dropped = self.outbox.put(sub.key, event)
                if dropped is not None:
                    self._tally(dropped).dropped += 1
                    self.counter.labels("dropped").inc()
                self.wake.set()

    # --- the dispatcher ----------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            self.wake.clear()
            delay = self._start_due()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)

    def _start_due(self) -> float | None:
        """Start every delivery that may go now; return the seconds until the next one."""
        clock, now = time.monotonic(), utcnow()
        soonest: float | None = None
        for key in list(self.outbox.waiting):
            sub = self.subs.get(key)
            if sub is None or not sub.active(now):
                self.outbox.take(key, self.outbox.limit)
            elif key not in self.busy:
                wait = self.next_at.get(key, 0.0) - clock
                if wait <= 0:
                    self._spawn(key, self._deliver_changes(sub))
                else:
                    soonest = wait if soonest is None else min(soonest, wait)
        for sub in self.periodic:
            due = self.next_at.setdefault(sub.key, clock + sub.time_interval)
            if due > clock:
                soonest = due - clock if soonest is None else min(soonest, due - clock)
            elif sub.key not in self.busy and sub.active(now):
                self.next_at[sub.key] = clock + sub.time_interval
                self._spawn(sub.key, self._deliver_periodic(sub))
        return soonest

    def _spawn(self, key: Key, work: Coroutine[Any, Any, None]) -> None:
        self.busy.add(key)
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(lambda t: self._done(key, t))

    def _done(self, key: Key, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.busy.discard(key)
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery for subscription %s failed", key[1], exc_info=task.exception())
        if self.running:
            self.wake.set()

    # --- building notifications --------------------------------------------------------------

    async def _deliver_changes(self, sub: LiveSubscription) -> None:
        events = self.outbox.take(sub.key, BATCH)
        reader = self.app.state.db.reading
        data = await asyncio.to_thread(changed_data, sub, events, self._unit_path, reader)
        if data:
            if sub.throttling:
                self.next_at[sub.key] = time.monotonic() + sub.throttling
            await self._notify(sub, data)

    def _unit_path(self, unit_id: int | None) -> str | None:
        if unit_id is None:
            return None
        if unit_id not in self.unit_paths:
            with self.app.state.db.session() as session:
                path = unit_path(session, unit_id)
            self.unit_paths[unit_id] = path
        return self.unit_paths[unit_id]

    async def _deliver_periodic(self, sub: LiveSubscription) -> None:
        def query() -> list[Any]:
            with self.app.state.db.session() as session:
                return with_links(session, sub, current_data(session, sub, self.cfg.max_limit))

        data = await asyncio.to_thread(query)
        if data:
            await self._notify(sub, data)

    # --- sending -----------------------------------------------------------------------------

    async def _notify(self, sub: LiveSubscription, data: list[Any]) -> None:
        content, headers = message(sub, data)
        tally = self._tally(sub.key)
        tally.sent += 1
        tally.last_notification = utcnow()
        error = await self._post(sub.doc["notification"]["endpoint"]["uri"], content, headers)
        tally = self._tally(sub.key)  # the record may have been written meanwhile
        now = utcnow()
        if error is None:
            self.errors[sub.key] = tally.consecutive = 0
            tally.last_success = now
            self.counter.labels("sent").inc()
            return
        self.errors[sub.key] = tally.consecutive = self.errors.get(sub.key, 0) + 1
        tally.failed += 1
        tally.last_failure, tally.last_error = now, error[:500]
        self.counter.labels("failed").inc()
        log.warning("notification of subscription %s failed: %s", sub.sub_id, error)

    async def _post(self, url: str, content: bytes, headers: dict[str, str]) -> str | None:
        """POST with retries on connection errors, timeouts and 5xx; return the last error."""
        delay, error = self.cfg.notification_backoff_s, "not sent"
        assert self.client is not None, "the notifier is not running"
        try:  # checked again at send time: a name may resolve elsewhere since it was accepted
            allowlist = self.cfg.notification_allowlist
            setting = "CITYOPS_NGSI_LD__NOTIFICATION_ALLOWLIST"
            await asyncio.to_thread(
                netguard.check_url, url, allowlist, must_resolve=True, setting=setting
            )
        except netguard.OutboundRefused as err:
            return str(err)
        for attempt in range(self.cfg.notification_retries + 1):
            if attempt:
                await asyncio.sleep(delay)
                delay *= 2
            async with self.gate:
                try:
                    response = await self.client.post(url, content=content, headers=headers)
                except httpx.HTTPError as err:
                    error = f"{type(err).__name__}: {err}"
                    continue
            if response.status_code < 300:
                return None
            error = f"HTTP {response.status_code} from the endpoint"
            if response.status_code < 500:
                return error
        return error

    def _tally(self, key: Key) -> Tally:
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally()
        return tally

    # --- the delivery record -----------------------------------------------------------------

    async def flush(self) -> None:
        """Write the delivery record gathered since the last flush."""
        tallies, self.tallies = self.tallies, {}
        if tallies:
            await asyncio.to_thread(self._write, tallies)

    def _write(self, tallies: dict[Key, Tally]) -> None:
        with self.app.state.db.session() as session:
            write_tallies(session, tallies)

    async def _housekeep(self) -> None:
        reloaded = time.monotonic()
        while True:
            await asyncio.sleep(FLUSH_S)
            try:
                await self.flush()
                if time.monotonic() - reloaded >= self.cfg.subscription_refresh_s:
                    reloaded = time.monotonic()
                    await self.reload()
            except Exception:
                log.exception("NGSI-LD notifier housekeeping failed")

    # --- start and stop ----------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """Run the dispatcher and the housekeeping while the app serves."""
        self.wake = asyncio.Event()
        self.gate = asyncio.Semaphore(self.cfg.notification_concurrency)
        self.client = httpx.AsyncClient(timeout=self.cfg.notification_timeout_s)
        try:
            await self.reload()
        except Exception as err:  # e.g. a database not migrated yet: serve the rest anyway
            log.warning("NGSI-LD subscriptions not loaded: %s", err)
        self.running = True
        workers = [asyncio.create_task(self._dispatch()), asyncio.create_task(self._housekeep())]
        try:
            yield
        finally:
            self.running = False
            pending = [*workers, *self.tasks]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            try:
                await self.flush()
            except Exception:
                log.exception("NGSI-LD delivery record not written at shutdown")
            await self.client.aclose()
