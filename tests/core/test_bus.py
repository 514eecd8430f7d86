"""The event bus: typed, dotted names, unsubscribe, failing handlers don't hurt publishers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from cityops.core.bus import Event, InProcessBus, event_from_dict


@dataclass(frozen=True, kw_only=True)
class ReportCreated(Event):
    name = "testing.report_created"
    report_id: int
    unit_code: str


@dataclass(frozen=True, kw_only=True)
class ReportClosed(Event):
    name = "testing.report_closed"
    report_id: int


def test_subscribers_get_matching_events_until_they_unsubscribe():
    async def scenario():
        bus = InProcessBus()
        exact, prefix, everything = [], [], []
        stop = bus.subscribe(ReportCreated, exact.append)
        bus.subscribe("testing.*", prefix.append)
        bus.subscribe("*", everything.append)
        await bus.publish(ReportCreated(report_id=1, unit_code="22918"))
        await bus.publish(ReportClosed(report_id=1))
        await bus.drain()
        stop()
        await bus.publish(ReportCreated(report_id=2, unit_code="22918"))
        await bus.drain()
        return exact, prefix, everything

    exact, prefix, everything = asyncio.run(scenario())
    assert [e.report_id for e in exact] == [1]
    assert [e.name for e in prefix] == [
        "testing.report_created",
        "testing.report_closed",
        "testing.report_created",
    ]
    assert len(everything) == 3


def test_a_failing_subscriber_does_not_stop_the_others():
    async def scenario():
        bus = InProcessBus()
        got = []

        def broken(_event):
            raise RuntimeError("boom")

        async def good(event):
            got.append(event)

        bus.subscribe(ReportClosed, broken)
        bus.subscribe(ReportClosed, good)
        await bus.publish(ReportClosed(report_id=7))
        await bus.drain()
        return got

    assert [e.report_id for e in asyncio.run(scenario())] == [7]


def test_events_round_trip_through_plain_dicts_for_a_broker():
    event = ReportCreated(report_id=3, unit_code="22918")
    payload = event.to_dict()
    assert payload == {
        "event": "testing.report_created",
        "data": {"report_id": 3, "unit_code": "22918"},
    }
    assert event_from_dict(payload) == event


def test_two_event_types_cannot_share_a_name():
    with pytest.raises(ValueError, match="already used"):

        @dataclass(frozen=True, kw_only=True)
        class Impostor(Event):
            name = "testing.report_closed"


def test_a_handler_gets_events_in_publishing_order_and_a_slow_one_delays_only_itself():
    async def scenario():
        bus = InProcessBus()
        slow, fast = [], []
        release = asyncio.Event()

        async def sluggish(event):
            await release.wait()
            slow.append(event.report_id)

        async def quick(event):
            await asyncio.sleep(0.001 * (5 - event.report_id))  # later events finish sooner
            fast.append(event.report_id)

        bus.subscribe(ReportClosed, sluggish)
        bus.subscribe(ReportClosed, quick)
        for n in range(5):
            await bus.publish(ReportClosed(report_id=n))
        for _ in range(200):  # the quick handler finishes while the slow one still waits
            if len(fast) == 5:
                break
            await asyncio.sleep(0.005)
        seen_while_blocked = (list(fast), list(slow))
        release.set()
        await bus.drain()
        return seen_while_blocked, slow

    (fast, slow_before), slow = asyncio.run(scenario())
    assert fast == [0, 1, 2, 3, 4] and slow_before == []
    assert slow == [0, 1, 2, 3, 4]


def test_a_batch_published_at_once_reaches_each_handler_in_order_without_starving_the_loop():
    async def scenario():
        bus = InProcessBus()
        created, everything, ticks = [], [], []
        bus.subscribe(ReportCreated, created.append)
        bus.subscribe("*", everything.append)
        batch = [
            ReportCreated(report_id=i, unit_code="22918") if i % 3 else ReportClosed(report_id=i)
            for i in range(1000)
        ]

        async def ticker():
            while len(everything) < len(batch):
                ticks.append(len(everything))
                await asyncio.sleep(0)

        beat = asyncio.create_task(ticker())
        await bus.publish_many(batch)
        await bus.drain()
        await beat
        return batch, created, everything, ticks

    batch, created, everything, ticks = asyncio.run(scenario())
    assert everything == batch
    assert created == [e for e in batch if isinstance(e, ReportCreated)]
    # the handlers yield to the loop while a long batch is handled: other tasks ran between
    assert len({t for t in ticks if 0 < t < len(batch)}) >= 3


def test_tuning_the_collector_freezes_start_up_objects_and_zero_leaves_the_defaults():
    import gc

    from cityops.cli import tune_gc

    before = gc.get_threshold()
    try:
        tune_gc(0)
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
        tune_gc(50_000)
        assert gc.get_threshold()[0] == 50_000
        assert gc.get_freeze_count() > 10_000  # the imported application is frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
