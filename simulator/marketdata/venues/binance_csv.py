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
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from itertools import groupby
from operator import itemgetter

from simulator.marketdata.importer import FileContext, ImportOptions, ImportReport
from simulator.marketdata.parsing import (
    ONE,
    PLAIN_DECIMAL,
    MalformedRecord,
    decimal_text,
    int_value,
    quantity_text,
    time_ms,
)
from simulator.marketdata.records import INTERVAL_MS, Rows, interval_for_length
from simulator.marketdata.symbols import SymbolTarget

BOOLEANS = {"true": 1, "false": 0, "True": 1, "False": 0, "TRUE": 1, "FALSE": 0}
HEADER_KINDS = {"open_time": "kline", "agg_trade_id": "aggTrade", "id": "trade"}
AGG_TRADE_PREFIX = "agg-"  # aggTrade ids are a separate sequence from trade ids
INTERVAL_BY_LENGTH = {ms: name for name, ms in INTERVAL_MS.items()}

Row = tuple[object, ...]


class Parser:
    """Yields the store's rows directly (records.Rows), not records: these files are already tables.

    A block of lines is first read whole with one regular expression per file layout, which accepts only
    rows that need no conversion (plain decimals, millisecond or microsecond times, true/false); if any
    line of the block does not fit, the block is read again cell by cell, which converts what can be
    converted and names the line of what cannot. Both give the same rows."""

    def __init__(self, options: ImportOptions):
        self.options = options

    def finish(self, report: ImportReport) -> None:
        pass

    def parse(self, ctx: FileContext) -> Iterator[Rows]:
        table: Table | None = None
        for text in ctx.input.blocks():
            first_line = ctx.input.line
            if table is None:
                start = _first_row(text)
                if start is None:
                    continue  # blank lines so far
                skipped_lines, cells = start
                ctx.input.line = first_line = first_line + skipped_lines
                table = _table(ctx, cells)
                if table is None:
                    return  # the symbol is not mapped: counted, nothing imported
                text = _drop_lines(text, skipped_lines)
                if not cells[0].strip().lstrip("-").isdigit():
                    text, first_line = _drop_lines(text, 1), first_line + 1  # a header named the columns
            rows = table.fast_rows(text)
            if rows is None:
                rows = []
                for line_number, cells in _csv_rows(text, first_line):
                    ctx.input.line = line_number
                    rows.append(table.row(cells))
            yield from _batches(table.symbol, rows)


def _first_row(text: str) -> tuple[int, list[str]] | None:
    """(blank lines before it, cells) of the first row of a block, or None if it has none."""
    for number, line in enumerate(text.split("\n")[:-1]):
        line = line.rstrip("\r")
        if line:
            return number, next(csv.reader([line]))
    return None


def _drop_lines(text: str, count: int) -> str:
    start = 0
    for _ in range(count):
        start = text.index("\n", start) + 1
    return text[start:]


@dataclass
class Table:
    """How one file's rows are read: its symbol, lot size, cell-by-cell reader and block patterns."""

    symbol: str
    lot: Decimal
    read_row: Callable[[list[str]], Row]
    block_readers: tuple[Callable[[str], list[Row]], ...]

    def row(self, cells: list[str]) -> Row:
        try:
            return self.read_row(cells)
        except (IndexError, KeyError):
            raise MalformedRecord(f"expected the first row's columns, got {len(cells)}") from None

    def fast_rows(self, text: str) -> list[Row] | None:
        """Every line of `text` read at once, or None if some line needs reading cell by cell."""
        if self.lot != ONE:
            return None
        lines = text.count("\n")
        for read in self.block_readers:
            rows = read(text)
            if len(rows) == lines:
                return rows
        return None


def _table(ctx: FileContext, first: list[str]) -> Table | None:
    name = ctx.options.symbol_map.forced or ctx.input.symbol_from_name()
    if name is None:
        raise MalformedRecord("cannot tell the symbol of this file: name it BTCUSDT-... or pass --symbol")
    target: SymbolTarget | None = ctx.target(name)
    if target is None:
        return None
    kind = _kind(first)
    read = {"kline": _kline, "trade": _trade, "aggTrade": _agg_trade}[kind]
    block_readers = tuple(partial(BLOCK_READERS[kind], *layout) for layout in BLOCK_LAYOUTS[kind])
    return Table(target.symbol, target.lot_size, partial(read, lot=target.lot_size), block_readers)


def _csv_rows(text: str, first_line: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-blank row of a block."""
    reader = csv.reader(line.rstrip("\r") for line in text.split("\n"))
    for row in reader:
        if len(row) > 1 or (row and row[0]):
            yield first_line + reader.line_num - 1, row


def _batches(symbol: str, rows: list[Row]) -> Iterator[Rows]:
    """Trade rows start with their time (an int), kline rows with their interval: one batch per run of
    rows of the same interval."""
    if not rows:
        return
    if rows[0][0].__class__ is int:
        yield Rows("trade", symbol, rows)
        return
    for interval, same in groupby(rows, key=itemgetter(0)):
        yield Rows(f"kline {interval}", symbol, list(same))


# Block patterns: one line each, anchored at its start and ending with its newline, so that a block was
# read whole exactly when there are as many matches as lines.
_D = r"((?!0[0-9])[0-9]+(?:\.[0-9]+)?)"  # a plain decimal, as PLAIN_DECIMAL (the faster spelling)
_ANY = r"[^,\n]*"
_MAKER = r"(true|false|True|False|TRUE|FALSE)"
_END = r"(?:,[^,\n]*)?\r?\n"  # the optional last column (is_best_match, ignore), then the line end
_MS, _US = r"([1-9][0-9]{12})", r"([1-9][0-9]{15})"  # time in ms (13 digits) or in µs (16 digits)


def _line_pattern(*cells: str) -> re.Pattern[str]:
    return re.compile("^" + ",".join(cells) + _END, re.MULTILINE)


def _trade_block(pattern: re.Pattern[str], per_ms: int, text: str) -> list[Row]:
    return [(int(t) // per_ms, i, p, q, BOOLEANS[m]) for i, p, q, t, m in pattern.findall(text)]


def _agg_trade_block(pattern: re.Pattern[str], per_ms: int, text: str) -> list[Row]:
    agg = AGG_TRADE_PREFIX
    return [(int(t) // per_ms, agg + i, p, q, BOOLEANS[m]) for i, p, q, t, m in pattern.findall(text)]


def _kline_block(pattern: re.Pattern[str], per_ms: int, text: str) -> list[Row]:
    rows: list[Row] = []
    for open_text, o, h, low, c, v, close_text, qv, n, tbb, tbq in pattern.findall(text):
        open_time, close_time = int(open_text) // per_ms, int(close_text) // per_ms
        interval = INTERVAL_BY_LENGTH.get(close_time - open_time + 1) or interval_for_length(
            close_time - open_time + 1
        )
        if interval is None:
            return []  # cell by cell, which names the line
        rows.append((interval, open_time, close_time, o, h, low, c, v, qv, int(n), tbb, tbq, 1))
    return rows


BLOCK_READERS = {"trade": _trade_block, "aggTrade": _agg_trade_block, "kline": _kline_block}
BLOCK_LAYOUTS = {
    kind: [(cells(time), per_ms) for time, per_ms in ((_MS, 1), (_US, 1000))]
    for kind, cells in {
        "trade": lambda t: _line_pattern(r"([0-9]+)", _D, _D, _ANY, t, _MAKER),
        "aggTrade": lambda t: _line_pattern(r"([0-9]+)", _D, _D, _ANY, _ANY, t, _MAKER),
        "kline": lambda t: _line_pattern(t, _D, _D, _D, _D, _D, t, _D, r"([0-9]+)", _D, _D),
    }.items()
}


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


def _maker(text: str) -> int:
    try:
        return BOOLEANS[text.strip()]
    except KeyError:
        raise MalformedRecord(f"is_buyer_maker is not true/false: {text!r}") from None


def _kline(row: list[str], lot: Decimal) -> Row:
    """(interval, open_time, close_time, open, high, low, close, volume, quote_volume, trade_count,
    taker_buy_base, taker_buy_quote, is_final), as records.Rows describes."""
    if len(row) not in (11, 12):
        raise MalformedRecord(f"a kline row has 12 columns, this one {len(row)}")
    open_time, close_time = time_ms(row[0], "open_time"), time_ms(row[6], "close_time")
    interval = interval_for_length(close_time - open_time + 1)
    if interval is None:
        raise MalformedRecord(f"open_time {row[0]} and close_time {row[6]} span no known interval")
    return (
        interval,
        open_time,
        close_time,
        decimal_text(row[1], "open"),
        decimal_text(row[2], "high"),
        decimal_text(row[3], "low"),
        decimal_text(row[4], "close"),
        quantity_text(row[5], "volume", lot),
        decimal_text(row[7], "quote_volume"),
        int_value(row[8], "count"),
        quantity_text(row[9], "taker_buy_volume", lot),
        decimal_text(row[10], "taker_buy_quote_volume"),
        1,
    )


def _trade(row: list[str], lot: Decimal) -> Row:
    """(time, trade_id, price, qty, buyer_is_maker)."""
    if len(row) not in (6, 7):
        raise MalformedRecord(f"a trades row has 7 columns, this one {len(row)}")
    trade_id, price, qty, time = row[0], row[1], row[2], row[4]
    return (
        time_ms(time, "time"),
        trade_id if trade_id.isascii() and trade_id.isdigit() else _id(trade_id, "id"),
        price if PLAIN_DECIMAL(price) else decimal_text(price, "price"),
        qty if lot == ONE and PLAIN_DECIMAL(qty) else quantity_text(qty, "quantity", lot),
        _maker(row[5]),
    )


def _agg_trade(row: list[str], lot: Decimal) -> Row:
    if len(row) not in (7, 8):
        raise MalformedRecord(f"an aggTrades row has 8 columns, this one {len(row)}")
    return (
        time_ms(row[5], "transact_time"),
        AGG_TRADE_PREFIX + _id(row[0], "agg_trade_id"),
        decimal_text(row[1], "price"),
        quantity_text(row[2], "quantity", lot),
        _maker(row[6]),
    )


def _id(text: str, name: str) -> str:
    """A venue id as text; digits are taken as they are (the common case, and the fastest)."""
    return text if text.isascii() and text.isdigit() else str(int_value(text, name))
