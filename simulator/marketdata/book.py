"""A full order book rebuilt from a snapshot and diff updates, and the clock that decides when to store
its top levels. Shared by the venues whose streams send diffs (Binance depthUpdate, KuCoin level2)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from simulator.marketdata.records import Depth, Level


class OrderBook:
    """Price -> quantity per side; a quantity of 0 removes the level, as every venue's diff means it."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}

    def reset(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        self.bids = {price: qty for price, qty in bids if qty}
        self.asks = {price: qty for price, qty in asks if qty}

    def apply(self, is_bid: bool, price: Decimal, qty: Decimal) -> None:
        side = self.bids if is_bid else self.asks
        if qty:
            side[price] = qty
        else:
            side.pop(price, None)

    def snapshot(self, symbol: str, time: int, levels: int) -> Depth:
        """The top `levels` of each side, best first."""
        bids = sorted(self.bids.items(), key=lambda level: level[0], reverse=True)[:levels]
        asks = sorted(self.asks.items(), key=lambda level: level[0])[:levels]
        return Depth(symbol, time, tuple(bids), tuple(asks))


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
