"""What a request holds while it waits: the upload is received before a database connection is taken, a
write request reads its time once it holds SQLite's write lock (another worker's writes come before it),
and a request that cannot get the lock in time answers -1007 and writes nothing."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event

from simulator import create_app
from simulator.http import account as account_api
from simulator.http import auth
from simulator.http.state import EXTENSION
from simulator.settings import Settings
from simulator.storage import db as storage_db
from tests.conftest import Signer
from tests.http.test_orders import batch, counts, funded_signer

LIMIT_ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "30000", "quantity": "0.001"}
TIMEOUT = {"code": "-1007", "msg": "Timeout waiting for response from server"}


def sqlite_path(settings: Settings) -> str:
    return settings.db.removeprefix("sqlite:///")


def engine(app: Flask) -> Engine:
    return app.extensions[EXTENSION].database.engine


class WatchedBody(io.BytesIO):
    """A request body that notes, whenever it is read, how many database connections are checked out."""

    def __init__(self, data: bytes, engine: Engine) -> None:
        super().__init__(data)
        self.engine = engine
        self.connections_in_use: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.connections_in_use.append(self.engine.pool.checkedout())
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        self.connections_in_use.append(self.engine.pool.checkedout())
        return super().readinto(buffer)


def send_watched(client: FlaskClient, signer: Signer, method: str, path: str, **params: Any) -> WatchedBody:
    kwargs = signer.ccxt(method, **params)
    data = kwargs.pop("data").encode()
    body = WatchedBody(data, engine(client.application))
    client.open(path, method=method, input_stream=body, content_length=len(data), **kwargs)
    return body


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", "/api/v1.1/spot/order", LIMIT_ORDER),  # a write transaction from the start
        ("POST", "/api/v1/spot/orderTest", LIMIT_ORDER),  # a read transaction, then one of its own
        ("DELETE", "/api/v1/spot/order", {"orderId": "1"}),
        ("POST", "/api/v1/account/assetTransfer", {"coin": "USDT", "quantity": "1"}),
    ],
)
def test_the_upload_is_received_before_any_database_connection_is_taken(client, signer, method, path, params):
    body = send_watched(client, signer, method, path, **params)

    assert body.connections_in_use  # it was read through the stream
    assert set(body.connections_in_use) == {0}


@pytest.fixture
def lock_probe(settings: Settings) -> Iterator[Callable[[], bool]]:
    """Whether some connection holds the database's write lock right now (another connection's BEGIN
    IMMEDIATE fails at once)."""
    probe = sqlite3.connect(sqlite_path(settings), timeout=0, isolation_level=None)

    def locked() -> bool:
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        probe.execute("ROLLBACK")
        return False

    yield locked
    probe.close()


def watch_clock_reads(monkeypatch: pytest.MonkeyPatch, module: Any, locked: Callable[[], bool]) -> list[bool]:
    """Patches `module`'s transport clock to note, at each reading, whether the write lock is held."""
    seen: list[bool] = []
    read = module.transport_now_ms

    def noted() -> int:
        seen.append(locked())
        return read()

    monkeypatch.setattr(module, "transport_now_ms", noted)
    return seen


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", "/api/v1.1/spot/order", LIMIT_ORDER),
        ("POST", "/api/v1/spot/order", LIMIT_ORDER),
        ("DELETE", "/api/v1/spot/order", {"orderId": "1"}),
        ("DELETE", "/api/v1/spot/openOrders", {"symbol": "BTCUSDT"}),
        ("DELETE", "/api/v1/spot/cancelAllOpenOrders", {"symbol": "BTCUSDT"}),
        ("DELETE", "/api/v1/spot/cancelOrderByIds", {"ids": "1"}),
    ],
)
def test_an_order_or_cancel_reads_its_time_holding_the_write_lock(
    client, signer, monkeypatch, lock_probe, method, path, params
):
    seen = watch_clock_reads(monkeypatch, auth, lock_probe)

    client.open(path, method=method, **signer.ccxt(method, **params))

    assert seen == [True]


def test_a_transfer_reads_the_time_it_is_stamped_with_holding_the_write_lock(
    client, signer, account, monkeypatch, lock_probe
):
    sub = next(a for a in account["accounts"] if a.get("keyType") == "sub")
    seen = watch_clock_reads(monkeypatch, account_api, lock_probe)
    params = {"fromAccountId": account["accountId"], "toAccountId": sub["accountId"], "coin": "USDT"}

    response = client.post("/api/v1/account/assetTransfer", **signer.ccxt("POST", **params, quantity="1"))

    assert response.status_code == 200, response.get_json()
    assert seen == [True]


# ---- the lock not had in time ----------------------------------------------------------------------------


@pytest.fixture
def impatient_app(monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., Flask]) -> Flask:
    """An app whose connections wait one second for SQLite's lock rather than thirty."""
    monkeypatch.setattr(storage_db, "SQLITE_BUSY_TIMEOUT_S", 1)
    return make_app()


@contextlib.contextmanager
def write_lock_held(settings: Settings) -> Iterator[None]:
    """Another process's long write transaction (a large import, say) for the block's duration."""
    other = sqlite3.connect(sqlite_path(settings), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_an_order_that_cannot_get_the_write_lock_in_time_is_a_timeout_and_writes_nothing(
    impatient_app, settings
):
    client = impatient_app.test_client()
    signer = funded_signer(client, USDT="1000")
    before = counts(impatient_app)

    with write_lock_held(settings):
        response = client.post("/api/v1.1/spot/order", **signer.ccxt("POST", **LIMIT_ORDER))

    assert (response.status_code, response.get_json()) == (400, TIMEOUT)
    assert counts(impatient_app) == before


def test_each_batch_order_that_cannot_get_the_write_lock_answers_for_itself(impatient_app, settings):
    client = impatient_app.test_client()
    signer = funded_signer(client, USDT="1000")
    before = counts(impatient_app)

    with write_lock_held(settings):
        status, body = batch(client, signer, [LIMIT_ORDER, LIMIT_ORDER])

    assert (status, body["result"]) == (200, [TIMEOUT, TIMEOUT])
    assert counts(impatient_app) == before


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/account", {}),
        ("/api/v1/spot/openOrders", {}),
        ("/api/v1/account/trades", {"symbol": "BTCUSDT"}),
    ],
)
def test_a_signed_read_is_answered_while_another_process_holds_the_write_lock(
    impatient_app, settings, path, params
):
    """Reads take no write lock (nothing for them to move on the market here): a long import does not
    stall a bot's queries."""
    client = impatient_app.test_client()
    signer = funded_signer(client, USDT="1000")

    with write_lock_held(settings):
        response = client.get(path, **signer.ccxt("GET", **params))

    assert response.status_code == 200, response.get_json()


def test_an_app_opens_a_ready_database_while_another_process_holds_the_write_lock(impatient_app, settings):
    """As a serve worker does when it (re)starts during a long import: no schema change nor seed to wait
    for, so no wait (gunicorn stops the whole server when a worker fails to boot)."""
    with write_lock_held(settings):
        app = create_app(settings, apply_clock=False)  # as serve's workers: the master set the clock
        try:
            assert app.test_client().get("/api/v1/exchangeInfo").status_code == 200
        finally:
            app.extensions[EXTENSION].database.dispose()


def test_opening_a_database_that_lacks_an_index_still_adds_it_under_the_lock(settings, make_app):
    make_app()
    with sqlite3.connect(sqlite_path(settings)) as older:
        older.execute("DROP INDEX ix_orders_working")

    make_app()

    with sqlite3.connect(sqlite_path(settings)) as reopened:
        names = {name for (name,) in reopened.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_orders_working" in names


@pytest.fixture
def most_connections_held(client: FlaskClient) -> Iterator[list[int]]:
    """The most pooled connections held at once while the test runs (noted at every checkout)."""
    pool = engine(client.application).pool
    most = [pool.checkedout()]

    def noted(*_: Any) -> None:
        most[0] = max(most[0], pool.checkedout())

    event.listen(pool, "checkout", noted)
    yield most
    event.remove(pool, "checkout", noted)


SUB_ACCOUNT = "<sub>"  # replaced by the account's first sub account
DAY = {"startTime": "<day ago>", "endTime": "<now>"}  # the day up to the order placed first


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/api/v1/account", {}),
        ("GET", "/api/v1/account/type", {}),
        ("GET", "/api/v1/account/balanceFlow", DAY),
        (
            "POST",
            "/api/v1/account/assetTransfer",
            {"fromAccountId": "<main>", "toAccountId": SUB_ACCOUNT, "coin": "USDT", "quantity": "1"},
        ),
        ("GET", "/api/v1/spot/order", {"orderId": "<order>"}),
        ("GET", "/api/v1/spot/openOrders", {}),
        ("GET", "/api/v1/spot/tradeOrders", {}),
        ("GET", "/api/v1/account/trades", {}),
        ("GET", "/api/v1/account/vipInfo", {}),
        ("GET", "/api/v1/spot/subAccount/openOrders", {"subAccountId": SUB_ACCOUNT}),
        ("GET", "/api/v1/spot/subAccount/tradeOrders", {"subAccountId": SUB_ACCOUNT}),
        ("GET", "/api/v1/subAccount/trades", {"subAccountId": SUB_ACCOUNT}),
        ("GET", "/api/v1/account/depositOrders", {}),
        ("GET", "/api/v1/account/withdrawOrders", {}),
        ("GET", "/api/v1/account/fiat/history", {"type": "deposit", **DAY}),
        ("POST", "/api/v1/spot/orderTest", LIMIT_ORDER),
        ("POST", "/api/v1.1/spot/order", LIMIT_ORDER),
        ("POST", "/api/v1.1/spot/batchOrders", {}),
        ("DELETE", "/api/v1/spot/order", {"orderId": "<order>"}),
        ("DELETE", "/api/v1/spot/openOrders", {"symbol": "BTCUSDT"}),
    ],
)
def test_a_request_holds_one_database_connection_at_a_time(
    client, signer, account, most_connections_held, method, path, params
):
    """A request that held one while waiting for another could wait for good: with as many threads as the
    pool has connections, each holding one (-1007 after the pool's timeout)."""
    placed = client.post("/api/v1.1/spot/order", **signer.ccxt("POST", **LIMIT_ORDER)).get_json()
    now = placed["transactTime"]
    sub = next(a for a in account["accounts"] if a.get("keyType") == "sub")["accountId"]
    filled_in = {
        "<main>": account["accountId"],
        "<sub>": sub,
        "<order>": placed["orderId"],
        "<now>": now,
        "<day ago>": str(int(now) - 86_400_000),
    }
    params = {name: filled_in.get(value, value) for name, value in params.items()}
    most_connections_held[0] = 0

    if path.endswith("batchOrders"):
        status, body = batch(client, signer, [LIMIT_ORDER])
    else:
        response = client.open(path, method=method, **signer.ccxt(method, **params))
        status, body = response.status_code, response.get_json()

    assert status == 200, body
    assert most_connections_held[0] == 1
