"""The normalized market-data records every importer produces and every query returns.

Prices and sizes are exact Decimals in our symbol's base units (lots already converted); times are
milliseconds since the epoch, UTC. A record is venue-agnostic: its source is kept by the store. Records are
values: nothing changes one after it is made (they are not frozen only because a frozen dataclass takes
four times as long to build, and importers build millions).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

Level = tuple[Decimal, Decimal]  # (price, quantity)


class PriceLevel(NamedTuple):
    """A level as the store's queries return it: a (price, quantity) tuple with names, which the engine
    matches on as it is (importers build plain tuples)."""

    price: Decimal
    qty: Decimal


_MINUTE = 60_000
# Fixed-length intervals by name, in ms. "1M" is a calendar month and handled apart.
INTERVAL_MS: dict[str, int] = {
    "1s": 1000,
    "1m": _MINUTE,
    "3m": 3 * _MINUTE,
    "5m": 5 * _MINUTE,
    "10m": 10 * _MINUTE,
    "15m": 15 * _MINUTE,
    "30m": 30 * _MINUTE,
    "1h": 60 * _MINUTE,
    "2h": 120 * _MINUTE,
    "4h": 240 * _MINUTE,
    "6h": 360 * _MINUTE,
    "8h": 480 * _MINUTE,
    "12h": 720 * _MINUTE,
    "1d": 1440 * _MINUTE,
    "3d": 3 * 1440 * _MINUTE,
    "1w": 7 * 1440 * _MINUTE,
}
MONTH = "1M"
INTERVALS = (*INTERVAL_MS, MONTH)


@dataclass(slots=True)
class Kline:
    symbol: str
    interval: str
    open_time: int
    close_time: int  # last millisecond the bar covers, as Binance reports it (open + length - 1)
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # base asset
    quote_volume: Decimal | None = None
    trade_count: int | None = None
    taker_buy_base: Decimal | None = None
    taker_buy_quote: Decimal | None = None
    is_final: bool = True

    def covers(self, t: int) -> bool:
        return self.open_time <= t <= self.close_time

    @property
    def completes_at(self) -> int:
        """The first millisecond at which the bar is complete: the one after its close time (a trade at the
        close time is still inside it). Klines, tickers and the engine all use a bar from then on."""
        return self.close_time + 1


@dataclass(slots=True)
class Trade:
    symbol: str
    time: int
    price: Decimal
    qty: Decimal
    buyer_is_maker: bool | None  # None when the venue does not say which side took
    trade_id: str  # the venue's id, unique per venue and symbol


@dataclass(slots=True)
class Depth:
    """The top levels of a book: bids best (highest) first, asks best (lowest) first."""

    symbol: str
    time: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


@dataclass(slots=True)
class Bbo:
    symbol: str
    time: int
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal


@dataclass(slots=True)
class Rows:
    """Rows already in the store's column form, for parsers whose input is a table (CSV files): building
    them directly costs a third of building records. `kind` is "trade" or "kline <interval>"; a trade row is
    (time, trade_id, price, qty, buyer_is_maker) and a kline row (interval, open_time, close_time, open,
    high, low, close, volume, quote_volume, trade_count, taker_buy_base, taker_buy_quote, is_final), with
    decimals as plain text (`parsing.decimal_text`) and booleans as 0/1."""

    kind: str
    symbol: str
    rows: list[tuple[object, ...]]


Record = Kline | Trade | Depth | Bbo


def is_interval(name: str) -> bool:
    return name in INTERVAL_MS or name == MONTH


def close_time(interval: str, open_time: int) -> int:
    """The last millisecond of the bar that opens at `open_time`."""
    if interval == MONTH:
        return _next_month_ms(open_time) - 1
    return open_time + INTERVAL_MS[interval] - 1


def interval_for_length(length_ms: int) -> str | None:
    """The interval whose bars last `length_ms` (close - open + 1), if there is one."""
    for name, ms in INTERVAL_MS.items():
        if ms == length_ms:
            return name
    if 28 * 1440 * _MINUTE <= length_ms <= 31 * 1440 * _MINUTE:
        return MONTH
    return None


def _next_month_ms(ms: int) -> int:
    start = datetime.fromtimestamp(ms / 1000, UTC)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
