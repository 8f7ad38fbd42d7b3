"""The market side of the simulator: the matching engine as the settings and the clock make it, and moving
the market — applying every symbol's recorded events to its resting orders up to the clock's time.

This is the Python API tests drive a step-mode clock with (`step_clock`), and what the admin API calls.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from simulator.domain.clock import ClockMode, MarketClock
from simulator.domain.matching.model import FillModel
from simulator.domain.timeline import Timeline
from simulator.marketdata import store
from simulator.services import instruments, trading, wallet
from simulator.services.clock import read_clock, write_clock
from simulator.settings import Settings
from simulator.storage.db import Database


def fill_model(settings: Settings) -> FillModel:
    return FillModel(
        depth_staleness_ms=settings.fill_depth_staleness_ms,
        bbo_staleness_ms=settings.fill_bbo_staleness_ms,
        synthetic_half_spread=settings.fill_synthetic_half_spread,
        synthetic_volume_share=settings.fill_synthetic_volume_share,
        kline_interval=settings.fill_kline_interval,
        kline_touch_fills=settings.fill_kline_touch,
        kline_volume_share=settings.fill_kline_volume_share,
        queue_model=settings.fill_queue_model,
        order_latency_ms=settings.order_latency_ms,
    )


def engine(session: Session, settings: Settings, clock: MarketClock) -> trading.Engine:
    """Replay plays the recording at its own times; live plays it shifted to now and looped."""
    timeline = Timeline.identity()
    if clock.mode is ClockMode.LIVE:
        span = _recording_span(session)
        if span is not None:
            timeline = Timeline.looped(*span)
    return trading.Engine(fill_model(settings), timeline)


# database engine -> (store version, span): every live request needs the span, which takes a few dozen
# queries to find; it is found again only when the store's version says rows were written since
_SPANS: weakref.WeakKeyDictionary[Any, tuple[int, tuple[int, int] | None]] = weakref.WeakKeyDictionary()


def _recording_span(session: Session) -> tuple[int, int] | None:
    bind = session.get_bind()
    database_engine = bind.engine if isinstance(bind, Connection) else bind
    current = store.version(session)
    cached = _SPANS.get(database_engine)
    if cached is None or cached[0] != current:
        cached = (current, store.event_span(session))
        _SPANS[database_engine] = cached
    return cached[1]


def advance_market(database: Database, settings: Settings, to_ms: int) -> None:
    """Bring every symbol with resting orders, or orders and cancels on their way to the matcher, and the
    wallet's deposits, withdrawals and fiat orders up to market time `to_ms`, the symbols together in one
    transaction (in time order across them: `trading.advance_symbols`; it locks them, so concurrent callers
    never apply an event twice)."""
    with database.read() as session:
        symbols = trading.symbols_to_advance(session)
        built = engine(session, settings, read_clock(session))
        wallet_due = wallet.anything_due(session, to_ms)
    if symbols:
        with database.write() as session:
            trading.advance_symbols(session, symbols, to_ms, built)
    if wallet_due:  # deposits, withdrawals and fiat orders due on the way
        with database.write() as session:
            wallet.advance(session, to_ms)


@dataclass(frozen=True)
class MarketNow:
    """The market as a request sees it: the clock's time and the engine built for it."""

    now_ms: int
    engine: trading.Engine


def catch_up(
    database: Database, settings: Settings, transport_now_ms: int, symbols: Iterable[str] | None = None
) -> MarketNow:
    """Bring the market up to the clock's now before a request reads or trades: every symbol (or those of
    `symbols`) whose resting orders, or orders and cancels on their way, are behind now; and the deposits,
    withdrawals and fiat orders due by now. Symbols already at now cost one read and take no write lock.
    Read what changed in a transaction begun after this. A symbol the venue does not list raises
    InstrumentNotFound before anything is written."""
    with database.read() as session:
        for symbol in symbols or ():
            instruments.instrument_row(session, symbol)
        clock = read_clock(session)
        now = clock.now_ms(transport_now_ms)
        built = engine(session, settings, clock)
        behind = trading.symbols_behind(session, now)
        wallet_due = wallet.anything_due(session, now)
    wanted = behind if symbols is None else [s for s in behind if s in set(symbols)]
    if wanted:
        with database.write() as session:
            trading.advance_symbols(session, wanted, now, built)
    if wallet_due:
        with database.write() as session:
            wallet.advance(session, now)
    return MarketNow(now, built)


def next_event_time(session: Session, now_ms: int) -> int | None:
    """The market time of the next thing to happen after `now_ms` on a replay clock (the recording plays at
    its own times): a recorded event, an order or cancel reaching the matcher, or a deposit, withdrawal or
    fiat order moving on."""
    recorded = store.next_event_time(session, None, now_ms)
    scheduled = trading.next_scheduled_time(session, now_ms)
    wallet_step = wallet.next_due_time(session, now_ms)
    found = [t for t in (recorded, scheduled, wallet_step) if t is not None]
    return min(found) if found else None


def set_clock(session: Session, clock: MarketClock, transport_now_ms: int) -> MarketClock:
    """Set the market clock (the admin API, `serve --clock/--start` on a database in use). Set back before
    where the market had got to, the recording plays again from the new time (`trading.rewind`; a
    ClockError, and nothing changed, before the newest change of an order or move up its queue)."""
    trading.rewind(session, clock.now_ms(transport_now_ms))
    return write_clock(session, clock)


def step_clock(
    database: Database, settings: Settings, transport_now_ms: int, advance_ms: int | None = None
) -> MarketClock:
    """Step mode: move a replay clock forward by `advance_ms`, or to the next market event when None, and
    apply what happened on the way. Returns the new clock."""
    with database.write() as session:
        clock = read_clock(session)
        if advance_ms is None:
            advance_ms = _to_next_event(session, clock, transport_now_ms)
        clock = write_clock(session, clock.advanced(advance_ms, transport_now_ms))
    advance_market(database, settings, clock.now_ms(transport_now_ms))
    return clock


def _to_next_event(session: Session, clock: MarketClock, transport_now_ms: int) -> int:
    """How far step mode's nextEvent moves the clock; 0 with nothing ahead. A live clock plays the recording
    looped to now and is never stepped: `advanced` refuses it."""
    if clock.mode is ClockMode.LIVE:
        return 0
    now = clock.now_ms(transport_now_ms)
    target = next_event_time(session, now)
    return 0 if target is None else max(0, target - now)
