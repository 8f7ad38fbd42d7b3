"""Rolled-up klines (a 1h bar made of stored 1m bars), each kept per process once it is final.

An interval that is not stored is rolled up from a finer stored series (`quotes.aggregate`). Reading and
combining every stored bar on each request made its cost the history covered, not the bars answered: 1d
bars over 90 days of 1m bars combine 130,000 stored bars, about a second a request. A rolled-up bar whose
interval has ended and whose stored bars have all closed cannot change while the store does not (klines are
recorded bars, or bars made of recorded trades: no simulated trade is in one), so it is combined once and
kept, keyed by the store's version and by the timeline that moves recorded bars to market time, with the
moment it became final (a replay clock set back before it does not use it). A request reads only the stored
bars of intervals it has not kept, and of the one still forming. A long interval is rolled up in steps
(`STEPS`: a month of days, a day of hours, an hour of minutes), those of the interval still forming kept
too, so that it is a few kept bars and a few stored ones, not a month of minutes. Minute bars made of
trades, costly to read, are kept as a step of their own (`kept_source`).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

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
# Intervals one request looks at one by one at one step; a longer stretch (two recordings years apart) is
# rolled up from what is stored there and nothing of it kept, as it was before anything was.
MAX_INTERVALS = 20_000


class Part(NamedTuple):
    """One rolled-up bar as a request at some now sees it: `bar` is what shows of it (the stored bars that
    closed combined; None: none yet, or none at all), final from `final_at` (market ms) on."""

    open_time: int
    bar: Kline | None
    final_at: int


# every stored bar opening in (t0, t1] (market time), closed or not, oldest first
BarReader = Callable[[int, int], list[Kline]]
# (symbol, interval, source interval, kept source's name, timeline first_ms, timeline period_ms)
SeriesKey = tuple[str, str, str, str | None, int | None, int | None]


class _Kept:
    """One database's final rolled-up bars at one store version, by series and open time."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.series: OrderedDict[SeriesKey, dict[int, Part]] = OrderedDict()

    def parts_of(self, key: SeriesKey) -> dict[int, Part]:
        """The series' parts, now the one used most recently. Parts are only ever added to what this
        returns: a series dropped or started again is a new dict, so a request never loses what it read."""
        kept = self.series.pop(key, None)
        self.series[key] = kept = {} if kept is None else kept
        return kept

    def trim(self) -> None:
        while sum(len(parts) for parts in self.series.values()) > MAX_KEPT_BARS:
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
    *,
    kept_source: str | None = None,
) -> list[Kline]:
    """The `interval` bars rolled up from `source` bars (`intervals`), of the intervals opening from
    `opens[0]` to `opens[1]` (both bar open times), oldest first, as they show at `now_ms`: of the stored
    bars those that closed; an interval without any has none. `read` gives every stored bar of a stretch.
    Final bars are combined once per process and kept. With `kept_source` (its name, which tells it apart
    from stored bars of the same interval in what is kept) the source bars are kept too, as the last step
    (bars made of trades: reading them reads every trade), so that an interval still forming reads only the
    source bars of its last step still forming."""
    version = store.version(session)  # read once, outside the lock: the store may be written meanwhile
    with _LOCK:
        keeping = _keeping(session, version)
    request = _Request(keeping, symbol, timeline, now_ms, read, kept_source)
    return [part.bar for part in _rolled(request, intervals, opens) if part.bar is not None]


@dataclass(frozen=True)
class _Request:
    """What every step of one roll-up shares."""

    keeping: _Kept
    symbol: str
    timeline: Timeline
    now_ms: int
    read: BarReader
    kept_source: str | None


def _rolled(
    request: _Request, intervals: tuple[str, str], opens: tuple[int, int], keep: bool = True
) -> list[Part]:
    """The parts of the `interval` bars opening from `opens[0]` to `opens[1]`, those that ended kept when
    `keep`. The steps of an interval that ended are not kept: it is, and they would only fill the keeping
    (a 1h request over 320 hours of minutes made of trades kept 19,200 minutes); those of the interval still
    forming are, so that the next request reads only what has formed since."""
    interval, source = intervals
    step = _step_between(interval, source, request.kept_source is not None)
    now_ms = request.now_ms

    def combined(t0: int, t1: int, keep_steps: bool) -> dict[int, Part]:
        """The parts of the intervals opening in (t0, t1], each made of stored bars or of `step` parts."""
        if step is None:
            return _of_stored(interval, request.read(t0, t1), now_ms)
        steps = (quotes.first_open_from(step, t0 + 1), quotes.bucket_open(step, t1))
        return _of_parts(interval, _rolled(request, (step, source), steps, keep_steps))

    first, last = opens
    until = min(quotes.next_open(interval, last) - 1, now_ms - 1)  # a bar opening at now has not closed
    every = list(islice(_opens(interval, first, min(last, until)), MAX_INTERVALS + 1))
    if len(every) > MAX_INTERVALS:
        return list(combined(first - 1, until, keep_steps=False).values())
    ended = [opened for opened in every if quotes.next_open(interval, opened) <= now_ms]
    timeline = request.timeline
    key = (request.symbol, interval, source, request.kept_source, timeline.first_ms, timeline.period_ms)
    keeping = request.keeping
    with _LOCK:
        kept = keeping.parts_of(key)
        found = {
            opened: kept[opened] for opened in ended if opened in kept and kept[opened].final_at <= now_ms
        }
    for run_first, run_last in _runs(interval, [opened for opened in ended if opened not in found]):
        run = combined(run_first - 1, quotes.next_open(interval, run_last) - 1, keep_steps=False)
        fresh = {
            opened: run.get(opened, _nothing(interval, opened))
            for opened in _opens(interval, run_first, run_last)
        }
        found.update(fresh)
        if keep:
            with _LOCK:
                kept.update({opened: part for opened, part in fresh.items() if part.final_at <= now_ms})
                keeping.trim()
    forming_from = quotes.next_open(interval, ended[-1]) if ended else first
    forming = combined(forming_from - 1, until, keep_steps=keep) if forming_from <= until else {}
    return [found[opened] for opened in ended] + list(forming.values())


def _nothing(interval: str, opened: int) -> Part:
    """An interval without stored bars: final once it has ended."""
    return Part(opened, None, quotes.next_open(interval, opened))


def _of_stored(interval: str, bars: list[Kline], now_ms: int) -> dict[int, Part]:
    """Stored bars rolled up by open time: those closed before now show, and an interval is final when it
    has ended and every bar of it has closed."""
    members = quotes.by_interval(interval, bars)
    return {
        opened: Part(
            opened,
            _combine(interval, opened, [bar for bar in of if bar.close_time < now_ms]),
            max(quotes.next_open(interval, opened), max(bar.close_time for bar in of) + 1),
        )
        for opened, of in members.items()
    }


def _of_parts(interval: str, parts: list[Part]) -> dict[int, Part]:
    """Shorter parts rolled up by open time: what shows of them combined, final when the interval has ended
    and every part is."""
    members = quotes.by_interval(interval, parts)
    return {
        opened: Part(
            opened,
            _combine(interval, opened, [part.bar for part in of if part.bar is not None]),
            max(quotes.next_open(interval, opened), max(part.final_at for part in of)),
        )
        for opened, of in members.items()
    }


def _combine(interval: str, opened: int, shown: list[Kline]) -> Kline | None:
    return quotes.combine(interval, opened, shown) if shown else None


def _step_between(interval: str, source: str, source_kept: bool) -> str | None:
    """The coarsest of STEPS strictly between `source` and `interval` (or `source` itself, when it is kept)
    that tiles the one and is tiled by the other; None when `interval` is rolled up from `source` directly."""
    for step in STEPS:
        if step == interval or (step == source and not source_kept):
            continue
        if quotes.divides(step, interval) and quotes.divides(source, step):
            return step
    return None


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
