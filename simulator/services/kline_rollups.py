"""Rolled-up klines (a 1h bar made of stored 1m bars), each kept per process once it is final.

An interval that is not stored is rolled up from a finer stored series (`quotes.aggregate`). Reading and
combining every stored bar on each request made its cost the history covered, not the bars answered: 1d
bars over 90 days of 1m bars combine 130,000 stored bars, about a second a request. A rolled-up bar whose
interval has ended and whose stored bars have all closed cannot change while the store does not (klines are
recorded bars only: no simulated trade is in one), so it is combined once and kept, keyed by the store's
version and by the timeline that moves recorded bars to market time, with the moment it became final (a
replay clock set back before it does not use it). A request reads only the stored bars of intervals it has
not kept, and of the one still forming. A long interval is rolled up in steps, each kept (`STEPS`: a month
of days, a day of hours, an hour of minutes), so that the one still forming is a few kept bars and a few
stored ones, not a month of minutes.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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
# Intervals one request looks at one by one at one step; a longer stretch (two recordings years apart) is
# rolled up from what is stored there and nothing of it kept, as it was before anything was.
MAX_INTERVALS = 20_000


@dataclass(frozen=True, slots=True)
class Part:
    """One bar of a stretch as a request at some now sees it: `bar` is what shows of it (None: nothing yet,
    or no bars), final from `final_at` (market ms) on."""

    open_time: int
    bar: Kline | None
    final_at: int


# the parts of the bars opening in (t0, t1] (market time), oldest first
PartReader = Callable[[int, int], list[Part]]
# (symbol, interval, source interval, timeline first_ms, timeline period_ms)
SeriesKey = tuple[str, str, str, int | None, int | None]


def stored_parts(bars: Iterable[Kline], now_ms: int) -> list[Part]:
    """Stored bars as parts: one shows once it has closed (close time before now), final from then."""
    return [Part(bar.open_time, bar if bar.close_time < now_ms else None, bar.close_time + 1) for bar in bars]


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
    read: PartReader,
) -> list[Kline]:
    """The `interval` bars rolled up from `source` bars (`intervals`), of the intervals opening from
    `opens[0]` to `opens[1]` (both bar open times), oldest first, as they show at `now_ms`: of the stored
    bars those that closed; an interval without any has none. `read` gives the stored bars of a stretch
    (`stored_parts`). Final bars are combined once per process and kept."""
    parts = _rolled(session, symbol, intervals, timeline, opens, now_ms, read)
    return [part.bar for part in parts if part.bar is not None]


def _rolled(
    session: Session,
    symbol: str,
    intervals: tuple[str, str],
    timeline: Timeline,
    opens: tuple[int, int],
    now_ms: int,
    read: PartReader,
) -> list[Part]:
    interval, source = intervals
    step = _step_between(interval, source)
    if step is not None:
        read = _reader_of_steps(session, symbol, (step, source), timeline, now_ms, read)
    first, last = opens
    until = min(quotes.next_open(interval, last) - 1, now_ms - 1)  # a bar opening at now has not closed
    every = list(_opens(interval, first, min(last, until)))
    if len(every) > MAX_INTERVALS:
        return list(_combined(interval, read(first - 1, until), now_ms).values())
    ended = [opened for opened in every if quotes.next_open(interval, opened) <= now_ms]
    key = (symbol, interval, source, timeline.first_ms, timeline.period_ms)
    version = store.version(session)
    with _LOCK:
        keeping = _keeping(session, version)
        kept = keeping.parts_of(key)
        found = {
            opened: kept[opened] for opened in ended if opened in kept and kept[opened].final_at <= now_ms
        }
    for run_first, run_last in _runs(interval, [opened for opened in ended if opened not in found]):
        combined = _combined(interval, read(run_first - 1, quotes.next_open(interval, run_last) - 1), now_ms)
        fresh = {
            opened: combined.get(opened, _nothing(interval, opened))
            for opened in _opens(interval, run_first, run_last)
        }
        found.update(fresh)
        with _LOCK:
            kept.update({opened: part for opened, part in fresh.items() if part.final_at <= now_ms})
            keeping.trim()
    forming_from = quotes.next_open(interval, ended[-1]) if ended else first
    forming = _combined(interval, read(forming_from - 1, until), now_ms) if forming_from <= until else {}
    return [found[opened] for opened in ended] + list(forming.values())


def _nothing(interval: str, opened: int) -> Part:
    """An interval without stored bars: final once it has ended."""
    return Part(opened, None, quotes.next_open(interval, opened))


def _combined(interval: str, parts: list[Part], now_ms: int) -> dict[int, Part]:
    """`parts` rolled up into `interval` parts by open time: the bars that show combined, final when the
    interval has ended and every part is."""
    members: dict[int, list[Part]] = {}
    for part in parts:
        members.setdefault(quotes.bucket_open(interval, part.open_time), []).append(part)
    shown = [part.bar for part in parts if part.bar is not None]
    bars = {bar.open_time: bar for bar in quotes.aggregate(shown, interval)}
    return {
        opened: Part(
            opened, bars.get(opened), max(_nothing(interval, opened).final_at, *(p.final_at for p in of))
        )
        for opened, of in members.items()
    }


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
    read: PartReader,
) -> PartReader:
    """A reader of `step` parts rolled up (and kept) from `source` parts, for stretches of whole steps."""
    step, source = intervals

    def read_steps(t0: int, t1: int) -> list[Part]:
        opens = (quotes.first_open_from(step, t0 + 1), quotes.bucket_open(step, t1))
        return _rolled(session, symbol, (step, source), timeline, opens, now_ms, read)

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
