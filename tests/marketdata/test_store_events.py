"""Event times in the store: the span a live loop repeats, and the next recorded event after a time (what
"advance to the next market event" steps to)."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest

from simulator.marketdata import store
from simulator.marketdata.records import Bbo, Depth, Kline, Trade, close_time
from simulator.marketdata.writer import StoreWriter, source_id

D = Decimal
MINUTE = 60_000
HOUR = 60 * MINUTE
T = 1_700_000_000_000  # on a minute


def write(database, *records, venue="binance", name="test"):
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, venue, name), venue)
        for record in records:
            writer.add(record)
        writer.flush()
    return writer.written


def bar(open_time, interval="1m", symbol="BTCUSDT", final=True):
    return Kline(
        symbol,
        interval,
        open_time,
        close_time(interval, open_time),
        D("100"),
        D("110"),
        D("90"),
        D("105"),
        D("2"),
        is_final=final,
    )


def depth(time, symbol="BTCUSDT"):
    return Depth(symbol, time, ((D("99"), D("1")),), ((D("101"), D("1")),))


def bbo(time, symbol="BTCUSDT"):
    return Bbo(symbol, time, D("99"), D("1"), D("101"), D("1"))


def trade(time, trade_id, symbol="BTCUSDT"):
    return Trade(symbol, time, D("100"), D("0.5"), False, trade_id)


def next_events(session, symbols, after, count):
    """The next `count` event times after `after`, stepping the way the admin's advance does."""
    times = []
    for _ in range(count):
        after = store.next_event_time(session, symbols, after)
        times.append(after)
        if after is None:
            break
    return times


# --- event_span ---------------------------------------------------------------------------------------


def test_an_empty_store_has_no_span_and_no_next_event(md_db):
    with md_db.read() as s:
        assert store.event_span(s) is None
        assert store.event_span(s, ["BTCUSDT"]) is None
        assert store.next_event_time(s, None, 0) is None
        assert store.next_event_time(s, ["BTCUSDT"], 0) is None


@pytest.mark.parametrize(
    ("record", "span"),
    [
        (depth(T + 5), (T + 5, T + 5)),
        (bbo(T + 6), (T + 6, T + 6)),
        (trade(T + 7, "1"), (T + 7, T + 7)),
        (bar(T), (T, T + MINUTE - 1)),  # a bar spans its open to its close
    ],
)
def test_span_of_each_kind_alone(md_db, record, span):
    write(md_db, record)
    with md_db.read() as s:
        assert store.event_span(s) == span
        assert store.event_span(s, ["BTCUSDT"]) == span


def test_span_is_the_first_and_last_time_over_every_kind(md_db):
    write(
        md_db,
        bbo(T + 30),
        depth(T + 10),
        depth(T + 50_000),
        trade(T + 20, "1"),
        trade(T + 70_000, "2"),
        bar(T),
        bar(T + MINUTE),  # closes at T + 2 minutes - 1: the last event
    )
    with md_db.read() as s:
        assert store.event_span(s) == (T, T + 2 * MINUTE - 1)


def test_span_starts_at_the_earliest_kind_even_when_it_is_not_a_bar(md_db):
    write(md_db, trade(T - 5, "1"), bar(T), depth(T + 3 * MINUTE))
    with md_db.read() as s:
        assert store.event_span(s) == (T - 5, T + 3 * MINUTE)


def test_span_covers_every_kline_interval(md_db):
    write(md_db, bar(T), bar(T, interval="1h"), bar(T - HOUR, interval="1h"))
    with md_db.read() as s:
        assert store.event_span(s) == (T - HOUR, T + HOUR - 1)


def test_span_of_chosen_symbols_ignores_the_others(md_db):
    write(
        md_db,
        trade(T, "1"),
        trade(T + 100, "2"),
        depth(T - 1_000, symbol="ETHUSDT"),
        bar(T + HOUR, symbol="ETHUSDT"),
        bbo(T + 10 * HOUR, symbol="SOLUSDT"),
    )
    with md_db.read() as s:
        assert store.event_span(s, ["BTCUSDT"]) == (T, T + 100)
        assert store.event_span(s, ["ETHUSDT"]) == (T - 1_000, T + HOUR + MINUTE - 1)
        assert store.event_span(s, ["BTCUSDT", "ETHUSDT"]) == (T - 1_000, T + HOUR + MINUTE - 1)
        assert store.event_span(s) == (T - 1_000, T + 10 * HOUR)
        assert store.event_span(s, ["XRPUSDT"]) is None
        assert store.event_span(s, []) is None


# --- next_event_time ----------------------------------------------------------------------------------


def test_next_event_is_strictly_after_the_given_time(md_db):
    write(md_db, trade(T, "1"), trade(T + 10, "2"))
    with md_db.read() as s:
        assert store.next_event_time(s, None, T - 1) == T
        assert store.next_event_time(s, None, T) == T + 10  # not T again: stepping moves on
        assert store.next_event_time(s, None, T + 10) is None


def test_next_event_is_the_earliest_of_every_kind(md_db):
    write(md_db, depth(T + 40), bbo(T + 30), trade(T + 20, "1"), bar(T))
    with md_db.read() as s:
        assert next_events(s, None, T - 1, 5) == [T + 20, T + 30, T + 40, T + MINUTE, None]


def test_a_bar_is_an_event_when_it_completes_not_when_it_opens(md_db):
    """A bar completes the millisecond after its close time (`Kline.completes_at`)."""
    write(md_db, bar(T), bar(T + MINUTE), bar(T + 3 * MINUTE))  # a gap at T + 2 minutes
    with md_db.read() as s:
        assert store.next_event_time(s, None, T - HOUR) == T + MINUTE
        assert store.next_event_time(s, None, T) == T + MINUTE  # the bar covering T completes later
        assert store.next_event_time(s, None, T + MINUTE - 1) == T + MINUTE  # its close: not complete yet
        assert store.next_event_time(s, None, T + MINUTE) == T + 2 * MINUTE
        assert store.next_event_time(s, None, T + 2 * MINUTE) == T + 4 * MINUTE  # over the gap
        assert store.next_event_time(s, None, T + 2 * MINUTE + 5) == T + 4 * MINUTE  # inside the gap
        assert store.next_event_time(s, None, T + 4 * MINUTE - 1) == T + 4 * MINUTE
        assert store.next_event_time(s, None, T + 4 * MINUTE) is None


def test_a_forming_bar_completes_like_any_other(md_db):
    write(md_db, bar(T, final=False))
    with md_db.read() as s:
        assert store.next_event_time(s, None, T + 5) == T + MINUTE


def test_bars_of_every_interval_and_month_bars_complete_on_their_own_times(md_db):
    month_open = 1_704_067_200_000  # 2024-01-01, a 31-day month
    write(md_db, bar(month_open, interval="1M"), bar(month_open, interval="1h"), bar(month_open + HOUR))
    with md_db.read() as s:
        assert next_events(s, None, month_open, 4) == [
            month_open + HOUR,
            month_open + HOUR + MINUTE,
            month_open + 31 * 24 * HOUR,
            None,
        ]
        # late in the month: the month bar opened long ago but still completes next
        assert store.next_event_time(s, None, month_open + 20 * 24 * HOUR) == month_open + 31 * 24 * HOUR


def test_next_event_of_chosen_symbols_ignores_the_others(md_db):
    write(
        md_db,
        trade(T + 10, "1", symbol="BTCUSDT"),
        depth(T + 5, symbol="ETHUSDT"),
        bbo(T + 7, symbol="SOLUSDT"),
        bar(T, symbol="XRPUSDT"),
    )
    with md_db.read() as s:
        assert store.next_event_time(s, ["BTCUSDT"], T) == T + 10
        assert store.next_event_time(s, ["BTCUSDT", "SOLUSDT"], T) == T + 7
        assert store.next_event_time(s, ["BTCUSDT", "BTCUSDT"], T) == T + 10
        assert store.next_event_time(s, ["XRPUSDT"], T) == T + MINUTE
        assert store.next_event_time(s, None, T) == T + 5
        assert store.next_event_time(s, ["DOGEUSDT"], T) is None
        assert store.next_event_time(s, [], T) is None


def test_events_within_one_millisecond_are_one_step(md_db):
    write(md_db, trade(T, "1"), trade(T, "2"), depth(T), bbo(T), trade(T + 1, "3"))
    with md_db.read() as s:
        assert next_events(s, None, T - 1, 3) == [T, T + 1, None]


def test_stepping_visits_every_recorded_time_in_order(md_db):
    symbols = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    records = []
    for i in range(60):
        symbol = symbols[i % 3]
        time = T + 37 * i * i % 5_000  # out of order, some repeated
        records += [trade(time, str(i), symbol=symbol), depth(time + 3, symbol=symbol)]
    records += [bbo(T + 9_999, symbol="ETHUSDT"), bar(T, symbol="SOLUSDT")]
    write(md_db, *records)
    expected = sorted({r.time for r in records if not isinstance(r, Kline)} | {T + MINUTE})
    with md_db.read() as s:
        assert next_events(s, None, T - 1, len(expected) + 1) == [*expected, None]
        first, last = store.event_span(s)
    assert (first, last) == (expected[0], T + MINUTE - 1)  # the span ends with the bar's close time


# --- the lookups seek, they do not scan ---------------------------------------------------------------


@contextmanager
def counted_sqlite_steps(session):
    """Counts SQLite virtual-machine steps (in thousands) the session's connection runs meanwhile."""
    raw = session.connection().connection.driver_connection
    steps = [0]

    def tick():
        steps[0] += 1
        return 0

    raw.set_progress_handler(tick, 1_000)
    try:
        yield steps
    finally:
        raw.set_progress_handler(None, 1_000)


def test_lookups_do_not_grow_with_the_size_of_the_recording(md_db):
    """Thousands of rows per table: one scan of one series runs tens of thousands of steps (a MIN(close_time)
    over these bars, 35,000), while all these seeks together run under a thousand."""
    rows = 20_000
    write(
        md_db,
        *(trade(T + i, str(i)) for i in range(rows)),
        *(bbo(T + i) for i in range(rows)),
        *(depth(T + i) for i in range(0, rows, 4)),
        *(bar(T + i * MINUTE) for i in range(rows // 4)),
        trade(T, "x", symbol="ETHUSDT"),
    )
    with md_db.read() as s, counted_sqlite_steps(s) as steps:
        assert store.next_event_time(s, None, T + rows // 2) == T + rows // 2 + 1
        assert store.next_event_time(s, ["BTCUSDT"], T + rows * MINUTE) is None
        assert store.event_span(s) == (T, T + rows // 4 * MINUTE - 1)
        assert store.event_span(s, ["ETHUSDT"]) == (T, T)
    assert steps[0] < 5  # under 5,000 steps in all
