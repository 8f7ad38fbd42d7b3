"""A symbol's events in the order the engine applies them, and the last complete bar."""

from __future__ import annotations

from decimal import Decimal as D

from simulator.marketdata import store
from simulator.marketdata.events import RANK_BAR, RANK_BBO, RANK_DEPTH, RANK_TRADE, events_between
from simulator.marketdata.records import Bbo, Depth, Kline, Trade
from simulator.marketdata.writer import StoreWriter, source_id

T0 = 1_700_000_040_000  # a minute boundary
ONE = D(1)


def write(database, *records):
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "events"), "test")
        for r in records:
            writer.add(r)
        writer.flush()


def bar(open_time, final=True):
    return Kline("BTCUSDT", "1m", open_time, open_time + 59_999, ONE, ONE, ONE, ONE, ONE, is_final=final)


def test_events_come_in_time_order_with_the_book_before_the_trades_and_bars_as_they_complete(md_db):
    close = T0 + 59_999  # the first bar's last millisecond
    at = T0 + 70_000  # inside the second bar, which closes after the window
    write(
        md_db,
        Bbo("BTCUSDT", close, ONE, ONE, D(2), ONE),  # a best bid/offer is not a finer record of the bar
        bar(T0),
        Trade("BTCUSDT", at, ONE, ONE, True, "2"),
        Trade("BTCUSDT", at, ONE, ONE, True, "1"),
        Bbo("BTCUSDT", at, ONE, ONE, D(2), ONE),
        Depth("BTCUSDT", at, ((ONE, ONE),), ((D(2), ONE),)),
        bar(T0 + 60_000),
        Trade("BTCUSDT", T0 + 60_010, ONE, ONE, True, "0"),
        Trade("ETHUSDT", T0 + 20, ONE, ONE, True, "9"),
    )
    with md_db.read() as s:
        events = events_between(s, "BTCUSDT", T0, T0 + 100_000, "1m")
        after = events_between(s, "BTCUSDT", at, T0 + 100_000, "1m")
    assert [(e.time, e.rank) for e in events] == [
        (close, RANK_BBO),
        (close + 1, RANK_BAR),  # complete the millisecond after its close
        (T0 + 60_010, RANK_TRADE),
        (at, RANK_DEPTH),
        (at, RANK_BBO),
        (at, RANK_TRADE),
        (at, RANK_TRADE),
    ]
    assert [e.record.trade_id for e in events if e.rank == RANK_TRADE] == ["0", "1", "2"]
    assert after == []


def test_a_bar_over_which_trades_or_depth_were_recorded_is_no_event(md_db):
    """The prints (or snapshots) of its span fill resting orders themselves; the bar, their sum, would fill
    them again on the same volume."""
    write(
        md_db,
        bar(T0),  # a trade at its first millisecond
        Trade("BTCUSDT", T0, ONE, ONE, True, "1"),
        bar(T0 + 60_000),  # a snapshot at its last
        Depth("BTCUSDT", T0 + 119_999, ((ONE, ONE),), ((D(2), ONE),)),
        bar(T0 + 120_000),  # nothing finer: a bars-only stretch
        Trade("ETHUSDT", T0 + 120_500, ONE, ONE, True, "2"),  # another symbol's print does not count
        Trade("BTCUSDT", T0 + 180_000, ONE, ONE, True, "3"),  # nor one a millisecond after its close
    )
    with md_db.read() as s:
        events = events_between(s, "BTCUSDT", T0 - 1, T0 + 200_000, "1m")
    assert [(e.time, e.rank) for e in events if e.rank == RANK_BAR] == [(T0 + 180_000, RANK_BAR)]


def test_a_bar_is_an_event_the_millisecond_after_its_close_not_at_it(md_db):
    """At its close time a bar is still forming (a trade then is inside it), and klines do not show it:
    the engine uses it from the next millisecond, as they do."""
    write(md_db, bar(T0))
    with md_db.read() as s:
        up_to_its_close = events_between(s, "BTCUSDT", T0 - 1, T0 + 59_999, "1m")
        completing = events_between(s, "BTCUSDT", T0 + 59_999, T0 + 60_000, "1m")
        after = events_between(s, "BTCUSDT", T0 + 60_000, T0 + 200_000, "1m")
    assert up_to_its_close == [] and after == []
    assert [(e.time, e.rank, e.record.open_time) for e in completing] == [(T0 + 60_000, RANK_BAR, T0)]


def test_the_last_complete_bar_is_the_newest_that_closed_never_one_still_forming(md_db):
    """A bar completes at its close time; one its source did not mark final (the recording ended before it
    did) completes too, as klines show it."""
    write(md_db, bar(T0), bar(T0 + 60_000, final=False))
    with md_db.read() as s:
        assert store.last_complete_bar(s, "BTCUSDT", "1m", T0 + 59_999) is None  # its last ms: not yet
        assert store.last_complete_bar(s, "BTCUSDT", "1m", T0 + 60_000).open_time == T0
        assert store.last_complete_bar(s, "BTCUSDT", "1m", T0 + 119_999).open_time == T0  # the next forms
        assert store.last_complete_bar(s, "BTCUSDT", "1m", T0 + 120_000).open_time == T0 + 60_000
        assert store.last_complete_bar(s, "BTCUSDT", "1m", T0 + 200_000).open_time == T0 + 60_000


def test_a_bar_not_marked_final_fills_resting_orders_once_it_is_complete(md_db):
    write(md_db, bar(T0, final=False))
    with md_db.read() as s:
        events = events_between(s, "BTCUSDT", T0 - 1, T0 + 200_000, "1m")
    assert [(e.time, e.rank) for e in events] == [(T0 + 60_000, RANK_BAR)]
