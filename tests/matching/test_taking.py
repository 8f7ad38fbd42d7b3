"""What an incoming order takes when it is matched: liquidity order, prices, MARKET quantity/amount and
band, LIMIT time in force, LIMIT_MAKER, self-trade prevention and the recorded liquidity used."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from simulator.domain.matching.liquidity import Level, RecordedBook, Source
from simulator.domain.matching.orders import (
    CancelReason,
    Event,
    IllegalTransition,
    Order,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
)
from simulator.domain.matching.taking import Fill, TakeLimits, take, would_take

D = Decimal
AT = 1_700_000_000_000
NO_BAND = TakeLimits(mark_price=None, buy_up_rate=None, sell_down_rate=None, step_size=D("0.001"))


def book(bids: Sequence[tuple[str, str]] = (), asks: Sequence[tuple[str, str]] = ()) -> RecordedBook:
    return RecordedBook(
        Source.DEPTH,
        AT - 100,
        bids=tuple(Level(D(p), D(q)) for p, q in bids),
        asks=tuple(Level(D(p), D(q)) for p, q in asks),
    )


def order(
    side: Side = Side.BUY,
    type: OrderType = OrderType.LIMIT,
    tif: TimeInForce = TimeInForce.GTC,
    price: str | None = None,
    qty: str | None = "1",
    amount: str | None = None,
    account: str = "taker",
    stp: StpMode = StpMode.EXPIRE_TAKER,
    order_id: str = "t1",
) -> Order:
    return Order(
        order_id=order_id,
        account_id=account,
        symbol="BTCUSDT",
        side=side,
        type=type,
        time_in_force=tif,
        price=D(price) if price is not None else None,
        quantity=D(qty) if qty is not None else None,
        amount=D(amount) if amount is not None else None,
        stp_mode=stp,
    )


def market(
    side: Side = Side.BUY,
    qty: str | None = "1",
    amount: str | None = None,
    account: str = "taker",
    stp: StpMode = StpMode.EXPIRE_TAKER,
) -> Order:
    return order(side, OrderType.MARKET, TimeInForce.IOC, None, qty, amount, account, stp)


def resting(
    order_id: str,
    side: Side,
    price: str,
    qty: str,
    sequence: int,
    account: str = "maker",
    status: OrderStatus | None = OrderStatus.NEW,
) -> Order:
    maker = Order(
        order_id=order_id,
        account_id=account,
        symbol="BTCUSDT",
        side=side,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D(price),
        quantity=D(qty),
        sequence=sequence,
        created_ms=AT - 1000,
        updated_ms=AT - 1000,
    )
    maker.status = status
    return maker


def band(mark: str, up: str | None = None, down: str | None = None, step: str = "0.001") -> TakeLimits:
    return TakeLimits(
        mark_price=D(mark),
        buy_up_rate=D(up) if up is not None else None,
        sell_down_rate=D(down) if down is not None else None,
        step_size=D(step),
    )


def fills_of(result_fills: list[Fill]) -> list[tuple[Decimal, Decimal, str | None]]:
    return [(f.price, f.qty, f.maker.order_id if f.maker else None) for f in result_fills]


# Rule 1: accept, then fill, mutating the order


def test_order_is_accepted_filled_and_stamped_at_the_match_time() -> None:
    taker = order(price="101", qty="2")
    result = take(taker, book(asks=[("100", "5")]), [], NO_BAND, AT)
    assert taker.status is OrderStatus.FILLED
    assert (taker.executed_qty, taker.executed_quote, taker.updated_ms) == (D("2"), D("200"), AT)
    assert fills_of(result.fills) == [(D("100"), D("2"), None)]
    assert result.fills[0].quote == D("200")
    assert result.rests is False


def test_an_order_already_placed_is_refused() -> None:
    taker = order(price="101")
    take(taker, book(asks=[("100", "5")]), [], NO_BAND, AT)
    with pytest.raises(ValueError):
        take(taker, book(asks=[("100", "5")]), [], NO_BAND, AT)


@pytest.mark.parametrize(
    "bad",
    [
        order(price=None),  # a LIMIT needs its limit
        order(type=OrderType.LIMIT_MAKER, price=None),
        order(price="100", qty="0"),
        market(qty=None, amount="0"),
        market(qty=None, amount=None),
        order(price="100", qty=None, amount="100"),  # only a MARKET order goes by amount
    ],
)
def test_malformed_orders_are_refused(bad: Order) -> None:
    with pytest.raises(ValueError):
        take(bad, book(asks=[("100", "5")]), [], NO_BAND, AT)


def test_step_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TakeLimits(mark_price=None, buy_up_rate=None, sell_down_rate=None, step_size=D(0))


# Rule 2: which liquidity, in what order


def test_a_buy_takes_asks_lowest_first_and_never_bids() -> None:
    taker = market(qty="3")
    result = take(
        taker, book(bids=[("99", "10")], asks=[("100", "1"), ("101", "1"), ("102", "5")]), [], NO_BAND, AT
    )
    assert [(f.price, f.qty) for f in result.fills] == [
        (D("100"), D("1")),
        (D("101"), D("1")),
        (D("102"), D("1")),
    ]


def test_a_sell_takes_bids_highest_first_and_never_asks() -> None:
    taker = market(side=Side.SELL, qty="2")
    result = take(taker, book(bids=[("99", "1"), ("98", "5")], asks=[("100", "10")]), [], NO_BAND, AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("99"), D("1")), (D("98"), D("1"))]


def test_recorded_and_simulated_liquidity_interleave_by_price() -> None:
    makers = [resting("m1", Side.SELL, "100.5", "1", 1), resting("m2", Side.SELL, "99.5", "1", 2)]
    result = take(market(qty="4"), book(asks=[("100", "1"), ("101", "1")]), makers, NO_BAND, AT)
    assert fills_of(result.fills) == [
        (D("99.5"), D("1"), "m2"),
        (D("100"), D("1"), None),
        (D("100.5"), D("1"), "m1"),
        (D("101"), D("1"), None),
    ]


def test_at_one_price_recorded_liquidity_goes_before_simulated_orders() -> None:
    makers = [resting("m1", Side.SELL, "100", "1", 1)]
    result = take(market(qty="1"), book(asks=[("100", "1")]), makers, NO_BAND, AT)
    assert fills_of(result.fills) == [(D("100"), D("1"), None)]
    assert makers[0].executed_qty == 0


def test_simulated_orders_of_one_price_fill_by_sequence_whatever_the_input_order() -> None:
    makers = [resting("late", Side.BUY, "100", "1", 7), resting("early", Side.BUY, "100", "1", 3)]
    result = take(market(side=Side.SELL, qty="1.5"), book(), makers, NO_BAND, AT)
    assert fills_of(result.fills) == [(D("100"), D("1"), "early"), (D("100"), D("0.5"), "late")]


def test_only_working_opposite_simulated_orders_are_liquidity() -> None:
    pending = resting("pending", Side.SELL, "100", "1", 1, status=OrderStatus.PENDING_CANCEL)
    ignored = [
        resting("filled", Side.SELL, "99", "1", 2, status=OrderStatus.FILLED),
        resting("cancelled", Side.SELL, "99", "1", 3, status=OrderStatus.CANCELED),
        resting("unplaced", Side.SELL, "99", "1", 4, status=None),
        resting("same-side", Side.BUY, "99", "1", 5),
    ]
    result = take(market(qty="5"), book(), [*ignored, pending], NO_BAND, AT)
    assert fills_of(result.fills) == [(D("100"), D("1"), "pending")]
    assert pending.status is OrderStatus.FILLED  # a pending cancel still fills until it takes effect
    assert all(o.executed_qty == 0 for o in ignored)


# Rule 3: the fill price is the liquidity's price


def test_a_limit_fills_at_the_resting_price_not_its_own() -> None:
    maker = resting("m1", Side.BUY, "105", "1", 1)
    taker = order(side=Side.SELL, price="100", qty="2", tif=TimeInForce.IOC)
    result = take(taker, book(bids=[("103", "1")]), [maker], NO_BAND, AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("105"), D("1")), (D("103"), D("1"))]
    assert taker.executed_quote == D("208")


# Rule 4: MARKET by quantity, by amount, and the band


def test_market_by_quantity_walks_the_book_until_filled() -> None:
    taker = market(qty="2.5")
    result = take(taker, book(asks=[("100", "1"), ("101", "1"), ("102", "1")]), [], NO_BAND, AT)
    assert taker.status is OrderStatus.FILLED
    assert result.fills[-1].qty == D("0.5")
    assert taker.executed_quote == D("100") + D("101") + D("51")


def test_market_running_out_of_liquidity_is_partially_cancelled_by_risk_limit() -> None:
    taker = market(qty="5")
    take(taker, book(asks=[("100", "1"), ("101", "1")]), [], NO_BAND, AT)
    assert taker.status is OrderStatus.PARTIALLY_CANCELED
    assert taker.cancel_reason is CancelReason.RISKLIMIT_CANCEL
    assert taker.executed_qty == D("2")


def test_market_on_an_empty_book_is_cancelled() -> None:
    taker = market(qty="1")
    result = take(taker, book(), [], NO_BAND, AT)
    assert result.fills == []
    assert (taker.status, taker.cancel_reason) == (OrderStatus.CANCELED, CancelReason.RISKLIMIT_CANCEL)


def test_market_buy_by_amount_spends_the_quote_exactly_when_it_can() -> None:
    taker = market(qty=None, amount="1000")
    limits = TakeLimits(None, None, None, D("0.01"))
    result = take(taker, book(asks=[("100", "3"), ("200", "10")]), [], limits, AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("100"), D("3")), (D("200"), D("3.5"))]
    assert taker.executed_quote == D("1000")
    assert taker.status is OrderStatus.FILLED


def test_market_by_amount_rounds_down_to_the_step_and_a_dust_remainder_is_filled() -> None:
    taker = market(qty=None, amount="1000")
    result = take(taker, book(asks=[("300", "10")]), [], TakeLimits(None, None, None, D("1")), AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("300"), D("3"))]
    assert taker.executed_quote == D("900")
    assert taker.status is OrderStatus.FILLED  # 100 left cannot buy one step at 300


def test_market_by_amount_that_cannot_buy_one_step_is_cancelled() -> None:
    taker = market(qty=None, amount="50")
    result = take(taker, book(asks=[("100", "10")]), [], TakeLimits(None, None, None, D("1")), AT)
    assert result.fills == []
    assert (taker.status, taker.cancel_reason) == (OrderStatus.CANCELED, CancelReason.RISKLIMIT_CANCEL)


def test_market_by_amount_stops_when_the_next_step_costs_more_than_is_left() -> None:
    # 250 buys 2 at 100; the 50 left cannot buy a step at 110 although the level has plenty
    taker = market(qty=None, amount="250")
    result = take(
        taker, book(asks=[("100", "2"), ("110", "10")]), [], TakeLimits(None, None, None, D("1")), AT
    )
    assert [(f.price, f.qty) for f in result.fills] == [(D("100"), D("2"))]
    assert taker.status is OrderStatus.FILLED


def test_market_by_amount_that_empties_the_book_is_partially_cancelled() -> None:
    taker = market(qty=None, amount="10000")
    take(taker, book(asks=[("100", "2")]), [], TakeLimits(None, None, None, D("1")), AT)
    assert taker.executed_quote == D("200")
    assert (taker.status, taker.cancel_reason) == (
        OrderStatus.PARTIALLY_CANCELED,
        CancelReason.RISKLIMIT_CANCEL,
    )


def test_market_by_amount_passes_over_a_level_smaller_than_one_step() -> None:
    taker = market(qty=None, amount="300")
    result = take(
        taker, book(asks=[("100", "0.5"), ("101", "5")]), [], TakeLimits(None, None, None, D("1")), AT
    )
    assert [(f.price, f.qty) for f in result.fills] == [(D("101"), D("2"))]


def test_an_order_by_quantity_takes_whole_steps_of_levels_with_finer_sizes() -> None:
    """A recording whose sizes are finer than the step (KuCoin's 8 decimals against 0.001): each level
    gives what it holds of whole steps, and one under a step is passed over."""
    taker = market(qty="5")
    asks = [("100", "4.51280965"), ("100.5", "0.0004"), ("101", "0.48719035"), ("102", "9")]
    result = take(taker, book(asks=asks), [], TakeLimits(None, None, None, D("0.001")), AT)
    assert [(f.price, f.qty) for f in result.fills] == [
        (D("100"), D("4.512")),
        (D("101"), D("0.487")),
        (D("102"), D("0.001")),
    ]
    assert taker.status is OrderStatus.FILLED


def test_market_sell_by_amount_sells_until_the_amount_is_received() -> None:
    taker = market(side=Side.SELL, qty=None, amount="500")
    result = take(
        taker, book(bids=[("100", "2"), ("90", "10")]), [], TakeLimits(None, None, None, D("1")), AT
    )
    assert [(f.price, f.qty) for f in result.fills] == [(D("100"), D("2")), (D("90"), D("3"))]
    assert taker.executed_quote == D("470")
    assert taker.status is OrderStatus.FILLED


def test_market_by_amount_buys_one_more_step_when_what_is_left_pays_for_it_exactly() -> None:
    taker = market(qty=None, amount="310")  # 200 for 2 at 100; the 110 left buys exactly one at 110
    limits = TakeLimits(None, None, None, D("1"))
    result = take(taker, book(asks=[("100", "2"), ("110", "10")]), [], limits, AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("100"), D("2")), (D("110"), D("1"))]
    assert taker.status is OrderStatus.FILLED


def test_market_by_amount_spends_what_is_left_under_one_quote_unit() -> None:
    taker = market(qty=None, amount="100.5")  # 0.5 left after the first level: 0.004 at 101
    limits = TakeLimits(None, None, None, D("0.001"))
    result = take(taker, book(asks=[("100", "1"), ("101", "5")]), [], limits, AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("100"), D("1")), (D("101"), D("0.004"))]
    assert taker.executed_quote == D("100.404")


def test_market_sell_by_amount_ends_where_what_is_left_buys_no_step_even_if_a_lower_bid_would() -> None:
    """30 is left after 2 at 100 and 3 at 90: one step at 50 would overshoot the amount, so the order is
    done; it never walks on to sell at 20, where a step would fit."""
    taker = market(side=Side.SELL, qty=None, amount="500")
    bids = [("100", "2"), ("90", "3"), ("50", "5"), ("20", "5")]
    result = take(taker, book(bids=bids), [], TakeLimits(None, None, None, D("1")), AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("100"), D("2")), (D("90"), D("3"))]
    assert taker.status is OrderStatus.FILLED


def test_market_by_amount_that_empties_the_book_leaving_dust_at_its_last_price_is_filled() -> None:
    """415 buys 2 at 100 and the 1 at 110; the 105 left could not buy a step at the last price, so the
    order is filled, not cancelled for want of liquidity."""
    taker = market(qty=None, amount="415")
    take(taker, book(asks=[("100", "2"), ("110", "1")]), [], TakeLimits(None, None, None, D("1")), AT)
    assert (taker.status, taker.cancel_reason) == (OrderStatus.FILLED, None)


def test_market_buy_stops_at_the_band_above_the_mark_price() -> None:
    taker = market(qty="5")
    asks = [("100", "1"), ("105", "1"), ("105.01", "5")]
    result = take(taker, book(asks=asks), [], band("100", up="0.05"), AT)
    assert [f.price for f in result.fills] == [D("100"), D("105")]  # the cap itself is allowed
    assert (taker.status, taker.cancel_reason) == (
        OrderStatus.PARTIALLY_CANCELED,
        CancelReason.RISKLIMIT_CANCEL,
    )


def test_market_sell_stops_at_the_band_below_the_mark_price() -> None:
    taker = market(side=Side.SELL, qty="5")
    result = take(
        taker, book(bids=[("95", "1"), ("90", "1"), ("89.99", "5")]), [], band("100", down="0.1"), AT
    )
    assert [f.price for f in result.fills] == [D("95"), D("90")]
    assert taker.status is OrderStatus.PARTIALLY_CANCELED


def test_market_entirely_outside_the_band_is_cancelled_without_fills() -> None:
    taker = market(qty="1")
    result = take(taker, book(asks=[("120", "5")]), [], band("100", up="0.1"), AT)
    assert result.fills == []
    assert (taker.status, taker.cancel_reason) == (OrderStatus.CANCELED, CancelReason.RISKLIMIT_CANCEL)


def test_the_band_caps_simulated_resting_orders_too() -> None:
    maker = resting("far", Side.SELL, "130", "1", 1)
    taker = market(qty="1")
    take(taker, book(), [maker], band("100", up="0.1"), AT)
    assert maker.executed_qty == 0 and taker.status is OrderStatus.CANCELED


@pytest.mark.parametrize("limits", [band("100"), TakeLimits(None, D("0.01"), D("0.01"), D("0.001"))])
def test_without_a_mark_price_or_a_rate_a_market_order_has_no_cap(limits: TakeLimits) -> None:
    buy, sell = market(qty="1"), market(side=Side.SELL, qty="1")
    take(buy, book(asks=[("1000", "1")]), [], limits, AT)
    take(sell, book(bids=[("1", "1")]), [], limits, AT)
    assert buy.status is OrderStatus.FILLED and sell.status is OrderStatus.FILLED


def test_market_by_amount_stopped_by_the_band_is_partially_cancelled() -> None:
    taker = market(qty=None, amount="1000")
    take(taker, book(asks=[("100", "2"), ("120", "10")]), [], band("100", up="0.1", step="1"), AT)
    assert taker.executed_quote == D("200")
    assert taker.status is OrderStatus.PARTIALLY_CANCELED


# Rule 5: LIMIT and its time in force


def test_gtc_buy_takes_only_at_or_below_its_limit_and_rests_the_remainder() -> None:
    taker = order(price="101", qty="3")
    result = take(taker, book(asks=[("100", "1"), ("101", "1"), ("102", "5")]), [], NO_BAND, AT)
    assert [f.price for f in result.fills] == [D("100"), D("101")]
    assert result.rests is True
    assert taker.status is OrderStatus.PARTIALLY_FILLED and taker.remaining_qty == D("1")


def test_gtc_sell_takes_only_at_or_above_its_limit() -> None:
    taker = order(side=Side.SELL, price="99", qty="3")
    result = take(taker, book(bids=[("100", "1"), ("99", "1"), ("98", "5")]), [], NO_BAND, AT)
    assert [f.price for f in result.fills] == [D("100"), D("99")]
    assert result.rests is True


def test_gtc_that_crosses_nothing_rests_as_new() -> None:
    taker = order(price="99", qty="1")
    result = take(taker, book(asks=[("100", "1")]), [], NO_BAND, AT)
    assert (result.fills, result.rests, taker.status) == ([], True, OrderStatus.NEW)


def test_gtc_filled_completely_does_not_rest() -> None:
    taker = order(price="100", qty="1")
    result = take(taker, book(asks=[("100", "1")]), [], NO_BAND, AT)
    assert (result.rests, taker.status) == (False, OrderStatus.FILLED)


def test_a_limit_order_ignores_the_market_band() -> None:
    taker = order(price="200", qty="1", tif=TimeInForce.IOC)
    take(taker, book(asks=[("150", "1")]), [], band("100", up="0.1"), AT)
    assert taker.status is OrderStatus.FILLED


def test_ioc_cancels_its_remainder_by_risk_limit() -> None:
    taker = order(price="100", qty="3", tif=TimeInForce.IOC)
    result = take(taker, book(asks=[("100", "1"), ("101", "5")]), [], NO_BAND, AT)
    assert result.rests is False
    assert (taker.status, taker.cancel_reason) == (
        OrderStatus.PARTIALLY_CANCELED,
        CancelReason.RISKLIMIT_CANCEL,
    )
    assert taker.executed_qty == D("1")


def test_ioc_that_crosses_nothing_is_cancelled() -> None:
    taker = order(price="99", qty="1", tif=TimeInForce.IOC)
    take(taker, book(asks=[("100", "1")]), [], NO_BAND, AT)
    assert (taker.status, taker.cancel_reason) == (OrderStatus.CANCELED, CancelReason.RISKLIMIT_CANCEL)


def test_fok_fills_everything_when_the_quantity_is_there_within_the_limit() -> None:
    maker = resting("m1", Side.SELL, "100.5", "1", 1)
    taker = order(price="101", qty="3", tif=TimeInForce.FOK)
    result = take(taker, book(asks=[("100", "1"), ("101", "1")]), [maker], NO_BAND, AT)
    assert taker.status is OrderStatus.FILLED
    assert sum(f.qty for f in result.fills) == D("3")


def test_fok_fills_when_the_book_holds_more_than_it_needs() -> None:
    taker = order(price="101", qty="2", tif=TimeInForce.FOK)
    result = take(taker, book(asks=[("100", "1"), ("101", "1"), ("102", "5")]), [], NO_BAND, AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("100"), D("1")), (D("101"), D("1"))]
    assert taker.status is OrderStatus.FILLED


def test_fok_that_cannot_fill_completely_changes_nothing() -> None:
    maker = resting("m1", Side.SELL, "100.5", "1", 1)
    taker = order(price="101", qty="3", tif=TimeInForce.FOK)
    result = take(taker, book(asks=[("100", "1"), ("102", "10")]), [maker], NO_BAND, AT)
    assert (result.fills, result.taken, result.expired_makers, result.rests) == ([], {}, [], False)
    assert (taker.status, taker.cancel_reason) == (OrderStatus.CANCELED, CancelReason.RISKLIMIT_CANCEL)
    assert taker.executed_qty == 0 and maker.executed_qty == 0 and maker.status is OrderStatus.NEW


def test_fok_does_not_count_liquidity_behind_its_own_order_when_stp_expires_the_taker() -> None:
    """It ends at its own order as an IOC or GTC would, for self-trade, having filled nothing."""
    own = resting("own", Side.SELL, "100", "1", 1, account="taker")
    taker = order(price="101", qty="2", tif=TimeInForce.FOK)
    result = take(taker, book(asks=[("100", "1"), ("101", "5")]), [own], NO_BAND, AT)
    assert result.fills == []
    assert (taker.status, taker.cancel_reason) == (OrderStatus.CANCELED, CancelReason.SELF_TRADE_CANCEL)
    assert own.status is OrderStatus.NEW


def test_fok_with_expire_maker_skips_its_own_orders_and_expires_them_only_when_it_fills() -> None:
    asks = [("100", "1"), ("101", "1")]
    own = resting("own", Side.SELL, "100", "5", 1, account="taker")
    filled = order(price="101", qty="2", tif=TimeInForce.FOK, stp=StpMode.EXPIRE_MAKER)
    result = take(filled, book(asks=asks), [own], NO_BAND, AT)
    assert filled.status is OrderStatus.FILLED and result.expired_makers == [own]
    assert own.status is OrderStatus.CANCELED and own.executed_qty == 0

    own = resting("own", Side.SELL, "100", "5", 1, account="taker")
    killed = order(price="101", qty="3", tif=TimeInForce.FOK, stp=StpMode.EXPIRE_MAKER)
    result = take(killed, book(asks=asks), [own], NO_BAND, AT)
    assert killed.status is OrderStatus.CANCELED and result.expired_makers == []
    assert own.status is OrderStatus.NEW


# Rule 6: LIMIT_MAKER


def maker_order(side: Side, price: str, account: str = "taker") -> Order:
    return order(side=side, type=OrderType.LIMIT_MAKER, price=price, qty="1", account=account)


@pytest.mark.parametrize("price", ["100", "101"])
def test_limit_maker_buy_at_or_through_the_best_ask_is_rejected(price: str) -> None:
    taker = maker_order(Side.BUY, price)
    result = take(taker, book(asks=[("100", "1")]), [], NO_BAND, AT)
    assert (result.fills, result.rests) == ([], False)
    assert (taker.status, taker.cancel_reason) == (OrderStatus.REJECTED, CancelReason.RISKLIMIT_CANCEL)


def test_limit_maker_that_would_not_trade_rests_as_new() -> None:
    taker = maker_order(Side.SELL, "101")
    result = take(taker, book(bids=[("100", "1")], asks=[("102", "1")]), [], NO_BAND, AT)
    assert (result.fills, result.rests, taker.status) == ([], True, OrderStatus.NEW)


def test_limit_maker_facing_an_empty_side_rests_as_new() -> None:
    taker = maker_order(Side.BUY, "100")
    result = take(taker, book(bids=[("99", "1")]), [], NO_BAND, AT)
    assert (result.fills, result.rests, taker.status) == ([], True, OrderStatus.NEW)


def test_limit_maker_crossing_a_simulated_order_is_rejected_even_its_own() -> None:
    own = resting("own", Side.BUY, "101", "1", 1, account="taker")
    taker = maker_order(Side.SELL, "101")
    take(taker, book(bids=[("100", "1")]), [own], NO_BAND, AT)
    assert taker.status is OrderStatus.REJECTED
    assert own.executed_qty == 0 and own.status is OrderStatus.NEW


def test_would_take_ignores_same_side_and_finished_simulated_orders() -> None:
    taker = maker_order(Side.BUY, "100")
    others = [
        resting("bid", Side.BUY, "101", "1", 1),
        resting("done", Side.SELL, "99", "1", 2, status=OrderStatus.FILLED),
    ]
    assert would_take(taker, book(bids=[("101", "1")], asks=[("100.5", "1")]), others) is False
    assert would_take(taker, book(asks=[("100.5", "1")]), [resting("ask", Side.SELL, "99", "1", 3)]) is True


# Rule 7: self-trade prevention


def test_expire_taker_keeps_earlier_fills_and_ends_at_its_own_order() -> None:
    own = resting("own", Side.SELL, "101", "1", 1, account="taker")
    taker = order(price="102", qty="3", tif=TimeInForce.IOC)
    result = take(taker, book(asks=[("100", "1"), ("102", "5")]), [own], NO_BAND, AT)
    assert fills_of(result.fills) == [(D("100"), D("1"), None)]
    assert (taker.status, taker.cancel_reason) == (
        OrderStatus.PARTIALLY_CANCELED,
        CancelReason.SELF_TRADE_CANCEL,
    )
    assert own.status is OrderStatus.NEW and result.expired_makers == []


def test_expire_taker_meeting_its_own_order_first_is_cancelled() -> None:
    own = resting("own", Side.BUY, "100", "1", 1, account="taker")
    taker = market(side=Side.SELL, qty="1")
    take(taker, book(bids=[("99", "5")]), [own], NO_BAND, AT)
    assert (taker.status, taker.cancel_reason) == (OrderStatus.CANCELED, CancelReason.SELF_TRADE_CANCEL)


def test_gtc_with_expire_taker_ends_instead_of_resting() -> None:
    own = resting("own", Side.SELL, "100", "1", 1, account="taker")
    taker = order(price="101", qty="2")
    result = take(taker, book(), [own], NO_BAND, AT)
    assert result.rests is False
    assert (taker.status, taker.cancel_reason) == (OrderStatus.CANCELED, CancelReason.SELF_TRADE_CANCEL)


def test_expire_maker_cancels_its_own_resting_order_and_keeps_taking() -> None:
    own = resting("own", Side.SELL, "100", "2", 1, account="taker")
    other = resting("other", Side.SELL, "100", "1", 2)
    taker = market(qty="2", stp=StpMode.EXPIRE_MAKER)
    result = take(taker, book(asks=[("101", "5")]), [other, own], NO_BAND, AT)
    assert fills_of(result.fills) == [(D("100"), D("1"), "other"), (D("101"), D("1"), None)]
    assert result.expired_makers == [own]
    assert (own.status, own.cancel_reason, own.updated_ms) == (
        OrderStatus.CANCELED,
        CancelReason.SELF_TRADE_CANCEL,
        AT,
    )
    assert taker.status is OrderStatus.FILLED


def test_expire_maker_on_a_partly_filled_own_order_is_partially_cancelled() -> None:
    own = resting("own", Side.SELL, "100", "2", 1, account="taker")
    own.record_fill(D("1"), D("100"), AT - 500)
    take(market(qty="1", stp=StpMode.EXPIRE_MAKER), book(asks=[("101", "5")]), [own], NO_BAND, AT)
    assert own.status is OrderStatus.PARTIALLY_CANCELED


def test_no_self_trade_check_once_the_taker_is_filled() -> None:
    own = resting("own", Side.SELL, "101", "1", 1, account="taker")
    taker = market(qty="1", stp=StpMode.EXPIRE_MAKER)
    result = take(taker, book(asks=[("100", "1")]), [own], NO_BAND, AT)
    assert result.expired_makers == [] and own.status is OrderStatus.NEW


@pytest.mark.parametrize("stp", list(StpMode), ids=lambda mode: mode.value)
def test_no_self_trade_check_past_the_point_where_an_order_by_amount_is_done(stp: StpMode) -> None:
    """250 buys 2 at 100; the 50 left cannot buy a step at the account's own sell at 110: the order is
    filled there, and that order is neither met (EXPIRE_TAKER) nor expired (EXPIRE_MAKER)."""
    own = resting("own", Side.SELL, "110", "1", 1, account="taker")
    taker = market(qty=None, amount="250", stp=stp)
    result = take(taker, book(asks=[("100", "2")]), [own], TakeLimits(None, None, None, D("1")), AT)
    assert [(f.price, f.qty) for f in result.fills] == [(D("100"), D("2"))]
    assert (taker.status, result.expired_makers, own.status) == (OrderStatus.FILLED, [], OrderStatus.NEW)


def test_a_sell_by_amount_meeting_its_own_bid_before_it_is_done_ends_for_self_trade() -> None:
    own = resting("own", Side.BUY, "40", "5", 1, account="taker")
    taker = market(side=Side.SELL, qty=None, amount="150")  # 50 left after 1 at 100: a step at 40 fits
    take(taker, book(bids=[("100", "1")]), [own], TakeLimits(None, None, None, D("1")), AT)
    assert (taker.status, taker.cancel_reason) == (
        OrderStatus.PARTIALLY_CANCELED,
        CancelReason.SELF_TRADE_CANCEL,
    )


def test_a_simulated_maker_of_another_account_is_filled() -> None:
    maker = resting("m1", Side.SELL, "100", "2", 1)
    take(market(qty="1.5"), book(), [maker], NO_BAND, AT)
    assert (maker.executed_qty, maker.executed_quote, maker.status) == (
        D("1.5"),
        D("150"),
        OrderStatus.PARTIALLY_FILLED,
    )
    assert maker.updated_ms == AT


# Rule 8: recorded liquidity taken


def test_a_buy_records_what_it_took_from_the_asks_and_never_more_than_shown() -> None:
    result = take(market(qty="10"), book(asks=[("100", "1"), ("101", "2")]), [], NO_BAND, AT)
    assert result.taken == {(Side.SELL, D("100")): D("1"), (Side.SELL, D("101")): D("2")}


def test_a_sell_records_what_it_took_from_the_bids_but_not_simulated_fills() -> None:
    maker = resting("m1", Side.BUY, "100", "1", 1)
    result = take(market(side=Side.SELL, qty="2"), book(bids=[("100", "1")]), [maker], NO_BAND, AT)
    assert result.taken == {(Side.BUY, D("100")): D("1")}
    assert maker.executed_qty == D("1")


# Rule 9: conservation and determinism


def test_taking_is_deterministic_whatever_the_order_of_resting_orders() -> None:
    def run(reverse: bool) -> tuple[object, ...]:
        makers = [
            resting("a", Side.SELL, "100", "1", 2),
            resting("b", Side.SELL, "100", "1", 1),
            resting("own", Side.SELL, "100.5", "1", 3, account="taker"),
        ]
        taker = market(qty="3", stp=StpMode.EXPIRE_MAKER)
        result = take(
            taker, book(asks=[("100", "1"), ("101", "1")]), makers[::-1] if reverse else makers, NO_BAND, AT
        )
        return (
            fills_of(result.fills),
            result.taken,
            [m.order_id for m in result.expired_makers],
            taker.status,
        )

    assert run(False) == run(True)


def test_executed_plus_remaining_is_the_original_quantity() -> None:
    taker = order(price="101", qty="3")
    take(taker, book(asks=[("100", "1.25")]), [], NO_BAND, AT)
    assert taker.executed_qty + taker.remaining_qty == D("3")
    assert taker.remaining_qty == D("1.75")


def test_cancelling_a_finished_taker_is_illegal_afterwards() -> None:
    taker = market(qty="1")
    take(taker, book(asks=[("100", "1")]), [], NO_BAND, AT)
    with pytest.raises(IllegalTransition):
        taker.apply(Event.CANCEL, AT)
