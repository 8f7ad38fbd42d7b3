"""Rolled-up klines (a 1h bar made of stored 1m bars), each kept per process once it has closed.

An interval that is not stored is rolled up from a finer stored series (`quotes.aggregate`). Reading and
combining every stored bar on each request made its cost the history covered, not the bars answered: 1d
bars over 90 days of 1m bars combine 130,000 stored bars, about a second a request. A rolled-up bar that
closed before now cannot change while the store does not (klines are recorded bars only: no simulated trade
is in one), so it is combined once and kept, keyed by the store's version and by the timeline that moves
recorded bars to market time. A request reads only the stored bars of intervals it has not kept, and of the
one still forming. A long interval is rolled up in steps, each kept (`STEPS`: a month of days, a day of
hours, an hour of minutes), so that the one still forming is a few kept bars and a few stored ones, not a
month of minutes.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from simulator.domain import quotes
from simulator.domain.timeline import Timeline
from simulator.marketdata import store
from simulator.marketdata.records import Kline

STEPS = ("1d", "1h", "1m")  # coarsest first: what a longer interval is rolled up from, when it tiles it
# Bars kept per database (about 1 KB each): five symbols' years of hours. Past it the series used least
# recently go first (one series holding more on its own starts again).
MAX_KEPT_BARS = 50_000

# (symbol, interval, source interval, timeline first_ms, timeline period_ms)
SeriesKey = tuple[str, str, str, int | None, int | None]
# the bars of `source` whose open time is in (t0, t1], in market time, oldest first
BarReader = Callable[[int, int], list[Kline]]


class _Kept:
    """One database's rolled-up bars at one store version: open time -> bar, or None for an interval
    without stored bars."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.series: OrderedDict[SeriesKey, dict[int, Kline | None]] = OrderedDict()

    def bars_of(self, key: SeriesKey) -> dict[int, Kline | None]:
        """The series' bars, now the one used most recently. Bars are only ever added to what this returns:
        a series dropped or started again is a new dict, so a request never loses what it read."""
        kept = self.series.pop(key, None)
        self.series[key] = kept = {} if kept is None else kept
        return kept

    def trim(self) -> None:
        while sum(len(bars) for bars in self.series.values()) > MAX_KEPT_BARS:
            if len(self.series) == 1:
                key = next(iter(self.series))
                self.series[key] = {}
                return
            self.series.popitem(last=False)


_KEPT: weakref.WeakKeyDictionary[Any, _Kept] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()  # gthread workers share a process's keeping


def rolled_up(
    session: Session,
    symbol: str,
    intervals: tuple[str, str],
    timeline: Timeline,
    opens: tuple[int, int],
    now_ms: int,
    read: BarReader,
) -> list[Kline]:
    """The `interval` bars rolled up from `source` bars (`intervals`), of the intervals opening from
    `opens[0]` to `opens[1]` (both bar open times), oldest first; an interval without stored bars has none.
    `read` gives the stored `source` bars of a stretch in market time. Intervals that closed before
    `now_ms` are combined once per process; the one still forming each time."""
    interval, source = intervals
    step = _step_between(interval, source)
    if step is not None:
        read = _reader_of_steps(session, symbol, (step, source), timeline, now_ms, read)
    key = (symbol, interval, source, timeline.first_ms, timeline.period_ms)
    closed = [opened for opened in _opens(interval, *opens) if quotes.next_open(interval, opened) <= now_ms]
    version = store.version(session)
    with _LOCK:
        keeping = _keeping(session, version)
        kept = keeping.bars_of(key)
        missing = [opened for opened in closed if opened not in kept]
    for first, last in _runs(interval, missing):
        combined = _combined(interval, read(first - 1, quotes.next_open(interval, last) - 1))
        with _LOCK:
            kept.update({opened: combined.get(opened) for opened in _opens(interval, first, last)})
            keeping.trim()
    forming_from = quotes.next_open(interval, closed[-1]) if closed else opens[0]
    until = min(quotes.next_open(interval, opens[1]) - 1, now_ms - 1)  # a bar opening at now is not closed
    forming = _combined(interval, read(forming_from - 1, until)) if forming_from <= until else {}
    found = [kept.get(opened) for opened in closed]
    return [bar for bar in found if bar is not None] + list(forming.values())


def _step_between(interval: str, source: str) -> str | None:
    """The coarsest of STEPS strictly between `source` and `interval` that tiles the one and is tiled by
    the other; None when `interval` is rolled up from `source` directly."""
    for step in STEPS:
        if step not in (interval, source) and quotes.divides(step, interval) and quotes.divides(source, step):
            return step
    return None


def _reader_of_steps(
    session: Session,
    symbol: str,
    intervals: tuple[str, str],
    timeline: Timeline,
    now_ms: int,
    read: BarReader,
) -> BarReader:
    """A reader of `step` bars rolled up (and kept) from `source` bars, for stretches of whole steps."""
    step, source = intervals

    def read_steps(t0: int, t1: int) -> list[Kline]:
        opens = (quotes.first_open_from(step, t0 + 1), quotes.bucket_open(step, t1))
        return rolled_up(session, symbol, (step, source), timeline, opens, now_ms, read)

    return read_steps


def _keeping(session: Session, version: int) -> _Kept:
    """The keeping of the session's database at its store's `version` (a write to the store starts it
    again)."""
    bind = session.get_bind()
    database_engine = bind.engine if isinstance(bind, Connection) else bind
    kept = _KEPT.get(database_engine)
    if kept is None or kept.version != version:
        kept = _KEPT[database_engine] = _Kept(version)
    return kept


def _opens(interval: str, first: int, last: int) -> Iterator[int]:
    opened = first
    while opened <= last:
        yield opened
        opened = quotes.next_open(interval, opened)


def _runs(interval: str, opens: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive intervals of `opens` (ascending) as (first, last) open times: one read each."""
    if not opens:
        return
    first = last = opens[0]
    for opened in opens[1:]:
        if opened != quotes.next_open(interval, last):
            yield first, last
            first = opened
        last = opened
    yield first, last


def _combined(interval: str, bars: list[Kline]) -> dict[int, Kline]:
    return {bar.open_time: bar for bar in quotes.aggregate(bars, interval)}
