"""The engine on real recorded data (Binance BTCUSDT spot, 2024-08-08, hftbacktest's capture), and the market
clock: stepping to the next event, and live mode playing a recording shifted to now and looped."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import event, select

from simulator.domain.clock import MarketClock
from simulator.domain.matching.orders import OrderStatus, OrderType, Side, TimeInForce
from simulator.domain.timeline import Timeline
from simulator.marketdata import store
from simulator.marketdata.importer import ImportOptions, run_import
from simulator.marketdata.records import Depth, Kline, Trade
from simulator.marketdata.symbols import SymbolMap
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import market, trading
from simulator.services.accounts import NewAccount, create_account
from simulator.services.clock import read_clock, write_clock
from simulator.settings import Settings
from simulator.storage import tables
from simulator.storage.db import Database, open_database
from simulator.storage.seed import ensure_seeded

from ..marketdata.conftest import DEFAULT_SYMBOL_MAP, real_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
RECORDING = "binance/hftbacktest_spot_BTCUSDT_2024-08-08_combined_stream_part1of3.jsonl"


def account(database: Database, **balances: str) -> str:
    with database.write() as session:
        user = create_account(session, NewAccount(balances={k: D(v) for k, v in balances.items()}), 0)
        return user.accounts[0].id


REPLAY = trading.Engine()


def place(database: Database, at: int, new: trading.NewOrder, engine: trading.Engine = REPLAY):
    with database.write() as session:
        return trading.place_order(session, new, at, engine)


def order_fills(database: Database, order_id: str) -> list[tables.Fill]:
    with database.read() as session:
        query = select(tables.Fill).where(tables.Fill.order_id == order_id).order_by(tables.Fill.id)
        return list(session.scalars(query))


@pytest.fixture
def recorded(db: Database) -> Database:
    run_import(
        db, "binance", [real_file(RECORDING)], ImportOptions(symbol_map=SymbolMap.load(DEFAULT_SYMBOL_MAP))
    )
    return db


def test_a_market_order_pays_the_average_price_of_the_recorded_book_it_walked(recorded):
    with recorded.read() as session:
        (span,) = [c for c in store.coverage(session, "BTCUSDT") if c.kind == "depth"]
        at = span.first + 30_000
        book = store.depth_at(session, "BTCUSDT", at)
    quantity = book.asks[0][1] + D("0.5")  # more than the best ask holds
    expected, left = D(0), quantity
    for price, size in book.asks:
        used = min(size, left)
        expected, left = expected + used * price, left - used
        if not left:
            break
    buyer = account(recorded, USDT="1000000")
    order = place(
        recorded,
        at,
        trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.MARKET, TimeInForce.IOC, quantity=quantity),
    )
    assert order.status is OrderStatus.FILLED
    assert order.executed_quote == expected
    assert order.executed_quote / order.executed_qty > book.asks[0][0]  # it walked past the best ask
    assert sum(1 for _ in order_fills(recorded, order.order_id)) > 1


def test_a_bid_below_the_market_fills_only_once_trades_print_through_it(recorded):
    with recorded.read() as session:
        (span,) = [c for c in store.coverage(session, "BTCUSDT") if c.kind == "trade"]
        start = span.first + 10_000
        tape = store.trades_between(session, "BTCUSDT", start, span.last)
        best_bid = store.depth_at(session, "BTCUSDT", start).bids[0][0]
    low = min(t.price for t in tape)
    limit = (best_bid + low) / 2  # below the market at the start, and traded through later
    limit = limit.quantize(D("0.01"))
    first_through = next(t for t in tape if t.price < limit)
    buyer = account(recorded, USDT="1000000")
    order = place(
        recorded,
        start,
        trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.LIMIT, price=limit, quantity=D("0.01")),
    )
    assert order.status is OrderStatus.NEW
    with recorded.write() as session:
        trading.advance_symbol(session, "BTCUSDT", first_through.time - 1, trading.Engine())
    assert order_fills(recorded, order.order_id) == []
    with recorded.write() as session:
        trading.advance_symbol(session, "BTCUSDT", span.last, trading.Engine())
    got = order_fills(recorded, order.order_id)
    assert got and got[0].time == first_through.time
    assert {f.price for f in got} == {limit}
    assert sum(f.qty for f in got) <= D("0.01")


def clock_db(tmp_path: Path, *records) -> tuple[Database, Settings]:
    settings = Settings(db=f"sqlite:///{tmp_path / 'clock.db'}")
    database = open_database(settings.db)
    ensure_seeded(database, FIXTURES, 0)
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "clock"), "test")
        for r in records:
            writer.add(r)
        writer.flush()
    return database, settings


T0 = 1_700_000_000_000
BOOK = Depth("BTCUSDT", T0, ((D("100"), D("5")),), ((D("101"), D("5")),))


def test_step_mode_moves_to_the_next_market_event_and_applies_it(tmp_path):
    trade = Trade("BTCUSDT", T0 + 5_000, D("99"), D("1"), True, "1")
    database, settings = clock_db(tmp_path, BOOK, trade)
    with database.write() as session:
        write_clock(session, MarketClock.replay(T0 + 10, D(0), 0))
    buyer = account(database, USDT="1000")
    order = place(
        database,
        T0 + 10,
        trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.LIMIT, price=D("99.5"), quantity=D("1")),
    )
    clock = market.step_clock(database, settings, transport_now_ms=0)
    assert clock.now_ms(0) == T0 + 5_000
    assert [(f.price, f.qty, f.time) for f in order_fills(database, order.order_id)] == [
        (D("99.5"), D("1"), T0 + 5_000)
    ]
    assert market.step_clock(database, settings, 0).now_ms(0) == T0 + 5_000  # nothing after: it stays
    assert market.step_clock(database, settings, 0, advance_ms=250).now_ms(0) == T0 + 5_250


def test_a_print_and_the_bar_that_sums_it_fill_a_resting_order_once(tmp_path):
    """A recording with trades and minute bars of one symbol (a Binance combined stream of trade and
    kline_1m): the print fills the bid; the bar over it (the same volume) fills nothing more. The next
    bar, with no print under it, fills as a bars-only recording does."""
    minute = T0 - T0 % 60_000 + 60_000
    price = D("99")
    records = [
        BOOK,
        Trade("BTCUSDT", minute + 30_000, price, D("0.3"), True, "1"),
        Kline("BTCUSDT", "1m", minute, minute + 59_999, price, price, price, price, D("0.3")),
        Kline("BTCUSDT", "1m", minute + 60_000, minute + 119_999, price, price, price, price, D("10")),
    ]
    database, _ = clock_db(tmp_path, *records)
    buyer = account(database, USDT="1000")
    bid = trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.LIMIT, price=D("99.5"), quantity=D("2"))
    order = place(database, T0 + 10, bid)

    with database.write() as session:
        trading.advance_symbol(session, "BTCUSDT", minute + 120_000, REPLAY)

    assert [(f.qty, f.time) for f in order_fills(database, order.order_id)] == [
        (D("0.3"), minute + 30_000),  # the print
        (D("1"), minute + 120_000),  # the bars-only minute as it completes: its share of 10 (0.1 of it)
    ]


def test_a_catch_up_across_months_without_records_reads_no_empty_minutes(tmp_path):
    """Two recordings of a symbol 200 days apart, a bid resting between them: the catch-up reaches the
    second recording's print in a few queries rather than one set per empty minute (288,000 windows)."""
    later = T0 + 200 * 86_400_000
    database, _ = clock_db(tmp_path, BOOK, Trade("BTCUSDT", later, D("99"), D("1"), True, "later"))
    buyer = account(database, USDT="1000")
    bid = trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.LIMIT, price=D("99.5"), quantity=D("1"))
    order = place(database, T0 + 10, bid)
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    with database.write() as session:
        trading.advance_symbol(session, "BTCUSDT", later + 1, REPLAY)

    assert [(f.qty, f.time) for f in order_fills(database, order.order_id)] == [(D("1"), later)]
    assert len(statements) < 100


def test_live_mode_replays_the_recording_shifted_and_looped(tmp_path):
    trade = Trade("BTCUSDT", T0 + 30_000, D("99"), D("1"), True, "1")
    database, settings = clock_db(tmp_path, BOOK, trade)
    with database.read() as session:
        engine = market.engine(session, settings, MarketClock.live(0))
    assert engine.timeline == Timeline.looped(T0, T0 + 30_000)
    loop = engine.timeline.period_ms
    now = T0 + 7 * loop + 10  # a week of loops later: the book of the recording's start
    buyer = account(database, USDT="1000")
    order = place(
        database,
        now,
        trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.LIMIT, price=D("99.5"), quantity=D("1")),
        engine,
    )
    assert order.status is OrderStatus.NEW
    with database.write() as session:
        trading.advance_symbol(session, "BTCUSDT", now + loop, engine)
    (fill,) = order_fills(database, order.order_id)
    assert fill.time == T0 + 7 * loop + 30_000  # the recorded trade, at its time in this loop
    with database.read() as session:
        assert read_clock(session) is not None


def test_in_live_mode_the_bar_closing_a_loop_fills_as_the_next_loop_starts(tmp_path):
    """Bars alone, a whole number of minutes: the last bar closes on the loop's last millisecond and
    completes on the next loop's first, a recording time no loop holds. It fills then, once."""
    flat = Kline("BTCUSDT", "1m", T0, T0 + 59_999, D("100"), D("100"), D("100"), D("100"), D("10"))
    dip = Kline("BTCUSDT", "1m", T0 + 60_000, T0 + 119_999, D("100"), D("100"), D("98"), D("99"), D("10"))
    database, settings = clock_db(tmp_path, flat, dip)
    with database.read() as session:
        engine = market.engine(session, settings, MarketClock.live(0))
    loop = engine.timeline.period_ms
    assert loop == 120_000
    start = T0 + 7 * loop
    buyer = account(database, USDT="1000")
    bid = trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.LIMIT, price=D("98.5"), quantity=D("0.5"))
    order = place(database, start + 10, bid, engine)  # before the dip opens at start + 60 s
    assert order.status is OrderStatus.NEW

    with database.write() as session:
        trading.advance_symbol(session, "BTCUSDT", start + loop - 1, engine)  # the dip's close: forming
    assert order_fills(database, order.order_id) == []
    with database.write() as session:
        trading.advance_symbol(session, "BTCUSDT", start + 3 * loop, engine)

    assert [(f.price, f.qty, f.time) for f in order_fills(database, order.order_id)] == [
        (D("98.5"), D("0.5"), start + loop)
    ]


def test_in_live_mode_a_loop_begins_with_the_book_the_last_one_left(tmp_path):
    """The recording's first snapshot is 2 s in. A second into a loop, the book is the snapshot the loop
    before ended with, a loop back in market time (it is 3 s old, fresh)."""
    last = Depth("BTCUSDT", T0 + 58_000, ((D("104"), D("1")),), ((D("105"), D("1")),))  # 3 s before
    end = Trade("BTCUSDT", T0 + 59_999, D("99"), D("1"), True, "2")  # a loop of one minute
    start = Trade("BTCUSDT", T0, D("99"), D("1"), True, "1")
    database, settings = clock_db(tmp_path, start, replace(BOOK, time=T0 + 2_000), last, end)
    with database.read() as session:
        engine = market.engine(session, settings, MarketClock.live(0))
    loop = engine.timeline.period_ms
    now = T0 + 7 * loop + 1_000

    with database.read() as session:
        book = trading.book_at(session, "BTCUSDT", now, engine)

    assert (book.time, book.bids, book.asks) == (last.time + 6 * loop, last.bids, last.asks)


def test_in_live_mode_what_a_snapshot_filled_of_a_resting_order_is_gone_from_that_snapshot(tmp_path):
    """A snapshot whose ask crosses a resting bid fills it (at its limit) from that ask. A week of loops
    later (the recording shifted to now), the snapshot still in force shows the ask less what the bid took,
    and a taker gets only that."""
    crossing = Depth("BTCUSDT", T0 + 1_000, ((D("100"), D("5")),), ((D("100.5"), D("2")),))
    database, settings = clock_db(
        tmp_path, BOOK, crossing, Trade("BTCUSDT", T0 + 30_000, D("99"), D("1"), True, "1")
    )
    with database.read() as session:
        engine = market.engine(session, settings, MarketClock.live(0))
    now = T0 + 7 * engine.timeline.period_ms + 10
    buyer = account(database, USDT="1000")
    bid = trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.LIMIT, price=D("100.8"), quantity=D("0.5"))
    order = place(database, now, bid, engine)
    taker = trading.NewOrder(buyer, "BTCUSDT", Side.BUY, OrderType.MARKET, TimeInForce.IOC, quantity=D("2"))

    taken = place(database, now + 1_000, taker, engine)

    assert [(f.price, f.qty) for f in order_fills(database, order.order_id)] == [(D("100.8"), D("0.5"))]
    assert [(f.price, f.qty) for f in order_fills(database, taken.order_id)] == [(D("100.5"), D("1.5"))]


def test_the_clock_steps_taken_do_not_change_the_fills(tmp_path):
    """One step of 20 s or twenty of 1 s: the same fills at the same times, on two symbols whose recorded
    prints alternate (a step applies the recording a symbol after the other; only the fills' ids may come
    in another order)."""
    books = (BOOK, Depth("ETHUSDT", T0, ((D("2000"), D("5")),), ((D("2001"), D("5")),)))
    prints = (
        Trade("ETHUSDT", T0 + 2_000, D("1990"), D("0.4"), True, "1"),
        Trade("BTCUSDT", T0 + 5_000, D("99"), D("0.4"), True, "2"),
        Trade("ETHUSDT", T0 + 8_000, D("1990"), D("0.4"), True, "3"),
        Trade("BTCUSDT", T0 + 15_000, D("99"), D("0.4"), True, "4"),
    )

    def fills_after(steps: int) -> tuple[list[tuple], list[tuple]]:
        folder = tmp_path / f"{steps}_steps"
        folder.mkdir()
        database, settings = clock_db(folder, *books, *prints)
        with database.write() as session:
            write_clock(session, MarketClock.replay(T0 + 10, D(0), 0))
        buyer = account(database, USDT="100000")
        for symbol, price in (("BTCUSDT", "99.5"), ("ETHUSDT", "1995")):
            new = trading.NewOrder(buyer, symbol, Side.BUY, OrderType.LIMIT, price=D(price), quantity=D("1"))
            place(database, T0 + 10, new)
        for _ in range(steps):
            market.step_clock(database, settings, 0, advance_ms=20_000 // steps)
        with database.read() as session:
            fills = session.scalars(select(tables.Fill))
            balances = session.scalars(select(tables.Balance).where(tables.Balance.account_id == buyer))
            found = (
                sorted((f.symbol, f.price, f.qty, f.time, f.fee_amount) for f in fills),
                sorted((b.asset, b.free, b.locked) for b in balances),
            )
        database.dispose()
        return found

    in_one = fills_after(1)
    assert [(symbol, time - T0) for symbol, _, _, time, _ in in_one[0]] == [
        ("BTCUSDT", 5_000),
        ("BTCUSDT", 15_000),
        ("ETHUSDT", 2_000),
        ("ETHUSDT", 8_000),
    ]
    assert fills_after(20) == in_one
