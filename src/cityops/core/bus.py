"""The event bus: typed events with dotted names, publish/subscribe, unsubscribe handles.

Callers depend only on `EventBus` (publish / subscribe / close) and on events being plain
dataclasses that round-trip through `to_dict` / `event_from_dict`, so a broker-backed bus
(several processes) can replace the in-process one without touching them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
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


class EventBus(Protocol):
    """What publishers and subscribers may rely on."""

    async def publish(self, event: Event) -> None:
        """Deliver an event to its subscribers (never raises for a failing subscriber)."""

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


class InProcessBus:
    """The embedded bus: handlers run as tasks on the running event loop."""

    def __init__(self) -> None:
        self._subs: dict[str, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def subscribe(self, pattern: str | type[Event], handler: Handler) -> Unsubscribe:
        """Register a handler; the returned function removes it."""
        key = _pattern(pattern)
        self._subs[key].append(handler)

        def unsubscribe() -> None:
            handlers = self._subs.get(key, [])
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    async def publish(self, event: Event) -> None:
        """Schedule every matching handler; errors are logged, never raised to the publisher."""
        if self._closed:
            return
        for key, handlers in list(self._subs.items()):
            if not _matches(key, event.name):
                continue
            for handler in list(handlers):
                task = asyncio.ensure_future(self._run(handler, event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _run(self, handler: Handler, event: Event) -> None:
        try:
            result = handler(event)
            if asyncio.iscoroutine(result):
                await result
        except Exception:
            log.exception("bus handler %r failed on %s", handler, event.name)

    async def drain(self) -> None:
        """Wait until every handler scheduled so far has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop accepting events and wait for handlers in flight."""
        self._closed = True
        await self.drain()
