"""Binance public-data files (data.binance.vision): klines, trades and aggTrades CSV, with or without a
header row, plain or zipped as downloaded.

The rows carry no symbol: it comes from --symbol or from the file name (BTCUSDT-1m-2024-08-08.csv). The
kind of file is told by its columns: 12 (or 11) are klines; trades are id,price,qty,quote_qty,time,
is_buyer_maker[,is_best_match]; aggTrades are a,price,qty,first,last,time,is_buyer_maker[,is_best_match].
Times are milliseconds, or microseconds in newer spot files. A kline's interval is read from its open and
close times.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator

from simulator.marketdata.importer import FileContext, ImportOptions, ImportReport
from simulator.marketdata.parsing import MalformedRecord, decimal_value, int_value, quantity, time_ms
from simulator.marketdata.records import Kline, Record, Trade, interval_for_length
from simulator.marketdata.symbols import SymbolTarget

BOOLEANS = {"true": True, "false": False, "True": True, "False": False, "TRUE": True, "FALSE": False}
HEADER_KINDS = {"open_time": "kline", "agg_trade_id": "aggTrade", "id": "trade"}
AGG_TRADE_PREFIX = "agg-"  # aggTrade ids are a separate sequence from trade ids


class Parser:
    def __init__(self, options: ImportOptions):
        self.options = options

    def finish(self, report: ImportReport) -> None:
        pass

    def parse(self, ctx: FileContext) -> Iterator[Record]:
        lines = ctx.input.lines()
        rows = csv.reader(lines)
        reader: Callable[[list[str]], Record] | None = None
        for row in rows:
            if not row or row == [""]:
                continue
            if reader is None:
                target = self._target(ctx)
                if target is None:
                    return
                reader = self._reader_for(row, target)
                if not row[0].strip().lstrip("-").isdigit():
                    continue  # the header row named the columns
            try:
                yield reader(row)
            except (IndexError, KeyError):
                raise MalformedRecord(f"expected the first row's columns, got {len(row)}") from None

    def _target(self, ctx: FileContext) -> SymbolTarget | None:
        name = ctx.options.symbol_map.forced or ctx.input.symbol_from_name()
        if name is None:
            raise MalformedRecord("cannot tell the symbol of this file: name it BTCUSDT-... or pass --symbol")
        return ctx.target(name)

    def _reader_for(self, first: list[str], target: SymbolTarget) -> Callable[[list[str]], Record]:
        kind = _kind(first)
        if kind == "kline":
            return lambda row: _kline(row, target)
        if kind == "trade":
            return lambda row: _trade(row, target)
        return lambda row: _agg_trade(row, target)


def _kind(first: list[str]) -> str:
    head = first[0].strip().lower()
    if not head.lstrip("-").isdigit():
        if head in HEADER_KINDS:
            return HEADER_KINDS[head]
        raise MalformedRecord(f"unknown header {first[0]!r}: not a klines, trades or aggTrades file")
    if len(first) in (11, 12):
        return "kline"
    if len(first) == 6 or (len(first) == 7 and first[5] in BOOLEANS):
        return "trade"
    if len(first) in (7, 8):
        return "aggTrade"
    raise MalformedRecord(f"{len(first)} columns: not a klines, trades or aggTrades row")


def _bool(text: str, name: str) -> bool:
    try:
        return BOOLEANS[text.strip()]
    except KeyError:
        raise MalformedRecord(f"{name} is not true/false: {text!r}") from None


def _kline(row: list[str], target: SymbolTarget) -> Kline:
    if len(row) not in (11, 12):
        raise MalformedRecord(f"a kline row has 12 columns, this one {len(row)}")
    open_time, close_time = time_ms(row[0], "open_time"), time_ms(row[6], "close_time")
    interval = interval_for_length(close_time - open_time + 1)
    if interval is None:
        raise MalformedRecord(f"open_time {row[0]} and close_time {row[6]} span no known interval")
    lot = target.lot_size
    return Kline(
        symbol=target.symbol,
        interval=interval,
        open_time=open_time,
        close_time=close_time,
        open=decimal_value(row[1], "open"),
        high=decimal_value(row[2], "high"),
        low=decimal_value(row[3], "low"),
        close=decimal_value(row[4], "close"),
        volume=decimal_value(row[5], "volume") * lot,
        quote_volume=decimal_value(row[7], "quote_volume"),
        trade_count=int_value(row[8], "count"),
        taker_buy_base=decimal_value(row[9], "taker_buy_volume") * lot,
        taker_buy_quote=decimal_value(row[10], "taker_buy_quote_volume"),
        is_final=True,
    )


def _trade(row: list[str], target: SymbolTarget) -> Trade:
    if len(row) not in (6, 7):
        raise MalformedRecord(f"a trades row has 7 columns, this one {len(row)}")
    return Trade(
        symbol=target.symbol,
        time=time_ms(row[4], "time"),
        price=decimal_value(row[1], "price"),
        qty=quantity(row[2], "quantity", target.lot_size),
        buyer_is_maker=_bool(row[5], "is_buyer_maker"),
        trade_id=_id(row[0], "id"),
    )


def _agg_trade(row: list[str], target: SymbolTarget) -> Trade:
    if len(row) not in (7, 8):
        raise MalformedRecord(f"an aggTrades row has 8 columns, this one {len(row)}")
    return Trade(
        symbol=target.symbol,
        time=time_ms(row[5], "transact_time"),
        price=decimal_value(row[1], "price"),
        qty=quantity(row[2], "quantity", target.lot_size),
        buyer_is_maker=_bool(row[6], "is_buyer_maker"),
        trade_id=AGG_TRADE_PREFIX + _id(row[0], "agg_trade_id"),
    )


def _id(text: str, name: str) -> str:
    """A venue id as text; digits are taken as they are (the common case, and the fastest)."""
    return text if text.isdigit() else str(int_value(text, name))
