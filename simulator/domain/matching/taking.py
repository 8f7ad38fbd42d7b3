"""What an incoming order takes the moment it is matched: a pure, deterministic function of the order, the
recorded book, the simulated orders resting in it and the symbol's limits.

Liquidity is the recorded levels on the opposite side interleaved with the working simulated orders of the
opposite side, best price first. At the same price recorded liquidity comes before simulated resting
orders: it was displayed before they arrived, so it has time priority. Simulated orders of one price go in
`sequence` (arrival) order.

The walk, one piece of liquidity at a time, stops at the first of:
- the order is filled (by quantity: nothing left; by amount: the amount is spent);
- the price is beyond the order's limit (LIMIT) or its price band (MARKET), in which case so is all that
  follows, as liquidity is sorted best first;
- an order by amount cannot buy one more `step_size` at this price (its remainder is dust, it is done);
- the liquidity is a simulated order of the taker's own account and the taker's STP mode is EXPIRE_TAKER
  (with EXPIRE_MAKER that resting order is cancelled and the walk goes on);
- there is no more liquidity.

Choices the issue left open, made here:
- Every fill is whole steps: an order passes over a level that offers less than one step (a recording
  with finer sizes than the instrument's step) and goes on to the next one.
- An order by amount stopped by the band or by an empty book whose remainder cannot buy one step at the
  price of its last fill is done (FILLED): it could not have bought more at the price it was paying.
- A FOK that cannot fill completely changes nothing but itself: no fills and no EXPIRE_MAKER cancels.
- A MARKET order is governed by its quantity or amount and the band, whatever its time in force.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from typing import NamedTuple

from simulator.domain.matching.liquidity import RecordedBook
from simulator.domain.matching.orders import (
    WORKING,
    ZERO,
    CancelReason,
    Event,
    Order,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
)
from simulator.domain.money import floor_to_step

ONE = Decimal(1)


@dataclass
class Fill:
    """One execution of the taker: `qty` base units at `price` against a simulated resting order
    (`maker`) or against recorded liquidity (`maker` None)."""

    price: Decimal
    qty: Decimal
    maker: Order | None

    @property
    def quote(self) -> Decimal:
        return self.price * self.qty


@dataclass(frozen=True)
class TakeLimits:
    """The symbol's rules a taker meets: the MARKET_TRADING band around the mark price, and the base step
    an order by quote amount is rounded down to."""

    mark_price: Decimal | None
    buy_up_rate: Decimal | None
    sell_down_rate: Decimal | None
    step_size: Decimal

    def __post_init__(self) -> None:
        if self.step_size <= 0:
            raise ValueError("step_size must be positive")


@dataclass
class TakeResult:
    fills: list[Fill]
    # Recorded liquidity this take used: (book side: BUY = bids, SELL = asks, price) -> quantity. The caller
    # adds it to what was already taken from the same snapshot.
    taken: dict[tuple[Side, Decimal], Decimal]
    expired_makers: list[Order]  # resting orders cancelled by EXPIRE_MAKER self-trade prevention
    rests: bool  # the order's remainder now rests in the book


class _Offer(NamedTuple):
    """One piece of liquidity: a recorded level (`maker` None) or a simulated resting order. (A named tuple:
    it is made for every piece a walk meets, and is three times cheaper to make than a frozen dataclass.)"""

    price: Decimal
    qty: Decimal
    maker: Order | None


class _Stop(Enum):
    """Why the walk ended."""

    FILLED = "filled"
    DUST = "dust"  # an order by amount cannot buy one more step
    BEYOND_PRICE = "beyond_price"  # the limit or the band
    SELF_TRADE = "self_trade"  # EXPIRE_TAKER met the taker's own resting order
    NO_LIQUIDITY = "no_liquidity"


@dataclass
class _Budget:
    """What the taker still has to fill while the walk is planned (the order itself is not touched yet)."""

    by_amount: bool
    qty: Decimal  # base left, for an order by quantity
    amount: Decimal  # quote left, for an order by amount
    step: Decimal

    @property
    def exhausted(self) -> bool:
        return self.amount <= 0 if self.by_amount else self.qty <= 0

    def is_dust_at(self, price: Decimal) -> bool:
        return self.by_amount and self.amount < self.step * price

    def qty_at(self, price: Decimal, offered: Decimal) -> Decimal:
        """Whole steps: a recorded level of a venue with finer sizes gives what it holds of whole steps (the
        order's own quantity is whole steps already)."""
        if self.by_amount:
            return floor_to_step(min(offered, self.amount / price), self.step)
        return min(floor_to_step(offered, self.step), self.qty)

    def spend(self, qty: Decimal, price: Decimal) -> None:
        self.qty -= qty
        self.amount -= qty * price


@dataclass
class _Plan:
    fills: list[tuple[_Offer, Decimal]] = field(default_factory=list)
    expired: list[Order] = field(default_factory=list)
    stop: _Stop = _Stop.NO_LIQUIDITY


def take(
    order: Order, book: RecordedBook, resting: Sequence[Order], limits: TakeLimits, at_ms: int
) -> TakeResult:
    """Accept `order` (status None) and fill it against `book` and `resting`, mutating the order and the
    makers it hits; the order ends in its final status unless its remainder rests (GTC LIMIT,
    LIMIT_MAKER)."""
    _check_order(order)
    if order.type is OrderType.LIMIT_MAKER:
        return _place_maker(order, book, resting, at_ms)
    order.apply(Event.ACCEPT, at_ms)
    plan = _plan(order, _offers(order, book, resting), limits)
    if _is_fok(order) and plan.stop is not _Stop.FILLED:  # all or nothing: nothing
        stopped_by_stp = plan.stop is _Stop.SELF_TRADE  # as an IOC or GTC meeting its own order is
        reason = CancelReason.SELF_TRADE_CANCEL if stopped_by_stp else CancelReason.RISKLIMIT_CANCEL
        order.apply(Event.CANCEL, at_ms, reason)
        return TakeResult([], {}, [], rests=False)
    result = _execute(order, plan, at_ms)
    result.rests = _finish(order, plan.stop, at_ms)
    return result


def would_take(order: Order, book: RecordedBook, resting: Sequence[Order]) -> bool:
    """Whether a LIMIT_MAKER at its price would trade on arrival: any opposite recorded level or working
    opposite simulated order at or through its price. The account's own orders count (it would trade
    with them in principle, so it is not a maker)."""
    limit = order.price
    if limit is None:
        raise ValueError("a LIMIT_MAKER order has a price")
    # The offers come best first: if the first is not at or through the price, none is.
    best = next(_offers(order, book, resting), None)
    return best is not None and _within_limit(order.side, limit, best.price)


def _place_maker(order: Order, book: RecordedBook, resting: Sequence[Order], at_ms: int) -> TakeResult:
    if would_take(order, book, resting):
        order.apply(Event.REJECT, at_ms, CancelReason.RISKLIMIT_CANCEL)
        return TakeResult([], {}, [], rests=False)
    order.apply(Event.ACCEPT, at_ms)
    return TakeResult([], {}, [], rests=True)


def _check_order(order: Order) -> None:
    if order.status is not None:
        raise ValueError(f"order {order.order_id} was already placed ({order.status})")
    if order.type is not OrderType.MARKET and order.price is None:
        raise ValueError(f"a {order.type} order has a price")
    if order.by_amount:
        if order.type is not OrderType.MARKET:
            raise ValueError("only a MARKET order may be placed by amount")
        if order.amount is None or order.amount <= 0:
            raise ValueError("an order by amount has a positive amount")
    elif order.remaining_qty <= 0:
        raise ValueError("an order has a positive quantity")


_PRICE = attrgetter("price")
_SEQUENCE_THEN_ID = attrgetter("sequence", "order_id")


def _offers(order: Order, book: RecordedBook, resting: Sequence[Order]) -> Iterator[_Offer]:
    """The liquidity `order` meets, best price first; at one price recorded levels, then simulated orders
    by sequence (order id breaks a tie so the result never depends on the input order).

    Made as the walk asks for it: a walk usually stops long before the last simulated order, so each is
    only sorted (by C-level keys) and turned into an offer when it is reached."""
    side = order.side.opposite
    sells_first = order.side is Side.BUY  # a BUY meets the lowest asks first, a SELL the highest bids
    recorded = sorted(
        (_Offer(level.price, level.qty, None) for level in book.side(side) if level.qty > 0),
        key=_PRICE,
        reverse=not sells_first,
    )
    makers = [
        maker
        for maker in resting
        if maker.side is side
        and maker is not order
        and maker.price is not None
        and maker.status in WORKING
        and maker.remaining_qty > 0
    ]
    if not makers:
        return iter(recorded)
    # Two stable sorts: by price, and at one price by (sequence, order id), ties keeping the input order.
    makers.sort(key=_SEQUENCE_THEN_ID)
    makers.sort(key=_PRICE, reverse=not sells_first)
    simulated = (_Offer(maker.price, maker.remaining_qty, maker) for maker in makers)  # type: ignore[arg-type]
    # merge is stable: at one price the recorded offers (the first iterable) come first
    return heapq.merge(recorded, simulated, key=_PRICE, reverse=not sells_first)


def _plan(order: Order, offers: Iterable[_Offer], limits: TakeLimits) -> _Plan:
    """Walk `offers` without changing anything: what the order would fill, which makers STP would expire,
    and why it would stop."""
    budget = _Budget(order.by_amount, order.remaining_qty, order.remaining_amount, limits.step_size)
    within = _price_test(order, limits)
    plan = _Plan()
    for offer in offers:
        stop = _stop_before(offer, budget, within)
        if stop is not None:
            plan.stop = stop
            break
        own = _own_maker(order, offer)
        if own is not None:
            if order.stp_mode is StpMode.EXPIRE_TAKER:
                plan.stop = _Stop.SELF_TRADE
                break
            plan.expired.append(own)
            continue
        qty = budget.qty_at(offer.price, offer.qty)
        if qty > 0:
            plan.fills.append((offer, qty))
            budget.spend(qty, offer.price)
    else:
        plan.stop = _Stop.FILLED if budget.exhausted else _Stop.NO_LIQUIDITY
    if plan.stop in (_Stop.BEYOND_PRICE, _Stop.NO_LIQUIDITY) and plan.fills:
        if budget.is_dust_at(plan.fills[-1][0].price):
            plan.stop = _Stop.DUST
    return plan


def _stop_before(offer: _Offer, budget: _Budget, within: Callable[[Decimal], bool]) -> _Stop | None:
    """Why the walk ends before `offer`, or None when the order goes on to it."""
    if budget.exhausted:
        return _Stop.FILLED
    if not within(offer.price):
        return _Stop.BEYOND_PRICE
    if budget.is_dust_at(offer.price):
        return _Stop.DUST
    return None


def _execute(order: Order, plan: _Plan, at_ms: int) -> TakeResult:
    """Apply `plan`: expire the makers STP removed, record every fill on the taker and its maker, and sum
    the recorded liquidity used."""
    for maker in plan.expired:
        maker.apply(Event.CANCEL, at_ms, CancelReason.SELF_TRADE_CANCEL)
    fills: list[Fill] = []
    taken: dict[tuple[Side, Decimal], Decimal] = {}
    book_side = order.side.opposite
    for offer, qty in plan.fills:
        order.record_fill(qty, offer.price, at_ms)
        if offer.maker is None:
            key = (book_side, offer.price)
            taken[key] = taken.get(key, ZERO) + qty
        else:
            offer.maker.record_fill(qty, offer.price, at_ms)
        fills.append(Fill(offer.price, qty, offer.maker))
    return TakeResult(fills, taken, list(plan.expired), rests=False)


def _finish(order: Order, stop: _Stop, at_ms: int) -> bool:
    """Give the order its status after the walk; True when its remainder rests in the book."""
    if order.status is OrderStatus.FILLED:
        return False
    if stop is _Stop.SELF_TRADE:
        order.apply(Event.CANCEL, at_ms, CancelReason.SELF_TRADE_CANCEL)
        return False
    if stop in (_Stop.FILLED, _Stop.DUST) and order.executed_qty > 0:
        # an order by amount that cannot buy one more step has spent what it can: it is filled
        order.apply(Event.FILL_ALL, at_ms)
        return False
    if order.type is OrderType.LIMIT and order.time_in_force is TimeInForce.GTC:
        return True
    order.apply(Event.CANCEL, at_ms, CancelReason.RISKLIMIT_CANCEL)
    return False


def _is_fok(order: Order) -> bool:
    return order.type is OrderType.LIMIT and order.time_in_force is TimeInForce.FOK


def _own_maker(order: Order, offer: _Offer) -> Order | None:
    """The simulated order behind `offer` when it belongs to the taker's own account (a self-trade)."""
    maker = offer.maker
    return maker if maker is not None and maker.account_id == order.account_id else None


def _price_test(order: Order, limits: TakeLimits) -> Callable[[Decimal], bool]:
    """Whether a price is within the order's limit (LIMIT) or band (MARKET), with the band's edge worked out
    once for the whole walk."""
    side = order.side
    if order.type is OrderType.MARKET or order.price is None:  # only a MARKET order has no price
        cap = _band_edge(side, limits)
        if cap is None:
            return _anywhere
        return (lambda price: price <= cap) if side is Side.BUY else (lambda price: price >= cap)
    limit = order.price
    return (lambda price: price <= limit) if side is Side.BUY else (lambda price: price >= limit)


def _anywhere(price: Decimal) -> bool:
    return True


def _within_limit(side: Side, limit: Decimal, price: Decimal) -> bool:
    return price <= limit if side is Side.BUY else price >= limit


def _band_edge(side: Side, limits: TakeLimits) -> Decimal | None:
    """MARKET_TRADING: a buy may not pay above mark*(1+buyPriceUpRate), a sell not sell below
    mark*(1-sellPriceDownRate). Without a mark price or a rate there is no cap (None)."""
    mark = limits.mark_price
    rate = limits.buy_up_rate if side is Side.BUY else limits.sell_down_rate
    if mark is None or rate is None:
        return None
    return mark * (ONE + rate) if side is Side.BUY else mark * (ONE - rate)
