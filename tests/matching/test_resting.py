"""Resting LIMIT orders filling as recorded trades, depth snapshots and klines are replayed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.matching.liquidity import Level, RecordedBook, Source, less_taken, recorded_book
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from simulator.domain.matching.resting import (
    MakerFill,
    kline_path,
    on_bar,
    on_depth,
    on_trade,
    queue_on_rest,
    taken_by_depth_fills,
)
from simulator.marketdata.records import Depth, Kline, Trade

D = Decimal
SYMBOL = "BTCUSDT"
MODEL = FillModel()
NO_QUEUE = FillModel(queue_model=False)
STEP = D("0.001")  # the instrument's quantity step
TICK = D("0.1")  # the instrument's price tick


def order(
    side: Side = Side.BUY,
    price: str = "100",
    qty: str = "2",
    *,
    sequence: int = 1,
    created_ms: int = 0,
    queue: str = "0",
    symbol: str = SYMBOL,
    status: OrderStatus = OrderStatus.NEW,
) -> Order:
    return Order(
        order_id=str(sequence),
        account_id="a",
        symbol=symbol,
        side=side,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D(price),
        quantity=D(qty),
        created_ms=created_ms,
        sequence=sequence,
        status=status,
        queue_ahead=D(queue),
    )


def trade(price: str, qty: str, time: int = 1_000, symbol: str = SYMBOL) -> Trade:
    return Trade(symbol, time, D(price), D(qty), None, f"t{time}")


def depth(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], time: int = 1_000, symbol: str = SYMBOL
) -> Depth:
    return Depth(
        symbol,
        time,
        tuple((D(p), D(q)) for p, q in bids),
        tuple((D(p), D(q)) for p, q in asks),
    )


def bar(open_: str, high: str, low: str, close: str, volume: str = "100", open_time: int = 60_000) -> Kline:
    return Kline(SYMBOL, "1m", open_time, open_time + 59_999, D(open_), D(high), D(low), D(close), D(volume))


def summary(fills: list[MakerFill]) -> list[tuple[str, Decimal, Decimal]]:
    return [(fill.order.order_id, fill.price, fill.qty) for fill in fills]


# --- queue on rest -------------------------------------------------------------------------------------


def test_queue_on_rest_is_the_size_shown_at_the_orders_price_on_its_own_side() -> None:
    book = RecordedBook(
        Source.DEPTH,
        0,
        bids=(Level(D("101"), D("1")), Level(D("100"), D("5"))),
        asks=(Level(D("102"), D("7")),),
    )
    assert queue_on_rest(order(Side.BUY, "100"), book, MODEL) == D("5")
    assert queue_on_rest(order(Side.SELL, "102"), book, MODEL) == D("7")


def test_queue_on_rest_is_zero_when_the_price_is_not_shown_or_the_queue_model_is_off() -> None:
    book = RecordedBook(Source.DEPTH, 0, bids=(Level(D("100"), D("5")),), asks=(Level(D("100"), D("3")),))
    assert queue_on_rest(order(Side.BUY, "99"), book, MODEL) == 0
    assert queue_on_rest(order(Side.BUY, "100"), book, NO_QUEUE) == 0
    # a SELL at 100 queues among the asks, not behind the bids at that price
    assert queue_on_rest(order(Side.SELL, "100"), book, MODEL) == D("3")


# --- rule 1: trades strictly through the limit --------------------------------------------------------


def test_a_bid_below_the_market_fills_only_once_trades_print_through_it() -> None:
    bid = order(Side.BUY, "100", "2")
    assert on_trade([bid], trade("101", "5", 1_000), MODEL, STEP) == []
    assert on_trade([bid], trade("100.5", "5", 2_000), MODEL, STEP) == []
    assert bid.executed_qty == 0 and bid.status is OrderStatus.NEW

    fills = on_trade([bid], trade("99.5", "5", 3_000), MODEL, STEP)

    assert fills == [MakerFill(bid, D("100"), D("2"), 3_000)]
    assert bid.status is OrderStatus.FILLED
    assert bid.executed_quote == D("200")


def test_an_offer_above_the_market_fills_at_its_limit_when_a_trade_prints_above_it() -> None:
    ask = order(Side.SELL, "100", "2")
    fills = on_trade([ask], trade("100.5", "1.5"), MODEL, STEP)
    assert summary(fills) == [("1", D("100"), D("1.5"))]
    assert ask.status is OrderStatus.PARTIALLY_FILLED
    assert ask.remaining_qty == D("0.5")


def test_the_trade_size_is_shared_in_price_then_sequence_priority() -> None:
    low = order(Side.BUY, "100", "2", sequence=1)
    high = order(Side.BUY, "101", "2", sequence=3)
    early = order(Side.BUY, "100.5", "2", sequence=2)
    late = order(Side.BUY, "100.5", "2", sequence=4)

    fills = on_trade([low, late, high, early], trade("99", "5"), MODEL, STEP)

    assert summary(fills) == [("3", D("101"), D("2")), ("2", D("100.5"), D("2")), ("4", D("100.5"), D("1"))]
    assert low.executed_qty == 0


def test_one_print_may_cross_both_sides_each_sharing_the_full_size() -> None:
    bid = order(Side.BUY, "101", "3", sequence=1)
    ask = order(Side.SELL, "99", "3", sequence=2)
    fills = on_trade([ask, bid], trade("100", "2"), MODEL, STEP)
    # BUY fills come first, and each side may use the whole print
    assert summary(fills) == [("1", D("101"), D("2")), ("2", D("99"), D("2"))]


def test_a_trade_through_the_limit_ignores_and_clears_the_queue() -> None:
    bid = order(Side.BUY, "100", "5", queue="10")
    fills = on_trade([bid], trade("99", "2"), MODEL, STEP)
    assert summary(fills) == [("1", D("100"), D("2"))]
    assert bid.queue_ahead == 0
    # a later print at the limit now reaches it directly
    fills = on_trade([bid], trade("100", "1", 2_000), MODEL, STEP)
    assert summary(fills) == [("1", D("100"), D("1"))]


def test_a_recording_with_finer_sizes_than_the_step_fills_whole_steps_only() -> None:
    """KuCoin sizes (8 decimals) against a 0.001 step: what a print or a snapshot holds of whole steps."""
    bid = order(Side.BUY, "100", "1")
    assert summary(on_trade([bid], trade("99", "0.14324938"), MODEL, STEP)) == [("1", D("100"), D("0.143"))]
    assert on_trade([bid], trade("99", "0.0009", 2_000), MODEL, STEP) == []  # under one step
    queued = order(Side.SELL, "100", "1", sequence=2, queue="0.0004")
    fills = on_trade([queued], trade("100", "0.0025", 3_000), MODEL, STEP)  # 0.0021 past the queue
    assert summary(fills) == [("2", D("100"), D("0.002"))]
    # each level in whole steps, as a taker could have taken them: 0.255 + 0.255, not 0.511 of the sum
    snapshot = depth(bids=[], asks=[("99", "0.2555"), ("99.5", "0.2555"), ("99.8", "0.0009")], time=4_000)
    fills = on_depth([bid], snapshot, MODEL, STEP, TICK)
    assert summary(fills) == [("1", D("100"), D("0.51"))]
    assert taken_by_depth_fills(snapshot, fills, STEP, TICK) == {
        (Side.SELL, D("99")): D("0.255"),
        (Side.SELL, D("99.5")): D("0.255"),
    }


# --- rule 2: trades at the limit and the queue ---------------------------------------------------------


def test_a_trade_at_the_limit_first_uses_up_the_queue_ahead() -> None:
    bid = order(Side.BUY, "100", "2", queue="5")

    assert on_trade([bid], trade("100", "3", 1_000), MODEL, STEP) == []
    assert bid.queue_ahead == D("2")

    fills = on_trade([bid], trade("100", "4", 2_000), MODEL, STEP)
    assert fills == [MakerFill(bid, D("100"), D("2"), 2_000)]
    assert bid.queue_ahead == 0
    assert bid.status is OrderStatus.FILLED


def test_without_the_queue_model_a_trade_at_the_limit_fills_at_once() -> None:
    bid = order(Side.BUY, "100", "2", queue="5")
    fills = on_trade([bid], trade("100", "1.5"), NO_QUEUE, STEP)
    assert summary(fills) == [("1", D("100"), D("1.5"))]


def test_orders_at_one_price_all_watch_the_queue_and_share_the_overflow_in_sequence() -> None:
    first = order(Side.SELL, "100", "3", sequence=1, queue="2")
    second = order(Side.SELL, "100", "3", sequence=2, queue="4")

    fills = on_trade([second, first], trade("100", "6"), MODEL, STEP)

    # first: 6 - 2 = 4 overflow, takes 3. second: 6 - 4 - 3 = -1, nothing left for it
    assert summary(fills) == [("1", D("100"), D("3"))]
    assert first.queue_ahead == 0 and second.queue_ahead == 0

    fills = on_trade([first, second], trade("100", "2", 2_000), MODEL, STEP)
    assert summary(fills) == [("2", D("100"), D("2"))]


def test_better_priced_orders_use_the_trade_before_the_queue_at_the_trade_price() -> None:
    better = order(Side.BUY, "101", "2", sequence=2)
    at_price = order(Side.BUY, "100", "5", sequence=1, queue="1")

    fills = on_trade([at_price, better], trade("100", "4"), MODEL, STEP)

    # 4 printed: 2 go to the better bid, the other 2 clear the queue of 1 and fill 1
    assert summary(fills) == [("2", D("101"), D("2")), ("1", D("100"), D("1"))]
    assert at_price.queue_ahead == 0


def test_when_better_orders_use_the_whole_print_the_queue_does_not_move() -> None:
    better = order(Side.BUY, "101", "5", sequence=1)
    at_price = order(Side.BUY, "100", "5", sequence=2, queue="3")
    on_trade([better, at_price], trade("100", "4"), MODEL, STEP)
    assert better.executed_qty == D("4")
    assert at_price.queue_ahead == D("3")


def test_a_trade_at_the_limit_of_the_other_side_does_not_fill_it() -> None:
    bid = order(Side.BUY, "100", "2")
    ask = order(Side.SELL, "101", "2", sequence=2)
    assert on_trade([bid, ask], trade("100.5", "9"), MODEL, STEP) == []


# --- which orders an event may fill -------------------------------------------------------------------


@pytest.mark.parametrize(
    "resting",
    [
        order(created_ms=1_000),  # arrived as the trade printed
        order(created_ms=1_500),  # arrived after it
        order(symbol="ETHUSDT"),
        order(status=OrderStatus.CANCELED),
        order(status=OrderStatus.FILLED),
    ],
    ids=["same-time", "later", "other-symbol", "canceled", "filled"],
)
def test_only_working_orders_of_the_symbol_that_arrived_before_the_event_fill(resting: Order) -> None:
    assert on_trade([resting], trade("99", "5", 1_000), MODEL, STEP) == []
    assert on_depth([resting], depth([], [("99", "5")], 1_000), MODEL, STEP, TICK) == []


def test_a_pending_cancel_still_fills() -> None:
    bid = order(status=OrderStatus.PENDING_CANCEL)
    fills = on_trade([bid], trade("99", "1"), MODEL, STEP)
    assert summary(fills) == [("1", D("100"), D("1"))]
    assert bid.status is OrderStatus.PENDING_CANCEL


# --- rule 3: depth snapshots --------------------------------------------------------------------------


def test_a_snapshot_whose_asks_moved_below_a_bid_fills_it_up_to_the_crossed_size() -> None:
    bid = order(Side.BUY, "100", "5")
    snapshot = depth(bids=[("98", "4")], asks=[("99", "1"), ("99.5", "2"), ("100", "7"), ("101", "3")])

    fills = on_depth([bid], snapshot, MODEL, STEP, TICK)

    # only the asks strictly below 100 crossed: 1 + 2
    assert fills == [MakerFill(bid, D("100"), D("3"), 1_000)]


def test_a_snapshot_whose_bids_moved_above_an_offer_fills_it() -> None:
    ask = order(Side.SELL, "100", "5")
    fills = on_depth(
        [ask], depth(bids=[("100.5", "2"), ("100", "9")], asks=[("101", "1")]), MODEL, STEP, TICK
    )
    assert summary(fills) == [("1", D("100"), D("2"))]


def test_the_crossed_size_is_shared_most_aggressive_first() -> None:
    deep = order(Side.BUY, "103", "2", sequence=1)
    high = order(Side.BUY, "105", "2", sequence=2)
    snapshot = depth(bids=[], asks=[("101", "1"), ("102", "2"), ("104", "1")])

    fills = on_depth([deep, high], snapshot, MODEL, STEP, TICK)

    # 105 sees 4 crossed and takes 2; 103 sees 3 crossed, less the 2 taken
    assert summary(fills) == [("2", D("105"), D("2")), ("1", D("103"), D("1"))]


def test_a_snapshots_fills_take_its_best_opposite_levels_first() -> None:
    """As a taker's walk would: what the resting orders of a side got comes off the other side's best
    levels, so the book shown no longer has an ask below the bid that took it."""
    high, low = order(Side.BUY, "101", "2.5", sequence=1), order(Side.BUY, "100", "5", sequence=2)
    offer = order(Side.SELL, "97", "1", sequence=3)
    snapshot = depth(bids=[("97.5", "0.5"), ("98", "2")], asks=[("99", "1"), ("99.5", "2"), ("100", "7")])

    fills = on_depth([high, low, offer], snapshot, MODEL, STEP, TICK)

    # 101 takes 2.5 of the asks below it, 100 the 0.5 left of the 3 below it; 97 takes 1 of the bids above
    assert summary(fills) == [("1", D("101"), D("2.5")), ("2", D("100"), D("0.5")), ("3", D("97"), D("1"))]
    assert taken_by_depth_fills(snapshot, fills, STEP, TICK) == {
        (Side.SELL, D("99")): D("1"),
        (Side.SELL, D("99.5")): D("2"),
        (Side.BUY, D("98")): D("1"),
    }


def test_a_snapshot_that_does_not_cross_fills_nothing() -> None:
    bid = order(Side.BUY, "100", "5")
    assert (
        on_depth([bid], depth(bids=[("100", "3")], asks=[("100", "4"), ("101", "3")]), MODEL, STEP, TICK)
        == []
    )


def test_a_snapshot_caps_the_queue_at_the_size_still_shown_at_the_price() -> None:
    shrinking = order(Side.BUY, "100", "1", sequence=1, queue="5")
    growing = order(Side.SELL, "102", "1", sequence=2, queue="1")
    gone = order(Side.BUY, "99", "1", sequence=3, queue="4")

    on_depth([shrinking, growing, gone], depth(bids=[("100", "2")], asks=[("102", "8")]), MODEL, STEP, TICK)

    assert shrinking.queue_ahead == D("2")
    assert growing.queue_ahead == D("1")  # newer size at the price arrived behind it
    assert gone.queue_ahead == 0


def test_a_recording_with_a_finer_tick_crosses_where_its_prices_do_and_queues_as_the_book_shows_it() -> None:
    """Prices of 0.01 against a 0.1 tick. An ask at 99.95 is through a BUY at 100 (the book shows it at 100,
    rounded up); what the fill took of it is kept at 100, where the book shows it. A queue is capped at
    what the book shows at the order's price: bids 100.04 and 100.01 show at 100, 100.1 does not."""
    bid = order(Side.BUY, "100", "1", sequence=1, queue="5")
    ask = order(Side.SELL, "100.2", "1", sequence=2, queue="5")
    snapshot = depth(
        bids=[("100.1", "9"), ("100.04", "1"), ("100.01", "2")],
        asks=[("99.95", "0.3"), ("100.05", "4"), ("100.11", "0.5"), ("100.2", "1")],
    )
    fills = on_depth([bid, ask], snapshot, MODEL, STEP, TICK)
    assert summary(fills) == [("1", D("100"), D("0.3"))]
    assert taken_by_depth_fills(snapshot, fills, STEP, TICK) == {(Side.SELL, D("100")): D("0.3")}
    assert bid.queue_ahead == D("3")
    assert ask.queue_ahead == D("1.5")  # 100.11 and 100.2 both show at 100.2


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_a_snapshot_crossing_at_a_finer_tick_leaves_nothing_shown_through_the_order(side: Side) -> None:
    """Levels of a finer tick that the book merges count in whole steps of their sum, as the book shows and
    keeps them: counting each level's whole steps left their fractions (0.0004 + 0.0004 + 0.0004 here, more
    than a step) shown through the order, and post-only orders on both sides refused."""
    sign = 1 if side is Side.BUY else -1  # a SELL's mirror image around 100

    def price(offset: str) -> D:
        return D(100) + sign * D(offset)

    resting = order(side, str(price("0.2")), "30")
    through = [(price("0.01"), D("1.0004")), (price("0.02"), D("2.0004")), (price("0.05"), D("3.0004"))]
    at_limit = [(price("0.15"), D("0.5")), (price("0.2"), D("7"))]  # shown at the limit, one through it
    levels = tuple(Level(p, q) for p, q in [*through, *at_limit, (price("0.3"), D("1"))])
    if side is Side.BUY:
        snapshot = Depth(SYMBOL, 1_000, (), levels)
    else:
        snapshot = Depth(SYMBOL, 1_000, levels, ())

    fills = on_depth([resting], snapshot, MODEL, STEP, TICK)

    assert summary(fills) == [("1", price("0.2"), D("6.501"))]  # 6.0012 in whole steps, and 0.5
    taken = taken_by_depth_fills(snapshot, fills, STEP, TICK)
    book = less_taken(recorded_book(1_000, MODEL, snapshot, None, None, TICK, STEP), taken, STEP)
    shown = [level.price for level in book.side(side.opposite)]
    assert shown == [price("0.2"), price("0.3")]  # nothing through the order's limit; at it, what was not


# --- rule 4: klines -----------------------------------------------------------------------------------


def test_the_kline_path_visits_the_extreme_nearer_the_open_first() -> None:
    # an up bar that first dipped: open 100, low 99 (1 away), high 105 (5 away)
    assert kline_path(bar("100", "105", "99", "104")) == (D("100"), D("99"), D("105"), D("104"))
    # a down bar that first rose: open 100, high 101, low 95
    assert kline_path(bar("100", "101", "95", "96")) == (D("100"), D("101"), D("95"), D("96"))


def test_the_kline_path_takes_the_high_first_when_both_extremes_are_equally_far() -> None:
    assert kline_path(bar("100", "102", "98", "100")) == (D("100"), D("102"), D("98"), D("100"))


def test_a_bar_through_the_limit_fills_at_the_limit() -> None:
    bid = order(Side.BUY, "100", "2")
    ask = order(Side.SELL, "104", "2", sequence=2)

    fills = on_bar([bid, ask], bar("101.5", "105", "99", "103", volume="100"), MODEL, STEP)

    # the path falls to 99 first (crossing the bid), then rises to 105 (crossing the offer); the fills
    # happen as the bar completes, the millisecond after its close
    assert fills == [
        MakerFill(bid, D("100"), D("2"), 120_000),
        MakerFill(ask, D("104"), D("2"), 120_000),
    ]


def test_a_bar_that_only_touches_the_limit_fills_only_with_touch_fills() -> None:
    bid = order(Side.BUY, "100", "2")
    touching = bar("102", "103", "100", "101")
    assert on_bar([bid], touching, MODEL, STEP) == []
    fills = on_bar([bid], touching, FillModel(kline_touch_fills=True), STEP)
    assert summary(fills) == [("1", D("100"), D("2"))]


def test_a_bar_fills_at_most_its_volume_share_first_reached_first() -> None:
    bid = order(Side.BUY, "100", "3", sequence=1)
    ask = order(Side.SELL, "101", "3", sequence=2)
    up_bar = bar("100.5", "102", "99.5", "101.5", volume="40")  # low is nearer: the bid is reached first

    fills = on_bar([ask, bid], up_bar, FillModel(kline_volume_share=D("0.1")), STEP)

    # 10% of 40 = 4: the bid takes 3, the offer the 1 left
    assert summary(fills) == [("1", D("100"), D("3")), ("2", D("101"), D("1"))]


def test_on_a_falling_segment_the_higher_bid_is_reached_and_filled_first() -> None:
    low = order(Side.BUY, "98", "3", sequence=1)
    high = order(Side.BUY, "99", "3", sequence=2)
    fills = on_bar([low, high], bar("100", "100.5", "97", "97.5", volume="40"), MODEL, STEP)
    assert summary(fills) == [("2", D("99"), D("3")), ("1", D("98"), D("1"))]


def test_a_bar_ignores_orders_created_at_or_after_its_open() -> None:
    during = order(Side.BUY, "100", "2", created_ms=60_500)
    at_open = order(Side.BUY, "100", "2", sequence=2, created_ms=60_000)
    assert on_bar([during, at_open], bar("102", "103", "95", "96", open_time=60_000), MODEL, STEP) == []


def test_a_bar_that_stays_above_a_bid_fills_nothing() -> None:
    bid = order(Side.BUY, "100", "2")
    assert on_bar([bid], bar("102", "104", "100.5", "101"), FillModel(kline_touch_fills=True), STEP) == []


# --- rule 5: determinism ------------------------------------------------------------------------------


def test_the_same_inputs_give_the_same_fills_in_the_same_order() -> None:
    def run() -> list[tuple[str, Decimal, Decimal]]:
        orders = [
            order(Side.BUY, "100", "2", sequence=1, queue="1"),
            order(Side.BUY, "100", "2", sequence=2, queue="1"),
            order(Side.SELL, "99", "2", sequence=3),
        ]
        fills = on_trade(orders, trade("100", "3"), MODEL, STEP)
        fills += on_depth(
            orders, depth(bids=[("100.5", "1")], asks=[("99.5", "1")], time=2_000), MODEL, STEP, TICK
        )
        return summary(fills)

    assert run() == run()
