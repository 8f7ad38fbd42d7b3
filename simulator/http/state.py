"""What an app instance holds besides Flask's own state: settings, database, rate limiters."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from flask import current_app
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
    deposits and withdrawals) was brought up to the clock's now."""
    sim = current_sim()
    market.catch_up(sim.database, sim.settings, transport_now_ms())
    with sim.database.read() as session:
        yield session
