"""Properties of taking that hold for any book, resting orders and taker: no fill beyond the limit or band,
conservation of quantities between taker, makers and the recorded levels, amount orders within their
amount, FOK all or nothing, and determinism."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.domain.matching.liquidity import Level, RecordedBook, Source
from simulator.domain.matching.orders import (
    FINAL,
    CancelReason,
    Order,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
)
from simulator.domain.matching.taking import TakeLimits, TakeResult, take

D = Decimal
AT = 1_000_000
TICK = D("0.5")
STEP = D("0.01")
ACCOUNTS = ("taker", "alice", "bob")

prices = st.integers(min_value=180, max_value=220).map(lambda ticks: ticks * TICK)  # 90 .. 110
bid_prices = st.integers(min_value=180, max_value=199).map(lambda ticks: ticks * TICK)  # below 100
ask_prices = st.integers(min_value=200, max_value=220).map(lambda ticks: ticks * TICK)  # 100 and up
quantities = st.integers(min_value=1, max_value=500).map(lambda steps: steps * STEP)  # 0.01 .. 5
# takers are larger than one level, so that they walk the book
taker_quantities = st.integers(min_value=1, max_value=2000).map(lambda steps: steps * STEP)  # 0.01 .. 20
sides = st.sampled_from(Side)


@st.composite
def books(draw: st.DrawFn) -> RecordedBook:
    """Bids below 100 best first, asks from 100 up best first, distinct prices per side."""
    bids = tuple(
        Level(p, draw(quantities))
        for p in sorted(draw(st.sets(bid_prices, min_size=1, max_size=8)), reverse=True)
    )
    asks = tuple(
        Level(p, draw(quantities)) for p in sorted(draw(st.sets(ask_prices, min_size=1, max_size=8)))
    )
    return RecordedBook(Source.DEPTH, AT - 10, bids, asks)


@st.composite
def resting_orders(draw: st.DrawFn) -> list[Order]:
    statuses = st.sampled_from(
        [OrderStatus.NEW, OrderStatus.NEW, OrderStatus.PENDING_CANCEL, OrderStatus.FILLED]
    )
    result = []
    for index in range(draw(st.integers(min_value=0, max_value=6))):
        maker = Order(
            order_id=f"m{index}",
            account_id=draw(st.sampled_from(ACCOUNTS)),
            symbol="BTCUSDT",
            side=draw(sides),
            type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            price=draw(prices),
            quantity=draw(quantities),
            sequence=draw(st.integers(min_value=0, max_value=20)),
        )
        maker.status = draw(statuses)
        result.append(maker)
    return result


@st.composite
def takers(draw: st.DrawFn) -> Order:
    """A LIMIT (any time in force), LIMIT_MAKER, MARKET by quantity or MARKET by amount."""
    kind = draw(st.sampled_from(["limit", "maker", "market", "amount"]))
    order_type = {"limit": OrderType.LIMIT, "maker": OrderType.LIMIT_MAKER}.get(kind, OrderType.MARKET)
    by_amount = kind == "amount"
    return Order(
        order_id="taker-order",
        account_id="taker",
        symbol="BTCUSDT",
        side=draw(sides),
        type=order_type,
        time_in_force=draw(st.sampled_from(TimeInForce)) if kind == "limit" else TimeInForce.GTC,
        price=draw(prices) if order_type is not OrderType.MARKET else None,
        quantity=None if by_amount else draw(taker_quantities),
        amount=D(draw(st.integers(min_value=1, max_value=200_000))) / 100 if by_amount else None,  # to 2000
        stp_mode=draw(st.sampled_from(StpMode)),
    )


limits_strategy = st.builds(
    TakeLimits,
    mark_price=st.one_of(st.none(), prices),
    buy_up_rate=st.one_of(st.none(), st.sampled_from([D("0"), D("0.02"), D("0.05")])),
    sell_down_rate=st.one_of(st.none(), st.sampled_from([D("0"), D("0.02"), D("0.05")])),
    step_size=st.just(STEP),
)


@dataclass
class Case:
    taker: Order
    book: RecordedBook
    resting: list[Order]
    limits: TakeLimits
    before: dict[str, tuple[Decimal, OrderStatus | None]]  # maker id -> (executed qty, status) before
    result: TakeResult


@st.composite
def cases(draw: st.DrawFn) -> Case:
    taker, book, resting, limits = (
        draw(takers()),
        draw(books()),
        draw(resting_orders()),
        draw(limits_strategy),
    )
    before = {m.order_id: (m.executed_qty, m.status) for m in resting}
    result = take(taker, book, resting, limits, AT)
    return Case(taker, book, resting, limits, before, result)


def within_limit_or_band(case: Case, price: Decimal) -> bool:
    taker, limits = case.taker, case.limits
    if taker.type is not OrderType.MARKET:
        assert taker.price is not None
        return price <= taker.price if taker.side is Side.BUY else price >= taker.price
    if limits.mark_price is None:
        return True
    if taker.side is Side.BUY:
        return limits.buy_up_rate is None or price <= limits.mark_price * (1 + limits.buy_up_rate)
    return limits.sell_down_rate is None or price >= limits.mark_price * (1 - limits.sell_down_rate)


SETTINGS = settings(max_examples=100, deadline=None)


@SETTINGS
@given(cases())
def test_no_fill_beyond_the_limit_or_the_band(case: Case) -> None:
    assert all(within_limit_or_band(case, fill.price) for fill in case.result.fills)


@SETTINGS
@given(cases())
def test_fills_are_positive_and_never_worse_than_the_one_before(case: Case) -> None:
    prices_in_order = [fill.price for fill in case.result.fills]
    assert all(fill.qty > 0 for fill in case.result.fills)
    best_first = sorted(prices_in_order, reverse=case.taker.side is Side.SELL)
    assert prices_in_order == best_first


@SETTINGS
@given(cases())
def test_executed_quantity_is_the_sum_of_fills_and_never_exceeds_the_order(case: Case) -> None:
    taker, fills = case.taker, case.result.fills
    assert taker.executed_qty == sum((f.qty for f in fills), D(0))
    assert taker.executed_quote == sum((f.quote for f in fills), D(0))
    if not taker.by_amount:
        assert taker.quantity is not None
        assert 0 <= taker.executed_qty <= taker.quantity
        assert taker.executed_qty + taker.remaining_qty == taker.quantity


@SETTINGS
@given(cases())
def test_recorded_liquidity_used_never_exceeds_what_the_level_showed(case: Case) -> None:
    shown = {level.price: level.qty for level in case.book.side(case.taker.side.opposite)}
    recorded_fills = sum((f.qty for f in case.result.fills if f.maker is None), D(0))
    assert sum(case.result.taken.values(), D(0)) == recorded_fills
    for (book_side, price), qty in case.result.taken.items():
        assert book_side is case.taker.side.opposite
        assert 0 < qty <= shown[price]


@SETTINGS
@given(cases())
def test_an_amount_order_never_spends_more_than_its_amount_and_buys_whole_steps(case: Case) -> None:
    taker = case.taker
    if taker.by_amount:
        assert taker.amount is not None
        assert taker.executed_quote <= taker.amount
        assert all(fill.qty % STEP == 0 for fill in case.result.fills)


@SETTINGS
@given(cases())
def test_fok_fills_all_or_nothing(case: Case) -> None:
    taker = case.taker
    if taker.type is OrderType.LIMIT and taker.time_in_force is TimeInForce.FOK:
        if taker.status is OrderStatus.FILLED:
            assert taker.executed_qty == taker.quantity
        else:
            # for self-trade only when its own order was within its reach and STP expires the taker
            reasons = {CancelReason.RISKLIMIT_CANCEL}
            own_in_reach = any(_own_within_limit(taker, maker) for maker in case.resting)
            if taker.stp_mode is StpMode.EXPIRE_TAKER and own_in_reach:
                reasons.add(CancelReason.SELF_TRADE_CANCEL)
            assert taker.status is OrderStatus.CANCELED and taker.cancel_reason in reasons
            assert case.result.fills == [] and case.result.expired_makers == [] and case.result.taken == {}


def _own_within_limit(taker: Order, maker: Order) -> bool:
    if maker.account_id != taker.account_id or maker.side is not taker.side.opposite or maker.price is None:
        return False
    assert taker.price is not None
    return maker.price <= taker.price if taker.side is Side.BUY else maker.price >= taker.price


@SETTINGS
@given(cases())
def test_makers_executed_quantities_match_the_fills_against_them(case: Case) -> None:
    for maker in case.resting:
        filled = sum((f.qty for f in case.result.fills if f.maker is maker), D(0))
        executed_before, _ = case.before[maker.order_id]
        assert maker.executed_qty - executed_before == filled
        assert maker.quantity is not None and maker.executed_qty <= maker.quantity
        if filled:
            assert maker.account_id != case.taker.account_id
            assert maker.side is case.taker.side.opposite


@SETTINGS
@given(cases())
def test_only_the_takers_own_working_makers_are_expired_and_only_under_expire_maker(case: Case) -> None:
    expired = case.result.expired_makers
    if case.taker.stp_mode is StpMode.EXPIRE_TAKER:
        assert expired == []
    for maker in expired:
        assert case.before[maker.order_id][1] in (OrderStatus.NEW, OrderStatus.PENDING_CANCEL)
        assert maker.account_id == case.taker.account_id
        assert maker.status in FINAL and maker.cancel_reason is CancelReason.SELF_TRADE_CANCEL
    untouched = [
        m for m in case.resting if m not in expired and not any(f.maker is m for f in case.result.fills)
    ]
    assert all((m.executed_qty, m.status) == case.before[m.order_id] for m in untouched)


@SETTINGS
@given(cases())
def test_the_taker_ends_final_unless_it_rests_as_a_gtc_limit_or_limit_maker(case: Case) -> None:
    taker, result = case.taker, case.result
    if result.rests:
        assert taker.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        assert taker.type is OrderType.LIMIT_MAKER or (
            taker.type is OrderType.LIMIT and taker.time_in_force is TimeInForce.GTC
        )
    else:
        assert taker.status in FINAL
    if taker.type is OrderType.LIMIT_MAKER:
        assert result.fills == []


@settings(max_examples=50, deadline=None)
@given(takers(), books(), resting_orders(), limits_strategy)
def test_taking_is_deterministic(
    taker: Order, book: RecordedBook, resting: list[Order], limits: TakeLimits
) -> None:
    def run(makers: list[Order]) -> tuple[object, ...]:
        order = copy.deepcopy(taker)
        makers = copy.deepcopy(makers)
        result = take(order, book, makers, limits, AT)
        fills = [(f.price, f.qty, f.maker.order_id if f.maker else None) for f in result.fills]
        makers_after = sorted((m.order_id, m.executed_qty, m.status) for m in makers)
        return (
            fills,
            result.taken,
            [m.order_id for m in result.expired_makers],
            result.rests,
            order,
            makers_after,
        )

    assert run(resting) == run(resting[::-1])
