"""The server's SQLite write-ahead log is checkpointed on a thread of its own: commits do not
pay for it, the data still reaches the database file, the log stays bounded and is empty when
the server stops."""

from __future__ import annotations

import os
import sqlite3
import time

from sqlalchemy import text

from cityops.core.db import Database

ROW = "x" * 2000  # half a page: 2,000 rows change ~1,000 pages, SQLite's checkpoint threshold


def _fill(db: Database, start: int, rows: int) -> None:
    with db.session(immediate=True) as session:
        session.execute(
            text("INSERT INTO t (id, body) VALUES (:id, :body)"),
            [{"id": i, "body": ROW} for i in range(start, start + rows)],
        )


def _in_database_file(path: str) -> int:
    """Rows of t in the database file itself, the log ignored (what a checkpoint wrote);
    -1 while a checkpoint is copying pages into it."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.DatabaseError:
        return -1
    finally:
        conn.close()


def _autocheckpoint(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_commits_leave_checkpoints_to_the_thread_and_the_data_reaches_the_file(tmp_path):
    path = f"{tmp_path}/wal.db"
    db = Database(f"sqlite:///{path}")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    assert _autocheckpoint(db) == 1000  # SQLite's own default outside the server
    with db.background_checkpoints() as checkpointer:
        assert checkpointer is not None
        assert _autocheckpoint(db) == 0  # the server's connections never checkpoint
        _fill(db, 0, 4000)
        deadline = time.monotonic() + 10
        # the thread counts its checkpoint once SQLite hands it back: the pages may be in the
        # file a moment before the count moves, so wait for both
        while time.monotonic() < deadline and (
            _in_database_file(path) < 4000 or checkpointer.checkpoints < 1
        ):
            time.sleep(0.05)
        assert _in_database_file(path) == 4000, "the thread copied the commit into the file"
        assert checkpointer.checkpoints >= 1
    wal = f"{path}-wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0, "stopping empties the log"
    assert _autocheckpoint(db) == 1000
    db.dispose()


def test_the_log_is_restarted_when_it_passes_its_bound(tmp_path):
    path = f"{tmp_path}/bound.db"
    db = Database(f"sqlite:///{path}")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    with db.background_checkpoints() as checkpointer:
        assert checkpointer is not None
        checkpointer.restart_pages = 200
        reader = sqlite3.connect(path)  # a long read: PASSIVE checkpoints cannot rewind
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()
        _fill(db, 0, 1000)
        reader.rollback()
        reader.close()
        deadline = time.monotonic() + 10
        while checkpointer.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.restarts >= 1
        _fill(db, 1000, 10)  # the next writer starts the log over from its beginning
        with db.engine.connect() as conn:
            busy, frames, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        assert frames < 200, f"the log holds {frames} pages"
    db.dispose()
