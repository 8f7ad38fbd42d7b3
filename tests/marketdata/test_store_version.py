"""The store's version: every write moves it, and what the live clock derives from the whole recording (its
looped span) is found again after a write and only then."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import event

from simulator.domain.clock import MarketClock
from simulator.marketdata import store
from simulator.marketdata.records import Rows, Trade
from simulator.marketdata.writer import BATCH_ROWS, StoreWriter, source_id
from simulator.services import market
from simulator.settings import Settings
from simulator.storage.db import open_database

T0 = 1_700_000_000_000


def write(database, *records) -> None:
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "version"), "test")
        for record in records:
            writer.add(record)
        writer.flush()


def test_a_write_moves_the_version_and_an_empty_flush_does_not(tmp_path: Path):
    database = open_database(f"sqlite:///{tmp_path / 'v.db'}")
    with database.read() as session:
        assert store.version(session) == 0
    write(database, Trade("BTCUSDT", T0, D("1"), D("1"), True, "1"))
    write(database)
    with database.read() as session:
        assert store.version(session) == 1
    write(database, Trade("BTCUSDT", T0 + 1, D("1"), D("1"), True, "2"))
    with database.read() as session:
        assert store.version(session) == 2
    database.dispose()


def test_rows_written_as_they_came_or_as_a_full_batch_move_the_version(tmp_path: Path):
    """A CSV file's rows are written as they come and a full batch at once: nothing is left to flush, and
    the version must move all the same (a running server would keep what it derived from the old store)."""
    database = open_database(f"sqlite:///{tmp_path / 'v.db'}")
    write(database, Rows("trade", "BTCUSDT", [(T0, "1", "1", "1", 1)]))
    with database.read() as session:
        assert store.version(session) == 1
    write(database, *(Trade("BTCUSDT", T0 + n, D("1"), D("1"), True, str(n)) for n in range(BATCH_ROWS)))
    with database.read() as session:
        assert store.version(session) == 2
    database.dispose()


def test_the_live_loop_is_found_again_only_after_a_write(tmp_path: Path):
    database = open_database(f"sqlite:///{tmp_path / 'v.db'}")
    write(database, Trade("BTCUSDT", T0, D("1"), D("1"), True, "1"))
    live, settings = MarketClock.live(0), Settings()
    statements = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with database.read() as session:
        first = market.engine(session, settings, live).timeline
        statements.clear()
        assert market.engine(session, settings, live).timeline == first
        assert len(statements) == 1  # the version only
    write(database, Trade("BTCUSDT", T0 + 3 * 60_000, D("1"), D("1"), True, "2"))
    with database.read() as session:
        longer = market.engine(session, settings, live).timeline
    assert (first.period_ms, longer.period_ms) == (60_000, 4 * 60_000)
    database.dispose()
