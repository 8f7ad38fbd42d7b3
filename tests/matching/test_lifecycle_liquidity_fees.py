"""The order lifecycle (the transition table and fills), the recorded liquidity a taker meets (which
source, staleness boundaries, taken liquidity, synthetic levels, mark price) and trading fees."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.domain.matching.fees import Fee, fill_fee
from simulator.domain.matching.liquidity import (
    EMPTY,
    Level,
    RecordedBook,
    Source,
    less_crossed,
    less_taken,
    mark_price,
    on_grid,
    recorded_book,
    shown_at,
    synthetic_book,
)
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import (
    TRANSITIONS,
    CancelReason,
    Event,
    IllegalTransition,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from simulator.marketdata.records import Bbo, Depth, Kline, Trade

D = Decimal
AT = 1_700_000_000_000
PROPERTIES = settings(max_examples=150, deadline=None)


# --- orders: the transition table -----------------------------------------------------------------------

S = OrderStatus
# The lifecycle written out independently of the module: what a user of the API may see an order do.
EXPECTED_TABLE: dict[tuple[OrderStatus | None, Event], OrderStatus] = {
    (None, Event.ACCEPT): S.NEW,
    (None, Event.REJECT): S.REJECTED,
    (S.NEW, Event.FILL): S.PARTIALLY_FILLED,
    (S.NEW, Event.FILL_ALL): S.FILLED,
    (S.NEW, Event.CANCEL): S.CANCELED,
    (S.NEW, Event.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, Event.FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, Event.FILL_ALL): S.FILLED,
    (S.PARTIALLY_FILLED, Event.CANCEL): S.PARTIALLY_CANCELED,
    (S.PARTIALLY_FILLED, Event.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, Event.FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, Event.FILL_ALL): S.FILLED,
}
# A pending cancel taking effect: its result depends on the fills, so it is not a table entry.
PENDING_CANCEL_TAKES_EFFECT = (S.PENDING_CANCEL, Event.CANCEL)
ALL_STATUSES: tuple[OrderStatus | None, ...] = (None, *OrderStatus)
ILLEGAL = [
    (status, event)
    for status in ALL_STATUSES
    for event in Event
    if (status, event) not in EXPECTED_TABLE and (status, event) != PENDING_CANCEL_TAKES_EFFECT
]


def limit_order(
    status: OrderStatus | None = None,
    qty: str = "10",
    executed_qty: str = "0",
    executed_quote: str = "0",
) -> Order:
    return Order(
        order_id="o1",
        account_id="a1",
        symbol="BTCUSDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D("100"),
        quantity=D(qty),
        executed_qty=D(executed_qty),
        executed_quote=D(executed_quote),
        status=status,
        created_ms=AT,
        updated_ms=AT,
    )


def market_by_amount(amount: str) -> Order:
    return Order(
        order_id="m1",
        account_id="a1",
        symbol="BTCUSDT",
        side=Side.BUY,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        price=None,
        quantity=None,
        amount=D(amount),
        status=OrderStatus.NEW,
    )


def _id(value: object) -> str:
    return str(value)


def test_the_table_is_exactly_the_lifecycle() -> None:
    assert TRANSITIONS == EXPECTED_TABLE


def test_only_the_seven_hashkey_statuses_exist() -> None:
    assert {s.value for s in OrderStatus} == {
        "NEW",
        "PARTIALLY_FILLED",
        "FILLED",
        "CANCELED",
        "PARTIALLY_CANCELED",
        "PENDING_CANCEL",
        "REJECTED",
    }


def test_cancel_reasons_are_exactly_the_documents_list() -> None:
    assert [r.value for r in CancelReason] == [
        "SYSTEM_CANCEL",
        "USER_CANCEL",
        "RISKLIMIT_CANCEL",
        "BLOCKED_CANCEL",
        "CLOSED_CANCEL",
        "OFFLINE_CANCEL",
        "SELF_TRADE_CANCEL",
    ]


@pytest.mark.parametrize(("pair", "expected"), list(EXPECTED_TABLE.items()), ids=_id)
def test_every_allowed_transition_moves_to_its_status(
    pair: tuple[OrderStatus | None, Event], expected: OrderStatus
) -> None:
    status, event = pair
    order = limit_order(status, executed_qty="1" if status is not None else "0")
    assert order.apply(event, AT + 5) is expected
    assert order.status is expected
    assert order.updated_ms == AT + 5


@pytest.mark.parametrize(("status", "event"), ILLEGAL, ids=_id)
def test_every_other_pair_is_an_illegal_transition_and_changes_nothing(
    status: OrderStatus | None, event: Event
) -> None:
    order = limit_order(status)
    with pytest.raises(IllegalTransition):
        order.apply(event, AT + 5, CancelReason.USER_CANCEL)
    assert order.status is status
    assert order.updated_ms == AT
    assert order.cancel_reason is None


def test_every_final_status_accepts_no_event() -> None:
    finals = {S.FILLED, S.CANCELED, S.PARTIALLY_CANCELED, S.REJECTED}
    assert {(s, e) for s in finals for e in Event} <= set(ILLEGAL)


def test_a_pending_cancel_with_nothing_filled_ends_canceled() -> None:
    order = limit_order(S.NEW)
    order.apply(Event.REQUEST_CANCEL, AT + 1)
    assert order.apply(Event.CANCEL, AT + 2, CancelReason.USER_CANCEL) is S.CANCELED
    assert order.cancel_reason is CancelReason.USER_CANCEL


def test_a_pending_cancel_after_a_fill_ends_partially_canceled() -> None:
    order = limit_order(S.NEW)
    order.apply(Event.REQUEST_CANCEL, AT + 1)
    assert order.record_fill(D("2"), D("100"), AT + 2) is S.PENDING_CANCEL
    assert order.apply(Event.CANCEL, AT + 3, CancelReason.USER_CANCEL) is S.PARTIALLY_CANCELED
    assert order.executed_qty == D("2")


def test_a_pending_cancel_that_fills_completely_is_filled() -> None:
    order = limit_order(S.PENDING_CANCEL)
    assert order.record_fill(D("10"), D("100"), AT + 1) is S.FILLED


@pytest.mark.parametrize(
    ("status", "event", "expected"),
    [
        (None, Event.REJECT, S.REJECTED),
        (S.NEW, Event.CANCEL, S.CANCELED),
        (S.PARTIALLY_FILLED, Event.CANCEL, S.PARTIALLY_CANCELED),
        (S.PENDING_CANCEL, Event.CANCEL, S.CANCELED),
    ],
    ids=_id,
)
@pytest.mark.parametrize("reason", list(CancelReason), ids=_id)
def test_cancel_and_reject_record_the_reason_given(
    status: OrderStatus | None, event: Event, expected: OrderStatus, reason: CancelReason
) -> None:
    order = limit_order(status)
    assert order.apply(event, AT + 1, reason) is expected
    assert order.cancel_reason is reason


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (None, Event.REJECT),
        (S.NEW, Event.CANCEL),
        (S.PARTIALLY_FILLED, Event.CANCEL),
        PENDING_CANCEL_TAKES_EFFECT,
    ],
    ids=_id,
)
def test_cancel_and_reject_without_a_reason_are_system_cancels(
    status: OrderStatus | None, event: Event
) -> None:
    order = limit_order(status)
    order.apply(event, AT + 1)
    assert order.cancel_reason is CancelReason.SYSTEM_CANCEL


@pytest.mark.parametrize("event", [Event.ACCEPT, Event.REQUEST_CANCEL], ids=_id)
def test_events_that_do_not_end_an_order_record_no_reason(event: Event) -> None:
    order = limit_order(None if event is Event.ACCEPT else S.NEW)
    order.apply(event, AT + 1, CancelReason.USER_CANCEL)
    assert order.cancel_reason is None


# --- orders: fills --------------------------------------------------------------------------------------


def test_fills_accumulate_exactly_and_fill_the_order_at_its_quantity() -> None:
    order = limit_order(S.NEW, qty="1")
    fills = [(D("0.1"), D("30000.01")), (D("0.2"), D("30000.03")), (D("0.3"), D("29999.99"))]
    for qty, price in fills:
        assert order.record_fill(qty, price, AT + 1) is S.PARTIALLY_FILLED
    assert order.executed_qty == D("0.6")
    assert order.executed_quote == D("3000.001") + D("6000.006") + D("8999.997")
    assert order.remaining_qty == D("0.4")
    assert order.record_fill(D("0.4"), D("30000"), AT + 2) is S.FILLED
    assert order.executed_qty == D("1")
    assert order.executed_quote == D("18000.004") + D("12000")
    assert order.is_final and not order.is_working
    assert order.updated_ms == AT + 2


def test_a_fill_one_step_short_of_the_quantity_leaves_the_order_partially_filled() -> None:
    order = limit_order(S.NEW, qty="1")
    assert order.record_fill(D("0.99999999"), D("1"), AT) is S.PARTIALLY_FILLED
    assert order.remaining_qty == D("0.00000001")
    assert order.record_fill(D("0.00000001"), D("1"), AT) is S.FILLED


def test_a_market_order_by_amount_is_filled_when_its_amount_is_spent() -> None:
    order = market_by_amount("100")
    assert order.record_fill(D("0.5"), D("120"), AT) is S.PARTIALLY_FILLED
    assert order.remaining_amount == D("40")
    assert order.record_fill(D("0.4"), D("100"), AT) is S.FILLED
    assert order.executed_quote == D("100")


@pytest.mark.parametrize("qty", ["0", "-0.001", "0E-8"])
def test_a_zero_or_negative_fill_raises_and_changes_nothing(qty: str) -> None:
    order = limit_order(S.NEW)
    with pytest.raises(ValueError):
        order.record_fill(D(qty), D("100"), AT + 1)
    assert (order.status, order.executed_qty, order.executed_quote) == (S.NEW, D("0"), D("0"))


@pytest.mark.parametrize("status", [None, S.FILLED, S.CANCELED, S.PARTIALLY_CANCELED, S.REJECTED], ids=_id)
def test_a_fill_on_an_order_that_is_not_working_raises(status: OrderStatus | None) -> None:
    with pytest.raises(IllegalTransition):
        limit_order(status).record_fill(D("1"), D("100"), AT + 1)


def test_a_refused_fill_leaves_the_executed_amounts_unchanged() -> None:
    order = limit_order(S.FILLED, executed_qty="10", executed_quote="1000")
    with pytest.raises(IllegalTransition):
        order.record_fill(D("1"), D("100"), AT + 1)
    assert (order.executed_qty, order.executed_quote) == (D("10"), D("1000"))


def test_a_fill_beyond_the_remaining_quantity_is_refused() -> None:
    order = limit_order(S.NEW, qty="1")
    with pytest.raises(ValueError):
        order.record_fill(D("1.5"), D("100"), AT + 1)
    assert order.executed_qty == D("0")


# --- liquidity ------------------------------------------------------------------------------------------

MODEL = FillModel(depth_staleness_ms=1_000, bbo_staleness_ms=2_000)
TICK = D("0.01")
STEP = D("0.001")
NOW = AT


def depth(time: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> Depth:
    return Depth(
        "BTCUSDT",
        time,
        tuple((D(p), D(q)) for p, q in bids),
        tuple((D(p), D(q)) for p, q in asks),
    )


def bbo(time: int, bid: tuple[str, str] = ("99", "2"), ask: tuple[str, str] = ("101", "3")) -> Bbo:
    return Bbo("BTCUSDT", time, D(bid[0]), D(bid[1]), D(ask[0]), D(ask[1]))


def bar(close_time: int, close: str = "100", volume: str = "50") -> Kline:
    open_time = close_time - 59_999
    c = D(close)
    return Kline("BTCUSDT", "1m", open_time, close_time, c, c, c, c, D(volume))


def levels(*pairs: tuple[str, str]) -> tuple[Level, ...]:
    return tuple(Level(D(p), D(q)) for p, q in pairs)


FRESH_DEPTH = depth(NOW - 10, [("100", "1")], [("100.5", "2")])


def book_at(
    now: int = NOW,
    depth_: Depth | None = None,
    bbo_: Bbo | None = None,
    bar_: Kline | None = None,
    taken: dict[tuple[Side, Decimal], Decimal] | None = None,
) -> RecordedBook:
    return less_taken(recorded_book(now, MODEL, depth_, bbo_, bar_, TICK, STEP), taken or {}, STEP)


def test_a_fresh_depth_snapshot_is_the_book() -> None:
    snapshot = depth(NOW - 10, [("100", "1"), ("99.9", "2")], [("100.5", "3"), ("100.6", "4")])
    book = book_at(depth_=snapshot, bbo_=bbo(NOW), bar_=bar(NOW - 1))
    assert book == RecordedBook(
        Source.DEPTH, NOW - 10, levels(("100", "1"), ("99.9", "2")), levels(("100.5", "3"), ("100.6", "4"))
    )


def test_a_depth_snapshot_exactly_at_the_staleness_limit_is_used() -> None:
    book = book_at(depth_=depth(NOW - 1_000, [("100", "1")], [("101", "1")]), bbo_=bbo(NOW))
    assert (book.source, book.time) == (Source.DEPTH, NOW - 1_000)


def test_a_depth_snapshot_one_ms_past_the_limit_gives_way_to_the_bbo() -> None:
    book = book_at(depth_=depth(NOW - 1_001, [("100", "1")], [("101", "1")]), bbo_=bbo(NOW - 5))
    assert book == RecordedBook(
        Source.BBO, NOW - 5, levels(("99", "2")), levels(("101", "3")), (D("99"), D("101"))
    )


def test_a_bbo_exactly_at_the_staleness_limit_is_used() -> None:
    book = book_at(bbo_=bbo(NOW - 2_000), bar_=bar(NOW - 1))
    assert (book.source, book.time) == (Source.BBO, NOW - 2_000)


def test_a_bbo_one_ms_past_the_limit_gives_way_to_the_last_bar() -> None:
    last = bar(NOW - 1)
    book = book_at(bbo_=bbo(NOW - 2_001), bar_=last)
    assert (book.source, book.time) == (Source.KLINE, last.open_time)


def test_stale_depth_and_stale_bbo_give_way_to_the_last_bar() -> None:
    book = book_at(
        depth_=depth(NOW - 1_001, [("1", "1")], [("2", "1")]), bbo_=bbo(NOW - 2_001), bar_=bar(NOW - 1)
    )
    assert book.source is Source.KLINE


def test_a_bar_is_no_book_once_a_depth_or_bbo_was_recorded_after_it_closed() -> None:
    """The book does not go back to a source it has moved past: what takers took from the newer one would be
    offered again from the older (the taken liquidity follows the source takers used last)."""
    last = bar(NOW - 30_001)  # closed half a minute ago: it stands for the market for another half

    assert book_at(bar_=last).source is Source.KLINE
    assert book_at(depth_=depth(NOW - 40_000, [("1", "1")], [("2", "1")]), bar_=last).source is Source.KLINE
    assert book_at(depth_=depth(NOW - 20_000, [("1", "1")], [("2", "1")]), bar_=last) is EMPTY
    assert book_at(bbo_=bbo(NOW - 20_000), bar_=last) is EMPTY


def test_a_bar_is_still_the_book_beside_a_stale_depth_or_bbo_recorded_as_it_closed() -> None:
    last = bar(NOW - 30_001)
    assert book_at(bbo_=bbo(last.close_time), bar_=last).source is Source.KLINE
    assert (
        book_at(depth_=depth(last.close_time, [("1", "1")], [("2", "1")]), bar_=last).source is Source.KLINE
    )


def test_a_bbo_older_than_the_last_snapshot_is_no_book() -> None:
    stale_depth = depth(NOW - 1_001, [("1", "1")], [("2", "1")])

    assert book_at(depth_=stale_depth, bbo_=bbo(NOW - 1_001)).source is Source.BBO  # as new: still the top
    assert book_at(depth_=stale_depth, bbo_=bbo(NOW - 1_002)) is EMPTY


def test_a_bar_that_closed_before_now_makes_synthetic_levels() -> None:
    book = book_at(bar_=bar(NOW - 1, close="100", volume="50"))
    assert book.source is Source.KLINE
    assert book.bids == levels(("99.95", "5.0"))
    assert book.asks == levels(("100.05", "5.0"))


def test_a_bar_stands_for_the_market_for_one_bar_length_after_it_closed() -> None:
    """Until the bar after it, were it recorded, would have closed too: after a recording's last bar (or
    over a gap in its bars) the book is empty, as it is once a snapshot is stale."""
    last = bar(NOW - 1)  # a minute bar closing at NOW - 1
    assert book_at(bar_=last, now=last.close_time + 60_000).source is Source.KLINE
    assert book_at(bar_=last, now=last.close_time + 60_001) is EMPTY


def test_a_bar_still_forming_is_not_used() -> None:
    assert book_at(bar_=bar(NOW)) is EMPTY
    assert book_at(bar_=bar(NOW + 30_000)) is EMPTY


def test_nothing_recorded_or_everything_stale_is_an_empty_book() -> None:
    assert book_at() is EMPTY
    stale = book_at(depth_=depth(NOW - 1_001, [("1", "1")], [("2", "1")]), bbo_=bbo(NOW - 2_001))
    assert stale is EMPTY
    assert (EMPTY.source, EMPTY.time, EMPTY.bids, EMPTY.asks) == (Source.NONE, None, (), ())


@pytest.mark.parametrize(
    ("best_bid", "best_ask", "bids", "asks"),
    [
        (None, None, levels(("99", "2")), levels(("101", "3"))),
        ("100.5", "102", levels(("99", "2")), levels(("101", "3"))),  # inside the spread: nothing crossed
        ("101", None, levels(("99", "2")), levels(("101", "3"))),  # at the ask: kept, as a snapshot keeps it
        (None, "99", levels(("99", "2")), levels(("101", "3"))),  # at the bid: kept too
        ("101.5", None, levels(("99", "2")), ()),  # a simulated bid above the ask
        (None, "98.5", (), levels(("101", "3"))),  # a simulated ask below the bid
    ],
)
def test_a_bbo_level_through_a_simulated_resting_order_is_left_out(
    best_bid: str | None, best_ask: str | None, bids: tuple[Level, ...], asks: tuple[Level, ...]
) -> None:
    book = book_at(bbo_=bbo(NOW))

    crossed = less_crossed(book, best_bid and D(best_bid), best_ask and D(best_ask))

    assert (crossed.source, crossed.time, crossed.bids, crossed.asks) == (Source.BBO, NOW, bids, asks)


@pytest.mark.parametrize(
    ("best_bid", "best_ask", "bids", "asks"),
    [
        (
            "100.01",
            None,
            levels(("99.99", "2")),
            (),
        ),  # the ask recorded at 100.005, shown at 100.01, is through
        ("100.02", None, levels(("99.99", "2")), ()),
        ("100", None, levels(("99.99", "2")), levels(("100.01", "3"))),  # an ask above the bid is kept
        (
            None,
            "99.99",
            (),
            levels(("100.01", "3")),
        ),  # the bid recorded at 99.995, shown at 99.99, is through
        (None, "100", levels(("99.99", "2")), levels(("100.01", "3"))),
    ],
)
def test_a_bbo_of_a_finer_tick_is_left_out_where_its_recorded_price_is_through_a_resting_order(
    best_bid: str | None, best_ask: str | None, bids: tuple[Level, ...], asks: tuple[Level, ...]
) -> None:
    """As a snapshot crosses resting orders at its recorded prices, not at the rounded ones shown."""
    recorded = bbo(NOW, bid=("99.995", "2"), ask=("100.005", "3"))
    book = book_at(bbo_=recorded)

    crossed = less_crossed(book, best_bid and D(best_bid), best_ask and D(best_ask))

    assert (crossed.bids, crossed.asks) == (bids, asks)


def test_zero_size_depth_levels_are_dropped() -> None:
    snapshot = depth(
        NOW, [("100", "0"), ("99", "1"), ("98", "0")], [("101", "2"), ("102", "0"), ("103", "1")]
    )
    book = book_at(depth_=snapshot)
    assert book.bids == levels(("99", "1"))
    assert book.asks == levels(("101", "2"), ("103", "1"))


def test_a_zero_size_bbo_side_is_dropped() -> None:
    book = book_at(bbo_=bbo(NOW, bid=("0", "0"), ask=("101", "3")))
    assert book.bids == ()
    assert book.asks == levels(("101", "3"))
    assert mark_price(book, D("100")) == D("100")


def test_prices_finer_than_the_tick_are_shown_bids_down_and_asks_up_and_merged_where_they_meet() -> None:
    """KuCoin-like prices against a 0.01 tick: never a better price than recorded, and sizes that meet at
    one price count together (two levels of less than a step each make a level of more than one)."""
    snapshot = depth(
        NOW,
        [("100.009", "0.0006"), ("100.001", "0.0007"), ("99.995", "2"), ("0.004", "5")],
        [("100.011", "1"), ("100.015", "2"), ("100.02", "3"), ("100.0201", "0.0004")],
    )
    book = book_at(depth_=snapshot)
    assert book.bids == levels(("100", "0.0013"), ("99.99", "2"))  # a bid under one tick shows at nothing
    assert book.asks == levels(("100.02", "6"))  # 100.0201 shows at 100.03, with less than a step: not at all
    assert book_at(bbo_=bbo(NOW, bid=("99.999", "2"), ask=("100.001", "3"))) == RecordedBook(
        Source.BBO, NOW, levels(("99.99", "2")), levels(("100.01", "3")), (D("99.999"), D("100.001"))
    )


def test_a_bid_under_one_is_put_on_the_grid_like_any_other() -> None:
    """A cheap coin recorded with more decimals than its tick (KuCoin's XRP, DOGE): only a bid under one
    tick rounds to nothing."""
    bids = ((D("0.12345"), D("10")), (D("0.0015"), D("10")), (D("0.0009"), D("10")))
    assert on_grid(bids, Side.BUY, D("0.001"), D("1")) == levels(("0.123", "10"), ("0.001", "10"))


def test_the_size_shown_at_a_price_is_that_of_the_levels_rounded_to_it_alone() -> None:
    """A bid shows at its price rounded down, an ask at its price rounded up: the level a tick better is
    not counted at the price."""
    recorded = ((D("99.99"), D("1")), (D("100"), D("2")), (D("100.005"), D("4")), (D("100.01"), D("8")))
    assert shown_at(recorded, Side.BUY, D("100"), TICK) == D("6")  # 100 and 100.005
    assert shown_at(recorded, Side.SELL, D("100"), TICK) == D("2")  # 100 alone
    assert shown_at(recorded, Side.SELL, D("100.01"), TICK) == D("12")  # 100.005 and 100.01


def test_levels_out_of_order_or_repeated_are_shown_best_first_and_merged() -> None:
    """Whatever order a recording gives its levels in: each price shows once, best first, so a crossed size
    counted level by level grows with the limit (the resting book relies on it)."""
    snapshot = depth(
        NOW,
        [("99.995", "0.0006"), ("100.004", "0.0006"), ("99.999", "0.0006"), ("100", "1")],
        [("100.02", "1"), ("100.011", "0.0006"), ("100.02", "2")],
    )
    book = book_at(depth_=snapshot)
    assert book.bids == levels(("100", "1.0006"), ("99.99", "0.0012"))
    assert book.asks == levels(("100.02", "3.0006"))


def test_a_snapshot_on_the_grid_is_the_stores_own_levels() -> None:
    """Every order reads the snapshot it meets: one already on the grid is not copied."""
    snapshot = Depth("BTCUSDT", NOW, levels(("100", "1"), ("99.99", "2")), levels(("100.01", "3")))
    assert recorded_book(NOW, MODEL, snapshot, None, None, TICK, STEP).bids is snapshot.bids


def test_taken_liquidity_is_subtracted_per_side_and_price() -> None:
    snapshot = depth(NOW, [("100", "2"), ("99", "3")], [("101", "1"), ("102", "4")])
    taken = {(Side.BUY, D("100")): D("0.5"), (Side.SELL, D("102")): D("1.25")}
    book = book_at(depth_=snapshot, taken=taken)
    assert book.bids == levels(("100", "1.5"), ("99", "3"))
    assert book.asks == levels(("101", "1"), ("102", "2.75"))


def test_a_fully_taken_level_disappears() -> None:
    snapshot = depth(NOW, [("100", "2"), ("99", "3")], [("101", "1"), ("102", "4")])
    taken = {(Side.BUY, D("100")): D("2"), (Side.SELL, D("101")): D("1.5")}
    book = book_at(depth_=snapshot, taken=taken)
    assert book.bids == levels(("99", "3"))
    assert book.asks == levels(("102", "4"))


def test_a_level_left_with_exactly_one_step_stays() -> None:
    snapshot = depth(NOW, [("100", "2.001")], [("101", "3")])
    taken = {(Side.BUY, D("100")): D("2"), (Side.SELL, D("101")): D("2.999")}
    book = book_at(depth_=snapshot, taken=taken)
    assert (book.bids, book.asks) == (levels(("100", "0.001")), levels(("101", "0.001")))


def test_taken_on_the_other_side_or_another_price_takes_nothing() -> None:
    snapshot = depth(NOW, [("100", "2")], [("101", "1")])
    taken = {(Side.SELL, D("100")): D("2"), (Side.BUY, D("101")): D("1"), (Side.BUY, D("99.99")): D("5")}
    book = book_at(depth_=snapshot, taken=taken)
    assert book.bids == levels(("100", "2"))
    assert book.asks == levels(("101", "1"))


def test_taken_matches_a_price_however_it_is_written() -> None:
    book = book_at(depth_=depth(NOW, [("100.00", "2")], []), taken={(Side.BUY, D("100")): D("1")})
    assert book.bids == (Level(D("100"), D("1")),)


@PROPERTIES
@given(
    st.lists(st.integers(1, 40), min_size=0, max_size=12),
    st.dictionaries(st.tuples(st.sampled_from(Side), st.integers(90, 112)), st.integers(1, 45), max_size=10),
)
def test_taken_liquidity_is_each_levels_size_less_what_was_taken_from_it(
    sizes: list[int], taken_units: dict[tuple[Side, int], int]
) -> None:
    """Against the rule written out level by level: taken prices anywhere (in the book or not, the first
    levels or deeper, leaving less than a step or more), the levels untouched kept in their order."""
    quarter = STEP / 4
    bids = [(D(100 - n), quarter * size) for n, size in enumerate(sizes)]
    asks = [(D(101 + n), quarter * size) for n, size in enumerate(sizes)]
    taken = {(side, D(price)): quarter * units for (side, price), units in taken_units.items()}

    book = book_at(
        depth_=depth(NOW, [(f"{p}", f"{q}") for p, q in bids], [(f"{p}", f"{q}") for p, q in asks]),
        taken=taken,
    )

    def expected(side: Side, side_levels: list[tuple[Decimal, Decimal]]) -> tuple[Level, ...]:
        left = [(price, qty - taken.get((side, price), D(0))) for price, qty in side_levels]
        return tuple(Level(price, qty) for price, qty in left if qty >= STEP)

    assert book.bids == expected(Side.BUY, bids)
    assert book.asks == expected(Side.SELL, asks)


def test_taken_applies_to_a_bbo_and_to_synthetic_levels() -> None:
    from_bbo = book_at(bbo_=bbo(NOW), taken={(Side.SELL, D("101")): D("3"), (Side.BUY, D("99")): D("0.5")})
    assert (from_bbo.bids, from_bbo.asks) == (levels(("99", "1.5")), ())
    from_bar = book_at(bar_=bar(NOW - 1), taken={(Side.BUY, D("99.95")): D("5")})
    assert (from_bar.bids, from_bar.asks) == ((), levels(("100.05", "5.0")))


def test_synthetic_levels_round_the_bid_down_and_the_ask_up_to_the_tick() -> None:
    # spread = 100.003 * 0.0005 = 0.0500015: bid 99.9529985 -> 99.95, ask 100.0530015 -> 100.06
    book = synthetic_book(bar(NOW - 1, close="100.003", volume="7"), MODEL, TICK, STEP)
    assert book.bids == levels(("99.95", "0.7"))
    assert book.asks == levels(("100.06", "0.7"))


def test_a_synthetic_level_through_a_resting_order_before_rounding_is_left_out() -> None:
    """The ask 100.0530015 shows at 100.06, at a bid resting there, but is through it: left out, as a bar
    that closed through the bid; a bid at 100.05 (below the ask) keeps it."""
    book = synthetic_book(bar(NOW - 1, close="100.003", volume="7"), MODEL, TICK, STEP)
    assert book.unrounded == (D("99.9529985"), D("100.0530015"))
    assert less_crossed(book, D("100.06"), None).asks == ()
    assert less_crossed(book, D("100.05"), None).asks == levels(("100.06", "0.7"))
    assert less_crossed(book, None, D("99.95")).bids == ()  # 99.9529985 is through an ask at 99.95


def test_synthetic_levels_are_never_crossed_or_locked() -> None:
    no_spread = FillModel(synthetic_half_spread=D("0"))
    book = synthetic_book(bar(NOW - 1, close="100"), no_spread, TICK, STEP)
    assert book.bids[0].price == D("100")
    assert book.asks[0].price == D("100.01")


def test_a_bar_without_volume_offers_nothing() -> None:
    book = book_at(bar_=bar(NOW - 1, volume="0"))
    assert (book.source, book.bids, book.asks) == (Source.KLINE, (), ())


def test_a_bar_closing_under_one_tick_offers_nothing() -> None:
    """Its bid would round down to 0: no level, and no ask alone either."""
    book = book_at(bar_=bar(NOW - 1, close="0.004", volume="50"))
    assert (book.source, book.bids, book.asks) == (Source.KLINE, (), ())


@st.composite
def synthetic_cases(draw: st.DrawFn) -> tuple[Kline, FillModel, Decimal]:
    tick = draw(st.sampled_from([D("0.00001"), D("0.0001"), D("0.01"), D("0.5"), D("1")]))
    close = draw(st.decimals(min_value=D("2"), max_value=D("100000"), places=5))
    volume = draw(st.decimals(min_value=D("0.001"), max_value=D("10000"), places=3))
    half_spread = draw(st.decimals(min_value=D("0"), max_value=D("0.01"), places=5))
    share = draw(st.decimals(min_value=D("0.01"), max_value=D("1"), places=2))
    model = FillModel(synthetic_half_spread=half_spread, synthetic_volume_share=share)
    return bar(NOW - 1, close=str(close), volume=str(volume)), model, tick


@PROPERTIES
@given(synthetic_cases())
def test_synthetic_levels_sit_on_the_tick_grid_around_the_close(
    case: tuple[Kline, FillModel, Decimal],
) -> None:
    last, model, tick = case
    book = synthetic_book(last, model, tick, STEP)
    size = (last.volume * model.synthetic_volume_share // STEP) * STEP  # whole steps
    if size == 0:  # less than a step to offer
        assert book.bids == book.asks == ()
        return
    (bid,), (ask,) = book.bids, book.asks
    spread = last.close * model.synthetic_half_spread
    assert bid.price % tick == 0 and ask.price % tick == 0
    assert bid.price < ask.price
    assert bid.price <= last.close - spread < bid.price + tick
    assert ask.price >= last.close + spread
    assert ask.price - tick < last.close + spread or ask.price - tick == bid.price
    assert bid.qty == ask.qty == size <= last.volume * model.synthetic_volume_share < size + STEP


def test_the_mark_price_is_the_mid() -> None:
    book = book_at(depth_=FRESH_DEPTH)
    assert mark_price(book, D("90")) == D("100.25")


@pytest.mark.parametrize(
    "one_sided",
    [
        depth(NOW, [("100", "1")], []),
        depth(NOW, [], [("101", "1")]),
        depth(NOW, [("100", "0")], [("101", "1")]),
    ],
)
def test_the_mark_price_falls_back_to_the_last_trade_without_a_two_sided_book(one_sided: Depth) -> None:
    last = Trade("BTCUSDT", NOW - 3, D("100.7"), D("0.1"), True, "t1")
    assert mark_price(book_at(depth_=one_sided), last.price) == D("100.7")


def test_without_a_book_or_a_trade_there_is_no_mark_price() -> None:
    assert mark_price(EMPTY, None) is None
    last = Trade("BTCUSDT", NOW - 3, D("99.1"), D("0.1"), None, "t1")
    assert mark_price(EMPTY, last.price) == D("99.1")


@pytest.mark.parametrize(("best_bid", "best_ask"), [("101.5", None), (None, "98.5"), ("101.5", "98.5")])
def test_a_level_left_out_through_a_simulated_resting_order_keeps_its_place_in_the_mark_price(
    best_bid: str | None, best_ask: str | None
) -> None:
    """Simulated resting orders do not move the mark: the recorded bbo's mid still sets the bands while a
    resting order stands through one side of it (or both) and that side is not shown."""
    crossed = less_crossed(book_at(bbo_=bbo(NOW)), best_bid and D(best_bid), best_ask and D(best_ask))

    assert crossed.mid is None
    assert mark_price(crossed, D("90")) == D("100")
    assert mark_price(less_crossed(crossed, None, None), D("90")) == D("100")


def test_the_mark_price_uses_what_is_left_after_taking() -> None:
    book = book_at(depth_=FRESH_DEPTH, taken={(Side.SELL, D("100.5")): D("2")})
    assert mark_price(book, D("99")) == D("99")


# --- fees -----------------------------------------------------------------------------------------------


def fee(side: Side, qty: str, quote: str, rate: str) -> Fee:
    return fill_fee(side, D(qty), D(quote), D(rate), "BTC", "USDT")


def test_a_buy_pays_its_fee_in_base() -> None:
    assert fee(Side.BUY, "2", "60000", "0.001") == Fee("BTC", D("0.002"))


def test_a_sell_pays_its_fee_in_quote() -> None:
    assert fee(Side.SELL, "2", "60000", "0.001") == Fee("USDT", D("60"))


def test_the_fee_is_exact_as_in_the_documents_trade_example() -> None:
    # GET /api/v1/account/trades: qty 0.01098 BTC, commission "0.000013176" BTC (taker 0.0012)
    assert fee(Side.BUY, "0.01098", "1240.0271784", "0.0012") == Fee("BTC", D("0.000013176"))
    assert fee(Side.SELL, "0.004", "123.456789", "0.0015") == Fee("USDT", D("0.1851851835"))


@pytest.mark.parametrize("side", list(Side), ids=_id)
@pytest.mark.parametrize("rate", ["0", "0.000", "0E-8"])
def test_a_zero_rate_pays_no_fee(side: Side, rate: str) -> None:
    assert fee(side, "1.5", "45000.5", rate).amount == 0


@st.composite
def fee_cases(draw: st.DrawFn) -> tuple[Side, Decimal, Decimal, Decimal]:
    side = draw(st.sampled_from(list(Side)))
    qty = draw(st.decimals(min_value=D("0.00000001"), max_value=D("1000"), places=8))
    price = draw(st.decimals(min_value=D("0.0001"), max_value=D("100000"), places=4))
    rate = draw(st.decimals(min_value=D("0"), max_value=D("1"), places=6))
    return side, qty, qty * price, rate


@PROPERTIES
@given(fee_cases())
def test_the_fee_is_exactly_what_the_side_receives_times_the_rate(
    case: tuple[Side, Decimal, Decimal, Decimal],
) -> None:
    side, qty, quote, rate = case
    paid = fill_fee(side, qty, quote, rate, "BTC", "USDT")
    received, asset = (qty, "BTC") if side is Side.BUY else (quote, "USDT")
    assert (paid.asset, paid.amount) == (asset, received * rate)
