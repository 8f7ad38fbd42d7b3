"""Binance WebSocket streams (spot and USD-M futures) and REST market-data responses, one JSON message per
line, bare or in combined-stream wrappers {"stream": "btcusdt@trade", "data": {...}} (Tardis' generated
{"stream": "x@depthSnapshot", "data": {...}} included), or opened from our recorder's envelopes.

What becomes what:
- kline: the bar of k (open/close time k.t/k.T, interval k.i, final when k.x); the updates of one bar
  collapse to the last one seen in a file, and the writer never replaces a final bar.
- trade / aggTrade: a Trade; aggTrade ids get the "agg-" prefix the binance-csv importer uses, so the same
  trades from a dump file and from a stream or REST response are stored once. REST arrays of aggTrades
  ({a,p,q,f,l,T,m}) and trades ({id,price,qty,time,isBuyerMaker}) too, for the symbol of the file.
  Futures trades whose X is not MARKET (insurance fund, ADL) are skipped: they never were on the book.
- bookTicker: a Bbo. Partial book streams (@depth5/10/20[@100ms]) and REST depth snapshots: a Depth cut to
  the configured levels. Futures partial-book messages look like diffs; only the stream name tells them
  apart, so they must come in their combined-stream wrapper.
- depthUpdate on a diff stream (@depth, @depth@100ms, @depth@0ms): one book per symbol and market (spot
  updates and snapshots carry no pu/E, futures ones do) rebuilt the way Binance documents it. Updates
  wait (bounded) for a REST snapshot of the same symbol, in this file or any other file of the run;
  updates the snapshot already holds (u <= lastUpdateId) are dropped; then spot updates must continue
  the book (U <= book id + 1; one overlapping the book is applied, quantities being absolute) and futures
  ones must name it as their predecessor (pu == book id; the first may also straddle the snapshot,
  U <= lastUpdateId <= u). Anything else is a gap: it is reported, the book is dropped and its updates
  wait for the next snapshot. A snapshot arriving while the book is in sync only adds its Depth. The
  book's top levels are stored after the first update applied on a snapshot, then at most once per
  snapshot interval of event time (E).
- tickers, mark prices, liquidations, open interest, acks: skipped and counted.

Times: exchange event time E (trade time T for trades). Spot bookTicker, spot partial books and REST
snapshots carry none: they take the recorder's receive time, else the time of the previous timed message
of the file, else the next one; what cannot be dated is skipped and counted (a REST snapshot still seeds
its book). States of one symbol that fall on the same millisecond collapse to the last, so importing a
file again changes nothing.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, NamedTuple

from simulator.marketdata.book import OrderBook, SnapshotClock
from simulator.marketdata.importer import FileContext, ImportOptions, ImportReport, Message
from simulator.marketdata.parsing import (
    MS_HIGH,
    MS_LOW,
    MalformedRecord,
    decimal_value,
    int_value,
    levels,
    quantity,
    time_ms,
)
from simulator.marketdata.records import Bbo, Depth, Kline, Level, Record, Trade, is_interval
from simulator.marketdata.symbols import SymbolTarget

AGG_TRADE_PREFIX = "agg-"  # as in binance_csv: aggTrade ids are a separate sequence from trade ids
MAX_WAITING_EVENTS = 100_000  # diff updates one book keeps while it waits for a snapshot...
MAX_WAITING_LEVELS = 1_000_000  # ...and price levels in them (about 250 MB), whichever comes first
MAX_UNDATED = 10_000  # leading messages without a time kept until a timed one dates them
PARTIAL_BOOK = re.compile(r"depth\d+")  # @depth5, @depth10, @depth20: whole top-of-book states

Event = tuple[int, int, int, "int | None", list[Level], list[Level]]  # E, U, u, pu, bids, asks


class Stream(NamedTuple):
    """What a combined-stream name says: whose data it is and of which kind."""

    symbol: str | None  # upper case; None for all-market streams (!bookTicker, !ticker@arr)
    kind: str  # "depth", "depth20", "depthSnapshot", "trade", "kline_1m", ...
    partial: bool  # a partial book stream (@depth<N>): whole top-of-book states, not diffs


class DiffBook:
    """One book rebuilt from diff updates: waiting for a snapshot (book is None) or in sync."""

    def __init__(self, target: SymbolTarget, futures: bool, interval_ms: int):
        self.target = target
        self.futures = futures
        self.book: OrderBook | None = None
        self.update_id = 0  # the last update id the book holds
        self.fresh = False  # synced from a snapshot and nothing applied yet
        self.clock = SnapshotClock(interval_ms)
        self.waiting: deque[Event] = deque()
        self.waiting_levels = 0

    def start(self, last_update_id: int, bids: list[Level], asks: list[Level]) -> None:
        self.book = OrderBook()
        self.book.reset(bids, asks)
        self.update_id = last_update_id
        self.fresh = True
        self.clock.restart()

    def top(self, time: int, depth_levels: int) -> Depth:
        assert self.book is not None
        return self.book.snapshot(self.target.symbol, time, depth_levels)


class Parser:
    def __init__(self, options: ImportOptions):
        self.options = options
        self.books: dict[tuple[str, bool], DiffBook] = {}  # (our symbol, futures) -> book, for the run
        self._targets: dict[str, SymbolTarget] = {}
        self._streams: dict[str, Stream] = {}
        self._handlers: dict[str, Callable[[dict[str, Any], Stream | None], None]] = {
            "trade": self._trade,
            "aggTrade": self._agg_trade,
            "kline": self._kline,
            "depthUpdate": self._depth_update,
            "bookTicker": self._book_ticker,
        }
        self._out: list[Record] = []
        self._start_file(None)

    # -- the run and its files ------------------------------------------------------------------------

    def parse(self, ctx: FileContext) -> Iterator[Record]:
        self._start_file(ctx)
        out = self._out
        dispatch = self._dispatch
        stream_of = self._stream
        for message in ctx.json_messages():
            self._message = message
            data = message.data
            if type(data) is dict and "stream" in data and "data" in data:
                dispatch(data["data"], stream_of(data["stream"]))
            else:
                dispatch(data, None)
            if out:
                yield from out
                out.clear()
        self._end_file()
        yield from out
        out.clear()

    def finish(self, report: ImportReport) -> None:
        for (symbol, futures), state in sorted(self.books.items()):
            if state.waiting:
                market = "futures" if futures else "spot"
                report.warnings.append(
                    f"binance {symbol} ({market}): {len(state.waiting)} depth updates never got a snapshot "
                    "to start from; import the REST depth snapshot in the same run"
                )
                report.skipped["binance depthUpdate without a snapshot"] += len(state.waiting)

    def _start_file(self, ctx: FileContext | None) -> None:
        self._ctx: FileContext = ctx  # type: ignore[assignment]  # None only before the first file
        self._message = Message(None, 0)
        self._now: int | None = None  # time of the last timed message of this file
        self._undated: list[tuple[str, Callable[[int], Record]]] = []
        self._seen: set[str] = set()  # venue symbols of this file, to name a snapshot that has none
        self._held_bbo: dict[str, Bbo] = {}
        self._held_depth: dict[str, Depth] = {}
        self._held_klines: dict[tuple[str, str], Kline] = {}
        self._names: dict[str | None, str | None] = {}  # symbol spelt in the file (member) name

    def _end_file(self) -> None:
        for kind, _ in self._undated:
            self._ctx.skip(f"binance {kind} without a time")
        self._undated.clear()
        self._out.extend(self._held_klines.values())
        self._out.extend(self._held_bbo.values())
        self._out.extend(self._held_depth.values())
        self._start_file(self._ctx)

    # -- dispatch -------------------------------------------------------------------------------------

    def _dispatch(self, data: Any, stream: Stream | None) -> None:
        if type(data) is dict:
            event = data.get("e")
            if event is None:
                if "stream" in data and "data" in data:
                    self._dispatch(data["data"], self._stream(data["stream"]))
                else:
                    self._unnamed(data, stream)
                return
            handler = self._handlers.get(event) if type(event) is str else None
            if handler is None:
                self._skip_event(event, data)
                return
            try:
                handler(data, stream)
            except KeyError as e:
                raise MalformedRecord(f"binance {event} message has no {e.args[0]!r} field") from None
            except TypeError as e:
                raise MalformedRecord(f"binance {event} message has a field of a wrong type ({e})") from None
        elif type(data) is list:
            for item in data:
                self._dispatch(item, stream)
        else:
            self._ctx.skip("binance unknown message")

    def _skip_event(self, event: Any, data: dict[str, Any]) -> None:
        """A ticker, mark price, liquidation...: not stored, but its time dates its undated neighbours."""
        self._ctx.skip(f"binance {event}" if type(event) is str else "binance unknown message")
        time = data.get("E")
        if type(time) is int and MS_LOW <= time < MS_HIGH:
            self._saw_time(time)

    def _unnamed(self, data: dict[str, Any], stream: Stream | None) -> None:
        """Messages without an event type: spot bookTicker, books, REST bodies, acks."""
        if "lastUpdateId" in data:
            kind = "depth snapshot"
            handler = self._partial_book if stream is not None and stream.partial else self._rest_snapshot
        elif "B" in data and "A" in data:
            kind, handler = "bookTicker", self._book_ticker
        elif "a" in data and "f" in data and "l" in data:
            kind, handler = "aggTrade", self._rest_agg_trade
        elif "id" in data and "price" in data and "time" in data:
            kind, handler = "trade", self._rest_trade
        else:
            self._ctx.skip(f"binance {_unnamed_kind(data)}")
            return
        try:
            handler(data, stream)
        except KeyError as e:
            raise MalformedRecord(f"binance {kind} has no {e.args[0]!r} field") from None
        except TypeError as e:
            raise MalformedRecord(f"binance {kind} has a field of a wrong type ({e})") from None

    def _stream(self, name: Any) -> Stream:
        found = self._streams.get(name) if type(name) is str else None
        if found is None:
            if not isinstance(name, str):
                raise MalformedRecord(f"stream name is not a string: {name!r}")
            symbol, _, kind = name.partition("@")
            kind = kind.partition("@")[0]
            symbol = None if symbol.startswith("!") else symbol.upper()
            found = Stream(symbol, kind, PARTIAL_BOOK.fullmatch(kind) is not None)
            self._streams[name] = found
        return found

    def _target(self, venue_symbol: str) -> SymbolTarget | None:
        target = self._targets.get(venue_symbol)
        if target is None:
            target = self._ctx.target(venue_symbol)  # counts an unmapped symbol
            if target is None:
                return None
            self._targets[venue_symbol] = target
        self._seen.add(venue_symbol)
        return target

    # -- time -----------------------------------------------------------------------------------------

    def _saw_time(self, time: int) -> None:
        if self._undated:
            undated, self._undated = self._undated, []
            for _, make in undated:
                self._hold(make(time))
        self._now = time

    def _time_or_wait(self, kind: str, make: Callable[[int], Record]) -> int | None:
        """The time of a message that carries none, or None when it waits for the next timed message (or
        is skipped: too many waiting)."""
        time = self._message.recv_ms
        if time is None:
            time = self._now
        if time is None:
            if len(self._undated) < MAX_UNDATED:
                self._undated.append((kind, make))
            else:
                self._ctx.skip(f"binance {kind} without a time")
        return time

    # -- trades ---------------------------------------------------------------------------------------

    def _trade(self, data: dict[str, Any], stream: Stream | None) -> None:
        time = time_ms(data["T"], "T")
        self._saw_time(time_ms(data["E"], "E") if "E" in data else time)
        order_type = data.get("X")
        if order_type is not None and order_type != "MARKET":
            self._ctx.skip(f"binance trade {order_type}")  # futures insurance-fund / ADL fills
            return
        target = self._target(data["s"])
        if target is not None:
            price, qty, maker = decimal_value(data["p"], "p"), _qty(data["q"], target), _bool(data["m"], "m")
            self._out.append(Trade(target.symbol, time, price, qty, maker, str(int_value(data["t"], "t"))))

    def _agg_trade(self, data: dict[str, Any], stream: Stream | None) -> None:
        time = time_ms(data["T"], "T")
        self._saw_time(time_ms(data["E"], "E") if "E" in data else time)
        target = self._target(data["s"])
        if target is not None:
            self._out.append(_agg(data, target, time))

    def _rest_agg_trade(self, data: dict[str, Any], stream: Stream | None) -> None:
        target = self._rest_target(stream, "these trades are")
        if target is not None:
            time = time_ms(data["T"], "T")
            self._saw_time(time)
            self._out.append(_agg(data, target, time))

    def _rest_trade(self, data: dict[str, Any], stream: Stream | None) -> None:
        target = self._rest_target(stream, "these trades are")
        if target is not None:
            time = time_ms(data["time"], "time")
            self._saw_time(time)
            price, qty = decimal_value(data["price"], "price"), _qty(data["qty"], target)
            maker = _bool(data["isBuyerMaker"], "isBuyerMaker")
            self._out.append(Trade(target.symbol, time, price, qty, maker, str(int_value(data["id"], "id"))))

    # -- klines ---------------------------------------------------------------------------------------

    def _kline(self, data: dict[str, Any], stream: Stream | None) -> None:
        self._saw_time(time_ms(data["E"], "E"))
        bar = data["k"]
        target = self._target(data["s"] if "s" in data else bar["s"])
        if target is None:
            return
        interval = bar["i"]
        if not isinstance(interval, str) or not is_interval(interval):
            raise MalformedRecord(f"binance kline has an unknown interval {interval!r}")
        lot = target.lot_size
        kline = Kline(
            symbol=target.symbol,
            interval=interval,
            open_time=time_ms(bar["t"], "k.t"),
            close_time=time_ms(bar["T"], "k.T"),
            open=decimal_value(bar["o"], "k.o"),
            high=decimal_value(bar["h"], "k.h"),
            low=decimal_value(bar["l"], "k.l"),
            close=decimal_value(bar["c"], "k.c"),
            volume=decimal_value(bar["v"], "k.v") * lot,
            quote_volume=_optional_dec(bar.get("q"), "k.q"),
            trade_count=None if bar.get("n") is None else int_value(bar["n"], "k.n"),
            taker_buy_base=None if bar.get("V") is None else decimal_value(bar["V"], "k.V") * lot,
            taker_buy_quote=_optional_dec(bar.get("Q"), "k.Q"),
            is_final=_bool(bar["x"], "k.x"),
        )
        self._hold_kline(kline)

    def _hold_kline(self, kline: Kline) -> None:
        """Keep the latest update of the bar; the bar before it is done and goes out."""
        key = (kline.symbol, kline.interval)
        held = self._held_klines.get(key)
        if held is not None:
            if held.open_time != kline.open_time:
                self._out.append(held)
            elif held.is_final and not kline.is_final:
                return  # a late in-progress update of a bar already closed
        self._held_klines[key] = kline

    # -- best bid/offer -------------------------------------------------------------------------------

    def _book_ticker(self, data: dict[str, Any], stream: Stream | None) -> None:
        symbol = data["s"]
        bid, bid_qty, ask, ask_qty = data["b"], data["B"], data["a"], data["A"]
        if "E" in data:
            time: int | None = time_ms(data["E"], "E")
        elif "T" in data:
            time = time_ms(data["T"], "T")
        else:
            time = None
        if time is not None:
            self._saw_time(time)
        target = self._target(symbol)
        if target is None:
            return
        values = (
            decimal_value(bid, "b"),
            _qty(bid_qty, target),
            decimal_value(ask, "a"),
            _qty(ask_qty, target),
        )
        if time is None:
            time = self._time_or_wait("bookTicker", lambda t: Bbo(target.symbol, t, *values))
            if time is None:
                return
        self._hold_bbo(Bbo(target.symbol, time, *values))

    def _hold_bbo(self, bbo: Bbo) -> None:
        held = self._held_bbo.get(bbo.symbol)
        if held is not None and held.time != bbo.time:
            self._out.append(held)
        self._held_bbo[bbo.symbol] = bbo

    def _hold(self, record: Record) -> None:
        if type(record) is Bbo:
            self._hold_bbo(record)
        else:
            self._hold_depth(record)  # type: ignore[arg-type]

    def _hold_depth(self, depth: Depth) -> None:
        """The last state of a millisecond wins: a snapshot and the book rebuilt on it may share one."""
        held = self._held_depth.get(depth.symbol)
        if held is not None and held.time != depth.time:
            self._out.append(held)
        self._held_depth[depth.symbol] = depth

    # -- books ----------------------------------------------------------------------------------------

    def _partial_book(self, data: dict[str, Any], stream: Stream | None) -> None:
        """A spot @depth<N> message: the top levels, no time."""
        target = self._target(stream.symbol) if stream is not None and stream.symbol else None
        if target is None:
            return
        depth_levels = self.options.depth_levels
        bids = levels(data["bids"][:depth_levels], "bids", target.lot_size)
        asks = levels(data["asks"][:depth_levels], "asks", target.lot_size)
        self._dated_depth(data, target.symbol, bids, asks, stream.kind)

    def _rest_snapshot(self, data: dict[str, Any], stream: Stream | None) -> None:
        """A REST depth body: stored when it can be dated, and the start of its symbol's diff book."""
        target = self._rest_target(stream, "this depth snapshot is")
        if target is None:
            return
        last_update_id = int_value(data["lastUpdateId"], "lastUpdateId")
        bids = levels(data["bids"], "bids", target.lot_size)
        asks = levels(data["asks"], "asks", target.lot_size)
        self._dated_depth(data, target.symbol, bids, asks, "depth snapshot")
        futures = "E" in data or "T" in data  # futures snapshots carry times, spot ones do not
        state = self._book(target, futures)
        if state.book is None:
            self._sync(state, last_update_id, bids, asks)

    def _dated_depth(
        self, data: dict[str, Any], symbol: str, bids: list[Level], asks: list[Level], kind: str
    ) -> None:
        """Hold the top levels as a Depth at the message's time, or wait for a time."""
        depth_levels = self.options.depth_levels
        top_bids, top_asks = tuple(bids[:depth_levels]), tuple(asks[:depth_levels])
        if "E" in data or "T" in data:
            time: int | None = time_ms(data["E"] if "E" in data else data["T"], "E")
            self._saw_time(time)
        else:
            time = self._time_or_wait(kind, lambda t: Depth(symbol, t, top_bids, top_asks))
        if time is not None:
            self._hold_depth(Depth(symbol, time, top_bids, top_asks))

    def _depth_update(self, data: dict[str, Any], stream: Stream | None) -> None:
        time = time_ms(data["E"], "E")
        self._saw_time(time)
        target = self._target(data["s"])
        if target is None:
            return
        bids = levels(data["b"], "b", target.lot_size)
        asks = levels(data["a"], "a", target.lot_size)
        if stream is not None and stream.partial:  # a futures @depth<N> message: a whole top-of-book
            limit = self.options.depth_levels
            self._hold_depth(Depth(target.symbol, time, tuple(bids[:limit]), tuple(asks[:limit])))
            return
        previous = data.get("pu")
        if previous is not None:
            previous = int_value(previous, "pu")
        event = (time, int_value(data["U"], "U"), int_value(data["u"], "u"), previous, bids, asks)
        state = self._book(target, previous is not None)
        if state.book is None:
            self._wait(state, event)
        else:
            self._apply(state, event)

    def _book(self, target: SymbolTarget, futures: bool) -> DiffBook:
        key = (target.symbol, futures)
        state = self.books.get(key)
        if state is None:
            state = self.books[key] = DiffBook(target, futures, self.options.depth_interval_ms)
        return state

    def _wait(self, state: DiffBook, event: Event) -> None:
        state.waiting.append(event)
        state.waiting_levels += len(event[4]) + len(event[5])
        while len(state.waiting) > MAX_WAITING_EVENTS or state.waiting_levels > MAX_WAITING_LEVELS:
            dropped = state.waiting.popleft()
            state.waiting_levels -= len(dropped[4]) + len(dropped[5])
            self._ctx.skip("binance depthUpdate dropped while waiting for a snapshot (too many)")

    def _sync(self, state: DiffBook, last_update_id: int, bids: list[Level], asks: list[Level]) -> None:
        """Start the book from a snapshot and apply the updates that waited for it. The first update
        applied gives the first stored state (the snapshot itself is stored apart when it has a time)."""
        state.start(last_update_id, bids, asks)
        waiting = state.waiting
        state.waiting, state.waiting_levels = deque(), 0
        while waiting:
            if not self._apply(state, waiting.popleft()):
                for event in waiting:  # they wait behind the update that broke the sequence
                    self._wait(state, event)
                return

    def _apply(self, state: DiffBook, event: Event) -> bool:
        """Apply one update to a synced book; False when it does not follow (the book is dropped)."""
        time, first, last, previous, bids, asks = event
        update_id = state.update_id
        if last <= update_id:
            return True  # the book already holds it
        if state.futures:
            follows = previous == update_id or (state.fresh and first <= update_id)
        else:
            follows = first <= update_id + 1
        if not follows:
            self._gap(state, event)
            return False
        book = state.book
        assert book is not None
        book.apply_all(True, bids)
        book.apply_all(False, asks)
        state.update_id = last
        state.fresh = False
        if state.clock.due(time):
            self._hold_depth(state.top(time, self.options.depth_levels))
        return True

    def _gap(self, state: DiffBook, event: Event) -> None:
        _, first, last, previous, _, _ = event
        symbol, update_id = state.target.symbol, state.update_id
        got = f"U={first} u={last}" + ("" if previous is None else f" pu={previous}")
        if state.fresh:
            problem = f"the snapshot (lastUpdateId {update_id}) is older than the next update ({got})"
        elif state.futures:
            problem = f"sequence gap: expected pu={update_id}, got {got}"
        else:
            problem = f"sequence gap: expected U <= {update_id + 1}, got {got}"
        self._ctx.warn(f"binance {symbol} depth: {problem}; book dropped until the next snapshot")
        state.book = None
        state.fresh = False
        self._wait(state, event)

    # -- REST bodies ----------------------------------------------------------------------------------

    def _rest_target(self, stream: Stream | None, what: str) -> SymbolTarget | None:
        """The symbol of a response that names none: the recorder's note, the stream, --symbol, the file
        name, or the only symbol of the file so far."""
        name = self._message.symbol
        if name is None and stream is not None:
            name = stream.symbol
        if name is None:
            name = self.options.symbol_map.forced or self._name_symbol()
        if name is None and len(self._seen) == 1:
            name = next(iter(self._seen))
        if name is None:
            raise MalformedRecord(f"cannot tell which symbol {what} for; pass --symbol")
        return self._target(name)

    def _name_symbol(self) -> str | None:
        member = self._ctx.input.member  # a zip archive names each member apart
        if member not in self._names:
            self._names[member] = self._ctx.input.symbol_from_name()
        return self._names[member]


# -- field readers: fast paths for the shapes Binance sends, the shared readers for the rest ------------


def _optional_dec(value: Any, name: str) -> Decimal | None:
    return None if value is None else decimal_value(value, name)


def _qty(value: Any, target: SymbolTarget) -> Decimal:
    return quantity(value, "quantity", target.lot_size)


def _bool(value: Any, name: str) -> bool:
    if type(value) is bool:
        return value
    raise MalformedRecord(f"{name} is not true/false: {value!r}")


def _agg(data: dict[str, Any], target: SymbolTarget, time: int) -> Trade:
    return Trade(
        target.symbol,
        time,
        decimal_value(data["p"], "p"),
        _qty(data["q"], target),
        _bool(data["m"], "m"),
        AGG_TRADE_PREFIX + str(int_value(data["a"], "a")),
    )


def _unnamed_kind(data: dict[str, Any]) -> str:
    """How the report names a skipped message without an event type."""
    if "openInterest" in data:
        return "openInterest"
    if "result" in data or "code" in data:
        return "response without market data"
    return "unknown message"
