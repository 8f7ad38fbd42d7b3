"""What the market looked like at time t: the queries matching and the market-data endpoints use.

Every query takes an open Session or Connection (the caller's transaction) and our symbol. Times are ms.
"At or before t" means the row with the greatest time <= t; ranges are half-open, (t0, t1], so that
consecutive windows never see a row twice. Each query is one indexed lookup or range scan on the table's
unique index (symbol, time...).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Connection, Text, bindparam, cast, func, insert, select, update
from sqlalchemy.orm import Session

from simulator.marketdata.records import Bbo, Depth, Kline, PriceLevel, Trade
from simulator.storage import statements
from simulator.storage.tables import MarketBbo, MarketDepth, MarketKline, MarketTrade, SimMeta

Executor = Session | Connection | statements.Driver

_depth = MarketDepth.__table__.c
_bbo = MarketBbo.__table__.c
_trade = MarketTrade.__table__.c
_kline = MarketKline.__table__.c


# Built once: constructing a statement costs more than running it on an indexed table.
_symbol, _t, _t0, _t1, _interval = (bindparam(n) for n in ("symbol", "t", "t0", "t1", "interval"))
DEPTH_AT = (
    select(_depth.time, _depth.bids, _depth.asks)
    .where(_depth.symbol == _symbol, _depth.time <= _t)
    .order_by(_depth.time.desc())
    .limit(1)
)
BBO_AT = (
    select(_bbo.time, _bbo.bid_price, _bbo.bid_qty, _bbo.ask_price, _bbo.ask_qty)
    .where(_bbo.symbol == _symbol, _bbo.time <= _t)
    .order_by(_bbo.time.desc())
    .limit(1)
)
TRADES_BETWEEN = (
    select(_trade.time, _trade.trade_id, _trade.price, _trade.qty, _trade.buyer_is_maker)
    .where(_trade.symbol == _symbol, _trade.time > _t0, _trade.time <= _t1)
    .order_by(_trade.time, _trade.venue, _trade.trade_id)
)
LAST_TRADE_BETWEEN = (
    select(_trade.time, _trade.price)
    .where(_trade.symbol == _symbol, _trade.time > _t0, _trade.time <= _t1)
    .order_by(_trade.time.desc(), _trade.venue.desc(), _trade.trade_id.desc())
    .limit(1)
)
# What `_kline_from_row` unpacks, in this order (a million bars are read to roll up a year of days).
KLINE_FIELDS = (
    _kline.symbol,
    _kline.interval,
    _kline.open_time,
    _kline.close_time,
    _kline.open,
    _kline.high,
    _kline.low,
    _kline.close,
    _kline.volume,
    _kline.quote_volume,
    _kline.trade_count,
    _kline.taker_buy_base,
    _kline.taker_buy_quote,
    _kline.is_final,
)
KLINES_BETWEEN = (
    select(*KLINE_FIELDS)
    .where(
        _kline.symbol == _symbol,
        _kline.interval == _interval,
        _kline.open_time > _t0,
        _kline.open_time <= _t1,
    )
    .order_by(_kline.open_time)
)
KLINE_AT = (
    select(*KLINE_FIELDS)
    .where(_kline.symbol == _symbol, _kline.interval == _interval, _kline.open_time <= _t)
    .order_by(_kline.open_time.desc())
    .limit(1)
)

# Run on the driver's cursor where the caller passes `statements.connection()` (the engine does).
for _statement in (DEPTH_AT, BBO_AT, TRADES_BETWEEN, KLINES_BETWEEN, KLINE_AT):
    statements.prepare(_statement)


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of one series the store holds: `data list` prints these."""

    symbol: str
    kind: str  # kline, depth, trade, bbo
    interval: str | None  # klines only
    count: int
    first: int  # ms: open time for klines, event time otherwise
    last: int

    def as_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "interval": self.interval,
            "count": self.count,
            "first": self.first,
            "last": self.last,
        }


def depth_at(db: Executor, symbol: str, t: int) -> Depth | None:
    """The latest book snapshot at or before t."""
    row = db.execute(DEPTH_AT, {"symbol": symbol, "t": t}).first()
    return None if row is None else Depth(symbol, row.time, _levels(row.bids), _levels(row.asks))


def bbo_at(db: Executor, symbol: str, t: int) -> Bbo | None:
    """The latest best bid/offer at or before t."""
    row = db.execute(BBO_AT, {"symbol": symbol, "t": t}).first()
    if row is None:
        return None
    return Bbo(
        symbol,
        row.time,
        Decimal(row.bid_price),
        Decimal(row.bid_qty),
        Decimal(row.ask_price),
        Decimal(row.ask_qty),
    )


def trades_between(db: Executor, symbol: str, t0: int, t1: int, limit: int | None = None) -> list[Trade]:
    """Trades with t0 < time <= t1, oldest first (ties within a millisecond by venue, then trade id)."""
    query = TRADES_BETWEEN if limit is None else TRADES_BETWEEN.limit(limit)
    return [_trade_from_row(symbol, row) for row in db.execute(query, {"symbol": symbol, "t0": t0, "t1": t1})]


def iter_trades_between(db: Session | Connection, symbol: str, t0: int, t1: int) -> Iterator[Trade]:
    """The trades of `trades_between`, one at a time as the database returns them: a day of trades made
    into bars (a million) is never held at once."""
    for row in db.execute(TRADES_BETWEEN, {"symbol": symbol, "t0": t0, "t1": t1}):
        yield _trade_from_row(symbol, row)


def _trade_from_row(symbol: str, row: Any) -> Trade:
    # TRADES_BETWEEN's columns, unpacked: read by name they cost 1.2 µs a row, more than all the rest
    time, trade_id, price, qty, buyer_is_maker = row
    return Trade(
        symbol,
        time,
        Decimal(price),
        Decimal(qty),
        None if buyer_is_maker is None else bool(buyer_is_maker),
        trade_id,
    )


def last_trade(db: Executor, symbol: str, t0: int, t1: int) -> tuple[int, Decimal] | None:
    """(time, price) of the last trade with t0 < time <= t1 (one index seek however many there are)."""
    row = db.execute(LAST_TRADE_BETWEEN, {"symbol": symbol, "t0": t0, "t1": t1}).first()
    return None if row is None else (row.time, Decimal(row.price))


def klines(
    db: Executor, symbol: str, interval: str, t0: int, t1: int, limit: int | None = None
) -> list[Kline]:
    """Bars of `interval` whose open time is in (t0, t1], oldest first (the first `limit` of them)."""
    query = KLINES_BETWEEN if limit is None else KLINES_BETWEEN.limit(limit)
    params = {"symbol": symbol, "interval": interval, "t0": t0, "t1": t1}
    return [_kline_from_row(row) for row in db.execute(query, params)]


def _kline_open_time(newest: bool) -> Any:
    in_span = (
        _kline.symbol == _symbol,
        _kline.interval == _interval,
        _kline.open_time > _t0,
        _kline.open_time <= _t1,
    )
    order = _kline.open_time.desc() if newest else _kline.open_time
    return select(_kline.open_time).where(*in_span).order_by(order).limit(1)


FIRST_KLINE_OPEN, LAST_KLINE_OPEN = _kline_open_time(newest=False), _kline_open_time(newest=True)


def kline_open_times(db: Executor, symbol: str, interval: str, t0: int, t1: int) -> tuple[int, int] | None:
    """The open times of the first and the last bar of `interval` opening in (t0, t1] (two index seeks);
    None when there is none."""
    span = {"symbol": symbol, "interval": interval, "t0": t0, "t1": t1}
    first = db.execute(FIRST_KLINE_OPEN, span).scalar()
    return None if first is None else (first, db.execute(LAST_KLINE_OPEN, span).scalar())


def kline_at(db: Executor, symbol: str, interval: str, t: int) -> Kline | None:
    """The bar of `interval` that covers t (open time <= t <= close time), final or still forming; None in a
    gap. Callers that must not look ahead check `is_final` and `close_time`."""
    row = db.execute(KLINE_AT, {"symbol": symbol, "interval": interval, "t": t}).first()
    if row is None or row.close_time < t:
        return None
    return _kline_from_row(row)


LAST_BARS = (
    select(*KLINE_FIELDS)
    .where(_kline.symbol == _symbol, _kline.interval == _interval, _kline.open_time < _t)
    .order_by(_kline.open_time.desc())
    .limit(2)
)


def last_complete_bar(db: Executor, symbol: str, interval: str, t: int) -> Kline | None:
    """The newest bar of `interval` that closed before t: what the engine, the ticker and klines may use at t
    (a bar still forming at t is never used). A bar is complete once its close time has passed
    (`Kline.completes_at`), whether or not its source marked it final: finality says only whether newer
    data may replace it (`writer`), and a bar the recording never saw finish is still the best record of
    its span."""
    for row in db.execute(LAST_BARS, {"symbol": symbol, "interval": interval, "t": t}):
        bar = _kline_from_row(row)
        if bar.close_time < t:
            return bar
    return None


def coverage(db: Executor, symbol: str | None = None) -> list[Coverage]:
    """Row count and first/last time per symbol and kind (klines per interval), sorted."""
    found: list[Coverage] = []
    for kind, columns, time_column in (
        ("kline", (_kline.symbol, _kline.interval), _kline.open_time),
        ("depth", (_depth.symbol,), _depth.time),
        ("trade", (_trade.symbol,), _trade.time),
        ("bbo", (_bbo.symbol,), _bbo.time),
    ):
        query = select(*columns, func.count(), func.min(time_column), func.max(time_column)).group_by(
            *columns
        )
        if symbol is not None:
            query = query.where(columns[0] == symbol)
        for row in db.execute(query):
            interval = row[1] if kind == "kline" else None
            count, first, last = row[-3:]
            found.append(Coverage(row[0], kind, interval, int(count), int(first), int(last)))
    found.sort(key=lambda c: (c.symbol, c.kind, c.interval or ""))
    return found


@lru_cache(maxsize=256)
def _levels(text: str) -> tuple[PriceLevel, ...]:
    """Decoded once per distinct snapshot side: every order reads the snapshot it meets."""
    return tuple(PriceLevel(Decimal(price), Decimal(qty)) for price, qty in json.loads(text))


def _kline_from_row(row: Any) -> Kline:
    """A row of KLINE_FIELDS, unpacked by position (twice as fast as by name)."""
    (
        symbol,
        interval,
        opened,
        closed,
        open_,
        high,
        low,
        close,
        volume,
        quote,
        trades,
        buy_base,
        buy_quote,
        final,
    ) = row
    return Kline(
        symbol,
        interval,
        opened,
        closed,
        Decimal(open_),
        Decimal(high),
        Decimal(low),
        Decimal(close),
        Decimal(volume),
        None if quote is None else Decimal(quote),
        trades,
        None if buy_base is None else Decimal(buy_base),
        None if buy_quote is None else Decimal(buy_quote),
        bool(final),
    )


# --- Event times: what the live loop's span and the admin's "advance to the next market event" read ------
# Each lookup is one seek on a table's key (symbol, time...): "ORDER BY time LIMIT 1" within one symbol.
# A bare MIN(time) over all symbols could not use those keys (symbol comes first) and would scan the table,
# so "all symbols" is enumerated first with one seek per symbol (a loose index scan).

_EVENT_TABLES = (MarketDepth.__table__, MarketBbo.__table__, MarketTrade.__table__)  # rows are events at time
_KLINE_TABLE = MarketKline.__table__
_SYMBOL_TABLES = (*_EVENT_TABLES, _KLINE_TABLE)
_previous = bindparam("previous")
FIRST_TIME = {
    table: select(table.c.time).where(table.c.symbol == _symbol).order_by(table.c.time).limit(1)
    for table in _EVENT_TABLES
}
LAST_TIME = {
    table: select(table.c.time).where(table.c.symbol == _symbol).order_by(table.c.time.desc()).limit(1)
    for table in _EVENT_TABLES
}
NEXT_TIME = {
    table: select(table.c.time)
    .where(table.c.symbol == _symbol, table.c.time > _t)
    .order_by(table.c.time)
    .limit(1)
    for table in _EVENT_TABLES
}
FIRST_SYMBOL = {table: select(table.c.symbol).order_by(table.c.symbol).limit(1) for table in _SYMBOL_TABLES}
NEXT_SYMBOL = {
    table: select(table.c.symbol).where(table.c.symbol > _previous).order_by(table.c.symbol).limit(1)
    for table in _SYMBOL_TABLES
}
FIRST_INTERVAL = select(_kline.interval).where(_kline.symbol == _symbol).order_by(_kline.interval).limit(1)
NEXT_INTERVAL = (
    select(_kline.interval)
    .where(_kline.symbol == _symbol, _kline.interval > _previous)
    .order_by(_kline.interval)
    .limit(1)
)
FIRST_BAR_OPEN = (
    select(_kline.open_time)
    .where(_kline.symbol == _symbol, _kline.interval == _interval)
    .order_by(_kline.open_time)
    .limit(1)
)
LAST_BAR_CLOSE = (  # bars of one series do not overlap: the last to open is the last to close
    select(_kline.close_time)
    .where(_kline.symbol == _symbol, _kline.interval == _interval)
    .order_by(_kline.open_time.desc())
    .limit(1)
)
FIRST_BAR_OPENING_AFTER = (
    select(_kline.close_time)
    .where(_kline.symbol == _symbol, _kline.interval == _interval, _kline.open_time > _t)
    .order_by(_kline.open_time)
    .limit(1)
)


def event_span(db: Executor, symbols: Sequence[str] | None = None) -> tuple[int, int] | None:
    """First and last recorded time of `symbols` (all when None) over depth, bbo, trades and klines, a bar
    spanning its open_time to its close_time. None when the store holds nothing of them."""
    times: list[int | None] = []
    for table in _EVENT_TABLES:
        for symbol in _symbols_in(db, table, symbols):
            times.append(db.execute(FIRST_TIME[table], {"symbol": symbol}).scalar())
            times.append(db.execute(LAST_TIME[table], {"symbol": symbol}).scalar())
    for symbol, interval in _kline_series(db, symbols):
        series = {"symbol": symbol, "interval": interval}
        times.append(db.execute(FIRST_BAR_OPEN, series).scalar())
        times.append(db.execute(LAST_BAR_CLOSE, series).scalar())
    found = [int(time) for time in times if time is not None]
    return (min(found), max(found)) if found else None


def next_event_time(db: Executor, symbols: Sequence[str] | None, after_ms: int) -> int | None:
    """The first recorded time after `after_ms` of `symbols` (all when None): a depth snapshot, a bbo, a
    trade, or the completion of a bar of any interval (the millisecond after its close time: a bar is an
    event when it completes, `Kline.completes_at`). None if the recording has nothing later."""
    times: list[int | None] = []
    for table in _EVENT_TABLES:
        for symbol in _symbols_in(db, table, symbols):
            times.append(db.execute(NEXT_TIME[table], {"symbol": symbol, "t": after_ms}).scalar())
    for symbol, interval in _kline_series(db, symbols):
        closing = _next_bar_close(db, symbol, interval, after_ms - 1)  # completing after after_ms
        times.append(None if closing is None else closing + 1)
    return min((int(time) for time in times if time is not None), default=None)


def trades_or_depth_within(db: Executor, symbol: str, first_ms: int, last_ms: int) -> bool:
    """Whether a trade or a depth snapshot of `symbol` was recorded at a time in [first_ms, last_ms]: one
    seek a table."""
    for table in (MarketTrade.__table__, MarketDepth.__table__):
        found = db.execute(NEXT_TIME[table], {"symbol": symbol, "t": first_ms - 1}).scalar()
        if found is not None and found <= last_ms:
            return True
    return False


def _next_bar_close(db: Executor, symbol: str, interval: str, after_ms: int) -> int | None:
    """The smallest close_time > after_ms of one series. Its bars do not overlap, so close times rise with
    open times: the answer is the bar covering after_ms if it closes later, else the first bar that opens
    after it. Two seeks, and no assumption about how long a bar is (a month varies)."""
    series = {"symbol": symbol, "interval": interval, "t": after_ms}
    covering = db.execute(KLINE_AT, series).first()
    if covering is not None and covering.close_time > after_ms:
        return int(covering.close_time)
    return db.execute(FIRST_BAR_OPENING_AFTER, series).scalar()


def _symbols_in(db: Executor, table: Any, wanted: Sequence[str] | None) -> list[str]:
    """The symbols to look up in `table`: the wanted ones, or every symbol it holds (one seek each)."""
    if wanted is not None:
        return list(dict.fromkeys(wanted))
    held: list[str] = []
    symbol = db.execute(FIRST_SYMBOL[table]).scalar()
    while symbol is not None:
        held.append(symbol)
        symbol = db.execute(NEXT_SYMBOL[table], {"previous": symbol}).scalar()
    return held


def _kline_series(db: Executor, wanted: Sequence[str] | None) -> list[tuple[str, str]]:
    """(symbol, interval) of every kline series of the symbols looked up (one seek each)."""
    series: list[tuple[str, str]] = []
    for symbol in _symbols_in(db, _KLINE_TABLE, wanted):
        interval = db.execute(FIRST_INTERVAL, {"symbol": symbol}).scalar()
        while interval is not None:
            series.append((symbol, interval))
            interval = db.execute(NEXT_INTERVAL, {"symbol": symbol, "previous": interval}).scalar()
    return series


VERSION_KEY = "md_version"
_meta = SimMeta.__table__.c


def version(db: Executor) -> int:
    """A number that changes whenever rows are written to the store (`bump_version`): what is derived from
    the whole recording (the live loop's span) is read again only when it changes."""
    found = db.execute(select(_meta.value).where(_meta.key == VERSION_KEY)).scalar()
    return int(found) if found is not None else 0


def bump_version(connection: Connection) -> None:
    """Called by the writer in the transaction that writes rows. One UPDATE, so concurrent importers never
    lose a count."""
    bumped = connection.execute(
        update(SimMeta.__table__)
        .where(_meta.key == VERSION_KEY)
        .values(value=cast(cast(_meta.value, BigInteger) + 1, Text))
    )
    if bumped.rowcount == 0:
        connection.execute(insert(SimMeta.__table__).values(key=VERSION_KEY, value="1"))
