"""TickDB klines: a saved REST response (one document per file) or a recording (one response per line,
bare or in a recorder envelope {"recv_ms", "venue", "data"}).

A response is {"code": 0, "message": "success", "data": ...}. The latest-kline endpoint answers with a list
of {"symbol", "interval", "klines": [{time, open, high, low, close, volume, quote_volume}, ...]}, the
historical endpoint (/v1/market/kline) with one such object. Times are milliseconds, prices strings;
quote_volume may be absent (it is then not stored). Interval names are ours.

Symbols: crypto pairs (BTCUSDT) map as they are; stocks and the like (AAPL.US, 00700.HK) cannot be derived
and are counted as unmapped unless the symbol map has an entry for them.

Finality: with a receive time (recorder envelope) a bar is final once recv_ms is past its close time.
Without one, the latest endpoint's bars are the ones still forming (not final) and the historical
endpoint's are history (final).

A response whose code is not 0 is an error: warned about and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulator.marketdata.importer import FileContext, ImportOptions, ImportReport, Message
from simulator.marketdata.parsing import MalformedRecord, decimal_value, field, time_ms
from simulator.marketdata.records import Kline, Record, close_time
from simulator.marketdata.symbols import SymbolTarget

INTERVALS = frozenset({"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "1d", "1w", "1M"})
PRICE_FIELDS = ("open", "high", "low", "close", "volume")
SUCCESS_CODES = (0, "0")
NOT_A_RESPONSE = "not a tickdb kline response"


@dataclass(frozen=True, slots=True)
class Bar:
    time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal | None


class Parser:
    def __init__(self, options: ImportOptions):
        self.options = options

    def finish(self, report: ImportReport) -> None:
        pass

    def parse(self, ctx: FileContext) -> Iterator[Record]:
        for message in ctx.json_messages():
            yield from _response(ctx, message)


def _response(ctx: FileContext, message: Message) -> Iterator[Kline]:
    body = message.data
    code = body.get("code") if isinstance(body, dict) else None
    if isinstance(code, bool) or not isinstance(code, int | str):
        raise MalformedRecord(NOT_A_RESPONSE)
    if code not in SUCCESS_CODES:
        ctx.warn(f"tickdb error response: {code}: {body.get('message')}")
        ctx.skip("tickdb error response")
        return
    data = body.get("data")
    if isinstance(data, list):  # the latest endpoint: bars still forming
        forming_by_default, all_series = True, data
    elif isinstance(data, dict):  # the historical endpoint
        forming_by_default, all_series = False, [data]
    else:
        raise MalformedRecord(NOT_A_RESPONSE)
    for series in all_series:
        yield from _series(ctx, series, message.recv_ms, forming_by_default)


def _series(ctx: FileContext, series: Any, recv_ms: int | None, forming_by_default: bool) -> Iterator[Kline]:
    if not isinstance(series, dict):
        raise MalformedRecord(f"a tickdb series is not an object: {series!r}")
    venue_symbol = field(series, "symbol", "a tickdb series")
    interval = field(series, "interval", "a tickdb series")
    rows = field(series, "klines", "a tickdb series")
    if not isinstance(venue_symbol, str) or not venue_symbol:
        raise MalformedRecord(f"a tickdb series has no symbol: {venue_symbol!r}")
    if interval not in INTERVALS:
        raise MalformedRecord(f"{venue_symbol}: unknown interval {interval!r}")
    if not isinstance(rows, list):
        raise MalformedRecord(f"{venue_symbol}: klines is not a list")
    bars = [_bar(row, venue_symbol) for row in rows]  # read before mapping: a bad bar refuses the file
    target = ctx.target(venue_symbol)
    if target is None:
        return
    for bar in bars:
        yield _kline(bar, target, interval, recv_ms, forming_by_default)


def _bar(row: Any, venue_symbol: str) -> Bar:
    what = f"a {venue_symbol} kline"
    if not isinstance(row, dict):
        raise MalformedRecord(f"{what} is not an object: {row!r}")
    values = (decimal_value(field(row, name, what), f"{venue_symbol} {name}") for name in PRICE_FIELDS)
    quote_volume = row.get("quote_volume")
    return Bar(
        time_ms(field(row, "time", what), f"{venue_symbol} time"),
        *values,
        None if quote_volume is None else decimal_value(quote_volume, f"{venue_symbol} quote_volume"),
    )


def _kline(
    bar: Bar, target: SymbolTarget, interval: str, recv_ms: int | None, forming_by_default: bool
) -> Kline:
    closes = close_time(interval, bar.time)
    return Kline(
        symbol=target.symbol,
        interval=interval,
        open_time=bar.time,
        close_time=closes,
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
        volume=bar.volume * target.lot_size,
        quote_volume=bar.quote_volume,
        is_final=closes < recv_ms if recv_ms is not None else not forming_by_default,
    )
