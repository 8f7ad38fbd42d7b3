"""Mudrex bulk historical klines (GET /fapi/v1/price/kline): a saved REST response (one document per
file) or a recording (one response per line, bare or in a recorder envelope {"recv_ms", "venue", "data"}).

A response is {"success": true, "data": {"asset_ticks": {"btc/usdt": [[open, o, h, l, c, volume], ...]}}}:
open times in epoch seconds, prices as JSON numbers (read as exact Decimals), volume in the base asset.
Keys are lower-case base/quote pairs, mapped like any venue symbol (btc/usdt -> BTCUSDT).

The body does not name its aggregation. Our recorder writes it in the envelope ("interval"), which is
used when present; otherwise the interval is read from the candles. Every series of one
response answers the same request, hence the same aggregation: the interval is the greatest common
spacing of consecutive open times over all its series (so a missing candle does not change it), or 1M when
every candle opens on the first of a UTC month. A response with one candle per asset has no spacing; it
is read as 1m and the file gets a warning. A spacing that is no Mudrex aggregation is warned about and
the response skipped rather than guessed.

Finality: with a receive time (recorder envelope) a candle is final once recv_ms is past its close time;
without one the response is a historical download and every candle is final.

Error responses {"success": false, "errors": [{"code", "text"}]} are warned about and skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from simulator.marketdata.importer import FileContext, ImportOptions, ImportReport, Message
from simulator.marketdata.parsing import MalformedRecord, decimal_value, time_ms
from simulator.marketdata.records import MONTH, Kline, Record, close_time, interval_for_length
from simulator.marketdata.symbols import SymbolTarget

# Mudrex aggregations 1m, 3t, 5t, 10t, 15t, 30t, 1h, 4h, 6h, 12h, 1d, 1w, 1mth in our names (1mth is 1M).
FIXED_INTERVALS = ("1m", "3m", "5m", "10m", "15m", "30m", "1h", "4h", "6h", "12h", "1d", "1w")
SINGLE_CANDLE_INTERVAL = "1m"
SHORTEST_MONTH_MS = 28 * 86_400_000
DAY_MS = 86_400_000
PRICE_FIELDS = ("open", "high", "low", "close", "volume")
NOT_A_RESPONSE = "not a mudrex kline response"


@dataclass(frozen=True, slots=True)
class Candle:
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class Parser:
    def __init__(self, options: ImportOptions):
        self.options = options
        self._warned: FileContext | None = None  # the file already told about single-candle responses

    def finish(self, report: ImportReport) -> None:
        pass

    def parse(self, ctx: FileContext) -> Iterator[Record]:
        for message in ctx.json_messages():
            yield from self._response(ctx, message)

    def _response(self, ctx: FileContext, message: Message) -> Iterator[Kline]:
        body = message.data
        if isinstance(body, dict) and body.get("success") is False:
            _report_error(ctx, body)
            return
        # Read every series before mapping any: the interval depends on all of them, and a malformed
        # candle refuses the file even in a series we would not import.
        series = {asset: _candles(asset, rows) for asset, rows in _asset_ticks(body).items()}
        interval = message.interval or self._interval(ctx, series)
        if interval is None:
            return
        for asset, candles in series.items():
            target = ctx.target(asset)
            if target is not None:
                for candle in candles:
                    yield _kline(candle, target, interval, message.recv_ms)

    def _interval(self, ctx: FileContext, series: dict[str, list[Candle]]) -> str | None:
        """The response's interval (see the module docstring); None when its candles were skipped."""
        spacings = [b.open_time - a.open_time for candles in series.values() for a, b in pairwise(candles)]
        if not spacings:
            if any(series.values()) and self._warned is not ctx:
                self._warned = ctx
                ctx.warn(
                    "mudrex response with one candle per asset does not show its aggregation: read as "
                    f"{SINGLE_CANDLE_INTERVAL} (said once per file)"
                )
            return SINGLE_CANDLE_INTERVAL
        opens = (candle.open_time for candles in series.values() for candle in candles)
        if min(spacings) >= SHORTEST_MONTH_MS and all(map(_is_month_start, opens)):
            return MONTH
        step = math.gcd(*spacings)
        interval = interval_for_length(step)
        if interval in FIXED_INTERVALS:
            return interval
        ctx.warn(f"mudrex candles {step} ms apart match no Mudrex aggregation: response skipped")
        ctx.skip("mudrex klines of unknown aggregation", sum(map(len, series.values())))
        return None


def _report_error(ctx: FileContext, body: dict[str, Any]) -> None:
    errors = body.get("errors")
    described = [
        f"{error.get('code')}: {error.get('text')}"
        for error in (errors if isinstance(errors, list) else [])
        if isinstance(error, dict)
    ]
    ctx.warn("mudrex error response: " + ("; ".join(described) or "no errors given"))
    ctx.skip("mudrex error response")


def _asset_ticks(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and body.get("success") is True:
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("asset_ticks"), dict):
            return data["asset_ticks"]
    raise MalformedRecord(NOT_A_RESPONSE)


def _candles(asset: str, rows: Any) -> list[Candle]:
    if not isinstance(rows, list):
        raise MalformedRecord(f"asset_ticks {asset!r} is not a list of candles")
    candles = [_candle(asset, row) for row in rows]
    for before, after in pairwise(candles):
        if after.open_time <= before.open_time:
            raise MalformedRecord(f"{asset} candles are not ascending by open time at {after.open_time}")
    return candles


def _candle(asset: str, row: Any) -> Candle:
    if not isinstance(row, list) or len(row) != 1 + len(PRICE_FIELDS):
        raise MalformedRecord(f"a {asset} candle is not [open_time, open, high, low, close, volume]: {row!r}")
    values = (decimal_value(row[i], f"{asset} {name}") for i, name in enumerate(PRICE_FIELDS, start=1))
    return Candle(time_ms(row[0], f"{asset} open_time"), *values)


def _is_month_start(ms: int) -> bool:
    return ms % DAY_MS == 0 and datetime.fromtimestamp(ms // 1000, UTC).day == 1


def _kline(candle: Candle, target: SymbolTarget, interval: str, recv_ms: int | None) -> Kline:
    closes = close_time(interval, candle.open_time)
    return Kline(
        symbol=target.symbol,
        interval=interval,
        open_time=candle.open_time,
        close_time=closes,
        open=candle.open,
        high=candle.high,
        low=candle.low,
        close=candle.close,
        volume=candle.volume * target.lot_size,
        # A recorded response may hold the bar still forming at recv_ms; a download without one is history.
        is_final=recv_ms is None or closes < recv_ms,
    )
