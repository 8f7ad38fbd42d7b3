"""Properties of resting fills that hold for any replay of trades, depth snapshots and bars."""

from __future__ import annotations

import copy
from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.domain.matching.liquidity import less_taken, recorded_book
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from simulator.domain.matching.resting import MakerFill, on_bar, on_depth, on_trade, taken_by_depth_fills
from simulator.marketdata.records import Depth, Kline, Trade

SYMBOL = "BTCUSDT"
SETTINGS = settings(max_examples=150, deadline=None)

prices = st.integers(190, 210).map(lambda n: Decimal(n) / 2)  # 95.0 .. 105.0 by 0.5
sizes = st.integers(0, 100).map(lambda n: Decimal(n) / 10)
STEP = Decimal("0.1")  # the sizes' step: every size drawn is whole steps
TICK = Decimal("0.5")  # the prices' tick: every price drawn is on it
positive_sizes = st.integers(1, 100).map(lambda n: Decimal(n) / 10)

models = st.builds(
    FillModel,
    queue_model=st.booleans(),
    kline_touch_fills=st.booleans(),
    kline_volume_share=st.sampled_from([Decimal(0), Decimal("0.1"), Decimal("0.5"), Decimal(1)]),
)


@st.composite
def order_lists(draw: st.DrawFn) -> list[Order]:
    count = draw(st.integers(1, 6))
    return [
        Order(
            order_id=str(index),
            account_id="a",
            symbol=SYMBOL,
            side=draw(st.sampled_from(Side)),
            type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            price=draw(prices),
            quantity=draw(positive_sizes),
            created_ms=draw(st.sampled_from([0, 500, 60_000, 125_000])),
            sequence=draw(st.integers(1, 4)),  # repeats: ties must still be deterministic
            status=OrderStatus.NEW,
            queue_ahead=draw(sizes),
        )
        for index in range(count)
    ]


def trades(time: int) -> st.SearchStrategy[Trade]:
    return st.builds(Trade, st.just(SYMBOL), st.just(time), prices, sizes, st.none(), st.just(f"t{time}"))


def depths(time: int) -> st.SearchStrategy[Depth]:
    levels = st.lists(st.tuples(prices, sizes), max_size=5).map(tuple)
    return st.builds(Depth, st.just(SYMBOL), st.just(time), levels, levels)


@st.composite
def bars(draw: st.DrawFn, open_time: int) -> Kline:
    open_, close = draw(prices), draw(prices)
    high = max(open_, close, draw(prices))
    low = min(open_, close, draw(prices))
    return Kline(SYMBOL, "1m", open_time, open_time + 59_999, open_, high, low, close, draw(sizes))


@st.composite
def replays(draw: st.DrawFn) -> list[Trade | Depth | Kline]:
    """Events in time order, each a second (a bar: a minute) after the last."""
    events: list[Trade | Depth | Kline] = []
    for step in range(draw(st.integers(1, 8))):
        time = 1_000 + step * 60_000
        kind = draw(st.sampled_from(["trade", "depth", "bar"]))
        if kind == "trade":
            events.append(draw(trades(time)))
        elif kind == "depth":
            events.append(draw(depths(time)))
        else:
            events.append(draw(bars(time)))
    return events


def replay_event(orders: list[Order], event: Trade | Depth | Kline, model: FillModel) -> list[MakerFill]:
    if isinstance(event, Trade):
        return on_trade(orders, event, model, STEP)
    if isinstance(event, Depth):
        return on_depth(orders, event, model, STEP, TICK)
    return on_bar(orders, event, model, STEP)


def quantity_of(order: Order) -> Decimal:
    assert order.quantity is not None
    return order.quantity


def filled_by_side(fills: list[MakerFill]) -> dict[Side, Decimal]:
    total: dict[Side, Decimal] = defaultdict(Decimal)
    for fill in fills:
        total[fill.order.side] += fill.qty
    return total


@SETTINGS
@given(order_lists(), replays(), models)
def test_fills_are_at_the_limit_and_never_beyond_what_is_left(
    orders: list[Order], events: list[Trade | Depth | Kline], model: FillModel
) -> None:
    for event in events:
        for fill in replay_event(orders, event, model):
            assert fill.price == fill.order.price
            assert fill.qty > 0
        for order in orders:
            assert order.executed_qty + order.remaining_qty == quantity_of(order)
            assert 0 <= order.executed_qty <= quantity_of(order)
            assert order.executed_quote == order.executed_qty * order.price
            assert order.queue_ahead >= 0


@SETTINGS
@given(order_lists(), st.lists(trades(1_000), min_size=1, max_size=5), models)
def test_fills_on_one_trade_never_exceed_its_size_on_either_side(
    orders: list[Order], prints: list[Trade], model: FillModel
) -> None:
    for print_ in prints:
        fills = on_trade(orders, print_, model, STEP)
        for side, qty in filled_by_side(fills).items():
            assert qty <= print_.qty, side
        for fill in fills:
            # only prints at or through the limit fill
            if fill.order.side is Side.BUY:
                assert print_.price <= fill.price
            else:
                assert print_.price >= fill.price


@SETTINGS
@given(order_lists(), bars(60_000), models)
def test_fills_on_one_bar_never_exceed_the_volume_share(
    orders: list[Order], bar: Kline, model: FillModel
) -> None:
    fills = on_bar(orders, bar, model, STEP)
    assert sum((fill.qty for fill in fills), Decimal(0)) <= bar.volume * model.kline_volume_share
    assert all(fill.qty % STEP == 0 for fill in fills)  # whole steps, whatever share of the volume
    for fill in fills:
        assert fill.order.created_ms < bar.open_time
        # the path went through the limit: below a bid, above an offer
        if fill.order.side is Side.BUY:
            assert bar.low <= fill.price
        else:
            assert fill.price <= bar.high


@SETTINGS
@given(order_lists(), depths(1_000), models)
def test_fills_on_one_snapshot_never_exceed_the_opposite_size_shown(
    orders: list[Order], snapshot: Depth, model: FillModel
) -> None:
    fills = filled_by_side(on_depth(orders, snapshot, model, STEP, TICK))
    assert fills[Side.BUY] <= sum((qty for _, qty in snapshot.asks), Decimal(0))
    assert fills[Side.SELL] <= sum((qty for _, qty in snapshot.bids), Decimal(0))
    for order in orders:
        assert order.queue_ahead >= 0


# A recording of a finer tick and finer sizes than the instrument's (KuCoin's against a coarser grid):
# snapshots as venues send them, each side best first without a repeated price.
finer_prices = st.integers(980, 1020).map(lambda n: Decimal(n) / 10)
finer_sizes = st.integers(1, 300).map(lambda n: Decimal(n) / 100)


@st.composite
def finer_depths(draw: st.DrawFn, time: int) -> Depth:
    def side(best_first_descending: bool) -> tuple[tuple[Decimal, Decimal], ...]:
        chosen = sorted(draw(st.sets(finer_prices, max_size=12)), reverse=best_first_descending)
        return tuple((price, draw(finer_sizes)) for price in chosen)

    return Depth(SYMBOL, time, side(True), side(False))


@SETTINGS
@given(order_lists(), finer_depths(1_000), models)
def test_after_a_snapshot_the_book_shows_nothing_through_an_order_it_could_still_fill(
    orders: list[Order], snapshot: Depth, model: FillModel
) -> None:
    """What a snapshot's fills take is what the book then leaves out: no level it shows is strictly through
    the limit of an order the snapshot reached and left working (a book never shows an ask below a bid)."""
    fills = on_depth(orders, snapshot, model, STEP, TICK)
    taken = taken_by_depth_fills(snapshot, fills, STEP, TICK)
    book = less_taken(recorded_book(snapshot.time, model, snapshot, None, None, TICK, STEP), taken, STEP)
    for order in orders:
        if order.is_final or order.created_ms >= snapshot.time:
            continue
        assert order.price is not None
        if order.side is Side.BUY:
            assert all(level.price >= order.price for level in book.asks)
        else:
            assert all(level.price <= order.price for level in book.bids)


@SETTINGS
@given(order_lists(), replays(), models)
def test_the_same_replay_gives_the_same_fills_in_the_same_order(
    orders: list[Order], events: list[Trade | Depth | Kline], model: FillModel
) -> None:
    def run(own: list[Order]) -> list[tuple[str, Decimal, Decimal, int]]:
        result = []
        for event in events:
            fills = replay_event(own, event, model)
            result += [(fill.order.order_id, fill.price, fill.qty, fill.time) for fill in fills]
        return result

    first, second = copy.deepcopy(orders), copy.deepcopy(orders)
    assert run(first) == run(second)
    assert first == second
