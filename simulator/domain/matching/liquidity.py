"""What a taker can take at market time t: the recorded book (a depth snapshot, else the best bid/offer,
else a synthetic level around the last complete kline), minus what simulated takers already took from that
same snapshot, and the mark price the MARKET_TRADING band is measured against.

The book is on the symbol's grid, as every book the venue shows: a recording from a venue with a finer tick
(KuCoin's 242.951 against a 0.01 tickSize) has each bid rounded down and each ask rounded up to the tick
(never a better price than recorded; levels meeting at one price are merged), and sizes of less than one
stepSize are no liquidity. Resting orders are filled by the recording as recorded (`resting`); only what they
take from a snapshot is kept at the grid price it is shown at."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise

from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import Side
from simulator.domain.money import floor_to_step
from simulator.marketdata.records import Bbo, Depth, Kline, PriceLevel

TWO = Decimal(2)
ZERO = Decimal(0)


class Source(StrEnum):
    DEPTH = "depth"
    BBO = "bbo"
    KLINE = "kline"
    NONE = "none"


Level = PriceLevel  # a named (price, qty) tuple: a snapshot's levels as the store decoded them, shared


# Liquidity already taken from one snapshot: (side of the book: BUY = bids, SELL = asks, price) -> quantity.
Taken = Mapping[tuple[Side, Decimal], Decimal]


@dataclass(frozen=True)
class RecordedBook:
    """The recorded levels a taker meets, best first, with what was taken from them removed. `time` is the
    snapshot's (or bbo's, or bar's) time: liquidity taken is remembered per (symbol, source, time), so it
    stays taken until a newer snapshot replaces it."""

    source: Source
    time: int | None
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    # A best bid/offer or synthetic book (one level a side): the (bid, ask) prices its levels stand for before
    # they were put on the tick grid, which `less_crossed` judges them by.
    unrounded: tuple[Decimal, Decimal] | None = None
    # The mid before `less_crossed` left out levels standing through simulated resting orders (None: it left
    # out none): the mark price's, which simulated resting orders do not move.
    uncrossed_mid: Decimal | None = None

    def side(self, side: Side) -> tuple[Level, ...]:
        """The levels resting on `side` (BUY: bids, SELL: asks)."""
        return self.bids if side is Side.BUY else self.asks

    @property
    def mid(self) -> Decimal | None:
        """The mid of the levels a taker meets."""
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) / TWO

    @property
    def recorded_mid(self) -> Decimal | None:
        """The mid of the recorded levels less what takers took, whether or not a simulated resting order
        stands through them (`less_crossed`): what the mark price follows."""
        return self.uncrossed_mid if self.uncrossed_mid is not None else self.mid


EMPTY = RecordedBook(Source.NONE, None, (), ())


def recorded_book(
    now_ms: int,
    model: FillModel,
    depth: Depth | None,
    bbo: Bbo | None,
    last_bar: Kline | None,
    tick_size: Decimal,
    step_size: Decimal,
) -> RecordedBook:
    """The book at `now_ms` from the latest depth, bbo and complete bar at or before it (the caller reads
    those from the store), on the symbol's grid (`on_grid`): `less_taken` removes what simulated takers took
    from it. A fresh snapshot, else a fresh bbo, else the bar's synthetic levels; never a source older than a
    depth or bbo recorded since, stale or not: what takers took is kept for the source they used last, and
    going back to an older one would offer again what it showed before."""
    if depth_serves(now_ms, model, depth):
        assert depth is not None
        bids = on_grid(depth.bids, Side.BUY, tick_size, step_size)
        asks = on_grid(depth.asks, Side.SELL, tick_size, step_size)
        return RecordedBook(Source.DEPTH, depth.time, bids, asks)
    newest_shown = max((book.time for book in (depth, bbo) if book is not None), default=None)
    if bbo is not None and now_ms - bbo.time <= model.bbo_staleness_ms and bbo.time == newest_shown:
        bids = on_grid(((bbo.bid_price, bbo.bid_qty),), Side.BUY, tick_size, step_size)
        asks = on_grid(((bbo.ask_price, bbo.ask_qty),), Side.SELL, tick_size, step_size)
        return RecordedBook(Source.BBO, bbo.time, bids, asks, (bbo.bid_price, bbo.ask_price))
    if last_bar is not None and synthetic_serves(now_ms, last_bar):
        if newest_shown is None or newest_shown <= last_bar.close_time:
            return synthetic_book(last_bar, model, tick_size, step_size)
    return EMPTY


def synthetic_serves(now_ms: int, bar: Kline) -> bool:
    """Whether a complete bar still stands for the market: until one bar's length after it closed, when the
    bar after it, were it recorded, would have closed too (a stale bar is no book, as a stale snapshot is
    not; after a recording's last bar the book is empty rather than its close forever)."""
    return bar.close_time < now_ms <= bar.close_time + (bar.close_time - bar.open_time + 1)


def depth_serves(now_ms: int, model: FillModel, depth: Depth | None) -> bool:
    """Whether the book comes from this snapshot (then the bbo and bars are not looked at)."""
    return depth is not None and now_ms - depth.time <= model.depth_staleness_ms


def synthetic_book(bar: Kline, model: FillModel, tick_size: Decimal, step_size: Decimal) -> RecordedBook:
    """One level a side around the bar's close, on the tick grid (bid down, ask up), each offering a share
    of the bar's volume, in whole steps."""
    spread = bar.close * model.synthetic_half_spread
    unrounded = (bar.close - spread, bar.close + spread)
    bid = grid_price(unrounded[0], Side.BUY, tick_size)
    ask = grid_price(unrounded[1], Side.SELL, tick_size)
    if ask <= bid:
        ask = bid + tick_size
    size = floor_to_step(bar.volume * model.synthetic_volume_share, step_size)
    if size <= 0 or bid <= 0:
        return RecordedBook(Source.KLINE, bar.open_time, (), ())
    return RecordedBook(Source.KLINE, bar.open_time, (Level(bid, size),), (Level(ask, size),), unrounded)


def mark_price(book: RecordedBook, last_trade_price: Decimal | None) -> Decimal | None:
    """The price bands are measured against: the recorded book's mid (`RecordedBook.recorded_mid`), else
    the last trade."""
    mid = book.recorded_mid
    return mid if mid is not None else last_trade_price


def on_grid(
    levels: Iterable[tuple[Decimal, Decimal]], side: Side, tick: Decimal, step: Decimal
) -> tuple[Level, ...]:
    """Recorded levels of `side` (BUY: bids, SELL: asks) as the book shows them: best first, each price on
    the tick grid (`grid_price`), levels meeting at one price merged, and only levels with at least one
    `step` on them. The store's decoded snapshot is returned as it is when it is on the grid already (every
    order reads the snapshot it meets: no copy of its levels)."""
    if (
        type(levels) is tuple
        and all(type(level) is Level and level.qty >= step and not level.price % tick for level in levels)
        and _best_first(levels, side)
    ):
        return levels
    return _rounded(tuple(levels), side, tick, step)


def _best_first(levels: tuple[Level, ...], side: Side) -> bool:
    """Whether the levels are in the order a book shows them, each price once (as venues send them)."""
    pairs = pairwise(level.price for level in levels)
    if side is Side.BUY:
        return all(higher > lower for higher, lower in pairs)
    return all(lower < higher for lower, higher in pairs)


@lru_cache(maxsize=256)
def _rounded(
    levels: tuple[tuple[Decimal, Decimal], ...], side: Side, tick: Decimal, step: Decimal
) -> tuple[Level, ...]:
    """`on_grid` of a snapshot off the grid (or out of order), kept for the next order that meets the same
    snapshot (the store hands every reader of a snapshot the same levels)."""
    merged: dict[Decimal, Decimal] = {}
    for price, qty in levels:
        shown = grid_price(price, side, tick)
        if shown > 0:  # a bid under one tick is rounded to nothing
            merged[shown] = merged.get(shown, ZERO) + qty
    best_first = sorted(merged.items(), reverse=side is Side.BUY)
    return tuple(Level(price, qty) for price, qty in best_first if qty >= step)


def grid_price(price: Decimal, side: Side, tick: Decimal) -> Decimal:
    """A recorded price of `side` (BUY: a bid, SELL: an ask) on the tick grid: a bid rounded down, an ask
    up, so the book never shows a better price than the recording's (or crosses where it did not)."""
    return _on_tick(price, tick, ROUND_FLOOR if side is Side.BUY else ROUND_CEILING)


def shown_at(levels: Iterable[tuple[Decimal, Decimal]], side: Side, price: Decimal, tick: Decimal) -> Decimal:
    """The recorded size of `side`'s `levels` the book shows at `price`, a price on the tick grid: the
    levels `grid_price` puts there (compared, not rounded: queues are capped with it on every snapshot)."""
    if side is Side.BUY:  # bids rounded down: [price, price + tick)
        high = price + tick
        return sum((qty for level_price, qty in levels if price <= level_price < high), ZERO)
    low = price - tick  # asks rounded up: (price - tick, price]
    return sum((qty for level_price, qty in levels if low < level_price <= price), ZERO)


def less_taken(book: RecordedBook, taken: Taken, step: Decimal) -> RecordedBook:
    """`book` with what simulated takers took from it removed; a level left with less than one `step` is
    gone (what takers leave of an off-grid size cannot be taken)."""
    if not taken:
        return book
    return replace(
        book,
        bids=_side_less_taken(book.bids, Side.BUY, taken, step),
        asks=_side_less_taken(book.asks, Side.SELL, taken, step),
    )


def less_crossed(book: RecordedBook, best_bid: Decimal | None, best_ask: Decimal | None) -> RecordedBook:
    """`book` without its levels strictly through the best simulated resting order of the other side
    (`best_bid`, `best_ask`). For a best bid/offer or synthetic book: neither fills a resting order (only
    trades, snapshots and bars do), so such a level would stand through an order that in a real book would
    have met it; it is left out, for takers and the book shown alike, until it no longer crosses. (A depth
    snapshot's crossed levels fill the order and are taken instead.)

    A level is judged at the price it stands for (`unrounded`), as a snapshot crosses resting orders at its
    recorded prices: an ask recorded at 242.955, or put there by a bar's close, shows at 242.96 (rounded up
    to the tick) but is through a bid at 242.96."""
    if book.unrounded is None:
        bid_prices = [level.price for level in book.bids]
        ask_prices = [level.price for level in book.asks]
    else:  # one level a side
        bid_prices = [book.unrounded[0]] * len(book.bids)
        ask_prices = [book.unrounded[1]] * len(book.asks)
    bids, asks = book.bids, book.asks
    if best_ask is not None:
        bids = tuple(level for level, price in zip(bids, bid_prices, strict=True) if price <= best_ask)
    if best_bid is not None:
        asks = tuple(level for level, price in zip(asks, ask_prices, strict=True) if price >= best_bid)
    if len(bids) == len(book.bids) and len(asks) == len(book.asks):
        return book
    return replace(book, bids=bids, asks=asks, uncrossed_mid=book.recorded_mid)


def _side_less_taken(levels: tuple[Level, ...], side: Side, taken: Taken, step: Decimal) -> tuple[Level, ...]:
    """The levels as they are (each holds a step at least, as `recorded_book` makes them), but those takers
    took from. Takers take from the best, usually the first few levels of a deep side: once every taken
    price has been met, the rest are kept as they are without a look."""
    of_side = {price: qty for (taken_side, price), qty in taken.items() if taken_side is side}
    if not of_side:
        return levels
    result: list[Level] = []
    for n, level in enumerate(levels):
        qty = of_side.pop(level.price, None)
        if qty is None:
            result.append(level)
            continue
        if level.qty - qty >= step:
            result.append(Level(level.price, level.qty - qty))
        if not of_side:
            result.extend(levels[n + 1 :])
            break
    return tuple(result)


def _on_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick
