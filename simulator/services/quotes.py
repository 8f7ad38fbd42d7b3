"""The public market-data use cases: what the market looks like at the market clock's now.

Recorded data is read at the recording time the market is replaying (in live mode the recording is
replayed shifted and looped: `Timeline`), and every time is stamped back in market time. Simulated orders
and trades join it: resting orders add their remaining quantity to the book, and every fill of a simulated
taker is a print on the tape, as is a resting order's fill made by a snapshot or a bar. A resting order
filled by a recorded print shows through that print, so no trade is printed twice.

Endpoints whose answer depends on simulated orders (book, tape, tickers) first bring the market up to now
(`market.catch_up`), then read in a transaction begun after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain import quotes
from simulator.domain.matching.orders import OrderType, Side
from simulator.domain.money import floor_to_step
from simulator.domain.quotes import DAY_MS, DayStats, Level, Print
from simulator.domain.timeline import Segment, Timeline
from simulator.marketdata import store
from simulator.marketdata.records import INTERVAL_MS, MONTH, Kline, PriceLevel
from simulator.services import instruments, kline_rollups, market, trading
from simulator.services.clock import read_clock
from simulator.settings import Settings
from simulator.storage import tables
from simulator.storage.db import Database

# In live mode the recording loops back without end: history is served for this long at most, so that a
# request for 1000 daily bars of a one-day recording reads a month of bars, not a thousand loops.
LIVE_HISTORY_MS = 30 * DAY_MS
HOUR = "1h"
MINUTE = "1m"
TRADE_BARS = MINUTE  # the bars made of trades, for a symbol with no stored bars
ALL_TIME = 2**63 - 1  # every open time a stored bar can have lies within ±this
BOOKED_TYPES = (OrderType.LIMIT.value, OrderType.LIMIT_MAKER.value)

_trade = tables.MarketTrade.__table__.c
RECORDED_TRADES_NEWEST_FIRST = (
    select(_trade.time, _trade.price, _trade.qty, _trade.buyer_is_maker)
    .where(
        _trade.symbol == bindparam("symbol"),
        _trade.time > bindparam("t0"),
        _trade.time <= bindparam("t1"),
    )
    .order_by(_trade.time.desc(), _trade.venue.desc(), _trade.trade_id.desc())
)


@dataclass(frozen=True)
class ExchangeInfo:
    now_ms: int
    symbols: list[dict[str, Any]]  # instrument definitions as stored
    coins: list[dict[str, Any]]  # coin definitions as stored


@dataclass(frozen=True)
class Book:
    """The book at `now_ms`: recorded levels and simulated resting orders, best first."""

    now_ms: int
    bids: list[Level]
    asks: list[Level]
    tick_size: Decimal


@dataclass(frozen=True)
class Ticker:
    symbol: str
    now_ms: int
    stats: DayStats
    best_bid: Decimal | None
    best_ask: Decimal | None


@dataclass(frozen=True)
class BookTop:
    symbol: str
    now_ms: int
    bid: Level | None
    ask: Level | None


# ---- use cases -------------------------------------------------------------------------------------------


def exchange_info(
    database: Database, transport_ms: int, symbol: str | None, site: str | None
) -> ExchangeInfo:
    """Instrument definitions (one when `symbol` is given; those of `site` when it is given) and all coins."""
    with database.read() as session:
        now = read_clock(session).now_ms(transport_ms)
        if symbol is None:
            rows = list(session.scalars(select(tables.Instrument).order_by(tables.Instrument.symbol)))
        else:
            rows = [_instrument_row(session, symbol)]
        symbols = [_json(row.definition) for row in rows]
        if site is not None:
            symbols = [definition for definition in symbols if definition.get("site", "BMU") == site]
        coins = [
            _json(row.definition)
            for row in session.scalars(select(tables.Coin).order_by(tables.Coin.coin_id))
        ]
    return ExchangeInfo(now, symbols, coins)


def order_book(database: Database, settings: Settings, transport_ms: int, symbol: str) -> Book:
    """GET /quote/v1/depth and /quote/v1/depth/merged: the whole book at now."""
    now = market.catch_up(database, settings, transport_ms, [symbol])
    with database.read() as session:
        rules = instruments.instrument_rules(session, symbol)
        bids, asks = _merged_book(session, symbol, now.now_ms, now.engine)
    return Book(now.now_ms, bids, asks, rules.tick_size)


def recent_trades(
    database: Database, settings: Settings, transport_ms: int, symbol: str, limit: int
) -> list[Print]:
    """GET /quote/v1/trades: the `limit` newest prints at or before now, oldest first, prices on the symbol's
    tick grid (`quotes.on_tick`)."""
    now = market.catch_up(database, settings, transport_ms, [symbol])  # 0201 for an unlisted symbol
    with database.read() as session:
        tick = instruments.instrument_rules(session, symbol).tick_size
        prints = _latest_prints(session, symbol, now.now_ms, now.engine.timeline, limit)
        return [quotes.print_on_tick(trade, tick) for trade in prints]


def klines(
    database: Database,
    settings: Settings,
    transport_ms: int,
    symbol: str,
    interval: str,
    window: tuple[int | None, int | None],
    limit: int,
) -> list[Kline]:
    """GET /quote/v1/klines: bars whose open time is in [startTime, endTime] (endTime at most now), in
    market time: those with data, and the quiet intervals between them (`quotes.with_quiet_intervals`).
    With startTime the first `limit` of them, without it the last `limit` intervals up to endTime. A bar
    shows only what completed before now: a bar of the stored interval once it closed; a longer bar, the
    stored bars of it that closed (the current one is still forming)."""
    with database.read() as session:
        tick = instruments.instrument_rules(session, symbol).tick_size
        clock = read_clock(session)
        now = clock.now_ms(transport_ms)
        timeline = market.engine(session, settings, clock).timeline
        bars = _klines(session, symbol, interval, now, timeline, window, limit)
        return [quotes.prices_on_tick(bar, tick) for bar in bars]


def tickers_24h(
    database: Database, settings: Settings, transport_ms: int, symbol: str | None
) -> list[Ticker]:
    """GET /quote/v1/ticker/24hr: one symbol, or every symbol when none is given."""
    now = market.catch_up(database, settings, transport_ms, None if symbol is None else [symbol])
    with database.read() as session:
        found = []
        for name in _symbols(session, symbol):
            bids, asks = _merged_book(session, name, now.now_ms, now.engine)
            bars = _day_bars(session, name, now.now_ms, now.engine.timeline)
            last = _last_price(session, name, now.now_ms, now.engine.timeline)
            tick = instruments.instrument_rules(session, name).tick_size
            stats = quotes.prices_on_tick(quotes.day_stats(bars, last), tick)
            found.append(Ticker(name, now.now_ms, stats, _best_price(bids), _best_price(asks)))
        return found


def last_prices(
    database: Database, settings: Settings, transport_ms: int, symbol: str | None
) -> list[tuple[str, Decimal | None]]:
    """GET /quote/v1/ticker/price: (symbol, last traded price) for one symbol or all, on the tick grid."""
    now = market.catch_up(database, settings, transport_ms, None if symbol is None else [symbol])
    with database.read() as session:
        found: list[tuple[str, Decimal | None]] = []
        for name in _symbols(session, symbol):
            last = _last_price(session, name, now.now_ms, now.engine.timeline)
            tick = instruments.instrument_rules(session, name).tick_size
            found.append((name, None if last is None else quotes.on_tick(last, tick)))
        return found


def book_tops(database: Database, settings: Settings, transport_ms: int, symbol: str) -> list[BookTop]:
    """GET /quote/v1/ticker/bookTicker: the best bid and ask of the book at now."""
    book = order_book(database, settings, transport_ms, symbol)
    top_bid = book.bids[0] if book.bids else None
    top_ask = book.asks[0] if book.asks else None
    return [BookTop(symbol, book.now_ms, top_bid, top_ask)]


# ---- instruments -----------------------------------------------------------------------------------------


def _instrument_row(session: Session, symbol: str) -> tables.Instrument:
    row = session.get(tables.Instrument, symbol)
    if row is None:
        raise errors.InstrumentNotFound()
    return row


def _symbols(session: Session, symbol: str | None) -> list[str]:
    if symbol is not None:
        return [_instrument_row(session, symbol).symbol]
    return list(session.scalars(select(tables.Instrument.symbol).order_by(tables.Instrument.symbol)))


def _json(text: str) -> dict[str, Any]:
    return json.loads(text, parse_float=Decimal)


# ---- the book --------------------------------------------------------------------------------------------


def _merged_book(
    session: Session, symbol: str, now_ms: int, engine: trading.Engine
) -> tuple[list[Level], list[Level]]:
    """The recorded book as the engine matches against it at now (what simulated takers took from the
    snapshot already gone) with the remaining quantity of every simulated resting limit order added.
    Recorded sizes show in whole steps of the symbol's stepSize, what an order can take of them (a venue
    with finer sizes than the step is shown on the step grid; a level under one step not at all)."""
    step = instruments.instrument_rules(session, symbol).step_size
    recorded = trading.book_at(session, symbol, now_ms, engine)
    resting: dict[Side, list[Level]] = {Side.BUY: [], Side.SELL: []}
    for row in trading.resting_orders(session, symbol):
        if row.type in BOOKED_TYPES and row.price is not None and row.quantity is not None:
            resting[Side(row.side)].append((row.price, row.quantity - row.executed_qty))

    def on_the_grid(levels: Iterable[PriceLevel]) -> Iterator[Level]:
        # the book holds no level under one step (`liquidity.recorded_book`, `less_taken`)
        return ((level.price, floor_to_step(level.qty, step)) for level in levels)

    bids = quotes.merge_levels(on_the_grid(recorded.bids), resting[Side.BUY], True)
    asks = quotes.merge_levels(on_the_grid(recorded.asks), resting[Side.SELL], False)
    return bids, asks


def _best_price(levels: list[Level]) -> Decimal | None:
    return levels[0][0] if levels else None


# ---- the tape --------------------------------------------------------------------------------------------


def _latest_prints(session: Session, symbol: str, now_ms: int, timeline: Timeline, limit: int) -> list[Print]:
    recorded = _recorded_prints(session, symbol, now_ms, timeline, limit)
    simulated = _simulated_prints(session, symbol, now_ms, limit)
    return quotes.latest_prints(recorded, simulated, limit)


def _loops_back(timeline: Timeline, now_ms: int) -> Iterator[list[Segment]]:
    """The recording as played up to now, newest first, a loop's worth of stretches at a time (newest stretch
    last in each): all of it before now in replay mode; in live mode the last loop, then the one before, and
    so on, up to LIVE_HISTORY_MS back."""
    if timeline.period_ms is None or timeline.first_ms is None:
        yield [Segment(-1, now_ms, 0)]
        return
    end, oldest = now_ms, now_ms - LIVE_HISTORY_MS
    while end > oldest:
        start = max(end - timeline.period_ms, oldest)
        yield timeline.segments(start, end)
        end = start


def _recorded_prints(
    session: Session, symbol: str, now_ms: int, timeline: Timeline, limit: int
) -> list[Print]:
    """The `limit` newest recorded trades at or before now, in market time, newest first (in live mode from
    as many loops back as it takes, when a loop has fewer)."""
    found: list[Print] = []
    for loop in _loops_back(timeline, now_ms):
        before = len(found)
        for segment in reversed(loop):
            found += _prints_in(session, symbol, segment, limit - len(found), len(found))
            if len(found) >= limit:
                return found
        if len(found) == before:  # a whole loop without a print: every loop is the same
            return found
    return found


def _prints_in(session: Session, symbol: str, segment: Segment, limit: int, collected: int) -> list[Print]:
    """The `limit` newest recorded trades of a stretch of the recording, in market time, newest first, after
    `collected` newer ones (a falling sequence keeps a millisecond's trades in recorded order)."""
    rows = session.execute(
        RECORDED_TRADES_NEWEST_FIRST.limit(limit), {"symbol": symbol, "t0": segment.r0, "t1": segment.r1}
    )
    return [
        Print(
            time=row.time + segment.shift,
            price=Decimal(row.price),
            qty=Decimal(row.qty),
            buyer_is_maker=bool(row.buyer_is_maker),  # a venue that does not say: seller's maker
            order=0,
            sequence=-(collected + n),
        )
        for n, row in enumerate(rows)
    ]


def _simulated_prints(session: Session, symbol: str, now_ms: int, limit: int) -> list[Print]:
    """The `limit` newest simulated trades at or before now, one print a trade (`trading.PRINTED_FILLS`): a
    simulated taker's fill (against a simulated maker, the maker's side of the same ticket is not printed
    again), and a resting order's filled by a snapshot or a bar."""
    fill = tables.Fill
    rows = session.execute(
        select(fill.time, fill.ticket_id, fill.price, fill.qty, fill.side, fill.is_maker, fill.printed)
        .where(fill.symbol == symbol, trading.PRINTED_FILLS, fill.time <= now_ms)
        .order_by(fill.time.desc(), fill.id.desc())
        .limit(limit)
    )
    return [
        Print(
            row.time,
            row.price,
            row.qty,
            _buyer_is_maker(row.side, row.is_maker),
            1 if row.printed is None else row.printed,  # before or after the millisecond's recorded prints
            int(row.ticket_id),
        )
        for row in rows
    ]


def _buyer_is_maker(side: str, is_maker: int) -> bool:
    """A printed fill's `ibm`: the fill's own side is the buyer's when it bought."""
    return (side == Side.BUY.value) == bool(is_maker)


def _last_price(session: Session, symbol: str, now_ms: int, timeline: Timeline) -> Decimal | None:
    """The latest traded price at or before now (`quotes.last_traded_price`): the newest print, recorded or
    simulated, or the close of a bar that completed after the newest recorded print; None when the symbol
    has no market data."""
    recorded = _recorded_prints(session, symbol, now_ms, timeline, 1)
    simulated = _simulated_prints(session, symbol, now_ms, 1)
    return quotes.last_traded_price(
        recorded[0] if recorded else None,
        simulated[0] if simulated else None,
        _last_complete_bar(session, symbol, now_ms, timeline),
    )


def _last_complete_bar(
    session: Session, symbol: str, before_ms: int, timeline: Timeline, source: _Source | None = None
) -> Kline | None:
    """The last bar of `source` (default: the finest stored interval) that completed before market time
    `before_ms`, in market time."""
    if source is None:
        finest = _finest_interval(_stored_intervals(session, symbol))
        if finest is None:
            return None
        source = _Source(finest)
    if source.of_trades:
        return _last_complete_trade_bar(session, symbol, before_ms, timeline)
    if source.with_trades:
        stored = _last_complete_bar(session, symbol, before_ms, timeline, _Source(source.interval))
        traded = _last_complete_trade_bar(session, symbol, before_ms, timeline)
        return (
            traded
            if stored is None or (traded is not None and traded.open_time > stored.open_time)
            else stored
        )
    if timeline.period_ms is None or timeline.first_ms is None:
        stretches = [Segment(-1, before_ms, 0)]
    else:  # a loop and a millisecond back: the copy of a bar closing now (not complete) closed a loop ago
        stretches = timeline.segments(before_ms - timeline.period_ms - 1, before_ms)
    for age, segment in enumerate(reversed(stretches)):
        # The newest stretch ends at now: its bars completed before it. An older one ends at its loop's last
        # millisecond, which is before now: a bar closing exactly then (the loop's last event) completed.
        until = segment.r1 if age == 0 else segment.r1 + 1
        bar = store.last_complete_bar(session, symbol, source.interval, until)
        if bar is not None and bar.close_time > segment.r0:  # it completed within the stretch
            return _moved(bar, segment.shift) if segment.shift else bar
    return None


# ---- klines ----------------------------------------------------------------------------------------------


def _stored_intervals(session: Session, symbol: str) -> list[str]:
    """The kline intervals stored for `symbol` (one index seek each)."""
    found: list[str] = []
    interval = session.execute(store.FIRST_INTERVAL, {"symbol": symbol}).scalar()
    while interval is not None:
        found.append(interval)
        interval = session.execute(store.NEXT_INTERVAL, {"symbol": symbol, "previous": interval}).scalar()
    return found


def _nominal_window(
    interval: str, timeline: Timeline, window: tuple[int | None, int], limit: int
) -> tuple[int, int]:
    """The stretch of recording time a klines request asks about, before any bar is read: from startTime,
    or `limit` intervals back from the end. In live mode every loop plays the whole recording: all of it."""
    if not timeline.is_identity:
        return -ALL_TIME, ALL_TIME
    start, end = window
    last_open = quotes.bucket_open(interval, end)
    first_open = quotes.previous_open(interval, last_open, limit - 1) if start is None else start
    return first_open, quotes.next_open(interval, last_open)


def _stored_series(session: Session, symbol: str) -> list[quotes.Series]:
    """The kline series stored for `symbol` with the span of their bars (two index seeks each)."""
    every = (_series_of(session, symbol, interval) for interval in _stored_intervals(session, symbol))
    return [series for series in every if series is not None]


def _series_of(session: Session, symbol: str, interval: str | None) -> quotes.Series | None:
    """The stored `interval` series of `symbol` with the span of its bars; None when it has none."""
    if interval is None:
        return None
    opens = store.kline_open_times(session, symbol, interval, -ALL_TIME, ALL_TIME)
    return None if opens is None else quotes.Series(interval, opens[0], quotes.next_open(interval, opens[1]))


@dataclass(frozen=True)
class _Source:
    """The bars a klines request or a 24-hour ticker reads: a stored series; minute bars made of the
    recorded trades, in market time (`of_trades`: a symbol without stored bars, trades and books recorded
    alone); or stored minutes and, in the minutes without one, those of the trades (`with_trades`)."""

    interval: str
    of_trades: bool = False
    with_trades: bool = False  # stored minutes, and minutes of trades where none is stored

    @property
    def kept_as(self) -> str | None:
        """The name `kline_rollups` keeps this source's own bars under (bars made of trades cost every trade
        to read), apart from stored bars of the interval; None: stored bars alone, not kept."""
        if self.of_trades:
            return "trades"
        return "stored and trades" if self.with_trades else None


def _source(
    session: Session, symbol: str, stored: quotes.Series | None, window: tuple[int, int], now: int | None
) -> _Source | None:
    """What answers for `window` (from, until: recording time) given the `stored` series chosen for it, once
    the recorded trades are counted in; None: nothing. Without stored bars, the trades' minutes; beside
    stored minutes, both (a recording of trades beside the demo's bars of another time shows at its time).
    Beside a coarser stored series, the one whose bars closed by `now` (None: in live mode, where a loop
    plays all of the recording) span more of the window, the stored one on a tie; when neither spans any of
    it (a stretch in a gap, or the hour forming at now alone), the one whose last bar before it closed
    later (its close is the price of quiet intervals). Made in market
    time, the trades' minutes suit every live loop."""
    trades = _Source(TRADE_BARS, of_trades=True)
    opens = _trade_bar_opens(session, symbol, window[0] - 1, window[1] - 1)
    if stored is None or stored.interval == TRADE_BARS:
        if opens is None and _trade_bar_opens(session, symbol, -ALL_TIME, ALL_TIME) is None:
            return None if stored is None else _Source(stored.interval)
        return trades if stored is None else _Source(TRADE_BARS, with_trades=True)
    chosen = _Source(stored.interval)
    traded = 0
    if opens is not None:
        minutes = quotes.Series(TRADE_BARS, opens[0], quotes.next_open(TRADE_BARS, opens[1]))
        traded = quotes.spanned(_closed(minutes, now), window)
    barred = quotes.spanned(_closed(stored, now), window)
    if traded == barred == 0:
        before = window[1] if now is None else min(window[1], now)
        last_closes = [_last_close(session, symbol, source, before) for source in (trades, chosen)]
        return trades if last_closes[0] > last_closes[1] else chosen
    return trades if traded > barred else chosen


def _closed(series: quotes.Series, now: int | None) -> quotes.Series:
    """The part of `series` whose bars have closed by `now` (None: all of it)."""
    if now is None:
        return series
    return replace(series, end=min(series.end, quotes.bucket_open(series.interval, now)))


def _last_close(session: Session, symbol: str, source: _Source, before: int) -> int:
    """When the last bar of `source` (stored, or of trades) that closed before `before` (recording time)
    closed; -ALL_TIME when none did."""
    if source.of_trades:
        until = before - 1 if before >= ALL_TIME else quotes.bucket_open(TRADE_BARS, before) - 1
        last = store.last_trade(session, symbol, -ALL_TIME, until)
        return (
            -ALL_TIME
            if last is None
            else quotes.next_open(TRADE_BARS, quotes.bucket_open(TRADE_BARS, last[0])) - 1
        )
    bar = store.last_complete_bar(session, symbol, source.interval, before)
    return -ALL_TIME if bar is None else bar.close_time


def _open_times(session: Session, symbol: str, source: _Source, t0: int, t1: int) -> tuple[int, int] | None:
    """The open times of the first and the last bar of `source` opening in recording time (t0, t1]."""
    if source.of_trades:
        return _trade_bar_opens(session, symbol, t0, t1)
    stored = store.kline_open_times(session, symbol, source.interval, t0, t1)
    traded = _trade_bar_opens(session, symbol, t0, t1) if source.with_trades else None
    if stored is None or traded is None:
        return stored or traded
    return min(stored[0], traded[0]), max(stored[1], traded[1])


def _trade_bar_opens(session: Session, symbol: str, t0: int, t1: int) -> tuple[int, int] | None:
    """The open times of the first and the last bar of the recorded trades that opens in recording time
    (t0, t1] (two index seeks); None when there is none."""
    after, until = _trades_of_bars(t0, t1)
    first = store.trades_between(session, symbol, after, until, limit=1)
    last = store.last_trade(session, symbol, after, until)
    if not first or last is None:
        return None
    return quotes.bucket_open(TRADE_BARS, first[0].time), quotes.bucket_open(TRADE_BARS, last[0])


def _trades_of_bars(t0: int, t1: int) -> tuple[int, int]:
    """(after, until): the trades with after < time <= until are those of the bars opening in (t0, t1],
    both within what the database's integers hold (a startTime of 2**63 - 1 is a request like another)."""
    first, last = quotes.first_open_from(TRADE_BARS, t0 + 1), quotes.bucket_open(TRADE_BARS, t1)
    after, until = first - 1, quotes.next_open(TRADE_BARS, last) - 1
    return min(max(after, -ALL_TIME - 1), ALL_TIME), min(max(until, -ALL_TIME - 1), ALL_TIME)


def _trade_bars(session: Session, symbol: str, timeline: Timeline, t0: int, t1: int) -> list[Kline]:
    """Bars of the recorded trades opening in market time (t0, t1], closed or not, oldest first. Each
    stretch of the recording is made into bars once (in live mode every whole loop is the same stretch)
    and moved to market time, by whole minutes. A minute at a loop's end comes as two bars, the last trades
    of one loop and the first of the next: rolling up by interval makes them one."""
    after, until = _trades_of_bars(t0, t1)
    made: dict[tuple[int, int], list[Kline]] = {}
    found: list[Kline] = []
    for segment in timeline.segments(after, until):
        stretch = (segment.r0, segment.r1)
        if stretch not in made:
            trades = store.iter_trades_between(session, symbol, segment.r0, segment.r1)
            made[stretch] = quotes.bars_of_trades(TRADE_BARS, trades)
        found.extend(_moved(bar, segment.shift) if segment.shift else bar for bar in made[stretch])
    return found


def _with_trade_minutes(session: Session, symbol: str, timeline: Timeline, t0: int, t1: int) -> list[Kline]:
    """The stored minute bars opening in market time (t0, t1], closed or not, and between and around them
    the bars of the recorded trades in minutes that have no stored bar, oldest first: so trades recorded
    beside stored minutes of another time (the demo's, say) show at their time, in one request too."""
    found: list[Kline] = []
    uncovered = quotes.first_open_from(TRADE_BARS, t0 + 1)  # the first minute no stored bar stands for
    for bar in _bars(session, symbol, _Source(TRADE_BARS), timeline, t0, t1, ALL_TIME):
        if uncovered < bar.open_time:
            found += _trade_bars(session, symbol, timeline, uncovered - 1, bar.open_time - 1)
        found.append(bar)
        uncovered = max(uncovered, quotes.next_open(TRADE_BARS, bar.open_time))
    if uncovered <= t1:
        found += _trade_bars(session, symbol, timeline, uncovered - 1, t1)
    return found


def _last_complete_trade_bar(
    session: Session, symbol: str, before_ms: int, timeline: Timeline
) -> Kline | None:
    """The bar of the recorded trades that closed last before market time `before_ms`: that of the newest
    trade of a bar that ended by then."""
    ended_by = quotes.bucket_open(TRADE_BARS, before_ms)  # a bar ending here closed at the ms before
    newest = _recorded_prints(session, symbol, ended_by - 1, timeline, 1)
    if not newest:
        return None
    opened = quotes.bucket_open(TRADE_BARS, newest[0].time)
    return quotes.combine(TRADE_BARS, opened, _trade_bars(session, symbol, timeline, opened - 1, opened))


def _finest_interval(stored: list[str]) -> str | None:
    """The series the 24-hour figures come from: minute bars when stored (finer ones would cost much more
    to read for the same answer), else the finest stored."""
    if "1m" in stored:
        return "1m"
    fixed = [name for name in stored if name in INTERVAL_MS]
    return min(fixed, key=INTERVAL_MS.__getitem__, default=None)


def _bars(
    session: Session, symbol: str, source: _Source, timeline: Timeline, t0: int, t1: int, now_ms: int
) -> list[Kline]:
    """Bars of `source` whose market open time is in (t0, t1] and that closed before now, in market time,
    oldest first."""
    if source.kept_as is not None:  # minutes made of trades, alone or between stored ones
        made = _trade_bars if source.of_trades else _with_trade_minutes
        return [bar for bar in made(session, symbol, timeline, t0, t1) if bar.close_time < now_ms]
    interval = source.interval
    found: list[Kline] = []
    read: dict[tuple[int, int], list[Kline]] = {}  # every whole loop is the same stretch: read it once
    for segment in timeline.segments(t0, t1):
        stretch = (segment.r0, segment.r1)
        if stretch not in read:
            read[stretch] = store.klines(session, symbol, interval, segment.r0, segment.r1)
        for bar in read[stretch]:
            moved = _moved(bar, segment.shift) if segment.shift else bar
            if moved.close_time < now_ms:
                found.append(moved)
    return found


def _moved(bar: Kline, shift: int) -> Kline:
    """The bar `shift` ms later (a new record: the one read may be moved again for another loop)."""
    return Kline(
        bar.symbol,
        bar.interval,
        bar.open_time + shift,
        bar.close_time + shift,
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.volume,
        bar.quote_volume,
        bar.trade_count,
        bar.taker_buy_base,
        bar.taker_buy_quote,
        bar.is_final,
    )


def _shifts_align(timeline: Timeline, interval: str) -> bool:
    """Whether every loop of the timeline moves bars of `interval` by whole bars (always in replay mode)."""
    if timeline.period_ms is None or timeline.first_ms is None:
        return True
    return interval != MONTH and timeline.period_ms % INTERVAL_MS[interval] == 0


def _klines(
    session: Session,
    symbol: str,
    interval: str,
    now_ms: int,
    timeline: Timeline,
    window: tuple[int | None, int | None],
    limit: int,
) -> list[Kline]:
    start, end = window
    end = now_ms if end is None else min(end, now_ms)
    nominal = _nominal_window(interval, timeline, (start, end), limit)
    stored = _stored_series(session, symbol)
    chosen = quotes.source_series(interval, stored, _shifts_align(timeline, interval), nominal)
    source = _source(session, symbol, chosen, nominal, now_ms if timeline.is_identity else None)
    if source is None or (start is not None and start > end):
        return []
    covered = _kline_span(session, symbol, (interval, source), timeline, now_ms, (start, end), limit)
    if covered is None:
        return []
    first_open, last_open, previous = covered
    read_until = min(quotes.next_open(interval, last_open) - 1, now_ms - 1)
    if source.interval == interval and source.kept_as is None:
        bars = _bars(session, symbol, source, timeline, first_open - 1, read_until, now_ms)
    else:
        bars = _rolled_up(session, symbol, (interval, source), timeline, (first_open, read_until), now_ms)
    bars = [bar for bar in bars if first_open <= bar.open_time <= end]
    latest = _last_complete_bar(session, symbol, now_ms, timeline, source)
    bars = quotes.with_quiet_intervals(
        symbol,
        interval,
        bars,
        (first_open, last_open),
        None if previous is None else previous.close,
        None if latest is None else latest.open_time,
        limit if start is not None else None,
    )
    return bars[:limit] if start is not None else bars[-limit:]


def _rolled_up(
    session: Session,
    symbol: str,
    intervals: tuple[str, _Source],
    timeline: Timeline,
    window: tuple[int, int],
    now_ms: int,
) -> list[Kline]:
    """The `interval` bars rolled up from the `source` bars opening in `window` (first bar open time, last
    moment), oldest first. In replay mode the intervals before the series' first bar and after its last one
    in the window are not rolled up at all: a thousand months of days, most of them long before any
    recording, are not worth looking at one by one (in live mode the window is at most 30 days)."""
    interval, source = intervals
    first_open, until = window
    if timeline.is_identity:
        stored = _open_times(session, symbol, source, first_open - 1, until)
        if stored is None:
            return []
        first_open, until = max(first_open, quotes.bucket_open(interval, stored[0])), min(until, stored[1])
    return kline_rollups.rolled_up(
        session,
        symbol,
        (interval, source.interval),
        timeline,
        (first_open, quotes.bucket_open(interval, until)),
        now_ms,
        _stored_bars(session, symbol, source, timeline),
        kept_source=source.kept_as,
    )


def _stored_bars(
    session: Session, symbol: str, source: _Source, timeline: Timeline
) -> kline_rollups.BarReader:
    """A reader of every `source` bar of a stretch, closed or not (`kline_rollups` sorts them out)."""

    def read(t0: int, t1: int) -> list[Kline]:
        return _bars(session, symbol, source, timeline, t0, t1, ALL_TIME)

    return read


def _kline_span(
    session: Session,
    symbol: str,
    intervals: tuple[str, _Source],
    timeline: Timeline,
    now_ms: int,
    window: tuple[int | None, int],
    limit: int,
) -> tuple[int, int, Kline | None] | None:
    """The open times of the first and the last `interval` a klines request covers, and the last bar of the
    `source` series before the first (its close is the price of quiet intervals); None when it covers
    nothing. `window` is (startTime, end), end at most now."""
    interval, source = intervals
    start, end = window
    last_open = quotes.bucket_open(interval, end)
    if quotes.next_open(source.interval, last_open) > now_ms:
        # A stored bar shows once it closed: a bar forming at now before its first stored bar closed has
        # nothing to show yet and takes no slot.
        last_open = quotes.previous_open(interval, last_open, 1)
    if start is None:
        first_open = quotes.previous_open(interval, last_open, limit - 1)
    else:
        first_open = quotes.first_open_from(interval, start)
    if timeline.period_ms is not None:
        first_open = max(first_open, quotes.first_open_from(interval, now_ms - LIVE_HISTORY_MS))
    if first_open > end:
        return None
    previous = _last_complete_bar(session, symbol, first_open, timeline, source)
    if start is not None:
        # Every interval from the first bar on has a bar (quiet or not), so the first `limit` bars from start
        # lie within `limit` intervals of it: read no further (a start years back would read every bar since).
        if previous is None:  # no bar before start: the first one after it
            if not timeline.is_identity:
                return None  # a loop without a bar before any time has none at all
            # up to the end of the last interval: a rolled-up bar opening by `end` may begin after it
            following = _open_times(
                session, symbol, source, first_open - 1, quotes.next_open(interval, last_open) - 1
            )
            if following is None:
                return None
            first_open = max(first_open, quotes.bucket_open(interval, following[0]))
        last_open = min(last_open, quotes.open_ahead(interval, first_open, limit - 1))
    return first_open, last_open, previous


def _day_bars(session: Session, symbol: str, now_ms: int, timeline: Timeline) -> list[Kline]:
    """The bars of the rolling 24 hours: opened at or after now - 24h and closed before now, as few as give
    the same figures (the first open, the extremes and the sums). Each whole hour is rolled up and kept
    (`kline_rollups`), and so is each whole minute of the part hours at the ends when the source is finer:
    a request reads the source bars of the part intervals at the ends only (every symbol's ticker at once
    read 1,440 minute bars each, and a symbol recorded as trades alone a day of trades)."""
    finest = _series_of(session, symbol, _finest_interval(_stored_intervals(session, symbol)))
    day = (now_ms - DAY_MS, now_ms) if timeline.is_identity else (-ALL_TIME, ALL_TIME)
    source = _source(session, symbol, finest, day, now_ms if timeline.is_identity else None)
    if source is None:
        return []
    reader = _stored_bars(session, symbol, source, timeline)

    def spanning(t0: int, t1: int, steps: tuple[str, ...]) -> list[Kline]:
        """The bars opening in (t0, t1]: whole intervals of the first step rolled up, the rest finer."""
        if not steps:
            return _bars(session, symbol, source, timeline, t0, t1, now_ms)
        step, finer = steps[0], steps[1:]
        first, after = quotes.first_open_from(step, t0 + 1), quotes.bucket_open(step, t1 + 1)
        if first >= after:
            return spanning(t0, t1, finer)
        last = quotes.previous_open(step, after, 1)
        whole = kline_rollups.rolled_up(
            session,
            symbol,
            (step, source.interval),
            timeline,
            (first, last),
            now_ms,
            reader,
            kept_source=source.kept_as,
        )
        return spanning(t0, first - 1, finer) + whole + spanning(after - 1, t1, finer)

    steps = tuple(
        step
        for step in (HOUR, MINUTE)
        if quotes.divides(source.interval, step) and (step != source.interval or source.kept_as is not None)
    )
    return spanning(now_ms - DAY_MS - 1, now_ms - 1, steps)  # opened in (now - 24h - 1, now - 1]
