"""Short database work runs on the event loop only when it cannot wait for a lock."""

from __future__ import annotations

import asyncio
import threading

import pytest

from cityops.core.db import Database


def test_short_work_runs_inline_on_sqlite_and_in_a_worker_when_the_write_lock_is_busy(
    tmp_path,
):
    db = Database(f"sqlite:///{tmp_path}/run.db")

    def where() -> int:
        return threading.get_ident()

    async def scenario() -> dict[str, object]:
        loop_thread = threading.get_ident()
        out: dict[str, object] = {
            "read_inline": await db.run(where) == loop_thread,
            "write_inline": await db.run(where, writes=True) == loop_thread,
        }
        held, release = threading.Event(), threading.Event()

        def other_writer() -> None:  # e.g. an ingest batch holding the write lock
            with db._writer:
                held.set()
                release.wait(5)

        writer = threading.Thread(target=other_writer)
        writer.start()
        held.wait(5)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while not release.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        beat = asyncio.create_task(ticker())
        asyncio.get_running_loop().call_later(0.1, release.set)
        out["read_while_busy_inline"] = await db.run(where) == loop_thread
        out["busy_write_in_worker"] = await db.run(where, writes=True) != loop_thread
        await beat
        writer.join()
        out["loop_kept_running"] = ticks >= 5
        return out

    try:
        result = asyncio.run(scenario())
    finally:
        db.engine.dispose()
    assert result == {
        "read_inline": True,
        "write_inline": True,
        "read_while_busy_inline": True,
        "busy_write_in_worker": True,
        "loop_kept_running": True,
    }


def test_a_client_server_database_always_uses_the_thread_pool(database):
    if database.dialect == "sqlite":
        pytest.skip("SQLite is covered above; this one runs in the PostgreSQL pass")

    async def scenario() -> bool:
        return await database.run(threading.get_ident) != threading.get_ident()

    assert asyncio.run(scenario())


def test_a_write_on_the_loop_never_sleeps_behind_another_connection_writing(tmp_path):
    import sqlite3

    db = Database(f"sqlite:///{tmp_path}/run.db")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")

    def write() -> int:
        with db.session(immediate=True) as session:
            session.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
        return threading.get_ident()

    async def scenario() -> tuple[bool, int]:
        other = sqlite3.connect(f"{tmp_path}/run.db", check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # e.g. a CLI import writing: not this process's lock
        other.execute("INSERT INTO t VALUES (0)")
        ticks = 0
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, other.commit)

        async def ticker() -> None:
            nonlocal ticks
            for _ in range(20):
                ticks += 1
                await asyncio.sleep(0.01)

        beat = asyncio.create_task(ticker())
        in_worker = await db.run(write, writes=True) != threading.get_ident()
        await beat
        other.close()
        return in_worker, ticks

    try:
        in_worker, ticks = asyncio.run(scenario())
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*) FROM t").scalar()
    finally:
        db.engine.dispose()
    assert in_worker and ticks == 20 and rows == 2
