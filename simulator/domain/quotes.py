"""The arithmetic behind the public market-data endpoints: kline intervals and their aggregation, order
books merged from recorded levels and simulated orders, price aggregation (depth/merged `scale`), the tape
of prints, the rolling 24-hour statistics, and recorded prices shown on the symbol's tick grid. Pure
functions of values: no clock, no database.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Protocol, TypeVar

from simulator.domain.money import EXACT
from simulator.marketdata.records import INTERVAL_MS, MONTH, Kline, Trade

DAY_MS = 86_400_000
# 1970-01-01 was a Thursday: weekly bars open on Mondays 00:00 UTC, four days after the epoch.
WEEK_OFFSET_MS = 4 * DAY_MS
# The intervals HashKey serves (m minutes, h hours, d days, w weeks, M months).
KLINE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "1w", "1M")
ZERO = Decimal(0)
TEN = Decimal(10)

Level = tuple[Decimal, Decimal]  # (price, quantity)


# ---- kline intervals -------------------------------------------------------------------------------------


def bucket_open(interval: str, t: int) -> int:
    """The open time of the `interval` bar that covers market time t (UTC; weeks start on Monday)."""
    if interval == MONTH:
        moment = datetime.fromtimestamp(t // 1000, UTC)
        return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0)) * 1000
    length = INTERVAL_MS[interval]
    offset = WEEK_OFFSET_MS if interval == "1w" else 0
    return t - (t - offset) % length


def next_open(interval: str, open_time: int) -> int:
    """The open time of the bar after the one opening at `open_time`."""
    if interval == MONTH:
        moment = datetime.fromtimestamp(open_time // 1000, UTC)
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
    return open_time + INTERVAL_MS[interval]


def previous_open(interval: str, open_time: int, bars_back: int) -> int:
    """The open time `bars_back` bars before the bar opening at `open_time`."""
    if interval != MONTH:
        return open_time - bars_back * INTERVAL_MS[interval]
    moment = datetime.fromtimestamp(open_time // 1000, UTC)
    months = moment.year * 12 + moment.month - 1 - bars_back
    return calendar.timegm((months // 12, months % 12 + 1, 1, 0, 0, 0)) * 1000


def open_ahead(interval: str, open_time: int, bars_ahead: int) -> int:
    """The open time `bars_ahead` bars after the bar opening at `open_time`."""
    return previous_open(interval, open_time, -bars_ahead)


def first_open_from(interval: str, start: int) -> int:
    """The first bar opening at or after `start` (a bar is in a window when its open time is)."""
    opened = bucket_open(interval, start)
    return opened if opened == start else next_open(interval, opened)


def divides(source: str, target: str) -> bool:
    """Whether bars of `source` tile bars of `target` exactly (a month is tiled by whatever tiles a day)."""
    if source not in INTERVAL_MS:
        return source == target
    length = INTERVAL_MS[source]
    if target == MONTH:
        return DAY_MS % length == 0
    return INTERVAL_MS[target] % length == 0


@dataclass(frozen=True)
class Series:
    """A stored kline series: its interval, its first bar's open time and its last bar's close time + 1."""

    interval: str
    first_open: int
    end: int


def source_series(
    target: str, stored: Iterable[Series], shifts_align: bool, window: tuple[int, int]
) -> Series | None:
    """Which stored series answers `target` over `window` (from, until: ms): of the series itself (when its
    bars land on the target's grid: `shifts_align`, replay mode or a live loop whose period is a whole
    number of target bars) and those that tile the target, the one whose bars span the most of the window,
    then the series itself, then the finest. So a short stretch of finer bars beside a long series does not
    cut the history short. None when none can."""

    def usable(series: Series) -> bool:
        if series.interval == target:
            return shifts_align
        return series.interval in INTERVAL_MS and divides(series.interval, target)

    def preference(series: Series) -> tuple[int, bool, int]:
        return -spanned(series, window), series.interval != target, INTERVAL_MS.get(series.interval, 0)

    return min(filter(usable, stored), key=preference, default=None)


def spanned(series: Series, window: tuple[int, int]) -> int:
    """How much of `window` (from, until: ms) lies between the series' first bar and its last one's end."""
    start, until = window
    return max(0, min(series.end, until) - max(series.first_open, start))


class _Opening(Protocol):
    @property
    def open_time(self) -> int: ...


Opening = TypeVar("Opening", bound=_Opening)  # a bar, or anything else that opens at a time


def by_interval(interval: str, items: Iterable[Opening]) -> dict[int, list[Opening]]:
    """`items` (oldest first) grouped by the open time of the `interval` bar each opens in."""
    members: dict[int, list[Opening]] = {}
    for item in items:
        members.setdefault(bucket_open(interval, item.open_time), []).append(item)
    return members


def aggregate(bars: Sequence[Kline], interval: str) -> list[Kline]:
    """Bars (oldest first, already in market time) rolled up into `interval` bars: first open, highest
    high, lowest low, last close, volumes and trade counts summed. A bucket with no bar has no bar. Rolling
    up in steps gives the same bars (`services.kline_rollups` rolls a month up from days, days from hours)."""
    return [combine(interval, opened, members) for opened, members in by_interval(interval, bars).items()]


def combine(interval: str, opened: int, members: Sequence[Kline]) -> Kline:
    """The `interval` bar opening at `opened` made of `members` (at least one, oldest first)."""
    close_time = next_open(interval, opened) - 1
    return Kline(
        symbol=members[0].symbol,
        interval=interval,
        open_time=opened,
        close_time=close_time,
        open=members[0].open,
        high=max(bar.high for bar in members),
        low=min(bar.low for bar in members),
        close=members[-1].close,
        volume=sum((bar.volume for bar in members), ZERO),
        quote_volume=_sum_known(bar.quote_volume for bar in members),
        trade_count=sum(bar.trade_count or 0 for bar in members),
        taker_buy_base=_sum_known(bar.taker_buy_base for bar in members),
        taker_buy_quote=_sum_known(bar.taker_buy_quote for bar in members),
        is_final=members[-1].is_final and members[-1].close_time == close_time,  # it reached its end
    )


def bars_of_trades(interval: str, trades: Iterable[Trade]) -> list[Kline]:
    """`interval` bars, oldest first, made of trades (oldest first) as a venue makes its own: the first
    trade's price opens and the last one's closes, the extremes are the highest and lowest price,
    volumes are the sums of quantity and price x quantity, and the taker-buy figures those of the trades
    whose buyer took (of the trades whose venue says who took; unknown when none does). An interval without
    a trade has no bar. Each trade is added up as it comes and not kept: a day of trades is a million."""
    bars: list[Kline] = []
    making: _BarOfTrades | None = None
    for trade in trades:
        if making is None or not making.opened <= trade.time < making.ends:
            if making is not None:
                bars.append(making.bar())
            opened = bucket_open(interval, trade.time)
            making = _BarOfTrades(trade.symbol, interval, opened, next_open(interval, opened), trade.price)
        making.add(trade)
    if making is not None:
        bars.append(making.bar())
    return bars


class _BarOfTrades:
    """The figures of a bar being made of trades, so far."""

    __slots__ = (
        "symbol",
        "interval",
        "opened",
        "ends",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "quote_volume",
        "count",
        "bought",
        "bought_quote",
        "said",
    )

    def __init__(self, symbol: str, interval: str, opened: int, ends: int, price: Decimal) -> None:
        self.symbol, self.interval, self.opened, self.ends = symbol, interval, opened, ends
        self.open = self.high = self.low = self.close = price
        self.volume = self.quote_volume = self.bought = self.bought_quote = ZERO
        self.count = 0
        self.said = False  # whether any trade's venue said who took

    def add(self, trade: Trade) -> None:
        price, qty = trade.price, trade.qty
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        quote = price * qty
        self.volume += qty
        self.quote_volume += quote
        self.count += 1
        if trade.buyer_is_maker is not None:
            self.said = True
            if not trade.buyer_is_maker:
                self.bought += qty
                self.bought_quote += quote

    def bar(self) -> Kline:
        return Kline(
            self.symbol,
            self.interval,
            self.opened,
            self.ends - 1,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.quote_volume,
            self.count,
            self.bought if self.said else None,
            self.bought_quote if self.said else None,
        )


def with_quiet_intervals(
    symbol: str,
    interval: str,
    bars: Sequence[Kline],
    window: tuple[int, int],
    previous_close: Decimal | None,
    data_until: int | None,
    limit: int | None = None,
) -> list[Kline]:
    """`bars` (of `interval`, oldest first, opening in `window` = (first, last) open time) with a bar for
    every interval of the window that has none but lies between two that have one, as the venue shows an
    interval without trades (the document's klines example): open, high, low and close at the close before
    it, no volume, no trades. The close before the window is `previous_close`; `data_until` is the open time
    of the series' last bar up to now (None: it has none): no interval from it on has such a bar, nor any
    before the first close. With `limit`, the first `limit` bars only (a window may span years of quiet
    intervals when only its first bars are wanted)."""
    first, last = window
    close = previous_close
    if close is None and bars:
        first = max(first, bucket_open(interval, bars[0].open_time))
    shown: list[Kline] = []
    waiting = iter(bars)
    upcoming = next(waiting, None)
    opened = first
    while opened <= last and (limit is None or len(shown) < limit):
        if upcoming is None and (close is None or data_until is None or opened >= data_until):
            break  # nothing more to show: no bar ahead, and no quiet interval either
        following = next_open(interval, opened)
        quiet = upcoming is None or upcoming.open_time >= following
        if quiet and close is not None and data_until is not None and opened < data_until:
            shown.append(_quiet_bar(symbol, interval, opened, close))
        while upcoming is not None and upcoming.open_time < following:
            shown.append(upcoming)
            close = upcoming.close
            upcoming = next(waiting, None)
        opened = following
    return shown if limit is None else shown[:limit]


def _quiet_bar(symbol: str, interval: str, opened: int, close: Decimal) -> Kline:
    return Kline(
        symbol,
        interval,
        opened,
        next_open(interval, opened) - 1,
        open=close,
        high=close,
        low=close,
        close=close,
        volume=ZERO,
        quote_volume=ZERO,
        trade_count=0,
        taker_buy_base=ZERO,
        taker_buy_quote=ZERO,
    )


def _sum_known(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum of the values a venue reported; None when it reported none of them."""
    known = [value for value in values if value is not None]
    return sum(known, ZERO) if known else None


# ---- order books -----------------------------------------------------------------------------------------


def merge_levels(recorded: Iterable[Level], simulated: Iterable[Level], bids: bool) -> list[Level]:
    """One side of the book: recorded levels and simulated resting quantities added up per price, best
    first (bids highest first, asks lowest first); empty levels dropped."""
    sizes: dict[Decimal, Decimal] = {}
    for price, qty in (*recorded, *simulated):
        if qty > 0:
            sizes[price] = sizes.get(price, ZERO) + qty
    return sorted(sizes.items(), key=lambda level: level[0], reverse=bids)


def scale_step(tick_size: Decimal, scale: int) -> Decimal:
    """depth/merged: scale 0 is the tick size, each step up is ten times coarser."""
    return tick_size * TEN**scale


def merge_by_step(levels: Sequence[Level], step: Decimal, bids: bool) -> list[Level]:
    """Levels (best first) aggregated onto a price grid of `step`: bids round down, asks round up, so a
    merged price is never better than the prices merged into it."""
    rounding = ROUND_FLOOR if bids else ROUND_CEILING
    merged: dict[Decimal, Decimal] = {}
    for price, qty in levels:
        grid = (price / step).to_integral_value(rounding=rounding) * step
        merged[grid] = EXACT.add(merged.get(grid, ZERO), qty)  # sizes summed exactly, as a balance is
    return sorted(merged.items(), key=lambda level: level[0], reverse=bids)


# ---- the tape --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Print:
    """One trade on the tape. `order` breaks ties within a millisecond: recorded prints (0) come before
    simulated ones (1) but those a snapshot made (-1, applied before the millisecond's prints), each in its
    own order (`sequence`)."""

    time: int
    price: Decimal
    qty: Decimal
    buyer_is_maker: bool
    order: int = 0
    sequence: int = 0


def latest_prints(recorded: Iterable[Print], simulated: Iterable[Print], limit: int) -> list[Print]:
    """The `limit` newest prints of both tapes, oldest first."""
    merged = sorted((*recorded, *simulated), key=lambda p: (p.time, p.order, p.sequence))
    return merged[-limit:] if limit > 0 else []


def last_traded_price(recorded: Print | None, simulated: Print | None, bar: Kline | None) -> Decimal | None:
    """The latest traded price, from the newest recorded print, the newest simulated print and the last
    complete bar (all in market time); None when there is none of them.

    A bar that closed after the newest recorded print speaks for the recording: its close is the
    recording's last trade. If that print falls within the bar, the recording has trades there and the
    close is most likely that very print, so it counts as made at the print's time; otherwise (bars alone,
    or a stretch of them without trades) at the bar's close time. The later of the recording's last trade
    and the newest simulated print is the price; at the same millisecond, the later on the tape (`Print`)."""
    recording = None if recorded is None else (recorded.time, recorded.price)
    if bar is not None and (recorded is None or bar.close_time > recorded.time):
        within = recorded is not None and recorded.time >= bar.open_time
        recording = (recorded.time if within and recorded is not None else bar.close_time, bar.close)
    if simulated is not None and (recording is None or (simulated.time, simulated.order) > (recording[0], 0)):
        return simulated.price
    return None if recording is None else recording[1]


# ---- rolling 24 hours ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayStats:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal


def day_stats(bars: Sequence[Kline], last_price: Decimal | None) -> DayStats:
    """The 24-hour figures from the bars of the window (oldest first) and the last traded price: open is
    the first bar's open, high/low span the bars and the last price, volumes are the bars' sums. No bars
    and no price: all zero."""
    close = last_price if last_price is not None else (bars[-1].close if bars else ZERO)
    if not bars:
        return DayStats(close, close, close, close, ZERO, ZERO)
    return DayStats(
        open=bars[0].open,
        high=max(max(bar.high for bar in bars), close),
        low=min(min(bar.low for bar in bars), close),
        close=close,
        volume=sum((bar.volume for bar in bars), ZERO),
        quote_volume=sum((bar.quote_volume or ZERO for bar in bars), ZERO),
    )


# ---- prices on the tick grid -----------------------------------------------------------------------------
# The venue shows no price off its grid; a recording from a venue with a finer tick (KuCoin's 242.951 against
# SOLUSDT's 0.01) shows its prints and bars at the nearest price on it. (The book rounds outward instead:
# `matching.liquidity.on_grid`, since orders are taken at its prices.)

OHLC = TypeVar("OHLC", Kline, DayStats)  # what has open, high, low and close prices


def on_tick(price: Decimal, tick: Decimal) -> Decimal:
    """`price` at the nearest price on the `tick` grid (half to even); one on the grid as it is."""
    if not price % tick:
        return price
    return (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick


def print_on_tick(trade: Print, tick: Decimal) -> Print:
    return replace(trade, price=on_tick(trade.price, tick))


def prices_on_tick(figures: OHLC, tick: Decimal) -> OHLC:
    """A bar's or the 24-hour figures' prices on the grid. Rounding keeps their order (the high stays the
    highest), so 24-hour figures rounded are the figures of the bars and the last price rounded."""
    return replace(
        figures,
        open=on_tick(figures.open, tick),
        high=on_tick(figures.high, tick),
        low=on_tick(figures.low, tick),
        close=on_tick(figures.close, tick),
    )
