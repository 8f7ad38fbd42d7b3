"""Reading and setting the market clock, whose state is a database row shared by every worker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from simulator.domain.clock import ClockMode, MarketClock
from simulator.storage import statements
from simulator.storage.db import scalar_for_update
from simulator.storage.tables import SimClock

_clock = SimClock.__table__.c
_CLOCK = statements.prepare(
    select(_clock.mode, _clock.market_anchor_ms, _clock.transport_anchor_ms, _clock.speed).where(
        _clock.id == 1
    )
)


def read_clock(session: Session) -> MarketClock:
    """Every request asks: a prebuilt statement (`storage.statements`)."""
    row = statements.run(session, _CLOCK).first()
    if row is None:  # a database seeded by nothing yet: the clock is live
        return MarketClock.live(0)
    return _to_domain(row)


def write_clock(session: Session, clock: MarketClock) -> MarketClock:
    row = scalar_for_update(session, SimClock, 1)
    if row is None:
        row = SimClock(id=1)
        session.add(row)
    row.mode = clock.mode.value
    row.market_anchor_ms = clock.market_anchor_ms
    row.transport_anchor_ms = clock.transport_anchor_ms
    row.speed = clock.speed
    return clock


def _to_domain(row: Any) -> MarketClock:
    return MarketClock(ClockMode(row.mode), row.market_anchor_ms, row.transport_anchor_ms, row.speed)
