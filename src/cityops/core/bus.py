"""The event bus: typed events with dotted names, publish/subscribe, unsubscribe handles.

Callers depend only on `EventBus` (publish / subscribe / close) and on events being plain
dataclasses that round-trip through `to_dict` / `event_from_dict`, so a broker-backed bus
(several processes) can replace the in-process one without touching them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar

log = logging.getLogger("cityops.bus")

E = TypeVar("E", bound="Event")
Handler = Callable[["Event"], Awaitable[None] | None]
Unsubscribe = Callable[[], None]

_EVENT_TYPES: dict[str, type[Event]] = {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event; subclasses set `name` (e.g. 'field_reports.report_created')."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            other = _EVENT_TYPES.get(cls.name)
            if other is not None and other.__qualname__ != cls.__qualname__:
                raise ValueError(f"event name {cls.name!r} is already used by {other.__qualname__}")
            _EVENT_TYPES[cls.name] = cls

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-safe dict carrying the event name."""
        data = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            data[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return {"event": self.name, "data": data}


def event_from_dict(payload: dict[str, Any]) -> Event:
    """Rebuild an event from `to_dict` output (what a broker-backed bus receives)."""
    cls = _EVENT_TYPES[payload["event"]]
    kwargs = dict(payload["data"])
    for f in dataclasses.fields(cls):
        if f.type in ("datetime", datetime) and isinstance(kwargs.get(f.name), str):
            kwargs[f.name] = datetime.fromisoformat(kwargs[f.name])
    return cls(**kwargs)


def registered_names() -> list[str]:
    """List the names of every event type defined so far (what a live feed may carry)."""
    return sorted(_EVENT_TYPES)


class EventBus(Protocol):
    """What publishers and subscribers may rely on."""

    async def publish(self, event: Event) -> None:
        """Deliver an event to its subscribers (never raises for a failing subscriber)."""

    async def publish_many(self, events: Iterable[Event]) -> None:
        """Deliver several events, in order (same guarantees as publish)."""

    def subscribe(self, pattern: str | type[Event], handler: Handler) -> Unsubscribe:
        """Call `handler` for events matching a name, 'prefix.*', '*', or an Event class."""

    async def close(self) -> None:
        """Stop delivering and wait for handlers in flight."""


def _pattern(pattern: str | type[Event]) -> str:
    return pattern if isinstance(pattern, str) else pattern.name


def _matches(pattern: str, name: str) -> bool:
    if pattern == "*" or pattern == name:
        return True
    return pattern.endswith(".*") and name.startswith(pattern[:-1])


class _Subscription:
    """One handler with its own queue and worker: events reach it in publishing order, and a
    slow handler delays only itself.

    The queue is a plain deque with a wake-up flag: a batch of 1,000 readings is 1,000 events,
    and asyncio.Queue's put/get cost more than most handlers. The worker hands queued events
    to the handler back to back, yielding to the loop every YIELD_EVERY events.
    """

    YIELD_EVERY = 200

    def __init__(self, key: str, handler: Handler) -> None:
        self.key, self.handler = key, handler
        self.items: deque[Event] = deque()
        self.worker: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None
        self.idle: asyncio.Event | None = None
        self.pending = 0  # queued or being handled

    def put(self, events: list[Event]) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop or self.worker is None or self.worker.done():
            self.loop, self.items, self.pending = loop, deque(), 0
            self.wake, self.idle = asyncio.Event(), asyncio.Event()
            self.worker = loop.create_task(self._work(self.items, self.wake, self.idle))
        assert self.wake is not None and self.idle is not None
        self.items.extend(events)
        self.pending += len(events)
        self.idle.clear()
        self.wake.set()

    async def _work(self, items: deque[Event], wake: asyncio.Event, idle: asyncio.Event) -> None:
        handled = 0
        while True:
            if not items:
                wake.clear()
                await wake.wait()
                continue
            event = items.popleft()
            try:
                result = self.handler(event)
                if result is not None and asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("bus handler %r failed on %s", self.handler, event.name)
            finally:
                self.pending -= 1
                if not self.pending:
                    idle.set()
            handled += 1
            if handled % self.YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let requests and other handlers run

    async def join(self) -> None:
        if self.idle is not None and self.loop is asyncio.get_running_loop():
            await self.idle.wait()

    def stop(self) -> None:
        if self.worker is not None and not self.worker.done():
            self.worker.cancel()


class InProcessBus:
    """The embedded bus: each subscription has a queue drained by its own task.

    Publishing only appends to queues (no task per event: a batch of 1,000 readings makes
    1,000 events), so publishers never wait for handlers.
    """

    def __init__(self) -> None:
        self._subs: list[_Subscription] = []
        self._routes: dict[str, list[_Subscription]] = {}  # event name -> its subscribers
        self._closed = False

    def subscribe(self, pattern: str | type[Event], handler: Handler) -> Unsubscribe:
        """Register a handler; the returned function removes it."""
        sub = _Subscription(_pattern(pattern), handler)
        self._subs.append(sub)
        self._routes.clear()

        def unsubscribe() -> None:
            if sub in self._subs:
                self._subs.remove(sub)
                self._routes.clear()
                sub.stop()

        return unsubscribe

    async def publish(self, event: Event) -> None:
        """Queue the event for every matching handler; handler errors are logged, not raised."""
        if self._closed:
            return
        for sub in self._subscribers(event.name):
            sub.put([event])

    async def publish_many(self, events: Iterable[Event]) -> None:
        """Queue several events at once, in order (a batch of readings: one call, not 1,000)."""
        if self._closed:
            return
        batches: dict[_Subscription, list[Event]] = {}
        for event in events:
            for sub in self._subscribers(event.name):
                batches.setdefault(sub, []).append(event)
        for sub, mine in batches.items():
            sub.put(mine)

    def _subscribers(self, name: str) -> list[_Subscription]:
        subs = self._routes.get(name)
        if subs is None:
            subs = self._routes[name] = [s for s in self._subs if _matches(s.key, name)]
        return subs

    async def drain(self) -> None:
        """Wait until every event published so far has been handled (tests, shutdown)."""
        for _ in range(100):  # handlers may publish further events: repeat until quiet
            busy = [sub for sub in self._subs if sub.pending]
            if not busy:
                return
            for sub in busy:
                await sub.join()

    async def close(self) -> None:
        """Stop accepting events, let queued ones be handled, then stop the workers."""
        self._closed = True
        await self.drain()
        for sub in self._subs:
            sub.stop()
