"""Taken liquidity is one row a symbol (services.taken): what takers used from the snapshot they last took
from, its levels as text that any process reads back to the same amounts."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import select

from simulator.domain.matching.orders import OrderType, Side
from simulator.marketdata.records import Depth
from simulator.services import taken
from simulator.storage import tables
from simulator.storage.db import open_database
from tests.matching.test_engine_service import BOOK, T0, account, fills, place, record


def taken_rows(database) -> list[tuple[str, str, int, str]]:
    with database.read() as session:
        rows = session.execute(select(tables.TakenLiquidity))
        return [(r.symbol, r.source, r.snapshot_time, r.levels) for r in rows.scalars()]


def test_a_walk_is_one_row_for_the_symbol_added_to_by_later_orders_and_replaced_by_a_newer_snapshot(db):
    record(db, BOOK)
    buyer, seller = account(db, USDT="10000"), account(db, BTC="10")
    place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("1.5"))
    assert taken_rows(db) == [("BTCUSDT", "depth", T0, "SELL 101 1;SELL 102 0.5")]
    place(db, T0 + 20, buyer, Side.BUY, OrderType.MARKET, quantity=D("1"))
    place(db, T0 + 30, seller, Side.SELL, OrderType.MARKET, quantity=D("0.25"))
    # each walk appends its levels: 102 is listed twice and read as 1.5
    assert taken_rows(db) == [("BTCUSDT", "depth", T0, "SELL 101 1;SELL 102 0.5;SELL 102 1;BUY 100 0.25")]
    taken._DECODED.clear()  # as in another worker process
    assert taken.decode(taken_rows(db)[0][3]) == {
        (Side.SELL, D("101")): D("1"),
        (Side.SELL, D("102")): D("1.5"),
        (Side.BUY, D("100")): D("0.25"),
    }
    record(db, Depth("BTCUSDT", T0 + 1000, BOOK.bids, BOOK.asks))
    place(db, T0 + 1010, buyer, Side.BUY, OrderType.MARKET, quantity=D("1"))
    assert taken_rows(db) == [("BTCUSDT", "depth", T0 + 1000, "SELL 101 1")]


def test_a_process_that_never_decoded_the_row_reads_the_same_taken_levels(db):
    record(db, BOOK)
    buyer = account(db, USDT="10000")
    place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("1.5"))
    taken._DECODED.clear()  # as in another worker process
    second = place(db, T0 + 20, buyer, Side.BUY, OrderType.MARKET, quantity=D("2"))
    assert [(f.price, f.qty) for f in fills(db, second.order_id)] == [
        (D("102"), D("1.5")),
        (D("103"), D("0.5")),
    ]


def test_levels_text_round_trips_exact_decimals():
    levels = {
        (Side.SELL, D("60000.10")): D("0.00100"),
        (Side.BUY, D("1E-8")): D("12345678.9"),
        (Side.BUY, D("59999.99")): D("1E+2"),
    }
    text = taken.encode(levels)
    assert text == "SELL 60000.10 0.00100;BUY 0.00000001 12345678.9;BUY 59999.99 100"
    taken._DECODED.clear()
    assert taken.decode(text) == levels
    assert taken.decode("") == {}


def test_opening_a_database_drops_the_retired_per_level_table(tmp_path: Path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE md_taken (symbol TEXT, price TEXT, qty TEXT)")
    open_database(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as connection:
        names = {
            name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert "md_taken" not in names and "taken_liquidity" in names
