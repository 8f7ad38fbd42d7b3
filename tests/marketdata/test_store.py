"""The store: the writer's upsert rules and the queries matching will use."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.marketdata import store
from simulator.marketdata.records import Bbo, Depth, Kline, Trade, close_time
from simulator.marketdata.writer import StoreWriter, source_id

D = Decimal
MINUTE = 60_000


def write(database, *records, venue="binance", name="test"):
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, venue, name), venue)
        for record in records:
            writer.add(record)
        writer.flush()
    return writer.written


def bar(open_time, close="100", final=True, interval="1m", symbol="BTCUSDT"):
    return Kline(
        symbol,
        interval,
        open_time,
        close_time(interval, open_time),
        D("100"),
        D("110"),
        D("90"),
        D(close),
        D("2"),
        is_final=final,
    )


def depth(time, bid="99", ask="101", symbol="BTCUSDT"):
    return Depth(symbol, time, ((D(bid), D("1")), (D("98"), D("2"))), ((D(ask), D("1.5")),))


def trade(time, trade_id, price="100"):
    return Trade("BTCUSDT", time, D(price), D("0.5"), False, trade_id)


def test_depth_at_is_the_latest_snapshot_at_or_before_t(md_db):
    write(md_db, depth(1000, bid="1"), depth(2000, bid="2"), depth(3000, bid="3"))
    with md_db.read() as s:
        assert store.depth_at(s, "BTCUSDT", 999) is None
        assert store.depth_at(s, "BTCUSDT", 1000).bids[0] == (D("1"), D("1"))
        assert store.depth_at(s, "BTCUSDT", 2999).bids[0][0] == D("2")
        found = store.depth_at(s, "BTCUSDT", 10**13)
        assert found == depth(3000, bid="3")
        assert store.depth_at(s, "ETHUSDT", 10**13) is None


def test_bbo_at(md_db):
    write(md_db, Bbo("BTCUSDT", 5, D("1.10"), D("2"), D("1.20"), D("3")))
    with md_db.read() as s:
        assert store.bbo_at(s, "BTCUSDT", 4) is None
        assert store.bbo_at(s, "BTCUSDT", 5) == Bbo("BTCUSDT", 5, D("1.10"), D("2"), D("1.20"), D("3"))


def test_trades_between_is_half_open_and_ordered_by_time_then_id(md_db):
    write(md_db, trade(1000, "3"), trade(1000, "1"), trade(2000, "4"), trade(3000, "5"))
    with md_db.read() as s:
        assert [t.trade_id for t in store.trades_between(s, "BTCUSDT", 1000, 3000)] == ["4", "5"]
        assert [t.trade_id for t in store.trades_between(s, "BTCUSDT", 999, 2000)] == ["1", "3", "4"]
        assert [t.trade_id for t in store.trades_between(s, "BTCUSDT", 0, 10**13, limit=2)] == ["1", "3"]
        assert store.trades_between(s, "BTCUSDT", 3000, 4000) == []


def test_values_stay_exact(md_db):
    write(md_db, Trade("BTCUSDT", 1, D("1e-05"), D("0.00000001"), None, "x"), trade(2, "y", "61737.63000000"))
    with md_db.read() as s:
        first, second = store.trades_between(s, "BTCUSDT", 0, 10)
    assert (first.price, first.qty, first.buyer_is_maker) == (D("0.00001"), D("0.00000001"), None)
    assert str(second.price) == "61737.63000000"


def test_klines_range_and_kline_at(md_db):
    write(md_db, bar(0), bar(MINUTE), bar(3 * MINUTE), bar(0, interval="1h"))
    with md_db.read() as s:
        assert [k.open_time for k in store.klines(s, "BTCUSDT", "1m", -1, 3 * MINUTE)] == [
            0,
            MINUTE,
            3 * MINUTE,
        ]
        assert [k.open_time for k in store.klines(s, "BTCUSDT", "1m", 0, 10 * MINUTE)] == [MINUTE, 3 * MINUTE]
        first_two = store.klines(s, "BTCUSDT", "1m", -1, 10 * MINUTE, limit=2)
        assert [k.open_time for k in first_two] == [0, MINUTE]
        # the first and last open times of the same (t0, t1] spans, two index seeks
        assert store.kline_open_times(s, "BTCUSDT", "1m", -1, 3 * MINUTE) == (0, 3 * MINUTE)
        assert store.kline_open_times(s, "BTCUSDT", "1m", 0, 10 * MINUTE) == (MINUTE, 3 * MINUTE)
        assert store.kline_open_times(s, "BTCUSDT", "1m", 3 * MINUTE, 10 * MINUTE) is None
        assert store.kline_at(s, "BTCUSDT", "1m", MINUTE + 59_999).open_time == MINUTE
        assert store.kline_at(s, "BTCUSDT", "1m", 2 * MINUTE) is None  # a gap in the data
        assert store.kline_at(s, "BTCUSDT", "1h", 59 * MINUTE).interval == "1h"
        assert store.kline_at(s, "BTCUSDT", "1m", -1) is None


def test_final_bar_is_never_replaced_but_a_forming_one_is(md_db):
    write(md_db, bar(0, close="101", final=False))
    assert write(md_db, bar(0, close="102", final=False))[("kline 1m", "BTCUSDT")] == 1
    assert write(md_db, bar(0, close="103", final=True))[("kline 1m", "BTCUSDT")] == 1
    assert write(md_db, bar(0, close="104", final=False))[("kline 1m", "BTCUSDT")] == 0
    with md_db.read() as s:
        stored = store.kline_at(s, "BTCUSDT", "1m", 0)
    assert (stored.close, stored.is_final) == (D("103"), True)


def test_writing_the_same_records_twice_adds_nothing(md_db):
    records = [bar(0), depth(1), trade(1, "1"), Bbo("BTCUSDT", 1, D(1), D(1), D(2), D(2))]
    first = write(md_db, *records)
    second = write(md_db, *records)
    assert sum(first.values()) == 4
    assert sum(second.values()) == 0
    with md_db.read() as s:
        assert [c.count for c in store.coverage(s)] == [1, 1, 1, 1]


def test_last_depth_within_a_millisecond_wins(md_db):
    write(md_db, depth(7, bid="1"), depth(7, bid="2"))
    with md_db.read() as s:
        assert store.depth_at(s, "BTCUSDT", 7).bids[0][0] == D("2")
        assert store.coverage(s)[0].count == 1


def test_a_trade_id_is_unique_per_venue(md_db):
    write(md_db, trade(1, "1"), venue="binance")
    write(md_db, trade(1, "1"), venue="kucoin")
    with md_db.read() as s:
        assert len(store.trades_between(s, "BTCUSDT", 0, 2)) == 2


def test_coverage_per_symbol_kind_and_interval(md_db):
    write(
        md_db,
        bar(0),
        bar(MINUTE),
        bar(0, interval="5m"),
        depth(5),
        depth(9),
        trade(3, "a"),
        depth(4, symbol="ETHUSDT"),
    )
    with md_db.read() as s:
        rows = [(c.symbol, c.kind, c.interval, c.count, c.first, c.last) for c in store.coverage(s)]
        assert rows == [
            ("BTCUSDT", "depth", None, 2, 5, 9),
            ("BTCUSDT", "kline", "1m", 2, 0, MINUTE),
            ("BTCUSDT", "kline", "5m", 1, 0, 0),
            ("BTCUSDT", "trade", None, 1, 3, 3),
            ("ETHUSDT", "depth", None, 1, 4, 4),
        ]
        assert [c.symbol for c in store.coverage(s, "ETHUSDT")] == ["ETHUSDT"]
        assert store.coverage(s, "BTCUSDT") == store.coverage(s)[:4]  # its bars of every interval too


@pytest.mark.parametrize(
    ("interval", "open_time", "expected"),
    [("1m", 0, 59_999), ("1d", 0, 86_399_999), ("1M", 1_735_689_600_000, 1_738_367_999_999)],
)
def test_close_time(interval, open_time, expected):
    assert close_time(interval, open_time) == expected


def test_states_within_one_millisecond_collapse_before_writing_so_a_reimport_changes_nothing(md_db):
    states = [depth(7, bid="1"), depth(7, bid="2"), Bbo("BTCUSDT", 7, D(1), D(1), D(3), D(1))]
    states.append(Bbo("BTCUSDT", 7, D(2), D(1), D(3), D(1)))
    assert sum(write(md_db, *states).values()) == 2
    assert sum(write(md_db, *states).values()) == 0
    with md_db.read() as s:
        assert store.bbo_at(s, "BTCUSDT", 7).bid_price == D(2)
