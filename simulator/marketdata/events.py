"""A symbol's recorded events in a time range, in the order the matching engine applies them.

At equal times a depth snapshot comes first, then the best bid/offer, then trades (in the store's order),
then bars that complete at that millisecond: the book a trade printed against is in place before the
trade, and a bar is used only once it is complete (the millisecond after its close time: `completes_at`),
when klines and tickers show it too, so nothing looks ahead.
A bar is an event only where it is all that was recorded of its span (see `_bars_completing`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, select

from simulator.marketdata import store
from simulator.marketdata.records import INTERVAL_MS, Bbo, Depth, Kline, Trade
from simulator.storage.tables import MarketBbo, MarketDepth, MarketKline

RANK_DEPTH, RANK_BBO, RANK_TRADE, RANK_BAR = range(4)

_depth = MarketDepth.__table__.c
_bbo = MarketBbo.__table__.c
_kline = MarketKline.__table__.c
_symbol, _t0, _t1 = bindparam("symbol"), bindparam("t0"), bindparam("t1")
DEPTHS_BETWEEN = (
    select(_depth.time, _depth.bids, _depth.asks)
    .where(_depth.symbol == _symbol, _depth.time > _t0, _depth.time <= _t1)
    .order_by(_depth.time)
)
BBOS_BETWEEN = (
    select(_bbo.time, _bbo.bid_price, _bbo.bid_qty, _bbo.ask_price, _bbo.ask_qty)
    .where(_bbo.symbol == _symbol, _bbo.time > _t0, _bbo.time <= _t1)
    .order_by(_bbo.time)
)


@dataclass(frozen=True, slots=True)
class MarketEvent:
    time: int  # recording time: when a bar completes (`completes_at`), every other record's own time
    rank: int
    record: Depth | Bbo | Trade | Kline

    @property
    def key(self) -> tuple[int, int]:
        return (self.time, self.rank)


def events_between(db: store.Executor, symbol: str, t0: int, t1: int, interval: str) -> list[MarketEvent]:
    """Every depth snapshot, bbo and trade with t0 < time <= t1, and every bar of `interval` that completes
    in (t0, t1] (final or not: `store.last_complete_bar`) and over whose span no trade or depth snapshot
    was recorded, in the engine's order."""
    params = {"symbol": symbol, "t0": t0, "t1": t1}
    found = [
        MarketEvent(row.time, RANK_DEPTH, Depth(symbol, row.time, _levels(row.bids), _levels(row.asks)))
        for row in db.execute(DEPTHS_BETWEEN, params)
    ]
    found += [
        MarketEvent(
            row.time,
            RANK_BBO,
            Bbo(
                symbol,
                row.time,
                Decimal(row.bid_price),
                Decimal(row.bid_qty),
                Decimal(row.ask_price),
                Decimal(row.ask_qty),
            ),
        )
        for row in db.execute(BBOS_BETWEEN, params)
    ]
    found += [MarketEvent(t.time, RANK_TRADE, t) for t in store.trades_between(db, symbol, t0, t1)]
    found += [
        MarketEvent(bar.completes_at, RANK_BAR, bar) for bar in _bars_completing(db, symbol, interval, t0, t1)
    ]
    found.sort(key=lambda e: e.key)  # stable: trades keep the store's order within a millisecond
    return found


def _bars_completing(db: store.Executor, symbol: str, interval: str, t0: int, t1: int) -> list[Kline]:
    """The bars completing in (t0, t1] over which nothing finer was recorded. A bar sums the trades of
    its span: where they (or depth snapshots) were recorded too, they fill resting orders themselves, and
    the bar would fill them a second time on the same volume."""
    length = INTERVAL_MS[interval]  # the engine walks fixed-length bars only (1M is not a matching interval)
    # completes_at = open + length, so a completion in (t0, t1] is an open in (t0 - length, t1 - length]
    bars = store.klines(db, symbol, interval, t0 - length, t1 - length)
    return [
        bar
        for bar in bars
        if t0 < bar.completes_at <= t1
        and not store.trades_or_depth_within(db, symbol, bar.open_time, bar.close_time)
    ]


def _levels(text: str) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(price), Decimal(qty)) for price, qty in json.loads(text))
