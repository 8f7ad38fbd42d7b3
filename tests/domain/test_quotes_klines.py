"""Kline intervals on the UTC calendar, the choice of the stored series that answers an interval, and the
roll-up of bars into longer ones."""

from __future__ import annotations

import calendar
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.domain import quotes
from simulator.marketdata.records import Kline, Trade

MINUTE = 60_000
T = 1_637_971_200_000  # 2021-11-27 00:00 UTC, a Saturday
DAY = 86_400_000


def utc(*fields: int) -> int:
    return calendar.timegm((*fields, 0, 0, 0)[:6]) * 1000


def minute_bar(open_time: int, o: str, h: str, low: str, c: str, volume: str = "1", **extra: object) -> Kline:
    return Kline(
        "BTCUSDT", "1m", open_time, open_time + MINUTE - 1, D(o), D(h), D(low), D(c), D(volume), **extra
    )


@pytest.mark.parametrize(
    ("interval", "t", "opened"),
    [
        ("1m", T + 59_999, T),
        ("5m", T + 7 * MINUTE, T + 5 * MINUTE),
        ("1h", T + 61 * MINUTE, T + 60 * MINUTE),
        ("1d", T + 1, T),
        ("1w", T, utc(2021, 11, 22)),  # weeks open on Monday
        ("1w", utc(2021, 11, 22), utc(2021, 11, 22)),
        ("1w", utc(2021, 11, 21, 23, 59), utc(2021, 11, 15)),
        ("1M", T, utc(2021, 11, 1)),
        ("1M", utc(2021, 12, 31, 23, 59), utc(2021, 12, 1)),
    ],
)
def test_bucket_open(interval: str, t: int, opened: int) -> None:
    assert quotes.bucket_open(interval, t) == opened


@pytest.mark.parametrize(
    ("interval", "opened", "following"),
    [
        ("1h", T, T + 60 * MINUTE),
        ("1M", utc(2021, 12, 1), utc(2022, 1, 1)),
        ("1M", utc(2024, 1, 1), utc(2024, 2, 1)),
    ],
)
def test_next_open(interval: str, opened: int, following: int) -> None:
    assert quotes.next_open(interval, opened) == following


@pytest.mark.parametrize(
    ("interval", "back", "opened"),
    [
        ("1m", 3, T - 3 * MINUTE),
        ("1M", 1, utc(2021, 10, 1)),
        ("1M", 11, utc(2020, 12, 1)),
        ("1M", 0, utc(2021, 11, 1)),
    ],
)
def test_previous_open(interval: str, back: int, opened: int) -> None:
    start = quotes.bucket_open(interval, T)

    assert quotes.previous_open(interval, start, back) == opened


@pytest.mark.parametrize(
    ("interval", "ahead", "opened"),
    [
        ("1m", 3, T + 3 * MINUTE),
        ("1M", 2, utc(2022, 1, 1)),
        ("1M", 14, utc(2023, 1, 1)),
        ("1w", 0, utc(2021, 11, 22)),
    ],
)
def test_open_ahead(interval: str, ahead: int, opened: int) -> None:
    assert quotes.open_ahead(interval, quotes.bucket_open(interval, T), ahead) == opened


@pytest.mark.parametrize(("start", "first"), [(T, T), (T + 1, T + 5 * MINUTE), (T - 1, T)])
def test_first_open_from_is_the_first_bar_opening_at_or_after_start(start: int, first: int) -> None:
    assert quotes.first_open_from("5m", start) == first


def spans(*intervals: str, first: int = T, end: int = T + 30 * DAY) -> list[quotes.Series]:
    """Series of `intervals` over the same stretch."""
    return [quotes.Series(interval, first, end) for interval in intervals]


@pytest.mark.parametrize(
    ("target", "stored", "aligned", "source"),
    [
        ("5m", spans("1m", "5m"), True, "5m"),  # stored: served as stored
        ("5m", spans("1m", "5m"), False, "1m"),  # a live loop would move its bars off the 5m grid
        ("15m", spans("1m", "5m"), True, "1m"),  # not stored: the finest series that tiles it
        ("15m", spans("1s", "1m"), True, "1s"),
        ("1w", spans("3d", "1d", "1h"), True, "1h"),
        ("1w", spans("3d"), True, None),  # three days do not tile a week
        ("1M", spans("1d", "1h"), True, "1h"),
        ("1M", spans("1w"), True, None),  # weeks do not tile a month
        ("3m", spans("5m"), True, None),  # nothing finer
        ("1h", [], True, None),
        # three days of seconds beside the thirty days of minutes: the minutes, or the history is cut short
        ("1h", [*spans("1s", first=T + 27 * DAY), *spans("1m")], True, "1m"),
    ],
)
def test_source_interval(target: str, stored: list[quotes.Series], aligned: bool, source: str | None) -> None:
    chosen = quotes.source_series(target, stored, aligned, (T, T + 30 * DAY))
    assert (chosen and chosen.interval) == source


@pytest.mark.parametrize(
    ("window", "source"),
    [
        ((T, T + 30 * DAY), "1m"),  # the hours span only the last ten days of it
        ((T + 25 * DAY, T + 30 * DAY), "1h"),  # both span it: the series as stored
        ((T + 25 * DAY, T + 40 * DAY), "1h"),  # both span as much of it
        ((T - 9 * DAY, T + 15 * DAY), "1m"),  # the hours none of it
    ],
)
def test_the_series_spanning_more_of_the_window_answers(window: tuple[int, int], source: str) -> None:
    stored = [*spans("1m"), *spans("1h", first=T + 20 * DAY)]
    chosen = quotes.source_series("1h", stored, True, window)
    assert chosen is not None and chosen.interval == source


def test_aggregate_rolls_bars_up_by_interval() -> None:
    bars = [
        minute_bar(
            T, "10", "12", "9", "11", "1", quote_volume=D("10"), trade_count=3, taker_buy_base=D("0.5")
        ),
        minute_bar(
            T + MINUTE,
            "11",
            "15",
            "11",
            "14",
            "2",
            quote_volume=D("28"),
            trade_count=4,
            taker_buy_base=D("1"),
        ),
        minute_bar(T + 4 * MINUTE, "14", "14", "8", "13", "0.5", quote_volume=D("6.5"), trade_count=1),
        minute_bar(T + 5 * MINUTE, "13", "13", "13", "13", "0", trade_count=None),
    ]

    rolled = quotes.aggregate(bars, "5m")

    assert rolled == [
        Kline(
            "BTCUSDT", "5m", T, T + 5 * MINUTE - 1, D("10"), D("15"), D("8"), D("13"), D("3.5"),
            quote_volume=D("44.5"), trade_count=8, taker_buy_base=D("1.5"), taker_buy_quote=None,
            is_final=True,
        ),
        Kline(
            "BTCUSDT", "5m", T + 5 * MINUTE, T + 10 * MINUTE - 1, D("13"), D("13"), D("13"), D("13"), D("0"),
            quote_volume=None, trade_count=0, taker_buy_base=None, taker_buy_quote=None,
            is_final=False,
        ),
    ]  # fmt: skip


def test_aggregate_leaves_out_intervals_without_bars() -> None:
    bars = [minute_bar(T, "1", "1", "1", "1"), minute_bar(T + 10 * MINUTE, "2", "2", "2", "2")]

    assert [bar.open_time for bar in quotes.aggregate(bars, "5m")] == [T, T + 10 * MINUTE]


prices = st.integers(min_value=1, max_value=1000).map(D)


@st.composite
def minute_bars(draw: st.DrawFn) -> list[Kline]:
    minutes = draw(st.lists(st.integers(min_value=0, max_value=180), min_size=1, max_size=60, unique=True))
    bars = []
    for minute in sorted(minutes):
        o, c, a, b = (draw(prices) for _ in range(4))
        bars.append(
            minute_bar(T + minute * MINUTE, str(o), str(max(o, c, a)), str(min(o, c, b)), str(c), str(a))
        )
    return bars


@given(minute_bars())
def test_rolling_up_in_steps_equals_rolling_up_at_once(bars: list[Kline]) -> None:
    assert quotes.aggregate(quotes.aggregate(bars, "5m"), "15m") == quotes.aggregate(bars, "15m")


def trade(at_ms: int, price: str, qty: str, buyer_is_maker: bool | None = False) -> Trade:
    return Trade("BTCUSDT", at_ms, D(price), D(qty), buyer_is_maker, str(at_ms))


def test_bars_of_trades_are_made_as_a_venue_makes_its_own() -> None:
    trades = [
        trade(T + 1_000, "10", "2"),  # the buyer took
        trade(T + 20_000, "12.5", "0.4", buyer_is_maker=True),  # the seller took
        trade(T + 59_999, "9", "1"),
        trade(T + 2 * MINUTE, "11", "3", buyer_is_maker=True),  # the next minute has no trade
    ]

    assert quotes.bars_of_trades("1m", trades) == [
        Kline(
            "BTCUSDT",
            "1m",
            T,
            T + MINUTE - 1,
            open=D("10"),
            high=D("12.5"),
            low=D("9"),
            close=D("9"),
            volume=D("3.4"),
            quote_volume=D("34"),  # 20 + 5 + 9
            trade_count=3,
            taker_buy_base=D("3"),
            taker_buy_quote=D("29"),
        ),
        Kline(
            "BTCUSDT",
            "1m",
            T + 2 * MINUTE,
            T + 3 * MINUTE - 1,
            D("11"),
            D("11"),
            D("11"),
            D("11"),
            D("3"),
            D("33"),
            1,
            D("0"),
            D("0"),
        ),
    ]


def test_a_bar_of_trades_whose_taker_no_venue_named_has_no_taker_buy_figures() -> None:
    (bar,) = quotes.bars_of_trades("1m", [trade(T, "10", "1", None), trade(T + 1, "11", "1", None)])

    assert (bar.volume, bar.taker_buy_base, bar.taker_buy_quote) == (D("2"), None, None)


@st.composite
def tapes(draw: st.DrawFn) -> list[Trade]:
    times = sorted(draw(st.lists(st.integers(min_value=0, max_value=3 * 3_600_000), min_size=1, max_size=80)))
    return [
        trade(T + at, str(draw(prices)), str(draw(prices)), draw(st.sampled_from([True, False, None])))
        for at in times
    ]


@given(tapes(), st.sampled_from(["3m", "5m", "1h"]))
def test_bars_of_trades_roll_up_to_the_bars_of_the_same_trades(trades: list[Trade], interval: str) -> None:
    """What `kline_rollups` relies on: longer bars rolled up from minutes of trades are the longer bars of
    those trades (but for `is_final`, which a roll-up sets only when its last minute is the interval's)."""
    rolled = quotes.aggregate(quotes.bars_of_trades("1m", trades), interval)

    assert [replace(bar, is_final=True) for bar in rolled] == quotes.bars_of_trades(interval, trades)


def opens(bars: list[Kline]) -> list[int]:
    return [bar.open_time for bar in bars]


def test_quiet_intervals_between_bars_show_at_the_close_before_them() -> None:
    bars = [minute_bar(T, "1", "2", "1", "2"), minute_bar(T + 3 * MINUTE, "3", "3", "3", "3")]

    shown = quotes.with_quiet_intervals(
        "BTCUSDT", "1m", bars, (T - 2 * MINUTE, T + 9 * MINUTE), None, T + 3 * MINUTE
    )

    assert opens(shown) == [
        T + m * MINUTE for m in range(4)
    ]  # none before the first bar, none after the last
    quiet = shown[1]
    assert (quiet.open, quiet.high, quiet.low, quiet.close) == (D("2"),) * 4
    assert (quiet.volume, quiet.quote_volume, quiet.trade_count, quiet.close_time) == (
        D(0),
        D(0),
        0,
        T + 2 * MINUTE - 1,
    )


def test_a_window_inside_a_gap_is_quiet_at_the_close_before_it() -> None:
    shown = quotes.with_quiet_intervals("BTCUSDT", "1m", [], (T, T + 2 * MINUTE), D("7"), T + 60 * MINUTE)

    assert opens(shown) == [T, T + MINUTE, T + 2 * MINUTE]
    assert {bar.close for bar in shown} == {D("7")}


def test_no_close_before_or_no_bar_after_means_no_quiet_interval() -> None:
    assert quotes.with_quiet_intervals("BTCUSDT", "1m", [], (T, T + 2 * MINUTE), None, T + 60 * MINUTE) == []
    assert quotes.with_quiet_intervals("BTCUSDT", "1m", [], (T, T + 2 * MINUTE), D("7"), T) == []
    assert quotes.with_quiet_intervals("BTCUSDT", "1m", [], (T, T + 2 * MINUTE), D("7"), None) == []


def test_quiet_months_and_a_limit_on_a_window_of_years() -> None:
    """From a start years back, only the first `limit` bars are made (the loop stops there)."""
    far = utc(2000, 1, 1)
    shown = quotes.with_quiet_intervals(
        "BTCUSDT", "1M", [], (far, utc(2021, 11, 1)), D("5"), utc(2021, 11, 1), 3
    )

    assert opens(shown) == [utc(2000, 1, 1), utc(2000, 2, 1), utc(2000, 3, 1)]
    assert shown[1].close_time == utc(2000, 3, 1) - 1


@given(
    minutes=st.sets(st.integers(0, 40), max_size=12),
    window=st.tuples(st.integers(-5, 45), st.integers(-5, 45)),
    previous_close=st.one_of(st.none(), st.just(D("0.5"))),
)
def test_quiet_intervals_fill_exactly_the_gaps_between_bars(
    minutes: set[int], window: tuple[int, int], previous_close: D | None
) -> None:
    first, last = (T + m * MINUTE for m in window)
    bars = [minute_bar(T + m * MINUTE, "1", "1", "1", str(m + 1)) for m in sorted(minutes)]
    in_window = [bar for bar in bars if first <= bar.open_time <= last]
    data_until = bars[-1].open_time if bars else None
    before = previous_close if bars and bars[0].open_time < first else None

    shown = quotes.with_quiet_intervals("BTCUSDT", "1m", in_window, (first, last), before, data_until)

    assert [bar for bar in shown if bar.volume] == in_window  # every recorded bar, in order
    if not shown:
        return
    opens_shown = [bar.open_time for bar in shown]
    assert opens_shown == list(range(opens_shown[0], opens_shown[-1] + 1, MINUTE))  # no gap left
    assert opens_shown[0] == (first if before is not None else in_window[0].open_time)
    assert data_until is not None
    assert all(bar.volume or bar.open_time < data_until for bar in shown)  # none after the last bar
    for earlier, bar in zip([None, *shown[:-1]], shown, strict=True):
        if not bar.volume:  # quiet: at the close before it
            assert bar.close == (earlier.close if earlier is not None else before)
