"""The other common way of signing, against a real server: every parameter in the query string, keys
sorted, `signature` appended — for POST and DELETE too, with no body (what many hand-written connectors
and some SDKs send). Create, query and cancel an order; fill another against the recorded book.

The server is conftest.py's replay server: BTCUSDT's best ask there is 95726.78 x 0.45672.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.conftest import REPLAY_START_MS, ReplayServer, SortedQueryClient

pytestmark = pytest.mark.e2e

ORDER = "/api/v1/spot/order"
ORDER_V1_1 = "/api/v1.1/spot/order"  # where a MARKET BUY's quantity is base asset (on v1 it is quote)


@pytest.fixture
def client(replay_server: ReplayServer) -> SortedQueryClient:
    account = replay_server.create_account({"USDT": "10000", "BTC": "1"})
    return SortedQueryClient(replay_server.base_url, account["apiKey"], account["secretKey"])


def ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def test_create_query_and_cancel_a_limit_order(client):
    created = ok(
        client.send(
            "POST",
            ORDER,
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.01",
            price="90000",
            newClientOrderId="sorted-1",
        )
    )
    order_id = created["orderId"]
    queried = ok(client.send("GET", ORDER, orderId=order_id))
    queried_by_client_id = ok(client.send("GET", ORDER, origClientOrderId="sorted-1"))
    canceled = ok(client.send("DELETE", ORDER, orderId=order_id))
    after_cancel = ok(client.send("GET", ORDER, orderId=order_id))
    balances = ok(client.send("GET", "/api/v1/account"))["balances"]

    assert {k: created[k] for k in ("symbol", "clientOrderId", "transactTime", "price", "origQty")} == {
        "symbol": "BTCUSDT",
        "clientOrderId": "sorted-1",
        "transactTime": str(REPLAY_START_MS),
        "price": "90000",
        "origQty": "0.01",
    }
    assert (created["executedQty"], created["status"], created["type"], created["side"]) == (
        "0",
        "NEW",
        "LIMIT",
        "BUY",
    )
    assert queried == queried_by_client_id
    assert (queried["orderId"], queried["status"], queried["executedQty"]) == (order_id, "NEW", "0")
    assert (canceled["orderId"], canceled["status"]) == (order_id, "NEW")  # as the cancel found it
    assert (after_cancel["status"], after_cancel["ordCxlReason"]) == ("CANCELED", "USER_CANCEL")
    assert {b["asset"]: (b["free"], b["locked"]) for b in balances} == {
        "BTC": ("1", "0"),
        "USDT": ("10000", "0"),
    }


def test_a_market_buy_fills_at_the_recorded_ask_and_cannot_be_canceled(client):
    created = ok(
        client.send("POST", ORDER_V1_1, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.05")
    )
    queried = ok(client.send("GET", ORDER, orderId=created["orderId"]))
    cancel = client.send("DELETE", ORDER, orderId=created["orderId"])

    assert (created["status"], created["executedQty"]) == ("FILLED", "0.05")
    assert (queried["avgPrice"], queried["cummulativeQuoteQty"]) == ("95726.78", "4786.339")
    assert (cancel.status_code, cancel.json()) == (400, {"code": "-1139", "msg": "Order has been filled"})


def test_a_tampered_sorted_query_is_refused(client):
    signed = client.query_string(symbol="BTCUSDT", side="BUY", type="LIMIT", quantity="0.01", price="90000")
    tampered = signed.replace("quantity=0.01", "quantity=0.02")

    response = client.send_raw("POST", ORDER, tampered)

    assert (response.status_code, response.json()) == (400, {"code": "0001", "msg": "Incorrect signature"})
    assert ok(client.send("GET", "/api/v1/spot/openOrders")) == []
