"""Checkpoints of SQLite's write-ahead log on a thread of their own.

In WAL mode every commit appends the pages it changed to the `-wal` file; a checkpoint copies
them back into the database file and syncs both. By default the connection whose commit takes
the log past 1,000 pages runs that checkpoint itself, before its commit returns. An ingest
batch of 1,000 readings changes more pages than that, so every batch paid for a checkpoint:
~5 us a reading, a tenth of the server's work, and for the writes grouped on the event loop
(core.write_groups) a checkpoint and its two fsyncs stalled the loop.

SQLite's documentation names the alternative: turn automatic checkpoints off and run them "in
a separate thread or process" (https://www.sqlite.org/wal.html#automatic_checkpoint). The
server does that: its connections commit without checkpointing and nudge this thread, which
runs a PASSIVE checkpoint (it never waits for, nor blocks, readers and writers) on a
connection of its own. SQLite runs a checkpoint without the interpreter lock, so on a machine
with two cores it costs the request path nothing.

A PASSIVE checkpoint cannot rewind the log while writers keep appending to it: the log is
restarted from its start only when a writer begins after a checkpoint that copied every page.
Should the log nonetheless pass `restart_pages`, the thread takes the process's write lock
(the writers of this process wait their turn on it, none is turned away) and runs a RESTART
checkpoint, so the log cannot grow without bound. On stop a TRUNCATE checkpoint leaves the
database file complete and the log empty.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import AbstractContextManager
from typing import Any

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.25  # after a nudge (ingest against SQLite's own checkpoints: +21%; 0.05 s: +12%)
RESTART_PAGES = 16_384  # 64 MiB of 4 KiB pages


class WalCheckpointer:
    """A thread checkpointing one SQLite database's WAL after the commits that nudge it."""

    def __init__(
        self,
        path: str,
        writer_lock: AbstractContextManager[Any],
        *,
        busy_timeout_ms: int = 5000,
        restart_pages: int = RESTART_PAGES,
        min_interval_s: float = MIN_INTERVAL_S,
    ) -> None:
        self.path = path
        self.writer_lock = writer_lock
        self.busy_timeout_ms = busy_timeout_ms
        self.restart_pages = restart_pages
        self.min_interval_s = min_interval_s
        self.checkpoints = 0  # PASSIVE checkpoints run (tests, diagnostics)
        self.restarts = 0  # RESTART checkpoints the log's size forced
        self._due = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WalCheckpointer:
        """Start the thread (it opens its own connection)."""
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint")
        self._thread.daemon = True
        self._thread.start()
        return self

    def nudge(self, *_: Any) -> None:
        """Say that a transaction commits (an engine "commit" event listener: it runs as the
        commit begins)."""
        self._due.set()

    def stop(self) -> None:
        """Checkpoint everything, empty the log and end the thread."""
        if self._thread is None:
            return
        self._stopping.set()
        self._due.set()
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
            while not self._stopping.is_set():
                self._due.wait()
                # the nudge comes as the commit starts: let it end, and let the commits of
                # the next moments share the checkpoint (fewer copies of pages they rewrite)
                self._stopping.wait(self.min_interval_s)
                self._due.clear()
                if not self._stopping.is_set():
                    self._checkpoint(conn)
            self._final(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            _busy, pages, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
            if pages >= self.restart_pages:
                with self.writer_lock:
                    conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                self.restarts += 1
        except sqlite3.Error:
            log.exception("WAL checkpoint of %s failed; the next commit tries again", self.path)

    def _final(self, conn: sqlite3.Connection) -> None:
        try:
            with self.writer_lock:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            log.exception("final WAL checkpoint of %s failed", self.path)
