"""Short database work runs on the event loop only when it cannot wait for a lock; short
writes arriving together share one transaction (group commit) and still fail one by one."""

from __future__ import annotations

import asyncio
import threading

import pytest

from cityops.core.db import Database


def test_short_work_runs_inline_on_sqlite_and_in_a_worker_when_the_write_lock_is_busy(
    tmp_path,
):
    db = Database(f"sqlite:///{tmp_path}/run.db")

    def where(_session: object = None) -> int:
        return threading.get_ident()

    async def scenario() -> dict[str, object]:
        loop_thread = threading.get_ident()
        out: dict[str, object] = {
            "read_inline": await db.run(where) == loop_thread,
            "write_inline": await db.write(where) == loop_thread,
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
        out["busy_write_in_worker"] = await db.write(where) != loop_thread
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

    def write(session) -> int:
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
        in_worker = await db.write(write) != threading.get_ident()
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


def _counter_db(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path}/group.db")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE c (name TEXT PRIMARY KEY, n INTEGER)")
        conn.exec_driver_sql("CREATE TABLE log (v INTEGER)")
        conn.exec_driver_sql("INSERT INTO c VALUES ('hits', 0)")
    return db


def test_concurrent_writes_share_a_transaction_and_each_sees_the_ones_before_it(tmp_path):
    from sqlalchemy import event

    db = _counter_db(tmp_path)
    commits = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))

    def bump(session) -> int:
        conn = session.connection()
        conn.exec_driver_sql("UPDATE c SET n = n + 1 WHERE name = 'hits'")
        return int(conn.exec_driver_sql("SELECT n FROM c WHERE name = 'hits'").scalar())

    async def scenario() -> list[int]:
        return list(await asyncio.gather(*(db.write(bump) for _ in range(20))))

    try:
        seen = asyncio.run(scenario())
        with db.engine.connect() as conn:
            final = conn.exec_driver_sql("SELECT n FROM c").scalar()
    finally:
        db.engine.dispose()
    # every writer saw the ones queued before it, in order, and nothing was lost
    assert seen == list(range(1, 21)) and final == 20
    assert len(commits) == 1  # 20 writes, one COMMIT


def test_a_failing_write_gets_its_error_and_the_others_of_its_group_land(tmp_path):
    db = _counter_db(tmp_path)

    def good(v: int):
        def work(session) -> int:
            session.connection().exec_driver_sql(f"INSERT INTO log VALUES ({v})")
            return v

        return work

    def bad(session) -> int:
        session.connection().exec_driver_sql("INSERT INTO log VALUES (-1)")  # written, then:
        raise ValueError("bad write")

    async def scenario() -> list[object]:
        works = [good(1), good(2), bad, good(3), bad, good(4)]
        return list(await asyncio.gather(*(db.write(w) for w in works), return_exceptions=True))

    try:
        results = asyncio.run(scenario())
        with db.engine.connect() as conn:
            stored = sorted(v for (v,) in conn.exec_driver_sql("SELECT v FROM log"))
    finally:
        db.engine.dispose()
    assert [r if isinstance(r, int) else str(r) for r in results] == [
        1,
        2,
        "bad write",
        3,
        "bad write",
        4,
    ]
    assert stored == [1, 2, 3, 4]  # the failed writes left nothing behind


def _pg_scratch(database: Database, name: str) -> None:
    if database.dialect == "sqlite":
        pytest.skip("PostgreSQL's row locks; this one runs in the PostgreSQL pass")
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        columns = "seq SERIAL PRIMARY KEY, k TEXT, tx BIGINT DEFAULT txid_current()"
        conn.exec_driver_sql(f"CREATE TABLE {name} ({columns})")


def test_postgresql_groups_keyed_writes_and_runs_each_group_in_key_order(database):
    """Keyed writes arriving together share transactions, and each transaction takes its
    writes in key order (the order batches lock rows in: no deadlock between them)."""
    _pg_scratch(database, "grouped_log")
    keys = [f"urn:ngsi-ld:X:{n:02d}" for n in (7, 3, 11, 0, 5, 9, 1, 14, 2, 8, 13, 4, 6, 12, 10)]

    def log(key: str):
        def work(session) -> str:
            session.connection().exec_driver_sql(
                "INSERT INTO grouped_log (k) VALUES (%(k)s)", {"k": key}
            )
            return key

        return work

    async def scenario() -> list[str]:
        writes = [database.write(log(k), ("t", k)) for k in keys]
        return list(await asyncio.gather(*writes))

    try:
        answered = asyncio.run(scenario())
        with database.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT tx, k FROM grouped_log ORDER BY seq").all()
    finally:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE grouped_log")
    assert answered == keys  # each caller gets its own write's result
    assert sorted(k for _, k in rows) == sorted(keys)  # every write landed once
    by_tx: dict[int, list[str]] = {}
    for tx, key in rows:
        by_tx.setdefault(tx, []).append(key)
    assert len(by_tx) < len(keys)  # grouped: fewer transactions than writes
    assert all(group == sorted(group) for group in by_tx.values())


def test_postgresql_a_write_chosen_as_a_deadlock_victim_runs_again(database):
    """Two writers locking the same rows in opposite orders deadlock; PostgreSQL aborts one,
    which runs again, so both land and neither caller sees an error."""
    _pg_scratch(database, "deadlock_log")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS dl_rows (k TEXT PRIMARY KEY, n INT)")
        conn.exec_driver_sql("DELETE FROM dl_rows")
        conn.exec_driver_sql("INSERT INTO dl_rows VALUES ('a', 0), ('b', 0)")
    both_hold = threading.Barrier(2, timeout=10)
    attempts = {"a": 0, "b": 0}

    def writer(first: str, second: str):
        def work(session) -> str:
            conn = session.connection()
            attempts[first] += 1
            lock = "UPDATE dl_rows SET n = n + 1 WHERE k = %(k)s"
            conn.exec_driver_sql(lock, {"k": first})
            if attempts[first] == 1:
                both_hold.wait()  # each holds its first row, then wants the other's
            conn.exec_driver_sql(lock, {"k": second})
            conn.exec_driver_sql("INSERT INTO deadlock_log (k) VALUES (%(k)s)", {"k": first})
            return first

        return work

    results: dict[str, object] = {}

    def run(first: str, second: str) -> None:
        try:
            results[first] = database.write_alone(writer(first, second))
        except Exception as err:  # reported below
            results[first] = err

    threads = [threading.Thread(target=run, args=pair) for pair in (("a", "b"), ("b", "a"))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        with database.engine.connect() as conn:
            counts = dict(conn.exec_driver_sql("SELECT k, n FROM dl_rows").all())
            logged = sorted(k for (k,) in conn.exec_driver_sql("SELECT k FROM deadlock_log"))
    finally:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE deadlock_log")
            conn.exec_driver_sql("DROP TABLE dl_rows")
    assert results == {"a": "a", "b": "b"}
    assert sorted(attempts.values()) == [1, 2]  # one of them lost the deadlock and ran again
    assert counts == {"a": 2, "b": 2} and logged == ["a", "b"]
