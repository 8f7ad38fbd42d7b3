"""RestingBook: the module's resting fills, looking only at the orders an event can reach."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import Event, Order, OrderStatus, OrderType, Side, TimeInForce
from simulator.domain.matching.resting import MakerFill, RestingBook, on_bar, on_depth, on_trade
from simulator.domain.money import floor_to_step
from simulator.marketdata.records import Depth, Kline, Trade

D = Decimal
SYMBOL = "BTCUSDT"
OTHER = "ETHUSDT"
MODEL = FillModel()
STEP = D("0.1")  # the sizes' step
TICK = D("0.5")  # the prices' tick: every price drawn is on it

# A narrow price grid so that orders, prints, levels and bars meet often, with many ties.
prices = st.integers(196, 204).map(lambda n: Decimal(n) / 2)  # 98.0 .. 102.0 by 0.5
sizes = st.integers(0, 60).map(lambda n: Decimal(n) / 10)
# what a recording shows may be finer than the step (KuCoin's sizes against a coarser stepSize)
recorded_sizes = st.one_of(sizes, st.integers(0, 600).map(lambda n: Decimal(n) / 100))
positive_sizes = st.integers(1, 60).map(lambda n: Decimal(n) / 10)
# and its prices finer than the tick (KuCoin's against a coarser tickSize)
recorded_prices = st.one_of(prices, st.integers(980, 1020).map(lambda n: Decimal(n) / 10))
times = st.sampled_from([0, 1_000, 2_000, 5_000, 60_000])
models = st.builds(
    FillModel,
    queue_model=st.booleans(),
    kline_touch_fills=st.booleans(),
    kline_volume_share=st.sampled_from([D(0), D("0.1"), D("0.5"), D(1)]),
)


def order(
    side: Side,
    price: str,
    qty: str = "1",
    *,
    sequence: int = 1,
    queue: str = "0",
    created_ms: int = 0,
) -> Order:
    return Order(
        order_id=f"{side}{price}-{sequence}",
        account_id="a",
        symbol=SYMBOL,
        side=side,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D(price),
        quantity=D(qty),
        created_ms=created_ms,
        sequence=sequence,
        status=OrderStatus.NEW,
        queue_ahead=D(queue),
    )


def trade(price: str, qty: str, time: int = 10_000) -> Trade:
    return Trade(SYMBOL, time, D(price), D(qty), None, f"t{time}")


def depth(bids: list[tuple[str, str]], asks: list[tuple[str, str]], time: int = 10_000) -> Depth:
    return Depth(SYMBOL, time, tuple((D(p), D(q)) for p, q in bids), tuple((D(p), D(q)) for p, q in asks))


# ---- equivalence with the module's functions ----


@st.composite
def random_orders(draw: st.DrawFn, first_index: int, count: int) -> list[Order]:
    result = []
    for index in range(first_index, first_index + count):
        status = draw(
            st.sampled_from(
                [OrderStatus.NEW] * 6
                + [OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL, OrderStatus.CANCELED]
            )
        )
        quantity = draw(positive_sizes)
        executed = D(0)
        if status is OrderStatus.PARTIALLY_FILLED:  # whole steps filled and whole steps left, as ever
            quantity += STEP
            executed = floor_to_step(quantity / 2, STEP)
        price = draw(prices)
        result.append(
            Order(
                order_id=str(index),
                account_id="a",
                symbol=draw(st.sampled_from([SYMBOL] * 9 + [OTHER])),
                side=draw(st.sampled_from(Side)),
                type=OrderType.LIMIT,
                time_in_force=TimeInForce.GTC,
                price=price,
                quantity=quantity,
                created_ms=draw(times),
                sequence=draw(st.integers(1, 5)),  # repeats: ties fall back on arrival
                executed_qty=executed,
                executed_quote=executed * price,
                status=status,
                queue_ahead=draw(recorded_sizes),
            )
        )
    return result


def levels() -> st.SearchStrategy[tuple[tuple[Decimal, Decimal], ...]]:
    # unsorted, repeated and empty levels: the module's functions accept any
    return st.lists(st.tuples(recorded_prices, recorded_sizes), max_size=6).map(tuple)


@st.composite
def steps(draw: st.DrawFn) -> list[tuple[str, object]]:
    """Events in time order, with orders added and cancelled between them."""
    actions: list[tuple[str, object]] = []
    next_index = 100
    for step in range(draw(st.integers(1, 12))):
        time = 1_000 * (step + 1)
        symbol = draw(st.sampled_from([SYMBOL] * 9 + [OTHER]))
        kind = draw(st.sampled_from(["trade", "trade", "depth", "depth", "bar", "add", "cancel"]))
        if kind == "trade":
            actions.append(
                ("event", Trade(symbol, time, draw(recorded_prices), draw(recorded_sizes), None, f"t{step}"))
            )
        elif kind == "depth":
            actions.append(("event", Depth(symbol, time, draw(levels()), draw(levels()))))
        elif kind == "bar":
            open_, close = draw(recorded_prices), draw(recorded_prices)
            high, low = max(open_, close, draw(recorded_prices)), min(open_, close, draw(recorded_prices))
            bar = Kline(symbol, "1m", time, time + 59_999, open_, high, low, close, draw(recorded_sizes))
            actions.append(("event", bar))
        elif kind == "add":
            actions.append(("add", draw(random_orders(next_index, 1))[0]))
            next_index += 1
        else:
            actions.append(("cancel", draw(st.integers(0, 10_000))))
    return actions


def module_fills(orders: list[Order], event: object, model: FillModel) -> list[MakerFill]:
    if isinstance(event, Trade):
        return on_trade(orders, event, model, STEP)
    if isinstance(event, Depth):
        return on_depth(orders, event, model, STEP, TICK)
    assert isinstance(event, Kline)
    return on_bar(orders, event, model, STEP)


def book_fills(book: RestingBook, event: object, model: FillModel) -> list[MakerFill]:
    if isinstance(event, Trade):
        return book.on_trade(event, model, STEP)
    if isinstance(event, Depth):
        return book.on_depth(event, model, STEP, TICK)
    assert isinstance(event, Kline)
    return book.on_bar(event, model, STEP)


def described(fills: list[MakerFill]) -> list[tuple[str, Decimal, Decimal, int]]:
    return [(fill.order.order_id, fill.price, fill.qty, fill.time) for fill in fills]


def priority(order: Order) -> tuple[Decimal, int]:
    assert order.price is not None
    return (-order.price if order.side is Side.BUY else order.price, order.sequence)


def assert_book_holds_what_still_works(book: RestingBook, given: list[Order], cancelled: set[int]) -> None:
    held = {id(order) for order in book.orders}
    assert len(book) == len(held) == len(book.orders)
    for order in given:
        if order.is_working and id(order) not in cancelled:
            assert id(order) in held, order
        if order.status is OrderStatus.FILLED:
            assert id(order) not in held, order
    for side in (Side.BUY, Side.SELL):
        keys = [priority(order) for order in book.orders if order.side is side]
        assert keys == sorted(keys)


@settings(max_examples=300, deadline=None)
@given(random_orders(0, 12), steps(), models)
def test_the_book_fills_and_changes_orders_exactly_as_the_module_functions(
    orders: list[Order], actions: list[tuple[str, object]], model: FillModel
) -> None:
    plain = copy.deepcopy(orders)  # replayed through the module's functions, given every order
    booked = copy.deepcopy(orders)  # replayed through a RestingBook
    book = RestingBook(booked)
    cancelled: set[int] = set()
    for action, payload in actions:
        if action == "add":
            assert isinstance(payload, Order)
            plain.append(copy.deepcopy(payload))
            booked.append(copy.deepcopy(payload))
            book.add(booked[-1])
        elif action == "cancel":
            assert isinstance(payload, int)
            target = payload % len(plain)
            if plain[target].is_working:
                plain[target].apply(Event.CANCEL, 0)
                booked[target].apply(Event.CANCEL, 0)
                book.remove(booked[target])
                cancelled.add(id(booked[target]))
        else:
            fills = book_fills(book, payload, model)
            assert described(fills) == described(module_fills(plain, payload, model))
            assert all(fill.qty > 0 and fill.qty % STEP == 0 for fill in fills)  # whole steps, any sizes
        # every field of every order: fills, statuses and queue_ahead
        assert booked == plain
        assert [order.queue_ahead for order in booked] == [order.queue_ahead for order in plain]
        assert_book_holds_what_still_works(book, booked, cancelled)


# ---- the book itself ----


def test_orders_are_held_buys_then_sells_in_priority_order_ties_by_arrival():
    first = order(Side.BUY, "99", sequence=2)
    second = order(Side.BUY, "99", sequence=2)
    book = RestingBook(
        [
            order(Side.SELL, "102", sequence=1),
            first,
            order(Side.BUY, "100", sequence=5),
            order(Side.SELL, "101", sequence=3),
            second,
            order(Side.BUY, "99", sequence=1),
        ]
    )
    held = book.orders
    assert [(o.side, o.price, o.sequence) for o in held] == [
        (Side.BUY, D(100), 5),
        (Side.BUY, D(99), 1),
        (Side.BUY, D(99), 2),
        (Side.BUY, D(99), 2),
        (Side.SELL, D(101), 3),
        (Side.SELL, D(102), 1),
    ]
    assert held[2] is first and held[3] is second
    assert len(book) == 6


def test_an_order_is_added_once_removed_once_and_must_have_a_price():
    resting = order(Side.BUY, "100")
    book = RestingBook([resting])
    with pytest.raises(ValueError, match="already in the book"):
        book.add(resting)
    twin = copy.deepcopy(resting)  # equal fields, another order
    book.add(twin)
    book.remove(resting)
    assert book.orders == [twin] and book.orders[0] is twin
    with pytest.raises(ValueError, match="not in the book"):
        book.remove(resting)
    unpriced = order(Side.SELL, "100")
    unpriced.price = None
    with pytest.raises(ValueError, match="no limit price"):
        book.add(unpriced)


def test_a_filled_order_leaves_the_book_and_a_partly_filled_one_stays():
    filled = order(Side.BUY, "101", "1", sequence=1)
    partly = order(Side.BUY, "100.5", "3", sequence=2)
    book = RestingBook([filled, partly])
    fills = book.on_trade(trade("100", "2"), MODEL, STEP)
    assert described(fills) == [
        (filled.order_id, D(101), D(1), 10_000),
        (partly.order_id, D("100.5"), D(1), 10_000),
    ]
    assert filled.status is OrderStatus.FILLED and partly.status is OrderStatus.PARTIALLY_FILLED
    assert book.orders == [partly]


def test_an_order_cancelled_outside_the_book_leaves_it_when_an_event_reaches_it():
    gone = order(Side.SELL, "99")
    book = RestingBook([gone])
    gone.apply(Event.CANCEL, 0)
    assert book.on_trade(trade("100", "5"), MODEL, STEP) == []
    assert len(book) == 0


def test_a_snapshot_caps_queues_of_orders_far_from_it_too():
    # the order's price is no longer shown at all: nothing can still be ahead of it
    far = order(Side.BUY, "90", queue="4")
    shown = order(Side.SELL, "101", queue="4", sequence=2)
    book = RestingBook([far, shown])
    assert book.on_depth(depth([("99", "1")], [("101", "2.5"), ("102", "1")]), MODEL, STEP, TICK) == []
    assert far.queue_ahead == 0
    assert shown.queue_ahead == D("2.5")


def test_a_print_through_orders_it_no_longer_has_size_for_still_clears_their_queues():
    first = order(Side.SELL, "99", "1", sequence=1)
    queued = order(Side.SELL, "99.5", "1", sequence=2, queue="3")
    book = RestingBook([first, queued])
    fills = book.on_trade(trade("100", "1"), MODEL, STEP)
    assert described(fills) == [(first.order_id, D(99), D(1), 10_000)]
    assert queued.queue_ahead == 0 and queued.executed_qty == 0


def test_an_order_arriving_with_or_after_an_event_is_passed_over_and_kept():
    early = order(Side.BUY, "100", "1", sequence=1, created_ms=0)
    late = order(Side.BUY, "101", "1", sequence=2, created_ms=10_000)
    book = RestingBook([early, late])
    fills = book.on_depth(depth([], [("99", "5")]), MODEL, STEP, TICK)
    assert described(fills) == [(early.order_id, D(100), D(1), 10_000)]
    assert book.orders == [late]
