"""SQLite's WAL checkpoints, moved off the request path of a serving process.

By default SQLite checkpoints inside a commit: the commit that takes the WAL past 1,000 pages copies them
back into the database file, with an fsync of the WAL before and one of the database file after
(`synchronous=NORMAL`). On a disk where an fsync takes milliseconds, the request that commits there waits
for both (16 ms on the development machine's disk on a slow day), and every order's mean commit time was
three quarters checkpoints. A serving process therefore turns SQLite's automatic checkpoints off on its
connections (`storage.db`) and checkpoints from a thread of its own, on its own connection, every
`INTERVAL_S`. A PASSIVE checkpoint copies what no reader still needs and never waits for a reader or a
writer, so the requests go on meanwhile: the sqlite3 module lets go of the GIL while SQLite works.

The thread is an operating-system thread even in a gevent worker: there the patched `threading` would make
a greenlet, and a checkpoint in it would hold up every request of the worker as the commit did.
Durability is unchanged: the commits are synced as before, a checkpoint cut short by a crash is done again
by the next one, and the connection closed last at shutdown checkpoints what is left.
"""

from __future__ import annotations

import logging
import sqlite3

INTERVAL_S = 0.1  # between passes: the WAL holds at most about this long's writes (a few MB under load)

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Checkpoints the SQLite database file at `path` every `interval_s`, from start() until stop()."""

    def __init__(self, path: str, interval_s: float = INTERVAL_S) -> None:
        # the unpatched primitives (gevent patches these in a gevent worker, and is a dependency anyway)
        from gevent import monkey

        self._start_thread = monkey.get_original("_thread", "start_new_thread")
        new_lock = monkey.get_original("_thread", "allocate_lock")
        self._stop = new_lock()  # held until stop(): the thread waits on it between passes
        self._running = new_lock()  # held while the thread runs
        self.path = path
        self.interval_s = interval_s

    def start(self) -> None:
        self._stop.acquire()
        self._running.acquire()
        self._start_thread(self._run, ())

    def stop(self, timeout_s: float = 5.0) -> None:
        """End the thread and wait for it (a checkpoint under way finishes first)."""
        self._stop.release()
        if self._running.acquire(timeout=timeout_s):
            self._running.release()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                while not self._stop.acquire(timeout=self.interval_s):
                    _checkpoint(connection)
            finally:
                connection.close()
        finally:
            self._running.release()


def _checkpoint(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as e:  # the next pass tries again; until one succeeds, the WAL grows
        log.warning("WAL checkpoint of the database failed: %s", e)
