"""A `hashkey-sim serve` killed outright (SIGKILL to gunicorn's master and both workers) while clients
trade leaves a database whose books reconcile: every balance is its ledger, locked funds are what working
orders hold, every order's executed quantity is its fills. Serve starts again on it and the orders left
open can be cancelled.

The server is conftest.py's replay server with two gevent workers and no rate limits; four clients each
rest LIMIT orders, take recorded liquidity with MARKET orders both ways and cancel, until the kill.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import SortedQueryClient, serve_replay

pytestmark = pytest.mark.e2e

CLIENTS = 4
ANSWERS_BEFORE_THE_KILL = 150
LOAD_LIMIT_S = 20
ORDER = "/api/v1.1/spot/order"


def test_a_server_killed_while_clients_trade_leaves_books_that_reconcile(tmp_path, demo_database_template):
    settings = {"HASHKEY_SIM_WORKERS": "2", "HASHKEY_SIM_RATE_LIMITS": "false"}  # the load outruns the limits
    served = serve_replay(tmp_path, demo_database_template, settings)
    server = next(served)
    try:
        clients = [
            SortedQueryClient(server.base_url, a["apiKey"], a["secretKey"])
            for a in (server.create_account({"USDT": "100000", "BTC": "2"}) for _ in range(CLIENTS))
        ]
        load = Load(clients)
        load.wait_for(ANSWERS_BEFORE_THE_KILL)
        kill_tree(server.process.pid)
        endings = load.join()
    finally:
        served.close()
    working_after_the_kill = reconcile(tmp_path / "sim.db")

    restarted = serve_replay(tmp_path, None)
    server = next(restarted)
    try:
        for client in clients:
            client.base_url = server.base_url
            cancelled = client.send("DELETE", "/api/v1/spot/openOrders", symbol="BTCUSDT")
            assert (cancelled.status_code, cancelled.json()) == (200, {"success": True})
        locked = [b["locked"] for c in clients for b in c.send("GET", "/api/v1/account").json()["balances"]]
    finally:
        restarted.close()

    assert endings == ["connection lost"] * CLIENTS  # no client stopped for any other reason
    assert load.refusals == []
    assert working_after_the_kill > 0
    assert reconcile(tmp_path / "sim.db") == 0
    assert set(locked) == {"0"}


class Load:
    """A thread per client, trading in a loop until its connection fails; counts what was answered."""

    def __init__(self, clients: list[SortedQueryClient]) -> None:
        self.answered = 0
        self.refusals: list[str] = []  # every answer but 200: none of these requests should be refused
        self.endings: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._trade, args=(c,), daemon=True) for c in clients]
        for thread in self._threads:
            thread.start()

    def wait_for(self, answers: int) -> None:
        deadline = time.monotonic() + LOAD_LIMIT_S
        while self.answered < answers:
            assert time.monotonic() < deadline, f"only {self.answered} answers in {LOAD_LIMIT_S} s"
            time.sleep(0.01)

    def join(self) -> list[str]:
        for thread in self._threads:
            thread.join(timeout=LOAD_LIMIT_S)
        return self.endings

    def _trade(self, client: SortedQueryClient) -> None:
        n = 0
        try:
            while True:  # until this client's connection fails
                n += 1
                method, path, params = next_request(n)
                self._record(client.send(method, path, **params))
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):  # refused, or cut off
            ending = "connection lost"
        except Exception as e:  # noqa: BLE001 - shown by the test's assertion
            ending = repr(e)
        with self._lock:
            self.endings.append(ending)

    def _record(self, response: requests.Response) -> None:
        with self._lock:
            self.answered += 1
            if response.status_code != 200:
                self.refusals.append(f"{response.status_code} {response.text}")


def next_request(n: int) -> tuple[str, str, dict[str, str]]:
    """The n-th request of a client: a LIMIT buy and sell that rest, MARKET buys and sells of the recorded
    book, and now and then a cancel of its open orders (a dozen rest between cancels)."""
    common = {"symbol": "BTCUSDT", "quantity": "0.001"}
    kind = n % 5
    if kind == 0:
        return ("DELETE", "/api/v1/spot/openOrders", {"symbol": "BTCUSDT"}) if n % 30 == 0 else (
            "POST", ORDER, {**common, "side": "SELL", "type": "MARKET"})  # fmt: skip
    if kind == 1:
        return "POST", ORDER, {**common, "side": "BUY", "type": "LIMIT", "price": str(90000 + n % 100)}
    if kind == 2:
        return "POST", ORDER, {**common, "side": "BUY", "type": "MARKET"}
    if kind == 3:
        return "POST", ORDER, {**common, "side": "SELL", "type": "LIMIT", "price": str(99000 + n % 100)}
    return "GET", "/api/v1/spot/openOrders", {"symbol": "BTCUSDT"}


def kill_tree(pid: int) -> None:
    """SIGKILL to `pid` and every process under it, collected first so that none is missed."""
    tree = [pid]
    for parent in tree:
        tree.extend(children(parent))
    for member in tree:
        os.kill(member, signal.SIGKILL)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # it ended meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def reconcile(path: Path) -> int:
    """Assert the books reconcile; how many orders are working."""
    with sqlite3.connect(path) as db:
        ledger: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for account, asset, change in db.execute("SELECT account_id, asset, change FROM ledger_entries"):
            ledger[(account, asset)] += Decimal(change)
        fills: dict[str, Decimal] = defaultdict(Decimal)
        for order_id, qty in db.execute("SELECT order_id, qty FROM fills"):
            fills[order_id] += Decimal(qty)
        held: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        working = 0
        for order_id, account, status, executed, asset, left in db.execute(
            "SELECT order_id, account_id, status, executed_qty, locked_asset, locked_left FROM orders"
        ):
            assert Decimal(executed) == fills[order_id], order_id
            held[(account, asset)] += Decimal(left)
            working += status in ("NEW", "PARTIALLY_FILLED")
            assert status in ("NEW", "PARTIALLY_FILLED") or Decimal(left) == 0, order_id
        balances = {(a, s): (Decimal(f), Decimal(lk)) for a, s, f, lk in db.execute(
            "SELECT account_id, asset, free, locked FROM balances")}  # fmt: skip
    assert set(ledger) <= set(balances)
    for key, (free, locked) in balances.items():
        assert free >= 0 and locked >= 0, key
        assert free + locked == ledger[key], key  # opening balances are ledger entries too
        assert locked == held[key], key
    return working
