"""A serving process's SQLite checkpoints (storage/checkpoints.py): its connections never checkpoint in a
commit, a thread of its own does, an operating-system thread even in a gevent worker, and dispose() ends
it. A write reaches the database file (not only the WAL) only when checkpointed, so the file's
modification time shows when a checkpoint copied something."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from simulator.storage.checkpoints import INTERVAL_S
from simulator.storage.db import Database, open_database

WAIT_S = 10  # for the thread's next pass, on a busy machine


@pytest.fixture
def databases() -> Iterator[list[Database]]:
    opened: list[Database] = []
    yield opened
    for database in opened:
        database.dispose()


def opened(databases: list[Database], path: Path, checkpoint_in_background: bool) -> Database:
    database = open_database(f"sqlite:///{path}", checkpoint_in_background)
    databases.append(database)
    return database


def write_a_little(database: Database) -> None:
    """A few pages: far from the 1,000 that make SQLite checkpoint in a commit."""
    with database.write() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS scratch (n INTEGER, note TEXT)"))
        session.execute(text("INSERT INTO scratch VALUES (1, 'a little')"))


def autocheckpoint_pages(database: Database) -> int:
    with database.read() as session:
        return session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()


def file_changes_within(path: Path, seconds: float) -> bool:
    before = path.stat().st_mtime_ns
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(INTERVAL_S / 2)
        if path.stat().st_mtime_ns != before:
            return True
    return False


def quiet(path: Path) -> None:
    """Wait until the database file stopped changing (the thread copied what was written before)."""
    deadline = time.monotonic() + WAIT_S
    while file_changes_within(path, 5 * INTERVAL_S):
        assert time.monotonic() < deadline, "the database file kept changing with nothing written"


def test_a_serving_process_checkpoints_from_its_thread_not_in_a_commit(databases, tmp_path):
    path = tmp_path / "served.db"
    database = opened(databases, path, checkpoint_in_background=True)
    quiet(path)

    write_a_little(database)

    assert autocheckpoint_pages(database) == 0
    assert file_changes_within(path, WAIT_S)


def test_other_processes_keep_sqlites_checkpoints_in_the_commit(databases, tmp_path):
    path = tmp_path / "cli.db"
    database = opened(databases, path, checkpoint_in_background=False)
    quiet(path)

    write_a_little(database)

    assert autocheckpoint_pages(database) == 1000
    assert not file_changes_within(path, 10 * INTERVAL_S)  # in the WAL until 1,000 pages


def test_dispose_ends_the_thread(databases, tmp_path):
    path = tmp_path / "disposed.db"
    served = opened(databases, path, checkpoint_in_background=True)
    served.dispose()
    quiet(path)
    # a connection of another process that leaves checkpoints to others, and stays open: SQLite
    # checkpoints when the last connection to a file closes
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE scratch (n INTEGER)")

        assert not file_changes_within(path, 10 * INTERVAL_S)
    finally:
        writer.close()


def test_the_thread_checkpoints_while_a_gevent_worker_computes(tmp_path):
    """In a gevent worker the patched `threading` makes greenlets: one could not run while the worker
    computes without yielding. The checkpoints must not wait for the worker, as they waited in a commit."""
    program = textwrap.dedent(
        f"""
        from gevent import monkey
        monkey.patch_all()
        import time
        from pathlib import Path
        from sqlalchemy import text
        from simulator.storage.db import open_database

        path = Path({str(tmp_path / "gevent.db")!r})
        database = open_database(f"sqlite:///{{path}}", checkpoint_in_background=True)
        time.sleep(1)  # gevent's: the schema's pages copied meanwhile
        before = path.stat().st_mtime_ns
        with database.write() as session:
            session.execute(text("CREATE TABLE scratch (n INTEGER)"))
        deadline = time.perf_counter() + {WAIT_S}
        while path.stat().st_mtime_ns == before and time.perf_counter() < deadline:
            pass  # computing: never yields to gevent's hub
        print("checkpointed" if path.stat().st_mtime_ns != before else "not checkpointed")
        database.dispose()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=WAIT_S + 30, check=False
    )

    assert (result.returncode, result.stdout.strip()) == (0, "checkpointed"), result.stderr
