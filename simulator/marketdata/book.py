"""A full order book rebuilt from a snapshot and diff updates, and the clock that decides when to store
its top levels. Shared by the venues whose streams send diffs (Binance depthUpdate, KuCoin level2)."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from decimal import Decimal

from simulator.marketdata.records import Depth, Level


class OrderBook:
    """Price -> quantity per side; a quantity of 0 removes the level, as every venue's diff means it. Each
    side's prices are also kept in ascending order, so that taking the top levels of a book of thousands
    of levels does not sort it every time."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self._bid_prices: list[Decimal] = []
        self._ask_prices: list[Decimal] = []

    def reset(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        self.bids = {price: qty for price, qty in bids if qty}
        self.asks = {price: qty for price, qty in asks if qty}
        self._bid_prices = sorted(self.bids)
        self._ask_prices = sorted(self.asks)

    def apply(self, is_bid: bool, price: Decimal, qty: Decimal) -> None:
        side, prices = (self.bids, self._bid_prices) if is_bid else (self.asks, self._ask_prices)
        if qty:
            if price not in side:
                insort(prices, price)
            side[price] = qty
        elif side.pop(price, None) is not None:
            del prices[bisect_left(prices, price)]

    def apply_all(self, is_bid: bool, levels: Iterable[Level]) -> None:
        for price, qty in levels:
            self.apply(is_bid, price, qty)

    def snapshot(self, symbol: str, time: int, levels: int) -> Depth:
        """The top `levels` of each side, best first."""
        bids, asks = self.bids, self.asks
        best_bids = self._bid_prices[: -levels - 1 : -1] if levels else []
        return Depth(
            symbol,
            time,
            tuple((price, bids[price]) for price in best_bids),
            tuple((price, asks[price]) for price in self._ask_prices[:levels]),
        )


class SnapshotClock:
    """Stores a rebuilt book at most once per `interval_ms` of event time: the first state after a sync,
    then the state after the first update at or past each interval boundary."""

    def __init__(self, interval_ms: int):
        self.interval_ms = interval_ms
        self.last: int | None = None

    def due(self, time: int) -> bool:
        if self.last is not None and time < self.last + self.interval_ms:
            return False
        self.last = time
        return True

    def restart(self) -> None:
        self.last = None
