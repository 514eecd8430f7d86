"""GET /api/live: bus events as Server-Sent Events, scoped to the caller, with catch-up.

Each message is `id: <sequence>`, `event: <event name>`, `data: <Event.to_dict() as JSON>`;
the JSON is made once per event, when the first client that may see it is sent it (most
events, e.g. every reading's `context.entity_changed`, are never serialized when no one asks).
Ring buffers keep the last events so a client reconnecting with `Last-Event-ID` gets what it
missed (or a `reset` event when something it wants is no longer kept): entity changes (every
reading is one) in a ring of their own, so a flood of readings never pushes alerts, incidents
and reports out of the other, and a client that does not follow readings is never reset for
lost ones. (The changes' ring is the smaller: at thousands of readings a second, keeping 1,000
of them alive, each with its entity, cost ~7% of the server's CPU a reading.) Every client has
a bounded queue: one that falls behind is sent `reset` and disconnected, so a slow browser
never holds up the bus.
"""

from __future__ import annotations

import asyncio
import heapq
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sse_starlette.sse import EventSourceResponse

from cityops.core.auth.service import resolve_token
from cityops.core.bus import Event, EventBus
from cityops.core.config import WebSettings
from cityops.core.db import Database
from cityops.core.deps import require
from cityops.core.errors import InvalidInput, Unauthorized
from cityops.core.policy import Perm, Principal, Role, can
from cityops.core.units.models import Unit

router = APIRouter(prefix="/api", tags=["web"])
Reader = Annotated[Principal, Depends(require(Perm.data_read))]

CHANGES = "context.entity_changed"  # the name of the many events, kept in a ring of their own
PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")
UNIT_PATH_TTL_S = 60.0


@dataclass(eq=False)
class Message:
    """One event as the feed sends it; its JSON is made on first use, once for all clients.
    (Not frozen: a frozen dataclass sets each field through object.__setattr__, and the feed
    makes one Message per bus event, 1,000 per ingest batch. Nothing changes one.)"""

    seq: int
    name: str
    unit_id: int | None
    event: Event
    # events about work handed to an agency carry agency_id; agency staff see only their own
    agency_id: int | None = None
    for_agency: bool = False

    @cached_property
    def data(self) -> str:
        """Return the event as JSON (serialized once, and only if some client is sent it)."""
        return orjson.dumps(self.event.to_dict(), default=str).decode()


@dataclass(eq=False)
class Client:
    """One open connection: its name patterns and its bounded queue (None = reset)."""

    patterns: tuple[str, ...]
    queue: asyncio.Queue[Message | None]

    def wants(self, name: str) -> bool:
        """Say whether an event name matches one of the client's patterns."""
        return any(matches(p, name) for p in self.patterns)

    def offer(self, message: Message) -> None:
        """Queue a message without waiting; a full queue is replaced by a reset marker."""
        if not self.wants(message.name):
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


def _seq(message: Message) -> int:
    return message.seq


def matches(pattern: str, name: str) -> bool:
    """Match an event name against 'a.b', 'a.*' or '*' (the bus's own rules)."""
    if pattern in ("*", name):
        return True
    return pattern.endswith(".*") and name.startswith(pattern[:-1])


@dataclass
class UnitPaths:
    """A small time-limited cache of unit id -> path, read off the event loop."""

    db: Database
    ttl_s: float = UNIT_PATH_TTL_S
    _cache: dict[int, tuple[float, str | None]] = field(default_factory=dict)

    def _load(self, unit_id: int) -> str | None:
        with self.db.session() as session:
            return session.scalar(select(Unit.path).where(Unit.id == unit_id))

    async def get(self, unit_id: int) -> str | None:
        """Return the path of a unit (None when it does not exist)."""
        hit = self._cache.get(unit_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        path = await anyio.to_thread.run_sync(self._load, unit_id)
        self._cache[unit_id] = (now, path)
        return path


class LiveFeed:
    """Numbers bus events, keeps the last ones and fans them out to the open clients."""

    def __init__(self, db: Database, settings: WebSettings) -> None:
        self.settings = settings
        self.seq = 0
        self.buffer: deque[Message] = deque(maxlen=settings.live_buffer_size)
        self.changes: deque[Message] = deque(maxlen=settings.live_changes_buffer_size)
        self.lost = 0  # the newest sequence number the buffer let go (0: none)
        self.lost_changes = 0  # the same, of the changes' ring
        self.clients: set[Client] = set()
        self.paths = UnitPaths(db)

    def on_event(self, event: Event) -> None:
        """Record an event and hand it to every client (bus handler; never blocks)."""
        self.seq += 1
        unit_id = getattr(event, "unit_id", None)
        agency_id = getattr(event, "agency_id", None)
        message = Message(
            self.seq,
            event.name,
            unit_id if isinstance(unit_id, int) else None,
            event,
            agency_id if isinstance(agency_id, int) else None,
            hasattr(event, "agency_id"),
        )
        if message.name == CHANGES:
            if len(self.changes) == self.changes.maxlen:
                self.lost_changes = self.changes[0].seq
            self.changes.append(message)
        else:
            if len(self.buffer) == self.buffer.maxlen:
                self.lost = self.buffer[0].seq
            self.buffer.append(message)
        for client in list(self.clients):
            client.offer(message)

    def connect(self, patterns: tuple[str, ...]) -> Client:
        """Open a client; its queue starts filling at once."""
        client = Client(patterns, asyncio.Queue(maxsize=self.settings.live_queue_size))
        self.clients.add(client)
        return client

    def disconnect(self, client: Client) -> None:
        """Forget a client."""
        self.clients.discard(client)

    def since(
        self, last_id: int, wants: Callable[[str], bool] = lambda _: True
    ) -> list[Message] | None:
        """Return the kept messages after `last_id` (of the names a client `wants`, in
        order), or None when some it may want are no longer kept."""
        if last_id > self.seq:
            return None  # an id from before a restart
        changes = wants(CHANGES)
        if last_id < self.lost or (changes and last_id < self.lost_changes):
            return None
        kept = [m for m in self.buffer if m.seq > last_id]
        if changes:
            kept = list(heapq.merge(kept, (m for m in self.changes if m.seq > last_id), key=_seq))
        return kept

    async def visible(self, principal: Principal, message: Message) -> bool:
        """Say whether the caller may see an event (unit scope; unit-less: role only)."""
        other_agency = message.agency_id is None or message.agency_id != principal.agency_id
        if message.for_agency and principal.role is Role.agency_staff and other_agency:
            return False
        if message.unit_id is None:
            return can(principal, Perm.data_read, check_unit=False)
        path = await self.paths.get(message.unit_id)
        return can(principal, Perm.data_read, path)


def install(app: Any, bus: EventBus, db: Database, settings: WebSettings) -> LiveFeed:
    """Create the feed of an app and subscribe it to every bus event."""
    feed = LiveFeed(db, settings)
    bus.subscribe("*", feed.on_event)
    app.state.live = feed
    return feed


def parse_patterns(events: str | None) -> tuple[str, ...]:
    """Split `?events=` into name patterns (422 on a malformed one)."""
    if not events:
        return ("*",)
    patterns = tuple(p.strip() for p in events.split(",") if p.strip())
    bad = [p for p in patterns if not PATTERN.match(p)]
    if bad or not patterns:
        raise InvalidInput(
            f"events: bad pattern(s) {bad}; use names like 'alerts.*' or "
            "'field_reports.report_created'",
            code="bad_event_pattern",
        )
    return patterns


def parse_last_id(value: str | None) -> int | None:
    """Read a Last-Event-ID (None when absent; -1, forcing a reset, when unreadable)."""
    if value is None or value == "":
        return None
    return int(value) if value.isdigit() else -1


def _token(request: Request) -> str | None:
    """The caller's credential, in the order get_principal reads them."""
    auth = request.headers.get("authorization", "")
    bearer = auth[7:] if auth.lower().startswith("bearer ") else None
    cookie = request.cookies.get(request.app.state.settings.auth.cookie_name)
    return request.headers.get("x-api-key") or bearer or cookie


def _resolve(db: Database, token: str | None) -> Principal | None:
    """Who the credential is now (role or scope may have changed); None once it is invalid."""
    if token is None:
        return None
    with db.session() as session:
        try:
            return resolve_token(session, token)
        except Unauthorized:
            return None


def _sse(message: Message) -> dict[str, Any]:
    return {"id": str(message.seq), "event": message.name, "data": message.data}


def _control(feed: LiveFeed, event: str, **data: Any) -> dict[str, Any]:
    return {"id": str(feed.seq), "event": event, "data": orjson.dumps(data).decode()}


async def stream(
    feed: LiveFeed,
    patterns: tuple[str, ...],
    principal: Principal,
    last_id: int | None,
    check: Callable[[], Awaitable[Principal | None]],
) -> AsyncIterator[dict[str, Any]]:
    """Yield the catch-up, then live messages the caller may see, until reset or logout."""
    client = feed.connect(patterns)  # before reading the buffer, so nothing falls in between
    try:
        sent = feed.seq if last_id is None else last_id
        backlog = [] if last_id is None else feed.since(last_id, client.wants)
        if backlog is None:
            yield _control(feed, "reset", reason="missed_events_not_kept")
            sent, backlog = feed.seq, []
        for message in backlog:
            if client.wants(message.name) and await feed.visible(principal, message):
                yield _sse(message)
            sent = message.seq
        yield {"id": str(sent), "event": "ready", "data": orjson.dumps({"seq": sent}).decode()}
        while True:
            try:
                message = await asyncio.wait_for(
                    client.queue.get(), timeout=feed.settings.live_heartbeat_s
                )
            except TimeoutError:
                current = await check()
                if current is None:
                    yield _control(feed, "session_expired")
                    return
                principal = current  # a changed role or scope applies from now on
                continue
            if message is None:
                yield _control(feed, "reset", reason="client_too_slow")
                return
            if message.seq > sent and await feed.visible(principal, message):
                yield _sse(message)
            sent = max(sent, message.seq)
    finally:
        feed.disconnect(client)


@router.get("/live", response_class=EventSourceResponse)
async def live(
    request: Request,
    principal: Reader,
    events: Annotated[
        str | None, Query(description="Comma-separated name patterns, e.g. alerts.*,context.*")
    ] = None,
    last_event_id: Annotated[
        str | None, Query(description="Resume after this id (EventSource sends a header)")
    ] = None,
) -> EventSourceResponse:
    """Stream the events you may see as Server-Sent Events (reconnect with Last-Event-ID)."""
    feed: LiveFeed = request.app.state.live
    patterns = parse_patterns(events)
    last_id = parse_last_id(request.headers.get("last-event-id") or last_event_id)
    db, token = request.app.state.db, _token(request)

    async def check() -> Principal | None:
        return await anyio.to_thread.run_sync(_resolve, db, token)

    return EventSourceResponse(
        stream(feed, patterns, principal, last_id, check),
        ping=feed.settings.live_heartbeat_s,
        headers={"Cache-Control": "no-store"},
    )
