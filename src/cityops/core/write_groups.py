"""Group commit: short writes arriving together share one transaction (Database.write).

SQLite runs one writer at a time anyway, and a transaction of its own cost a single-attribute
update more than its statements (the session, BEGIN IMMEDIATE, COMMIT); on PostgreSQL a
transaction and a thread hand-off each did too. Each write still sees the ones before it and
commits or fails on its own: when one raises, the transaction is rolled back, that write gets
its error, and the rest run again without it. Nobody is answered before the transaction
holding their write has committed, so an acknowledged write survives a crash as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from cityops.core.db import Database

GROUP_MAX = 64  # writes in one group transaction (the loop runs a group without a break)
KEYED_GROUPS = 4  # PostgreSQL: groups of one process running at once
RETRIES = 3  # PostgreSQL: times a transaction that lost a deadlock is run again

# A write waiting in a group: its work, its caller's future, the key of what it locks.
Write = tuple[Callable[[Session], Any], asyncio.Future[Any], tuple[str, ...]]


class WouldWait(Exception):
    """A write tried on the event loop found the SQLite database locked by another writer."""


class _WriteFailed(Exception):
    """One write of a group raised: the group's transaction is rolled back."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index)
        self.index, self.error = index, error


def transient(error: BaseException) -> bool:
    """Say whether a write failed only because of other transactions (PostgreSQL chose it
    as a deadlock's victim, or a serialization failure): running it again can succeed."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in ("40P01", "40001")


def _settle(group: list[Write], outcomes: list[tuple[bool, Any]]) -> None:
    """Answer each waiting write (a waiter that went away, e.g. a closed connection, is
    skipped: its write is committed all the same)."""
    for (_, future, _key), (ok, value) in zip(group, outcomes, strict=True):
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class WriteGroups:
    """The writes of one Database waiting for their group, and the groups running (on
    SQLite a group on the event loop takes the Database's writer lock and sets its no-wait
    flag, as Database.session and _begin_immediate read them)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[Write] = []
        self._threads: set[asyncio.Future[None]] = set()  # groups run in the thread pool
        self._keyed_running = 0  # PostgreSQL: groups in the thread pool

    async def write(self, work: Callable[[Session], Any], key: tuple[str, ...]) -> Any:
        """Queue a write for the next group and return its result once committed. The group
        runs one turn of the event loop after its first write, so the requests that came in
        meanwhile on other connections join it (up to GROUP_MAX)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((work, future, key))
        if len(self._waiting) == 1:
            loop.call_soon(loop.call_soon, self._flush)  # after the next I/O poll
        return await future

    def _flush(self) -> None:
        if self.db.dialect != "sqlite":
            self._flush_keyed()
            return
        group, self._waiting = self._waiting[:GROUP_MAX], self._waiting[GROUP_MAX:]
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        writer, no_wait = self.db._writer, self.db._no_wait
        if writer.acquire(blocking=False):
            no_wait.on = True  # session(immediate=True) takes the same (re-entrant) lock
            try:
                _settle(group, self.run_group(group))
                return
            except WouldWait:
                pass  # raised by BEGIN IMMEDIATE: nothing was done yet
            except BaseException as err:
                _settle(group, [(False, err)] * len(group))
                if not isinstance(err, Exception):
                    raise
                return
            finally:
                no_wait.on = False
                writer.release()
        self._start(group, self._threads.discard)

    def _flush_keyed(self) -> None:
        """PostgreSQL: start the next group, in key order, unless KEYED_GROUPS are running."""
        if self._keyed_running >= KEYED_GROUPS or not self._waiting:
            return
        group, self._waiting = self._waiting[:GROUP_MAX], self._waiting[GROUP_MAX:]
        group.sort(key=lambda write: write[2])  # stable: one entity's writes keep their order
        self._keyed_running += 1
        self._start(group, self._keyed_done)

    def _keyed_done(self, task: asyncio.Future[None]) -> None:
        self._threads.discard(task)
        self._keyed_running -= 1
        if not task.cancelled():
            self._flush_keyed()  # the writes that arrived while it ran

    def _start(self, group: list[Write], done: Callable[[asyncio.Future[None]], None]) -> None:
        task = asyncio.ensure_future(self._in_thread(group))
        self._threads.add(task)
        task.add_done_callback(done)

    async def _in_thread(self, group: list[Write]) -> None:
        try:
            outcomes = await run_in_threadpool(self.run_group, group)
        except Exception as err:  # e.g. the commit failed: every write of the group did
            outcomes = [(False, err)] * len(group)
        except BaseException as err:  # cancelled (shutdown): answer the writers, then stop
            _settle(group, [(False, err)] * len(group))
            raise
        _settle(group, outcomes)

    def run_group(self, group: list[Write]) -> list[tuple[bool, Any]]:
        """Run the group's writes in one transaction; a write that raises is taken out and
        the others run again (all of them, when it lost a deadlock: up to RETRIES times).
        Return (ok, result or exception) per write."""
        outcomes: dict[int, tuple[bool, Any]] = {}
        pending = list(range(len(group)))
        retries = 0
        while pending:
            results: list[tuple[int, Any]] = []
            try:
                with self.db.session(immediate=True) as session:
                    for i in pending:
                        try:
                            results.append((i, group[i][0](session)))
                        except Exception as err:
                            raise _WriteFailed(i, err) from err
            except _WriteFailed as failed:
                if transient(failed.error) and retries < RETRIES:
                    retries += 1
                    continue
                outcomes[failed.index] = (False, failed.error)
                pending.remove(failed.index)
                continue
            outcomes.update((i, (True, result)) for i, result in results)
            break
        return [outcomes[i] for i in range(len(group))]
