"""How resting simulated LIMIT orders fill as recorded market events are replayed in time order.

A resting order is a maker: it never moves the recorded market, it only watches it. It fills, always at its
own limit price, when the recorded market shows that a real order at that price would have been reached:

- a trade strictly through the limit (a BUY at 100 fills on a print at 99.5), up to the trade's size;
- a trade exactly at the limit, once the recorded size that was ahead of the order (`queue_ahead`) traded;
- a depth snapshot whose opposite side moved through the limit, up to the size that crossed;
- with klines only, a bar whose path (open, nearer extreme, farther extreme, close) passed through the
  limit, up to a share of the bar's volume.

Allocation among our orders is price priority (highest BUY, lowest SELL first), then `sequence` (arrival).
Every fill is whole steps of the instrument's quantity step (`step`), as every quantity the venue shows:
a recording from a venue with finer sizes (KuCoin's 8 decimals against a 0.001 step) fills what its size
holds of whole steps, and a size under one step fills nothing. Prices are compared as recorded: a recording
with a finer tick than the instrument's (`tick`) crosses a limit wherever its own prices do. A queue is the
size the book shows at the order's price, the recorded levels rounded outward to the tick as the book
shows them (`liquidity.on_grid`).

Orders are only considered if they are working, have a price, are of the event's symbol and arrived before
the event (no order fills on an event that happened before or as it arrived). Every function here is pure
apart from updating the orders it is given (`record_fill`, `queue_ahead`), and deterministic: the same
inputs give the same fills in the same order.

`RestingBook` gives the same fills and makes the same changes as these functions given all its orders, but
keeps one symbol's orders sorted by price so that an event only looks at the orders it can reach: the cost
of an event does not grow with the number of orders resting out of its reach.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from simulator.domain.matching.liquidity import RecordedBook, Taken, on_grid, shown_at
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import WORKING, ZERO, Order, Side
from simulator.domain.money import floor_to_step
from simulator.marketdata.records import Depth, Kline, Level, Trade


@dataclass
class MakerFill:
    order: Order
    price: Decimal  # always the order's limit price
    qty: Decimal
    time: int  # the event's time (a bar's `completes_at`: a bar is known only once it is complete)


def queue_on_rest(order: Order, book: RecordedBook, model: FillModel) -> Decimal:
    """The recorded size ahead of `order` when it comes to rest: what the book shows on the order's own side
    (a BUY rests among bids) at exactly its price; 0 when nothing is shown there or the queue model is off."""
    if not model.queue_model or order.price is None:
        return ZERO
    return sum((level.qty for level in book.side(order.side) if level.price == order.price), ZERO)


def on_trade(orders: Sequence[Order], trade: Trade, model: FillModel, step: Decimal) -> list[MakerFill]:
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
        fills += _fill_side_on_trade(_by_priority(eligible, side), trade, model, step)
    return fills


def on_depth(
    orders: Sequence[Order], depth: Depth, model: FillModel, step: Decimal, tick: Decimal
) -> list[MakerFill]:
    """Fills from one depth snapshot whose opposite side moved through resting limits, and the queue caps it
    implies.

    A BUY at L may fill up to the asks shown strictly below L (summed); a SELL at L up to the bids shown
    strictly above L. The crossed size is one pool per side: an order gets at most its own crossed size less
    what more aggressive orders of its side already took from this snapshot (conservative: it does not assume
    they took the levels only they could reach). Each snapshot is judged on its own; the caller decides which
    snapshots are new. Every eligible order's `queue_ahead` is then capped at the size now shown at exactly
    its price on its own side (on the `tick` grid), since all that is still ahead of it must still be
    displayed. No setting changes this (`model` is taken for a signature the same as the other events')."""
    eligible = _eligible(orders, depth.symbol, depth.time)
    fills: list[MakerFill] = []
    for side in (Side.BUY, Side.SELL):
        opposite = depth.asks if side is Side.BUY else depth.bids
        crossed = _crossed_size(side, opposite, step, tick)
        fills += _fill_from_pool(_by_priority(eligible, side), crossed, depth.time, step)
    for order in eligible:
        order.queue_ahead = min(order.queue_ahead, _shown_at_limit(order, depth, tick))
    return fills


def taken_by_depth_fills(depth: Depth, fills: Iterable[MakerFill], step: Decimal, tick: Decimal) -> Taken:
    """The snapshot's liquidity `on_depth`'s fills used, as simulated takers' is kept (`Taken`): a side's
    fills take the opposite side's best levels first. It stays taken, as a taker's does, so neither a
    simulated taker nor the book shown counts it again (a book never shows a bid through an ask); it is
    kept at the price the book shows each level at (`tick` grid), as a taker's is."""
    filled = {Side.BUY: ZERO, Side.SELL: ZERO}
    for fill in fills:
        filled[fill.order.side] += fill.qty
    taken: dict[tuple[Side, Decimal], Decimal] = {}
    for side, opposite in ((Side.BUY, depth.asks), (Side.SELL, depth.bids)):
        left = filled[side]
        # Whole steps of each level as the book shows it, as `_crossed_size` counts them. A level at the
        # limit that was only partly recorded through it holds at least what the fills took of that part.
        for price, qty in sorted(on_grid(opposite, side.opposite, tick, step), reverse=side is Side.SELL):
            if left <= 0:
                break
            used = min(floor_to_step(qty, step), left)
            key = (side.opposite, price)
            taken[key] = taken.get(key, ZERO) + used
            left -= used
    return taken


def on_bar(orders: Sequence[Order], bar: Kline, model: FillModel, step: Decimal) -> list[MakerFill]:
    """Fills from one complete bar, for when only klines are recorded.

    The bar is walked along `kline_path`; an order is triggered at the first path point strictly through
    its limit (a BUY: a point below it; a SELL: above it), or at it when `model.kline_touch_fills`. Orders
    fill at their limit, in the order they were triggered (along a falling segment the highest BUY is
    reached first, which is also price priority), from one allowance of `bar.volume *
    model.kline_volume_share` in whole `step`s (the instrument's quantity step) shared by both sides.
    Orders that reached the matcher at or after the bar's open are ignored: they did not exist for the
    whole bar and nothing tells where inside it the price went after they came (`_bar_eligibility_time`).
    The caller passes only bars complete by now (`completes_at`), when their fills happen."""
    allowance = bar_allowance(bar, model, step)
    eligible = _eligible(orders, bar.symbol, _bar_eligibility_time(bar, model))
    triggered = _triggered_along(kline_path(bar), eligible, model.kline_touch_fills)
    return _fill_from_allowance(triggered, allowance, bar.completes_at)


def bar_allowance(bar: Kline, model: FillModel, step: Decimal) -> Decimal:
    """What one bar may fill of resting orders, together: its volume's share, in whole steps."""
    return max(floor_to_step(bar.volume * model.kline_volume_share, step), ZERO)


def kline_path(bar: Kline) -> tuple[Decimal, ...]:
    """The bar's assumed path: open, the extreme nearer to the open, the farther one, close. When high and
    low are equally far from the open the high is taken first (an arbitrary but fixed choice)."""
    high_first = bar.high - bar.open <= bar.open - bar.low
    nearer, farther = (bar.high, bar.low) if high_first else (bar.low, bar.high)
    return (bar.open, nearer, farther, bar.close)


def _bar_eligibility_time(bar: Kline, model: FillModel) -> int:
    """What an order's receipt time must be before for a bar to fill it: the bar's open, less the order
    latency, since an order reaches the matcher that long after it was received (the eligibility test
    compares receipt times; for prints and snapshots it need not: an order rests only once it arrived, and
    later events are later than its arrival)."""
    return bar.open_time - model.order_latency_ms


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


def _fill_side_on_trade(
    orders: list[Order], trade: Trade, model: FillModel, step: Decimal
) -> list[MakerFill]:
    """One side's fills from a trade: `orders` in priority order share the trade's size, better prices
    first, then the orders resting exactly at the trade price."""
    left = trade.qty
    fills: list[MakerFill] = []
    better = [order for order in orders if _better_than(order, trade.price)]
    for order in better:
        # The price traded through: nothing recorded can still be ahead of this order.
        order.queue_ahead = ZERO
        qty = min(order.remaining_qty, floor_to_step(left, step))
        if qty > 0:
            fills.append(_fill(order, qty, trade.time))
            left -= qty
    at_limit = [order for order in orders if order.price == trade.price]
    fills += _fill_at_limit(at_limit, left, trade.time, model, step)
    return fills


def _fill_at_limit(
    orders: list[Order], volume: Decimal, time: int, model: FillModel, step: Decimal
) -> list[MakerFill]:
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
        qty = min(order.remaining_qty, floor_to_step(overflow, step))
        if qty > 0:
            fills.append(_fill(order, qty, time))
            used += qty
    return fills


def _shown_at_limit(order: Order, depth: Depth, tick: Decimal) -> Decimal:
    """The size the snapshot's book shows at the order's price on its own side (a BUY among the bids)."""
    own = depth.bids if order.side is Side.BUY else depth.asks
    return shown_at(own, order.side, _limit(order), tick)


def _crossed_size(
    side: Side, opposite: Sequence[Level], step: Decimal, tick: Decimal
) -> Callable[[Decimal], Decimal]:
    """For an order of `side`, the function from its limit to the opposite side's size recorded strictly
    through it (asks below a BUY limit, bids above a SELL limit), in whole steps of each level as the book
    shows it (`liquidity.on_grid`: levels of a finer tick merged): what a taker could have taken of them.
    What is taken of a merged level is kept against it, so counting each recorded level's whole steps
    instead would leave their fractions summed in the book, through the order's limit.

    The merged level at the limit itself may hold recorded levels through it (an ask at 242.955 shows at a
    BUY's 242.96): their sum counts, in whole steps."""
    shown = [(price, floor_to_step(qty, step)) for price, qty in on_grid(opposite, side.opposite, tick, step)]

    def through(limit: Decimal) -> Decimal:
        if side is Side.BUY:
            whole = sum((qty for price, qty in shown if price < limit), ZERO)
            low = limit - tick  # asks in (limit - tick, limit) show at the limit
            at_limit = sum((qty for price, qty in opposite if low < price < limit), ZERO)
        else:
            whole = sum((qty for price, qty in shown if price > limit), ZERO)
            high = limit + tick  # bids in (limit, limit + tick) show at the limit
            at_limit = sum((qty for price, qty in opposite if limit < price < high), ZERO)
        return whole + floor_to_step(at_limit, step) if at_limit else whole

    return through


def _fill_from_pool(
    orders: list[Order], crossed: Callable[[Decimal], Decimal], time: int, step: Decimal
) -> list[MakerFill]:
    """Orders of one side in priority order, each taking up to its crossed size less what those before it
    took."""
    fills: list[MakerFill] = []
    taken = ZERO
    for order in orders:
        qty = min(order.remaining_qty, floor_to_step(crossed(_limit(order)) - taken, step))
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


class RestingBook:
    """One symbol's working resting orders, indexed by price, replayed against its recorded events.

    `on_trade`, `on_depth` and `on_bar` give the same fills, in the same order, and change the orders in the
    same way as the module's functions of the same names given all the orders held (in the order they were
    added), but look only at the orders the event can reach: those at or through its price, and those with
    recorded size ahead of them (`queue_ahead` > 0, usually few), whose queue a depth snapshot caps. Orders
    an event finds ended (filled by it, or cancelled meanwhile) leave the book.

    An order's side, price and sequence must not change while it is held, and its `queue_ahead` is set
    before it is added: the book only ever lowers it, so it knows which orders have a queue."""

    def __init__(self, orders: Iterable[Order] = ()) -> None:
        self._buys = _SideBook(Side.BUY)
        self._sells = _SideBook(Side.SELL)
        self._held: dict[int, Order] = {}  # by identity: two orders with equal fields are still two orders
        self._queued: dict[int, Order] = {}  # orders that may have queue_ahead > 0
        for order in orders:
            self.add(order)

    def add(self, order: Order) -> None:
        if order.price is None:
            raise ValueError(f"order {order.order_id} has no limit price: only a priced order rests")
        if id(order) in self._held:
            raise ValueError(f"order {order.order_id} is already in the book")
        self._side_of(order).insert(order)
        self._held[id(order)] = order
        if order.queue_ahead > 0:
            self._queued[id(order)] = order

    def remove(self, order: Order) -> None:
        if self._held.pop(id(order), None) is None:
            raise ValueError(f"order {order.order_id} is not in the book")
        self._queued.pop(id(order), None)
        self._side_of(order).remove(order)

    def __len__(self) -> int:
        return len(self._held)

    @property
    def orders(self) -> list[Order]:
        """Every order held: the BUYs, then the SELLs, each in priority order."""
        return [*self._buys.orders, *self._sells.orders]

    def on_trade(self, trade: Trade, model: FillModel, step: Decimal) -> list[MakerFill]:
        """As `on_trade` given all the orders held."""
        if trade.qty <= 0:
            return []
        price = trade.price
        buy_keys, sell_keys = self._buys.keys, self._sells.keys
        # Most prints reach no order, not even the most aggressive of either side: the common case is cheap.
        if (not buy_keys or buy_keys[0] > price.copy_negate()) and (not sell_keys or sell_keys[0] > price):
            return []
        stale: list[Order] = []
        fills = self._trade_side(self._buys, trade, model, step, stale)
        fills += self._trade_side(self._sells, trade, model, step, stale)
        self._drop_ended(fills, stale)
        return fills

    def on_depth(self, depth: Depth, model: FillModel, step: Decimal, tick: Decimal) -> list[MakerFill]:
        """As `on_depth` given all the orders held."""
        stale: list[Order] = []
        if self._queued:
            # Capping first changes nothing: depth fills neither read a queue nor change what a cap uses.
            self._cap_queues(depth, tick, stale)
        fills: list[MakerFill] = []
        # Only when something is shown through the most aggressive limit (a C-level scan of the prices)
        # can any order of the side fill.
        buy_keys, sell_keys = self._buys.keys, self._sells.keys
        if buy_keys and depth.asks and min(map(_price_of, depth.asks)).copy_negate() > buy_keys[0]:
            fills += self._depth_side(self._buys, depth.asks, depth, step, tick, stale)
        if sell_keys and depth.bids and max(map(_price_of, depth.bids)) > sell_keys[0]:
            fills += self._depth_side(self._sells, depth.bids, depth, step, tick, stale)
        if fills or stale:
            self._drop_ended(fills, stale)
        return fills

    def on_bar(self, bar: Kline, model: FillModel, step: Decimal) -> list[MakerFill]:
        """As `on_bar` given all the orders held."""
        allowance = bar_allowance(bar, model, step)
        if allowance <= 0:
            return []
        path = kline_path(bar)
        touch = model.kline_touch_fills
        stale: list[Order] = []
        # An order is on the path if its limit is above the path's lowest point (a BUY) or below its highest
        # (a SELL), or at it when touches fill: the path's own points are its extremes.
        since = _bar_eligibility_time(bar, model)
        waiting = self._buys.reached(min(path), touch, bar.symbol, since, stale)
        waiting += self._sells.reached(max(path), touch, bar.symbol, since, stale)
        fills = _fill_from_allowance(_triggered_along(path, waiting, touch), allowance, bar.completes_at)
        self._drop_ended(fills, stale)
        return fills

    def _side_of(self, order: Order) -> _SideBook:
        return self._buys if order.side is Side.BUY else self._sells

    def _trade_side(
        self, book: _SideBook, trade: Trade, model: FillModel, step: Decimal, stale: list[Order]
    ) -> list[MakerFill]:
        """As `_fill_side_on_trade` on the side's eligible orders, looking only at those at or through the
        print."""
        reach = book.key(trade.price)
        keys, orders = book.keys, book.orders
        if not keys or keys[0] > reach:  # even the most aggressive order is behind the print
            return []
        better_end = bisect_left(keys, reach)
        left = trade.qty
        fills: list[MakerFill] = []
        index = 0
        while index < better_end and left >= step:  # less than a step fills nothing
            order = orders[index]
            index += 1
            if not _can_fill(order, trade.symbol, trade.time):
                stale.append(order)
                continue
            order.queue_ahead = ZERO  # the price traded through: nothing recorded is still ahead
            qty = min(order.remaining_qty, floor_to_step(left, step))
            fills.append(_fill(order, qty, trade.time))
            left -= qty
        if index < better_end:
            # The print is used up before these orders, but it still went through their limits.
            self._clear_queues_through(book, reach, trade)
        if left > 0:
            at_limit = book.eligible(better_end, bisect_right(keys, reach), trade.symbol, trade.time, stale)
            fills += _fill_at_limit(at_limit, left, trade.time, model, step)
        return fills

    def _clear_queues_through(self, book: _SideBook, reach: Decimal, trade: Trade) -> None:
        """Zero the queue of the side's eligible orders strictly better than the print (only orders with a
        queue need it)."""
        for key, order in list(self._queued.items()):
            if order.queue_ahead <= 0:
                del self._queued[key]
            elif (
                order.side is book.side
                and book.key(_limit(order)) < reach
                and _can_fill(order, trade.symbol, trade.time)
            ):
                order.queue_ahead = ZERO
                del self._queued[key]

    def _cap_queues(self, depth: Depth, tick: Decimal, stale: list[Order]) -> None:
        """Cap every eligible order's queue at the size shown at its price on its side; an order without a
        queue needs no cap, so only the orders with one are looked at."""
        still_queued: dict[int, Order] = {}
        for key, order in self._queued.items():
            if order.queue_ahead <= 0:
                continue
            if not _can_fill(order, depth.symbol, depth.time):
                stale.append(order)
                still_queued[key] = order
                continue
            order.queue_ahead = min(order.queue_ahead, _shown_at_limit(order, depth, tick))
            if order.queue_ahead > 0:
                still_queued[key] = order
        self._queued = still_queued

    def _depth_side(
        self,
        book: _SideBook,
        opposite: tuple[Level, ...],
        depth: Depth,
        step: Decimal,
        tick: Decimal,
        stale: list[Order],
    ) -> list[MakerFill]:
        """As `_fill_from_pool` on the side's eligible orders, looking only at those the opposite side
        reaches."""
        orders = book.orders
        recorded = [price for price, qty in opposite if qty > 0]
        if not recorded:
            return []
        # Orders at or behind the nearest level recorded have nothing crossed.
        end = book.better_than(min(recorded) if book.side is Side.BUY else max(recorded))
        crossed = _crossed_size(book.side, opposite, step, tick)
        fills: list[MakerFill] = []
        taken = ZERO
        for order in orders[:end]:
            if not _can_fill(order, depth.symbol, depth.time):
                stale.append(order)
                continue
            # The crossed size only shrinks along priority order and `taken` only grows: once nothing is
            # left for one order, nothing is left for any after it.
            room = floor_to_step(crossed(_limit(order)) - taken, step)
            if room <= 0:
                break
            qty = min(order.remaining_qty, room)
            fills.append(_fill(order, qty, depth.time))
            taken += qty
        return fills

    def _drop_ended(self, fills: list[MakerFill], stale: list[Order]) -> None:
        """Remove the orders that will never work again: filled by this event, or found ended."""
        for order in [*(fill.order for fill in fills), *stale]:
            if order.is_final and id(order) in self._held:
                self.remove(order)


class _SideBook:
    """One side's orders in priority order (most aggressive limit first, then sequence, then arrival), with
    a parallel ascending list of sort keys for bisect: the limit for a SELL, its negation for a BUY, so that
    on both sides a smaller key is a more aggressive order."""

    __slots__ = ("side", "orders", "keys")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.orders: list[Order] = []
        self.keys: list[Decimal] = []

    def key(self, price: Decimal) -> Decimal:
        # copy_negate is exact, where unary minus rounds to the context's precision
        return price.copy_negate() if self.side is Side.BUY else price

    def better_than(self, price: Decimal) -> int:
        """How many orders, from the front, have a limit strictly more aggressive than `price`."""
        return bisect_left(self.keys, self.key(price))

    def insert(self, order: Order) -> None:
        key = self.key(_limit(order))
        low, high = bisect_left(self.keys, key), bisect_right(self.keys, key)
        # after the orders of the same price and a lower or equal sequence: arrival breaks ties
        at = bisect_right(self.orders, order.sequence, low, high, key=_sequence)
        self.orders.insert(at, order)
        self.keys.insert(at, key)

    def remove(self, order: Order) -> None:
        key = self.key(_limit(order))
        for index in range(bisect_left(self.keys, key), bisect_right(self.keys, key)):
            if self.orders[index] is order:
                del self.orders[index]
                del self.keys[index]
                return
        raise ValueError(f"order {order.order_id} is not in the book")

    def eligible(self, start: int, end: int, symbol: str, time: int, stale: list[Order]) -> list[Order]:
        """The orders from `start` to `end` an event of `symbol` at `time` can fill; the others go to
        `stale`."""
        found: list[Order] = []
        for order in self.orders[start:end]:
            (found if _can_fill(order, symbol, time) else stale).append(order)
        return found

    def reached(
        self, extreme: Decimal, touch: bool, symbol: str, time: int, stale: list[Order]
    ) -> list[Order]:
        """The eligible orders strictly more aggressive than `extreme`, or at it too when `touch`."""
        key = self.key(extreme)
        end = bisect_right(self.keys, key) if touch else bisect_left(self.keys, key)
        return self.eligible(0, end, symbol, time, stale)


def _sequence(order: Order) -> int:
    return order.sequence


_price_of = itemgetter(0)  # of a (price, qty) level


def _can_fill(order: Order, symbol: str, time: int) -> bool:
    """`_eligible`'s test for one order held by a RestingBook (which always has a price)."""
    return (
        order.created_ms < time
        and order.status in WORKING
        and order.symbol == symbol
        and order.remaining_qty > 0
    )
