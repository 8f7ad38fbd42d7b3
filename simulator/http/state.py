"""What an app instance holds besides Flask's own state: settings, database, rate limiters."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.orm import Session

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain.ratelimit import Limit, WindowCounter, describe_window
from simulator.services import market
from simulator.settings import Settings
from simulator.storage.db import Database

EXTENSION = "hashkey_sim"


class RateLimits:
    """Request weight per IP and per key (0003), new orders per key and per IP (-1015); all switchable off.

    Counters live in the process: with `serve --workers N` each worker counts on its own.
    """

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits
        self.ip_weight = WindowCounter(Limit(settings.ip_weight_limit, settings.weight_window_ms))
        self.key_weight = WindowCounter(Limit(settings.key_weight_limit, settings.weight_window_ms))
        self.orders = WindowCounter(Limit(settings.order_limit, settings.order_window_ms))

    def charge_ip(self, address: str, weight: int, now_ms: int) -> None:
        if self.enabled and not self.ip_weight.try_consume(address, weight, now_ms):
            raise errors.RateLimitExceeded()

    def charge_key(self, api_key: str, weight: int, now_ms: int) -> None:
        if self.enabled and not self.key_weight.try_consume(api_key, weight, now_ms):
            raise errors.RateLimitExceeded()

    def count_order(self, api_key: str, address: str, now_ms: int, orders: int = 1) -> None:
        """`orders` new orders (a batch counts each of its orders), refused together or allowed together."""
        if not self.enabled:
            return
        # Orders count against the key and the IP together, or (refused) against neither.
        if not self.orders.try_consume_each((f"key:{api_key}", f"ip:{address}"), orders, now_ms):
            limit = self.orders.limit
            raise errors.TooManyNewOrders(limit=limit.amount, interval=describe_window(limit.window_ms))


@dataclass
class SimState:
    settings: Settings
    database: Database
    limits: RateLimits
    admin_token: str
    coin_names: dict[str, str]  # coins come from fixtures when the database is seeded and never change


def current_sim() -> SimState:
    return current_app.extensions[EXTENSION]


@contextlib.contextmanager
def caught_up() -> Iterator[Session]:
    """A read transaction begun after the market (resting orders, orders on their way, the wallet's
    deposits and withdrawals) was brought up to the clock's now (`market_now`)."""
    market_now()
    with current_sim().database.read() as session:
        yield session


def market_now(symbols: Iterable[str] | None = None) -> market.MarketNow:
    """`market.catch_up` (of `symbols`, else every symbol) at this request's now, once the read transaction
    authentication kept for the view has ended (`end_authentication_read`)."""
    end_authentication_read()
    sim = current_sim()
    return market.catch_up(sim.database, sim.settings, transport_now_ms(), symbols)


def end_authentication_read() -> None:
    """End the read transaction authentication kept for the view (`g.read_session`, auth.Tx.READ) before
    the view catches the market up: held, its pooled connection waited with the request for the catch-up's
    (with as many requests at once as the pool has connections, each holding one, all waited until the
    pool's timeout, -1007), and its snapshot, open across the catch-up's commit, kept SQLite from
    checkpointing the WAL. The view reads what follows in transactions of its own."""
    session = g.pop("read_session", None)
    if session is not None:
        session.rollback()
