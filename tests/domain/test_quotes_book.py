"""Books merged from recorded levels and simulated orders, price aggregation for depth/merged, the tape
of prints, and the rolling 24-hour figures."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from simulator.domain import quotes
from simulator.domain.quotes import DayStats, Print
from simulator.marketdata.records import Kline

MINUTE = 60_000


def levels(*pairs: tuple[str, str]) -> list[tuple[D, D]]:
    return [(D(price), D(qty)) for price, qty in pairs]


def test_merge_levels_adds_simulated_quantity_per_price_best_first() -> None:
    recorded = levels(("100", "1"), ("99", "2"))
    simulated = levels(("99.00", "0.5"), ("99.5", "1"), ("98", "0"))

    assert quotes.merge_levels(recorded, simulated, bids=True) == levels(
        ("100", "1"), ("99.5", "1"), ("99", "2.5")
    )
    assert quotes.merge_levels(recorded, simulated, bids=False) == levels(
        ("99", "2.5"), ("99.5", "1"), ("100", "1")
    )


@pytest.mark.parametrize(("scale", "step"), [(0, "0.01"), (1, "0.1"), (2, "1"), (5, "1000")])
def test_scale_step_is_the_tick_size_times_ten_to_the_scale(scale: int, step: str) -> None:
    assert quotes.scale_step(D("0.01"), scale) == D(step)


def test_merge_by_step_rounds_bids_down_and_asks_up() -> None:
    book = levels(("100.99", "1"), ("100.01", "2"), ("99.99", "3"))

    assert quotes.merge_by_step(book, D("1"), bids=True) == levels(("100", "3"), ("99", "3"))
    assert quotes.merge_by_step(list(reversed(book)), D("1"), bids=False) == levels(
        ("100", "3"), ("101", "3")
    )


def test_latest_prints_keeps_the_newest_oldest_first_recorded_before_simulated_in_a_millisecond() -> None:
    recorded = [Print(5, D("1"), D("1"), True, 0, 0), Print(9, D("2"), D("1"), False, 0, 0)]
    simulated = [Print(5, D("3"), D("1"), False, 1, 7), Print(7, D("4"), D("1"), True, 1, 8)]

    latest = quotes.latest_prints(recorded, simulated, 3)

    assert [p.price for p in latest] == [D("3"), D("4"), D("2")]
    assert [p.price for p in quotes.latest_prints(recorded, simulated, 10)] == [
        D("1"),
        D("3"),
        D("4"),
        D("2"),
    ]


def printed(time: int, price: str, simulated: bool = False) -> Print:
    return Print(time, D(price), D("1"), False, int(simulated), 0)


# A minute bar over [0, 59_999] that closed at "5"; the times are market ms.
@pytest.mark.parametrize(
    ("recorded", "simulated", "expected"),
    [
        (None, None, "5"),  # bars alone
        (printed(-1_000, "4"), None, "5"),  # the recording printed nothing during the bar: it is later
        (printed(30_000, "4"), None, "5"),  # within the bar: its close is the recording's last trade
        (printed(60_000, "4"), None, "4"),  # after the bar closed
        (printed(59_999, "4"), None, "4"),  # at the bar's close time: the print is as late as the bar
        (None, printed(59_000, "7", True), "5"),  # bars alone: the bar closed after the simulated print
        (None, printed(60_000, "7", True), "7"),
        # The recording's trades ended within the bar, the simulated print came after the last of them:
        # the bar's close is that earlier trade, not a later one.
        (printed(50_000, "5"), printed(55_000, "7", True), "7"),
        (printed(50_000, "5"), printed(50_000, "7", True), "7"),  # one millisecond: simulated after
        (printed(50_000, "5"), Print(50_000, D("7"), D("1"), False, -1), "5"),  # but a snapshot's fill before
        (printed(50_000, "5"), printed(45_000, "7", True), "5"),
        (printed(0, "5"), printed(30_000, "7", True), "7"),  # a print at the bar's open time is within it
        (printed(-1_000, "4"), printed(55_000, "7", True), "5"),  # no trade recorded during the bar
    ],
)
def test_last_traded_price_weighs_prints_against_the_last_complete_bar(
    recorded: Print | None, simulated: Print | None, expected: str
) -> None:
    assert quotes.last_traded_price(recorded, simulated, bar("1", "9", "1", "5", "1", "1")) == D(expected)


def test_last_traded_price_without_a_bar_is_the_newest_print() -> None:
    assert quotes.last_traded_price(printed(5, "1"), printed(4, "2", True), None) == D("1")
    assert quotes.last_traded_price(None, printed(4, "2", True), None) == D("2")
    assert quotes.last_traded_price(None, None, None) is None


def bar(o: str, h: str, low: str, c: str, volume: str, quote: str | None) -> Kline:
    return Kline(
        "BTCUSDT",
        "1m",
        0,
        MINUTE - 1,
        D(o),
        D(h),
        D(low),
        D(c),
        D(volume),
        None if quote is None else D(quote),
    )


def test_day_stats_span_the_bars_and_the_last_price() -> None:
    bars = [bar("10", "12", "9", "11", "1", "10.5"), bar("11", "13", "10", "12", "2", None)]

    assert quotes.day_stats(bars, D("14")) == DayStats(D("10"), D("14"), D("9"), D("14"), D("3"), D("10.5"))
    assert quotes.day_stats(bars, D("8")).low == D("8")


def test_day_stats_without_a_print_close_at_the_last_bar() -> None:
    bars = [bar("10", "12", "9", "11", "1", "10")]

    assert quotes.day_stats(bars, None) == DayStats(D("10"), D("12"), D("9"), D("11"), D("1"), D("10"))


def test_day_stats_of_a_quiet_day_are_the_last_price_with_no_volume() -> None:
    assert quotes.day_stats([], D("5")) == DayStats(D("5"), D("5"), D("5"), D("5"), D("0"), D("0"))
    assert quotes.day_stats([], None) == DayStats(D("0"), D("0"), D("0"), D("0"), D("0"), D("0"))


@pytest.mark.parametrize(
    ("price", "tick", "shown"),
    [
        ("242.951", "0.01", "242.95"),
        ("242.956", "0.01", "242.96"),
        ("242.955", "0.01", "242.96"),  # half way: to the even tick
        ("242.945", "0.01", "242.94"),
        ("242.950", "0.01", "242.950"),  # on the grid: as recorded (the wire drops the zero)
        ("0.0000285", "0.00001", "0.00003"),
    ],
)
def test_a_recorded_price_shows_at_the_nearest_tick(price: str, tick: str, shown: str) -> None:
    assert str(quotes.on_tick(D(price), D(tick))) == shown


def test_rounding_the_24_hour_figures_is_rounding_the_bars_they_come_from() -> None:
    """Rounding keeps order, so the high of rounded bars is the rounded high (and so on)."""
    tick = D("0.01")
    bars = [
        bar("10.004", "10.019", "9.991", "10.015", "1", None),
        bar("10.015", "10.026", "10.003", "10.006", "1", None),
    ]
    rounded_first = quotes.day_stats([quotes.prices_on_tick(b, tick) for b in bars], D("10.00"))
    rounded_after = quotes.prices_on_tick(quotes.day_stats(bars, D("10.004")), tick)
    assert rounded_first == rounded_after
    assert (rounded_after.open, rounded_after.high, rounded_after.low) == (D("10.00"), D("10.03"), D("9.99"))


def test_merged_sizes_are_summed_exactly_beyond_28_digits() -> None:
    asks = levels(("99999.98", "0.00002"), ("99999.99", "1234567890123456789012345.67891"))
    merged = quotes.merge_by_step(asks, D("0.1"), bids=False)
    assert merged == [(D("100000.0"), D("1234567890123456789012345.67893"))]
