"""KuCoin spot and futures market data: saved REST responses and recorded WebSocket messages.

REST responses {"code": "200000", "data": ...} (a whole file, one per line, or inside recorder envelopes):
- futures allTickers / ticker: a best bid/offer and the last trade;
- order books (futures /api/v1/level2/depth20|100, spot /api/v3/market/orderbook/level2 and level2_20|100):
  a depth snapshot that also seeds the book rebuilt from level2 updates;
- klines (futures /api/v1/kline/query, spot /api/v1/market/candles): bars whose interval is read from their
  spacing, since the body names neither symbol nor granularity;
- anything else (contract lists, 24h stats) is skipped; a response with another code is an error envelope,
  skipped with a warning.
WebSocket messages {"topic", "type": "message", "subject", "data"}: tickers (bbo), level2Depth5/50 (depth),
level2 updates (a rebuilt book), match/execution (trades), candles (klines). Welcome, ack, pong and topics
we do not store are skipped.

Futures sizes are lots: every size (trade, levels, bbo, bar volume) is multiplied by the contract's lot
size from the symbol map; quote turnover is not. A contract without a map entry is reported unmapped.

Symbol-less REST responses (spot order book, klines) take the recorder envelope's symbol, else --symbol,
else a BASE-QUOTE pair or an upper-case symbol in the file name (..._ANKR-BTC.json, XBTUSDTM_1m.json).

Choices:
- Level2 updates wait (bounded) for a snapshot, possibly from a later file of the run; changes at or below
  the snapshot's sequence are old. A futures update must follow the book's sequence exactly; a spot one
  must start at most one past it. On a gap the book is dropped (with a warning) until the next snapshot.
- Spot level2 updates carry no time: one is dated by its receive time, else by the latest exchange time
  seen for its book (snapshot, ticker, match, candle push) -- a lower bound, about a ticker interval early
  at worst. A rebuilt book's time never goes back.
- A snapshot older than the already rebuilt book is stored but does not reset it.
- allTickers quotes are dated at the receive time when the envelope has one, else at the last fill's ts.
- Kline query: the interval is the recorder envelope's "interval" when there is one; otherwise it is the
  greatest common step between bars (empty intervals are left out), over
  all the symbol's queries in the file (a recording pages one series; its last page may hold one bar); a
  lone bar with nothing before it is skipped with a warning. A bar is final when it closed before the
  receive time; without one, all but the newest bar are final (the newest may still be forming).
- Candle pushes are the bar so far (not final); a bar is stored again as final when the next one starts.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from math import gcd
from pathlib import Path
from typing import Any

from simulator.marketdata import parsing
from simulator.marketdata.book import OrderBook, SnapshotClock
from simulator.marketdata.importer import FileContext, ImportOptions, ImportReport, Message
from simulator.marketdata.parsing import MalformedRecord, decimal_value, int_value, time_ms
from simulator.marketdata.records import (
    INTERVAL_MS,
    MONTH,
    Bbo,
    Depth,
    Kline,
    Level,
    Record,
    Trade,
    close_time,
)
from simulator.marketdata.symbols import SymbolTarget

OK_CODE = "200000"
FUTURES, SPOT = "futures", "spot"
# Updates kept per book while it waits for its snapshot (possibly in a later file of the run); beyond this
# the oldest go, as a snapshot is only ever useful for the newest.
PENDING_LIMIT = 100_000
PAIR_IN_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Z0-9]*[A-Z][A-Z0-9]*-[A-Z][A-Z0-9]*(?![A-Za-z0-9])")
# Futures candle granularities in minutes and WebSocket candle types, as our interval names.
GRANULARITY_MINUTES = {
    1: "1m",
    5: "5m",
    15: "15m",
    30: "30m",
    60: "1h",
    120: "2h",
    240: "4h",
    480: "8h",
    720: "12h",
    1440: "1d",
    10080: "1w",
}
CANDLE_TYPES = {
    "1min": "1m",
    "3min": "3m",
    "5min": "5m",
    "15min": "15m",
    "30min": "30m",
    "1hour": "1h",
    "2hour": "2h",
    "4hour": "4h",
    "6hour": "6h",
    "8hour": "8h",
    "12hour": "12h",
    "1day": "1d",
    "1week": "1w",
    "1month": MONTH,
}
# Bar lengths a kline query can return (KuCoin's candle types), for reading the interval from the spacing.
QUERY_INTERVALS = {INTERVAL_MS[name]: name for name in CANDLE_TYPES.values() if name != MONTH}
MONTH_SPACING_MS = (28 * 86_400_000, 31 * 86_400_000)
FUTURES_QUOTES = ("bestBidPrice", "bestBidSize", "bestAskPrice", "bestAskSize")
SPOT_QUOTES = ("bestBid", "bestBidSize", "bestAsk", "bestAskSize")
SIDES = {"buy": True, "sell": False}  # is_bid / taker bought
SECONDS_BEFORE = 10**11  # a bar time below this is in seconds (spot), above it milliseconds (futures)

Json = dict[str, Any]
BookKey = tuple[str, str]  # (market, our symbol): spot and futures books of one pair stay apart


@dataclass
class _Update:
    """One level2 message: the sequence range it covers and its (is_bid, price, qty, sequence) changes."""

    start: int
    end: int
    changes: list[tuple[bool, Decimal, Decimal, int]]
    time: int | None  # its own time, else the receive time, else the latest time known for the book


@dataclass
class _BookSync:
    """One book rebuilt from a snapshot and level2 updates, stored through a SnapshotClock."""

    symbol: str
    venue_symbol: str
    levels: int
    clock: SnapshotClock
    book: OrderBook | None = None  # None until a snapshot arrives, and again after a gap
    sequence: int = 0
    time: int | None = None
    pending: deque[_Update] = field(default_factory=deque)

    def seed(
        self, ctx: FileContext, bids: list[Level], asks: list[Level], sequence: int, time: int | None
    ) -> Iterator[Depth]:
        """A snapshot: the book restarts from it, then takes the updates that were waiting for it."""
        self.book = OrderBook()
        self.book.reset(bids, asks)
        self.sequence, self.time = sequence, time
        self.clock.restart()
        yield from self._store()
        waiting, self.pending = self.pending, deque()
        for update in waiting:
            yield from self.update(ctx, update)

    def is_past(self, sequence: int) -> bool:
        """The rebuilt book is already at or beyond a snapshot taken at `sequence`."""
        return self.book is not None and sequence <= self.sequence

    def update(self, ctx: FileContext, update: _Update) -> Iterator[Depth]:
        if self.book is None:
            self._wait(ctx, update)
            return
        if update.end <= self.sequence:
            ctx.skip("kucoin level2 update older than its book")
            return
        if update.start > self.sequence + 1:
            ctx.warn(
                f"kucoin {self.venue_symbol}: level2 sequence gap (book at {self.sequence}, update starts at "
                f"{update.start}); book dropped until the next snapshot"
            )
            self.book = None
            self._wait(ctx, update)
            return
        for is_bid, price, qty, sequence in update.changes:
            if sequence > self.sequence and price:  # price 0 only advances the sequence
                self.book.apply(is_bid, price, qty)
        self.sequence = update.end
        if update.time is not None:
            self.time = update.time if self.time is None else max(self.time, update.time)
        yield from self._store()

    def _store(self) -> Iterator[Depth]:
        if self.book is not None and self.time is not None and self.clock.due(self.time):
            yield self.book.snapshot(self.symbol, self.time, self.levels)

    def _wait(self, ctx: FileContext, update: _Update) -> None:
        if len(self.pending) >= PENDING_LIMIT:
            self.pending.popleft()
            ctx.skip("kucoin level2 update dropped: too many waiting for a snapshot")
        self.pending.append(update)


class Parser:
    def __init__(self, options: ImportOptions):
        self.options = options
        self.books: dict[BookKey, _BookSync] = {}
        self.latest: dict[BookKey, int] = {}  # the latest exchange time seen per book, for untimed updates
        self.bars: dict[tuple[str, str, str], Kline] = {}  # the forming bar per (market, symbol, interval)
        self.kline_steps: dict[tuple[str, str], int] = {}  # bar spacing per (file, symbol) of kline queries

    def finish(self, report: ImportReport) -> None:
        for sync in self.books.values():
            if sync.pending:
                report.warnings.append(
                    f"kucoin {sync.venue_symbol}: {len(sync.pending)} level2 updates never got a snapshot"
                )
                report.skipped["kucoin level2 update without a snapshot"] += len(sync.pending)

    def parse(self, ctx: FileContext) -> Iterator[Record]:
        for message in ctx.json_messages():
            yield from self._message(ctx, message)

    def _message(self, ctx: FileContext, message: Message) -> Iterable[Record]:
        body = message.data
        if not isinstance(body, dict):
            raise MalformedRecord("not a KuCoin message: expected a JSON object")
        if body.get("type") == "message" and isinstance(body.get("topic"), str):
            return self._ws(ctx, message, body)
        if "code" in body:
            return self._rest(ctx, message, body)
        kind = body.get("type")
        if kind == "error":
            ctx.warn(f"kucoin error message: {body.get('data') or body.get('code')}")
        ctx.skip(f"kucoin {kind}" if isinstance(kind, str) else "kucoin unknown message")
        return ()

    # --- REST responses -------------------------------------------------------------------------------

    def _rest(self, ctx: FileContext, message: Message, body: dict[str, Any]) -> Iterable[Record]:
        code = str(body["code"])
        if code != OK_CODE:
            ctx.skip("kucoin error response")
            ctx.warn(f"kucoin error response {code}: {body.get('msg', '')}")
            return ()
        data = body.get("data")
        if isinstance(data, list):
            return self._rest_list(ctx, message, data)
        if isinstance(data, dict):
            return self._rest_object(ctx, message, data)
        ctx.skip("kucoin response without data")
        return ()

    def _rest_list(self, ctx: FileContext, message: Message, data: list[Any]) -> Iterable[Record]:
        first = data[0] if data else None
        if isinstance(first, list):
            return self._kline_query(ctx, message, data)
        if isinstance(first, dict) and "bestBidPrice" in first:
            return (record for entry in data for record in self._futures_ticker(ctx, entry, message.recv_ms))
        ctx.skip(
            "kucoin contracts"
            if isinstance(first, dict) and "rootSymbol" in first
            else "kucoin list response"
        )
        return ()

    def _rest_object(self, ctx: FileContext, message: Message, data: dict[str, Any]) -> Iterable[Record]:
        if "bids" in data and "asks" in data:
            market = FUTURES if "ts" in data else SPOT  # futures books carry ts (ns), spot ones time (ms)
            return self._snapshot(ctx, market, _response_symbol(ctx, message, data), data, message.recv_ms)
        if "bestBidPrice" in data:
            return self._futures_ticker(ctx, data, message.recv_ms)
        if "bestBid" in data:
            return self._spot_ticker(ctx, _response_symbol(ctx, message, data), data, message.recv_ms)
        ctx.skip("kucoin other response")
        return ()

    def _futures_ticker(self, ctx: FileContext, entry: Any, recv_ms: int | None) -> Iterator[Record]:
        """An allTickers entry (or a v1 ticker push): the bbo at receive time and the last trade."""
        target = ctx.target(parsing.field(entry, "symbol", "a ticker"))
        if target is None:
            return
        ts = time_ms(parsing.field(entry, "ts", "a ticker"), "ts")
        self._saw(FUTURES, target, ts)
        # ts is the last fill's time; the quotes are as of the response, so the receive time is truer
        bbo = _bbo(ctx, target, recv_ms or ts, entry, FUTURES_QUOTES)
        if bbo is not None:
            yield bbo
        yield _trade(target, ts, entry)

    def _spot_ticker(
        self, ctx: FileContext, venue_symbol: str, data: Any, recv_ms: int | None
    ) -> Iterator[Record]:
        target = ctx.target(venue_symbol)
        if target is None:
            return
        time = _time(data, ("time",), recv_ms)
        self._saw(SPOT, target, time)
        bbo = _bbo(ctx, target, time, data, SPOT_QUOTES)
        if bbo is not None:
            yield bbo

    def _kline_query(self, ctx: FileContext, message: Message, rows: list[Any]) -> Iterator[Kline]:
        venue_symbol = _response_symbol(ctx, message, {})
        target = ctx.target(venue_symbol)
        if target is None:
            return
        bars = [_query_bar(row, target) for row in rows]
        interval = message.interval or self._query_interval(
            (ctx.input.where, venue_symbol), sorted({bar[0] for bar in bars})
        )
        if interval is None:
            ctx.warn("kucoin kline query with a single bar: its interval cannot be told; skipped")
            ctx.skip("kucoin kline query with a single bar")
            return
        newest = max(bar[0] for bar in bars)
        for open_time, *values in bars:
            end = close_time(interval, open_time)
            # without a receive time the newest bar may still be forming: it stays replaceable
            final = end < message.recv_ms if message.recv_ms is not None else open_time != newest
            yield _kline(target, interval, open_time, *values, is_final=final)

    # --- WebSocket messages ---------------------------------------------------------------------------

    def _ws(self, ctx: FileContext, message: Message, body: dict[str, Any]) -> Iterable[Record]:
        channel, _, topic_symbol = body["topic"].partition(":")
        handler = WS_HANDLERS.get(channel)
        if handler is None:
            ctx.skip(f"kucoin {channel}")
            return ()
        market = FUTURES if channel.startswith("/contract") else SPOT
        data = parsing.field(body, "data", f"a {channel} message")
        if not isinstance(data, dict):
            raise MalformedRecord(f"a {channel} message's data is not an object")
        if topic_symbol == "all":  # /market/ticker:all names the symbol in the subject
            topic_symbol = str(body.get("subject", ""))
        return handler(self, ctx, market, topic_symbol, data, message.recv_ms)

    def _ws_ticker(
        self, ctx: FileContext, market: str, topic_symbol: str, data: Json, recv_ms: int | None
    ) -> Iterable[Record]:
        if market == SPOT:
            return self._spot_ticker(ctx, data.get("symbol") or topic_symbol, data, recv_ms)
        target = ctx.target(data.get("symbol") or topic_symbol)
        if target is None:
            return ()
        time = _time(data, ("ts", "timestamp"), recv_ms)
        self._saw(market, target, time)
        bbo = _bbo(ctx, target, time, data, FUTURES_QUOTES)
        return () if bbo is None else (bbo,)

    def _ws_ticker_v1(
        self, ctx: FileContext, market: str, topic_symbol: str, data: Json, recv_ms: int | None
    ) -> Iterable[Record]:
        return self._futures_ticker(ctx, {"symbol": topic_symbol, **data}, None)

    def _ws_depth(
        self, ctx: FileContext, market: str, topic_symbol: str, data: Json, recv_ms: int | None
    ) -> Iterator[Depth]:
        target = ctx.target(data.get("symbol") or topic_symbol)
        if target is None:
            return
        time = _time(data, ("timestamp", "ts"), recv_ms)
        self._saw(market, target, time)
        bids, asks = _book_sides(data, target)
        yield _top(target.symbol, time, bids, asks, self.options.depth_levels)

    def _ws_snapshot(
        self, ctx: FileContext, market: str, topic_symbol: str, data: Json, recv_ms: int | None
    ) -> Iterator[Depth]:
        return self._snapshot(ctx, market, data.get("symbol") or topic_symbol, data, recv_ms)

    def _ws_trade(
        self, ctx: FileContext, market: str, topic_symbol: str, data: Json, recv_ms: int | None
    ) -> Iterator[Trade]:
        target = ctx.target(data.get("symbol") or topic_symbol)
        if target is None:
            return
        time = _time(data, ("ts", "time"), recv_ms)
        self._saw(market, target, time)
        yield _trade(target, time, data)

    def _ws_update(
        self, ctx: FileContext, market: str, topic_symbol: str, data: Json, recv_ms: int | None
    ) -> Iterator[Depth]:
        venue_symbol = data.get("symbol") or topic_symbol
        target = ctx.target(venue_symbol)
        if target is None:
            return
        key = (market, target.symbol)
        update = _futures_update(data, target) if market == FUTURES else _spot_update(data, target)
        if update.time is not None:
            self._saw(market, target, update.time)
        update.time = update.time or recv_ms or self.latest.get(key)
        yield from self._sync(key, target, venue_symbol).update(ctx, update)

    def _ws_candle(
        self, ctx: FileContext, market: str, topic_symbol: str, data: Json, recv_ms: int | None
    ) -> Iterator[Kline]:
        name, _, kind = topic_symbol.rpartition("_")
        target = ctx.target(data.get("symbol") or name)
        if target is None:
            return
        interval = _candle_interval(data.get("granularity") or kind)
        raw = data.get("candles")
        bar = _list_bar(raw, target) if raw is not None else _named_bar(data, target)
        if raw is not None and data.get("time") is not None:
            self._saw(market, target, time_ms(data["time"], "time"))
        kline = _kline(target, interval, *bar, is_final=False)
        yield from self._forming_bar(ctx, (market, target.symbol, interval), kline)

    # --- shared -----------------------------------------------------------------------------------

    def _snapshot(
        self, ctx: FileContext, market: str, venue_symbol: str, data: Json, recv_ms: int | None
    ) -> Iterator[Depth]:
        """A full or partial order book: stored, and the seed of the book level2 updates rebuild."""
        target = ctx.target(venue_symbol)
        if target is None:
            return
        sequence = int_value(parsing.field(data, "sequence", "an order book"), "sequence")
        bids, asks = _book_sides(data, target)
        time = _optional_time(data, ("ts", "time", "timestamp"))
        if time is None:
            time = recv_ms  # None too: the book is dated by its first update
        sync = self._sync((market, target.symbol), target, venue_symbol)
        if time is not None:
            self._saw(market, target, time)
        if sync.is_past(sequence):  # a late response: store it, but the rebuilt book is fresher
            if time is not None:
                yield _top(target.symbol, time, bids, asks, self.options.depth_levels)
            return
        yield from sync.seed(ctx, bids, asks, sequence, time)

    def _forming_bar(self, ctx: FileContext, series: tuple[str, str, str], kline: Kline) -> Iterator[Kline]:
        """A candle push is the bar so far; the bar is final once a later bar of its series shows up."""
        current = self.bars.get(series)
        if current is not None and kline.open_time < current.open_time:
            ctx.skip("kucoin candle older than the current bar")
            return
        if current is not None and kline.open_time > current.open_time:
            yield replace(current, is_final=True)
        self.bars[series] = kline
        yield kline

    def _query_interval(self, key: tuple[str, str], open_times: list[int]) -> str | None:
        """The interval of a kline query's bars from their spacing: the greatest common step (bars without
        trades are left out), shared by the symbol's earlier queries in the same file -- a recording pages
        one series, and its last page may hold a single bar. None when nothing tells it."""
        steps = [b - a for a, b in zip(open_times, open_times[1:], strict=False)]
        if steps and all(MONTH_SPACING_MS[0] <= step <= MONTH_SPACING_MS[1] for step in steps):
            return MONTH
        step = self.kline_steps.get(key, 0)
        for each in steps:
            step = gcd(step, each)
        if step == 0:
            return None
        if step not in QUERY_INTERVALS:
            raise MalformedRecord(f"kline times are {step} ms apart: not a KuCoin candle interval")
        self.kline_steps[key] = step
        return QUERY_INTERVALS[step]

    def _sync(self, key: BookKey, target: SymbolTarget, venue_symbol: str) -> _BookSync:
        sync = self.books.get(key)
        if sync is None:
            clock = SnapshotClock(self.options.depth_interval_ms)
            sync = self.books[key] = _BookSync(target.symbol, venue_symbol, self.options.depth_levels, clock)
        return sync

    def _saw(self, market: str, target: SymbolTarget, time: int) -> None:
        key = (market, target.symbol)
        self.latest[key] = max(self.latest.get(key, time), time)


WS_HANDLERS = {
    "/contractMarket/tickerV2": Parser._ws_ticker,
    "/market/ticker": Parser._ws_ticker,
    "/contractMarket/ticker": Parser._ws_ticker_v1,
    "/contractMarket/level2Depth5": Parser._ws_depth,
    "/contractMarket/level2Depth50": Parser._ws_depth,
    "/spotMarket/level2Depth5": Parser._ws_depth,
    "/spotMarket/level2Depth50": Parser._ws_depth,
    "/contractMarket/level2": Parser._ws_update,
    "/market/level2": Parser._ws_update,
    "/contractMarket/level2Snapshot": Parser._ws_snapshot,  # Tardis' wrapper around a REST snapshot
    "/market/level2Snapshot": Parser._ws_snapshot,
    "/contractMarket/execution": Parser._ws_trade,
    "/market/match": Parser._ws_trade,
    "/market/candles": Parser._ws_candle,
    "/contractMarket/candle": Parser._ws_candle,
    "/contractMarket/limitCandle": Parser._ws_candle,
}


# --- field readers -------------------------------------------------------------------------------------


def _response_symbol(ctx: FileContext, message: Message, data: dict[str, Any]) -> str:
    """The venue symbol of a REST response: its own, the envelope's, --symbol, or the file name's."""
    name = data.get("symbol") or message.symbol or ctx.options.symbol_map.forced or _symbol_in_name(ctx)
    if not name:
        raise MalformedRecord(
            "cannot tell the symbol of this response: record it in an envelope with a symbol, "
            "name the file like ..._BTC-USDT.json or XBTUSDTM-....json, or pass --symbol"
        )
    return str(name)


def _symbol_in_name(ctx: FileContext) -> str | None:
    """A KuCoin spot pair (ANKR-BTC) in the file or archive member name, else the framework's rule."""
    for name in (ctx.input.member, ctx.input.path.name):
        found = PAIR_IN_NAME.search(Path(name).stem) if name else None
        if found:
            return found.group(0)
    return ctx.input.symbol_from_name()


def _time(data: dict[str, Any], names: tuple[str, ...], recv_ms: int | None) -> int:
    """The message's own time, else its receive time."""
    time = _optional_time(data, names)
    if time is None:
        time = recv_ms
    if time is None:
        raise MalformedRecord(f"the message has no {' or '.join(repr(n) for n in names)} time")
    return time


def _side(data: dict[str, Any]) -> str:
    side = parsing.field(data, "side", "a trade")
    if side not in SIDES:
        raise MalformedRecord(f"side is neither buy nor sell: {side!r}")
    return str(side)


def _trade(target: SymbolTarget, time: int, data: dict[str, Any]) -> Trade:
    """The side is the taker's: a taker sell hit a resting buyer."""
    return Trade(
        symbol=target.symbol,
        time=time,
        price=decimal_value(parsing.field(data, "price", "a trade"), "price"),
        qty=decimal_value(parsing.field(data, "size", "a trade"), "size") * target.lot_size,
        buyer_is_maker=_side(data) == "sell",
        trade_id=str(parsing.field(data, "tradeId", "a trade")),
    )


def _bbo(ctx: FileContext, target: SymbolTarget, time: int, data: Json, names: tuple[str, ...]) -> Bbo | None:
    values = [parsing.field(data, name, "a ticker") for name in names]
    if any(value in (None, "") for value in values):
        ctx.skip("kucoin ticker without a bid or an ask")
        return None
    bid, bid_size, ask, ask_size = (
        decimal_value(value, name) for value, name in zip(values, names, strict=True)
    )
    return Bbo(target.symbol, time, bid, bid_size * target.lot_size, ask, ask_size * target.lot_size)


def _book_sides(data: dict[str, Any], target: SymbolTarget) -> tuple[list[Level], list[Level]]:
    bids = parsing.levels(parsing.field(data, "bids", "an order book"), "bids", target.lot_size)
    asks = parsing.levels(parsing.field(data, "asks", "an order book"), "asks", target.lot_size)
    return bids, asks


def _top(symbol: str, time: int, bids: list[Level], asks: list[Level], levels: int) -> Depth:
    book = OrderBook()
    book.reset(bids, asks)
    return book.snapshot(symbol, time, levels)


def _optional_time(data: dict[str, Any], names: tuple[str, ...]) -> int | None:
    for name in names:
        if data.get(name) is not None:
            return time_ms(data[name], name)
    return None


def _futures_update(data: dict[str, Any], target: SymbolTarget) -> _Update:
    """{"sequence", "change": "price,side,size", "timestamp"}: one change per message."""
    sequence = int_value(parsing.field(data, "sequence", "a level2 update"), "sequence")
    change = parsing.field(data, "change", "a level2 update")
    parts = change.split(",") if isinstance(change, str) else []
    if len(parts) != 3 or parts[1] not in SIDES:
        raise MalformedRecord(f"change is not 'price,buy|sell,size': {change!r}")
    price = decimal_value(parts[0], "change price")
    qty = decimal_value(parts[2], "change size") * target.lot_size
    return _Update(
        sequence,
        sequence,
        [(SIDES[parts[1]], price, qty, sequence)],
        _optional_time(data, ("timestamp", "ts")),
    )


def _spot_update(data: dict[str, Any], target: SymbolTarget) -> _Update:
    """{"sequenceStart", "sequenceEnd", "changes": {"asks": [[price, size, sequence]], "bids": [...]}}."""
    start = int_value(parsing.field(data, "sequenceStart", "a level2 update"), "sequenceStart")
    end = int_value(parsing.field(data, "sequenceEnd", "a level2 update"), "sequenceEnd")
    changes = parsing.field(data, "changes", "a level2 update")
    found = []
    for side, is_bid in (("bids", True), ("asks", False)):
        for entry in parsing.field(changes, side, "changes") or []:
            if not isinstance(entry, list) or len(entry) < 2:
                raise MalformedRecord(f"a {side} change is not [price, size, sequence]: {entry!r}")
            sequence = int_value(entry[2], "change sequence") if len(entry) > 2 else end
            price, qty = decimal_value(entry[0], f"{side} price"), decimal_value(entry[1], f"{side} size")
            found.append((is_bid, price, qty * target.lot_size, sequence))
    found.sort(key=lambda change: change[3])  # applied in sequence order, whichever side
    return _Update(start, end, found, _optional_time(data, ("time", "timestamp")))


Bar = tuple[
    int, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal | None
]  # open time, o, h, l, c, vol, quote


def _query_bar(row: Any, target: SymbolTarget) -> Bar:
    """Futures [time ms, open, high, low, close, lots, turnover]; spot [time s, open, close, high, low, ...]
    (told apart by the time's unit)."""
    if not isinstance(row, list) or len(row) < 6:
        raise MalformedRecord(f"a kline is not [time, open, high, low, close, volume, turnover]: {row!r}")
    if int_value(row[0], "kline time") < SECONDS_BEFORE:
        return _list_bar(row, target)
    open_, high, low, close = (
        decimal_value(row[i], name) for i, name in enumerate(("open", "high", "low", "close"), 1)
    )
    turnover = decimal_value(row[6], "turnover") if len(row) > 6 else None
    volume = decimal_value(row[5], "volume") * target.lot_size
    return time_ms(row[0], "kline time"), open_, high, low, close, volume, turnover


def _list_bar(raw: Any, target: SymbolTarget) -> Bar:
    """[start s, open, close, high, low, volume, turnover]: KuCoin's candle order puts close second."""
    if not isinstance(raw, list) or len(raw) < 6:
        raise MalformedRecord(f"candles is not [time, open, close, high, low, volume, turnover]: {raw!r}")
    open_, close, high, low = (
        decimal_value(raw[i], name) for i, name in enumerate(("open", "close", "high", "low"), 1)
    )
    turnover = decimal_value(raw[6], "turnover") if len(raw) > 6 else None
    return (
        time_ms(raw[0], "candle time"),
        open_,
        high,
        low,
        close,
        decimal_value(raw[5], "volume") * target.lot_size,
        turnover,
    )


def _named_bar(data: dict[str, Any], target: SymbolTarget) -> Bar:
    """The older futures candle push: {"time" (bar start, ms), "open", "high", "low", "close", ...}."""
    values = {
        name: decimal_value(parsing.field(data, name, "a candle"), name)
        for name in ("open", "high", "low", "close", "volume")
    }
    turnover = decimal_value(data["turnover"], "turnover") if data.get("turnover") is not None else None
    return (
        time_ms(parsing.field(data, "time", "a candle"), "time"),
        values["open"],
        values["high"],
        values["low"],
        values["close"],
        values["volume"] * target.lot_size,
        turnover,
    )


def _kline(
    target: SymbolTarget,
    interval: str,
    open_time: int,
    open_: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
    turnover: Decimal | None,
    is_final: bool,
) -> Kline:
    if high < max(open_, close, low) or low > min(open_, close):
        raise MalformedRecord(
            f"bar at {open_time}: high {high} / low {low} do not bound open {open_} and close {close}"
        )
    return Kline(
        symbol=target.symbol,
        interval=interval,
        open_time=open_time,
        close_time=close_time(interval, open_time),
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        quote_volume=turnover,
        is_final=is_final,
    )


def _candle_interval(kind: Any) -> str:
    """A granularity in minutes (10080) or a candle type (1min, 1hour, 1week) as our interval name."""
    text = str(kind)
    interval = GRANULARITY_MINUTES.get(int(text)) if text.isdigit() else CANDLE_TYPES.get(text)
    if interval is None:
        raise MalformedRecord(f"unknown candle interval {kind!r}")
    return interval
