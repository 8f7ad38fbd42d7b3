"""How resting simulated LIMIT orders fill as recorded market events are replayed in time order.

A resting order is a maker: it never moves the recorded market, it only watches it. It fills, always at its
own limit price, when the recorded market shows that a real order at that price would have been reached:

- a trade strictly through the limit (a BUY at 100 fills on a print at 99.5), up to the trade's size;
- a trade exactly at the limit, once the recorded size that was ahead of the order (`queue_ahead`) traded;
- a depth snapshot whose opposite side moved through the limit, up to the size that crossed;
- with klines only, a bar whose path (open, nearer extreme, farther extreme, close) passed through the
  limit, up to a share of the bar's volume.

Allocation among our orders is price priority (highest BUY, lowest SELL first), then `sequence` (arrival).
Orders are only considered if they are working, have a price, are of the event's symbol and arrived before
the event (no order fills on an event that happened before or as it arrived). Every function here is pure
apart from updating the orders it is given (`record_fill`, `queue_ahead`), and deterministic: the same
inputs give the same fills in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from simulator.domain.matching.liquidity import RecordedBook
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import ZERO, Order, Side
from simulator.marketdata.records import Depth, Kline, Level, Trade


@dataclass
class MakerFill:
    order: Order
    price: Decimal  # always the order's limit price
    qty: Decimal
    time: int  # the event's time (a bar's close_time: a bar is known only once it is complete)


def queue_on_rest(order: Order, book: RecordedBook, model: FillModel) -> Decimal:
    """The recorded size ahead of `order` when it comes to rest: what the book shows on the order's own side
    (a BUY rests among bids) at exactly its price; 0 when nothing is shown there or the queue model is off."""
    if not model.queue_model or order.price is None:
        return ZERO
    return sum((level.qty for level in book.side(order.side) if level.price == order.price), ZERO)


def on_trade(orders: Sequence[Order], trade: Trade, model: FillModel) -> list[MakerFill]:
    """Fills from one recorded trade at price P and size S.

    Orders strictly better than P (a BUY above it, a SELL below it) fill first, then orders exactly at P once
    the queue ahead of them is used up. S is available once to the BUY orders and, separately, once to the
    SELL orders: a print only says that size changed hands at P, not which side our phantom orders would have
    met, so both sides may be crossed by one print. BUY fills are returned before SELL fills."""
    if trade.qty <= 0:
        return []
    eligible = _eligible(orders, trade.symbol, trade.time)
    fills: list[MakerFill] = []
    for side in (Side.BUY, Side.SELL):
        fills += _fill_side_on_trade(_by_priority(eligible, side), trade, model)
    return fills


def on_depth(orders: Sequence[Order], depth: Depth, model: FillModel) -> list[MakerFill]:
    """Fills from one depth snapshot whose opposite side moved through resting limits, and the queue caps it
    implies.

    A BUY at L may fill up to the asks shown strictly below L (summed); a SELL at L up to the bids shown
    strictly above L. The crossed size is one pool per side: an order gets at most its own crossed size less
    what more aggressive orders of its side already took from this snapshot (conservative: it does not assume
    they took the levels only they could reach). Each snapshot is judged on its own; the caller decides which
    snapshots are new. Every eligible order's `queue_ahead` is then capped at the size now shown at exactly
    its price on its own side, since all that is still ahead of it must still be displayed. No setting
    changes this (`model` is taken for a signature the same as the other events')."""
    eligible = _eligible(orders, depth.symbol, depth.time)
    fills: list[MakerFill] = []
    for side in (Side.BUY, Side.SELL):
        opposite = depth.asks if side is Side.BUY else depth.bids
        crossed = _crossed_size(side, opposite)
        fills += _fill_from_pool(_by_priority(eligible, side), crossed, depth.time)
    for order in eligible:
        own = depth.bids if order.side is Side.BUY else depth.asks
        shown = sum((qty for price, qty in own if price == order.price and qty > 0), ZERO)
        order.queue_ahead = min(order.queue_ahead, shown)
    return fills


def on_bar(orders: Sequence[Order], bar: Kline, model: FillModel) -> list[MakerFill]:
    """Fills from one complete bar, for when only klines are recorded.

    The bar is walked along `kline_path`; an order is triggered at the first path point strictly through
    its limit (a BUY: a point below it; a SELL: above it), or at it when `model.kline_touch_fills`. Orders
    fill at their limit, in the order they were triggered (along a falling segment the highest BUY is
    reached first, which is also price priority), from one allowance of `bar.volume *
    model.kline_volume_share` shared by both sides. Orders created at or after the bar's open are ignored:
    they did not exist for the whole bar and nothing tells where inside it the price went after they came.
    The caller passes only bars whose close_time is before now."""
    allowance = max(bar.volume * model.kline_volume_share, ZERO)
    eligible = _eligible(orders, bar.symbol, bar.open_time)
    triggered = _triggered_along(kline_path(bar), eligible, model.kline_touch_fills)
    return _fill_from_allowance(triggered, allowance, bar.close_time)


def kline_path(bar: Kline) -> tuple[Decimal, ...]:
    """The bar's assumed path: open, the extreme nearer to the open, the farther one, close. When high and
    low are equally far from the open the high is taken first (an arbitrary but fixed choice)."""
    high_first = bar.high - bar.open <= bar.open - bar.low
    nearer, farther = (bar.high, bar.low) if high_first else (bar.low, bar.high)
    return (bar.open, nearer, farther, bar.close)


def _eligible(orders: Iterable[Order], symbol: str, event_time: int) -> list[Order]:
    """The orders an event at `event_time` can fill: working, priced, of the symbol, arrived before it and
    with something left to fill."""
    return [
        order
        for order in orders
        if order.is_working
        and order.price is not None
        and order.symbol == symbol
        and order.created_ms < event_time
        and order.remaining_qty > 0
    ]


def _limit(order: Order) -> Decimal:
    """The limit price of an order `_eligible` let through (it always has one)."""
    if order.price is None:
        raise ValueError(f"order {order.order_id} has no limit price")
    return order.price


def _priority_key(order: Order) -> tuple[Decimal, int]:
    """Most aggressive limit first (highest BUY, lowest SELL), then arrival. Ties keep the input order."""
    price = _limit(order)
    return (-price if order.side is Side.BUY else price, order.sequence)


def _by_priority(orders: Iterable[Order], side: Side) -> list[Order]:
    return sorted((order for order in orders if order.side is side), key=_priority_key)


def _better_than(order: Order, price: Decimal) -> bool:
    """Whether the order's limit is strictly better for its counterparty than `price` (so a print at
    `price` went through it)."""
    limit = _limit(order)
    return limit > price if order.side is Side.BUY else limit < price


def _fill(order: Order, qty: Decimal, time: int) -> MakerFill:
    limit = _limit(order)
    order.record_fill(qty, limit, time)
    return MakerFill(order, limit, qty, time)


def _fill_side_on_trade(orders: list[Order], trade: Trade, model: FillModel) -> list[MakerFill]:
    """One side's fills from a trade: `orders` in priority order share the trade's size, better prices
    first, then the orders resting exactly at the trade price."""
    left = trade.qty
    fills: list[MakerFill] = []
    better = [order for order in orders if _better_than(order, trade.price)]
    for order in better:
        # The price traded through: nothing recorded can still be ahead of this order.
        order.queue_ahead = ZERO
        qty = min(order.remaining_qty, left)
        if qty > 0:
            fills.append(_fill(order, qty, trade.time))
            left -= qty
    at_limit = [order for order in orders if order.price == trade.price]
    fills += _fill_at_limit(at_limit, left, trade.time, model)
    return fills


def _fill_at_limit(orders: list[Order], volume: Decimal, time: int, model: FillModel) -> list[MakerFill]:
    """Orders resting exactly at the trade price, in sequence order, meeting `volume` traded there (what the
    better-priced orders left of the trade). The volume first works through each order's queue; what
    overflows it fills the orders, the first one first, and overflow one order used is not there for the
    next. Every order's queue shrinks by the volume (with the queue model off it is ignored for filling)."""
    fills: list[MakerFill] = []
    used = ZERO
    for order in orders:
        ahead = order.queue_ahead if model.queue_model else ZERO
        overflow = max(volume - ahead - used, ZERO)
        order.queue_ahead = max(order.queue_ahead - volume, ZERO)
        qty = min(order.remaining_qty, overflow)
        if qty > 0:
            fills.append(_fill(order, qty, time))
            used += qty
    return fills


def _crossed_size(side: Side, opposite: Iterable[Level]) -> Callable[[Decimal], Decimal]:
    """For an order of `side`, the function from its limit to the opposite side's size shown strictly
    through it (asks below a BUY limit, bids above a SELL limit)."""
    levels = [(price, qty) for price, qty in opposite if qty > 0]

    def through(limit: Decimal) -> Decimal:
        if side is Side.BUY:
            return sum((qty for price, qty in levels if price < limit), ZERO)
        return sum((qty for price, qty in levels if price > limit), ZERO)

    return through


def _fill_from_pool(orders: list[Order], crossed: Callable[[Decimal], Decimal], time: int) -> list[MakerFill]:
    """Orders of one side in priority order, each taking up to its crossed size less what those before it
    took."""
    fills: list[MakerFill] = []
    taken = ZERO
    for order in orders:
        qty = min(order.remaining_qty, crossed(_limit(order)) - taken)
        if qty > 0:
            fills.append(_fill(order, qty, time))
            taken += qty
    return fills


def _passes(order: Order, point: Decimal, touch_fills: bool) -> bool:
    """Whether a path point is through the order's limit (or at it, when touches fill)."""
    limit = _limit(order)
    if touch_fills and point == limit:
        return True
    return point < limit if order.side is Side.BUY else point > limit


def _triggered_along(path: Sequence[Decimal], orders: list[Order], touch_fills: bool) -> list[Order]:
    """The orders the path goes through, in the order it reaches them. Orders reached at the same point
    come in priority order, BUYs before SELLs (both sides can only be reached at once at the open)."""
    waiting = _by_priority(orders, Side.BUY) + _by_priority(orders, Side.SELL)
    triggered: list[Order] = []
    for point in path:
        reached = [order for order in waiting if _passes(order, point, touch_fills)]
        triggered += reached
        # by identity: two orders with equal fields are still two orders
        reached_ids = {id(order) for order in reached}
        waiting = [order for order in waiting if id(order) not in reached_ids]
    return triggered


def _fill_from_allowance(orders: list[Order], allowance: Decimal, time: int) -> list[MakerFill]:
    fills: list[MakerFill] = []
    for order in orders:
        if allowance <= 0:
            break
        qty = min(order.remaining_qty, allowance)
        fills.append(_fill(order, qty, time))
        allowance -= qty
    return fills
