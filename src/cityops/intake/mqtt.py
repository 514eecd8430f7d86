"""MQTT intake: subscribe to device topics (QoS 1), write readings in batches, reconnect.

Topics (PREFIX = CITYOPS_MQTT__TOPIC_PREFIX, TENANT = an NGSILD-Tenant or `_` for the default
tenant, KEY = the public prefix of the device's API key, also its MQTT user name):

    PREFIX/TENANT/KEY/entities          one NGSI-LD entity or an array (upsert)
    PREFIX/TENANT/KEY/attrs/ENTITY_ID   an object of attributes of an existing entity (append)

The broker authenticates devices (user name KEY, password the API key; docs/mqtt.md) and its
ACL keeps each device under its own KEY; CityOps authorizes each message with the role and
administrative scope of the active API key with that prefix. Messages from unknown, revoked
or expired keys are dropped, logged and counted in `cityops_mqtt_messages_total`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import threading
import time
from collections import Counter as Tally
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import aiomqtt
import orjson
from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from cityops.context.entities import check_uri
from cityops.context.errors import NgsiLdError, bad_request
from cityops.core.auth.models import ApiKey
from cityops.core.auth.service import principal_for_key
from cityops.core.db import Database, utcnow
from cityops.core.policy import Perm, Principal, can
from cityops.intake.ingest import IngestResult, Reading, ReadingError
from cityops.intake.payloads import entity_items, parse_item

log = logging.getLogger("cityops.intake.mqtt")
_TENANT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,16}$")
LOG_EVERY_S = 10.0
_OUTCOMES = {"Forbidden": "unauthorized", "InternalError": "error"}


IDLE_GAP_S = 0.01


@dataclass(frozen=True)
class Message:
    """A received message and what its acknowledgement needs."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    session: int

    @classmethod
    def of(cls, message: aiomqtt.Message, session: int) -> Message:
        """Copy what the intake needs out of an aiomqtt message."""
        payload = message.payload
        raw = payload if isinstance(payload, bytes) else str(payload).encode()
        return cls(str(message.topic), raw, message.mid, message.qos, session)


class Unauthorized(Exception):
    """The message's key is unknown, revoked, expired or may not write."""


@dataclass(frozen=True)
class Target:
    """What a topic names: tenant, sender key prefix, kind, entity (attrs topics)."""

    tenant: str
    key_prefix: str
    kind: str  # "entities" | "attrs"
    entity_id: str | None = None


def parse_topic(prefix: str, topic: str) -> Target:
    """Read an intake topic; BadRequestData when it has another shape."""
    parts = topic[len(prefix) + 1 :].split("/") if topic.startswith(prefix + "/") else []
    if len(parts) == 3 and parts[2] == "entities":
        entity_id = None
    elif len(parts) >= 4 and parts[2] == "attrs":
        entity_id = check_uri("/".join(parts[3:]), "the entity id in the topic")
    else:
        raise bad_request(f"topic {topic!r} is not {prefix}/TENANT/KEY/entities or .../attrs/ID")
    tenant, key = parts[0], parts[1]
    if not _TENANT.match(tenant) or not _KEY.match(key):
        raise bad_request(f"topic {topic!r} has a bad tenant or key level")
    return Target("" if tenant == "_" else tenant, key, parts[2], entity_id)


def topic_filters(prefix: str) -> list[str]:
    """Return the subscriptions of the intake client."""
    return [f"{prefix}/+/+/entities", f"{prefix}/+/+/attrs/#"]


class KeyCache:
    """API key prefix -> Principal (None when unknown, revoked, expired or ambiguous)."""

    def __init__(self, db: Database, ttl_s: float) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def principal(self, prefix: str) -> Principal | None:
        """Return the principal of the active key with this prefix (cached for ttl_s)."""
        hit = self._cache.get(prefix)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self.db.session() as session:
            now = utcnow()
            keys = [
                k
                for k in session.scalars(select(ApiKey).where(ApiKey.prefix == prefix))
                if k.revoked_at is None and (k.expires_at is None or k.expires_at > now)
            ]
            found = principal_for_key(session, keys[0]) if len(keys) == 1 else None
            if len(keys) == 1 and (
                keys[0].last_used_at is None or (now - keys[0].last_used_at).total_seconds() > 60
            ):
                keys[0].last_used_at = now
        with self._lock:
            self._cache[prefix] = (time.monotonic() + self.ttl_s, found)
        return found


class _LogLimiter:
    """Log a kind of drop at most once per LOG_EVERY_S per key, counting the rest."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], float] = {}
        self._held: Tally[tuple[str, str]] = Tally()

    def warn(self, key: str, result: str, message: str, *args: Any) -> None:
        """Log a dropped message unless one like it was logged lately."""
        now = time.monotonic()
        slot = (key, result)
        if now - self._last.get(slot, 0.0) < LOG_EVERY_S:
            self._held[slot] += 1
            return
        held = self._held.pop(slot, 0)
        suffix = f" (+{held} more like it)" if held else ""
        log.warning("MQTT message dropped (%s): " + message + suffix, result, *args)
        self._last[slot] = now


class MqttIntake:
    """The MQTT client of one app: receives messages, writes them in batches."""

    def __init__(self, app: FastAPI) -> None:
        self.cfg = app.state.settings.mqtt
        self.ingestor = app.state.intake
        self.keys = KeyCache(app.state.db, self.cfg.key_cache_s)
        self.queue: asyncio.Queue[Message] = asyncio.Queue(self.cfg.batch_size * 20)
        self.session = 0  # counts connections: acks go only to the connection that delivered
        self.paho: Any = None  # the live connection's paho client (acks), None while down
        self.connected = asyncio.Event()
        self._limiter = _LogLimiter()
        registry = app.state.metrics.registry
        self.messages = Counter(
            "cityops_mqtt_messages", "MQTT messages by result", ["result"], registry=registry
        )
        for result in ("ok", "invalid", "unauthorized", "error"):
            self.messages.labels(result)
        self.up = Gauge("cityops_mqtt_connected", "1 while connected", registry=registry)

    def _client(self) -> aiomqtt.Client:
        cfg = self.cfg
        return aiomqtt.Client(
            cfg.host,
            cfg.port,
            username=cfg.username,
            password=cfg.password,
            identifier=cfg.client_id,
            clean_session=False,
            keepalive=30,
            timeout=10,
            tls_context=ssl.create_default_context() if cfg.tls else None,
        )

    async def receive(self) -> None:
        """Stay subscribed: connect, queue every message, reconnect with back-off."""
        delay = 0.5
        while True:
            client = self._client()
            # QoS 1 messages are acknowledged after their batch is committed, not on receipt:
            # a crash before the commit leaves them with the broker, which delivers them again.
            client._client.manual_ack_set(True)  # noqa: SLF001 (aiomqtt 2.5 has no option)
            try:
                async with client:
                    self.session += 1
                    self.paho = client._client  # noqa: SLF001
                    for topic in topic_filters(self.cfg.topic_prefix):
                        await client.subscribe(topic, qos=1)
                    log.info("MQTT intake connected to %s:%s", self.cfg.host, self.cfg.port)
                    self.connected.set()
                    self.up.set(1)
                    delay = 0.5
                    async for message in client.messages:
                        await self.queue.put(Message.of(message, self.session))
            except aiomqtt.MqttError as err:
                log.warning(
                    "MQTT broker connection failed or lost (%s); retry in %.1f s", err, delay
                )
            except Exception:  # never let the intake die: log, back off, reconnect
                log.exception("MQTT intake failed; retry in %.1f s", delay)
            self.connected.clear()
            self.up.set(0)
            self.paho = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.cfg.reconnect_max_s)

    async def _next_batch(self) -> list[Message]:
        """Up to batch_size messages: the batch closes at the window's end, or sooner when no
        message came for IDLE_GAP_S (the broker holds back messages beyond its in-flight
        limit until we acknowledge, so waiting out the whole window would only add delay)."""
        loop = asyncio.get_running_loop()
        batch = [await self.queue.get()]
        deadline = loop.time() + self.cfg.batch_window_ms / 1000
        while len(batch) < self.cfg.batch_size:
            if not self.queue.empty():
                batch.append(self.queue.get_nowait())
                continue
            remaining = min(deadline - loop.time(), IDLE_GAP_S)
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def drain(self) -> None:
        """Write queued messages in batches (size or time window, whichever comes first)."""
        while True:
            await self.handle(await self._next_batch())

    async def handle(self, batch: list[Message], retry: bool = True) -> None:
        """Write one batch in a worker thread, acknowledge it, count it, publish the events.

        If the database fails, the batch is tried again with back-off and not acknowledged
        meanwhile (the broker keeps it); readings that are bad in themselves are not a
        failure: they are counted and logged, and acknowledged so they are not resent.
        """
        delay = 0.5
        while True:
            try:
                result, tally = await run_in_threadpool(self.process, batch)
                break
            except Exception:
                log.exception("MQTT batch of %d messages could not be written", len(batch))
                self.messages.labels("error").inc(len(batch))
                if not retry:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.cfg.reconnect_max_s)
        self.ack(batch)
        for outcome, n in tally.items():
            self.messages.labels(outcome).inc(n)
        await self.ingestor.publish(result.events)

    def ack(self, batch: list[Message]) -> None:
        """Acknowledge the batch's QoS 1 messages to the connection that delivered them (a
        message of an older connection will be delivered again; storing it twice is a no-op)."""
        paho = self.paho
        if paho is None:
            return
        for message in batch:
            if message.session == self.session and message.qos > 0:
                paho.ack(message.mid, message.qos)

    def process(self, batch: list[Message]) -> tuple[IngestResult, Tally[str]]:
        """Decode, authorize and write a batch; return the result and a tally per outcome."""
        outcomes: dict[int, str] = {}
        readings: list[Reading] = []
        problems: list[ReadingError] = []
        for no, message in enumerate(batch):
            topic = message.topic
            try:
                found, bad = self.decode(no, topic, message.payload)
            except Unauthorized as err:
                outcomes[no] = "unauthorized"
                self._limiter.warn(topic, "unauthorized", "%s on %s", err, topic)
                continue
            except NgsiLdError as err:
                outcomes[no] = "invalid"
                self._limiter.warn(topic, "invalid", "%s on %s", err.detail, topic)
                continue
            readings.extend(found)
            problems.extend(bad)
        result = self.ingestor.apply(readings)
        for problem in problems + result.errors:
            no = problem.index[0]
            outcome = _OUTCOMES.get(problem.error.kind, "invalid")
            if outcomes.get(no) != "unauthorized":
                outcomes[no] = outcome
            topic = batch[no].topic
            self._limiter.warn(topic, outcome, "%s: %s", problem.entity_id, problem.error.detail)
        return result, Tally(outcomes.get(no, "ok") for no in range(len(batch)))

    def decode(
        self, no: int, topic: str, payload: bytes
    ) -> tuple[list[Reading], list[ReadingError]]:
        """Turn one message into readings (and per-entity errors); raise if it is unusable."""
        target = parse_topic(self.cfg.topic_prefix, topic)
        principal = self.keys.principal(target.key_prefix)
        if principal is None:
            raise Unauthorized(f"no active API key with prefix {target.key_prefix}")
        if not can(principal, Perm.data_write, check_unit=False):
            raise Unauthorized(f"API key {target.key_prefix} may not write data")
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError as err:
            raise bad_request(f"the payload is not JSON: {err}") from err
        if target.kind == "attrs":
            if not isinstance(body, dict) or not set(body) - {"@context"}:
                raise bad_request("an attrs payload must be a non-empty object of attributes")
            raw = {k: v for k, v in body.items() if k != "@context"}
            reading = Reading((no, 0), target.tenant, principal, str(target.entity_id), None)
            reading.raw, reading.context = raw, body.get("@context")
            reading.key_prefix = target.key_prefix
            return [reading], []
        readings: list[Reading] = []
        errors: list[ReadingError] = []
        for i, item in enumerate(entity_items(body)):
            try:
                parsed = parse_item(self.ingestor.resolver, item)
            except NgsiLdError as err:
                entity_id = item.get("id") if isinstance(item, dict) else None
                errors.append(ReadingError((no, i), str(entity_id), err))
                continue
            readings.append(
                Reading.of((no, i), target.tenant, principal, parsed, target.key_prefix)
            )
        return readings, errors


@asynccontextmanager
async def mqtt_intake(app: FastAPI) -> AsyncIterator[None]:
    """Run the MQTT intake while the app serves (a lifespan hook)."""
    intake = MqttIntake(app)
    app.state.mqtt_intake = intake
    tasks = [asyncio.create_task(intake.receive()), asyncio.create_task(intake.drain())]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        left = [intake.queue.get_nowait() for _ in range(intake.queue.qsize())]
        if left:  # written now; not acknowledged (disconnected): the broker resends them
            await intake.handle(left, retry=False)
