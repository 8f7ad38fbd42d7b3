"""Orders that race each other through a real `hashkey-sim serve` with two worker processes, under both
worker classes: concurrent requests of one account cannot lock more than it holds, cancel an order twice,
open two orders under one client order id, or take the same recorded liquidity twice; cancels racing the
fill of their order leave it either filled or cancelled, never both. Every answer is the order or the
venue's refusal, never a server error.

The server is conftest.py's replay server (BTCUSDT's asks there start 95726.78 x 0.45672, 95726.79 x
1.02009, 95726.84 x 1.00892), with HASHKEY_SIM_WORKERS=2 and the worker class of the parameter.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import (
    CLIENT_TIMEOUT_S,
    REPLAY_ADMIN_TOKEN,
    ReplayServer,
    SortedQueryClient,
    serve_replay,
)

pytestmark = pytest.mark.e2e

RACERS = 12
ORDER = "/api/v1.1/spot/order"
CANCEL = "/api/v1/spot/order"
ASKS = [(Decimal("95726.78"), Decimal("0.45672")), (Decimal("95726.79"), Decimal("1.02009"))]
WORKER_CLASSES = ["gevent", "gthread"]


@pytest.fixture(scope="module", params=WORKER_CLASSES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_database_template: Path
) -> Iterator[ReplayServer]:
    """Shared by the tests of a worker class that leave the clock where it is."""
    folder = tmp_path_factory.mktemp(f"two-{request.param}-workers")
    yield from serve_two_workers(folder, demo_database_template, request.param)


@pytest.fixture(params=WORKER_CLASSES)
def own_server(
    request: pytest.FixtureRequest, tmp_path: Path, demo_database_template: Path
) -> Iterator[ReplayServer]:
    """For a test that moves the clock."""
    yield from serve_two_workers(tmp_path, demo_database_template, request.param)


def serve_two_workers(folder: Path, template: Path, worker_class: str) -> Iterator[ReplayServer]:
    settings = {"HASHKEY_SIM_WORKERS": "2", "HASHKEY_SIM_WORKER_CLASS": worker_class}
    yield from serve_replay(folder, template, settings)


def client_of(server: ReplayServer, balances: dict[str, str]) -> SortedQueryClient:
    account = server.create_account(balances)
    return SortedQueryClient(server.base_url, account["apiKey"], account["secretKey"])


def race(calls: list[Callable[[], requests.Response]]) -> list[tuple[int, dict[str, Any]]]:
    """Every call at once (each thread waits at a barrier, then sends): (status, JSON body) of each."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> tuple[int, dict[str, Any]]:
        start.wait(timeout=10)
        response = call()
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def outcomes(answers: list[tuple[int, dict[str, Any]]]) -> dict[str, int]:
    """How many answers were an order of each status, or a refusal of each code."""
    counted: dict[str, int] = defaultdict(int)
    for status, body in answers:
        counted[body["status"] if status == 200 else f"{status} {body['code']}"] += 1
    return dict(counted)


def balance(client: SortedQueryClient, asset: str) -> tuple[str, str]:
    balances = client.send("GET", "/api/v1/account").json()["balances"]
    return next((b["free"], b["locked"]) for b in balances if b["asset"] == asset)


def test_racing_buys_lock_no_more_than_the_balance(server):
    client = client_of(server, {"USDT": "1000"})
    buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "90000", "quantity": "0.003"}

    answers = race([lambda: client.send("POST", ORDER, **buy)] * RACERS)

    assert outcomes(answers) == {"NEW": 3, "400 0401": RACERS - 3}  # 270 USDT each, 1000 held
    assert balance(client, "USDT") == ("190", "810")
    assert len(client.send("GET", "/api/v1/spot/openOrders").json()) == 3


def test_racing_cancels_of_one_order_release_its_lock_once(server):
    client = client_of(server, {"USDT": "1000"})
    placed = client.send(
        "POST", ORDER, symbol="BTCUSDT", side="BUY", type="LIMIT", price="90000", quantity="0.01"
    ).json()

    answers = race([lambda: client.send("DELETE", CANCEL, orderId=placed["orderId"])] * RACERS)

    assert outcomes(answers) == {"NEW": 1, "400 -1142": RACERS - 1}  # the order as the cancel found it
    assert balance(client, "USDT") == ("1000", "0")


def test_racing_orders_with_one_client_order_id_open_one(server):
    client = client_of(server, {"USDT": "10000"})
    buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "90000", "quantity": "0.001"}

    answers = race([lambda: client.send("POST", ORDER, newClientOrderId="same", **buy)] * RACERS)

    assert outcomes(answers) == {"NEW": 1, "400 -1141": RACERS - 1}
    assert balance(client, "USDT") == ("9910", "90")


def test_racing_market_buys_take_each_recorded_level_once(server):
    clients = [client_of(server, {"USDT": "30000"}) for _ in range(8)]
    each = Decimal("0.3")  # 2.4 in all: the first two levels (1.47681), then 0.92319 of the third

    answers = race([lambda c=c: c.send("POST", ORDER, symbol="BTCUSDT", side="BUY", type="MARKET",
                                       quantity=str(each)) for c in clients])  # fmt: skip
    taken: dict[Decimal, Decimal] = defaultdict(Decimal)
    for client in clients:
        for fill in client.send("GET", "/api/v1/account/trades", symbol="BTCUSDT").json():
            taken[Decimal(fill["price"])] += Decimal(fill["qty"])

    assert outcomes(answers) == {"FILLED": 8}
    assert dict(taken) == {**dict(ASKS), Decimal("95726.84"): 8 * each - sum(qty for _, qty in ASKS)}


def test_cancels_racing_the_fill_of_their_order_leave_one_outcome(own_server):
    client = client_of(own_server, {"USDT": "1000"})
    # the best bid, one tick below the ask: a recorded trade fills it within the next 6 s of the recording
    placed = client.send(
        "POST", ORDER, symbol="BTCUSDT", side="BUY", type="LIMIT", price="95726.77", quantity="0.001"
    ).json()
    advance = lambda: requests.post(  # noqa: E731
        f"{own_server.base_url}/sim/v1/clock",
        json={"advanceMs": 6000},
        headers={"X-SIM-ADMIN-TOKEN": REPLAY_ADMIN_TOKEN},
        timeout=CLIENT_TIMEOUT_S,
    )
    cancel = lambda: client.send("DELETE", CANCEL, orderId=placed["orderId"])  # noqa: E731

    clock, *cancels = race([advance] + [cancel] * (RACERS - 1))
    final = client.send("GET", CANCEL, orderId=placed["orderId"]).json()
    trades = client.send("GET", "/api/v1/account/trades", symbol="BTCUSDT").json()

    assert clock[0] == 200
    if final["status"] == "FILLED":
        assert outcomes(cancels) == {"400 -1139": RACERS - 1}
        assert [(t["price"], t["qty"]) for t in trades] == [("95726.77", "0.001")]
        fee = Decimal(trades[0]["commission"])  # BTC, on what the buy received
        assert balance(client, "USDT") == ("904.27323", "0")
        assert balance(client, "BTC") == (str(Decimal("0.001") - fee), "0")
    else:
        assert (final["status"], final["executedQty"]) == ("CANCELED", "0")
        assert outcomes(cancels) == {"NEW": 1, "400 -1142": RACERS - 2}
        assert trades == []
        assert balance(client, "USDT") == ("1000", "0")
