"""The order, cancel and list endpoints at their edges: each documented limit taken exactly, each window's
bounds inclusive, filters that keep to their symbol, side and account, and answers that name the order they
are about. (Found by mutating services/orders.py and http/orders.py: no other test failed.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.http import test_order_filters, test_orders
from tests.http.test_orders import T0, batch, call, funded_signer, place, step

# Fixtures: the replay app at T0 over the recorded BTCUSDT book, and one with the symbol's filters changed.
app = test_orders.app
filtered_client = test_order_filters.filtered_client

DAY_MS = 86_400_000
LIMIT_BUY = {"side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}


def listed(client, signer, path: str, **params: Any) -> list[str]:
    status, body = call(client, signer, "GET", path, **params)
    assert status == 200, body
    return [order["orderId"] for order in body]


def finished_orders_a_second_apart(app, client, signer, count: int) -> list[str]:
    """`count` orders placed and cancelled at T0, T0 + 1 s, ...; the clock ends a second after the last."""
    ids = []
    for _ in range(count):
        order_id = place(client, signer, **LIMIT_BUY)["orderId"]
        call(client, signer, "DELETE", "/api/v1/spot/order", orderId=order_id)
        ids.append(order_id)
        step(app, 1_000)
    return ids


# --- tradeOrders --------------------------------------------------------------------------------------


def test_trade_orders_reach_back_exactly_90_days(client, signer):
    oldest = T0 - 90 * DAY_MS
    for name in ("startTime", "endTime"):
        assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", **{name: oldest})[0] == 200
        assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", **{name: oldest - 1})[1] == {
            "code": "-2029",
            "msg": "The search is limited to data within the last three months",
        }


def test_trade_orders_take_both_ends_of_the_window(app, client, signer):
    first, second = finished_orders_a_second_apart(app, client, signer, 2)
    path = "/api/v1/spot/tradeOrders"

    assert listed(client, signer, path, endTime=T0) == [first]
    assert listed(client, signer, path, startTime=T0 + 1_000, endTime=T0 + 1_000) == [second]


def test_a_window_walked_by_id_keeps_its_times(app, client, signer, monkeypatch):
    """Past WINDOW_READ_WHOLE orders a window is walked by id, newest first: its times still bound it."""
    from simulator.services import orders  # noqa: PLC0415

    monkeypatch.setattr(orders, "WINDOW_READ_WHOLE", -1)  # every window walked by id
    ids = finished_orders_a_second_apart(app, client, signer, 3)
    path = "/api/v1/spot/tradeOrders"

    assert listed(client, signer, path) == ids[::-1]
    assert listed(client, signer, path, endTime=T0 + 1_000) == ids[:2][::-1]
    assert listed(client, signer, path, startTime=T0 + 1_000) == ids[1:][::-1]


def test_trade_orders_take_a_limit_of_1000_and_no_more(client, signer):
    assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", limit=1000)[0] == 200
    assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", limit=1001)[1] == {
        "code": "-1130",
        "msg": "Illegal parameter 'limit'",
    }


# --- openOrders ---------------------------------------------------------------------------------------


def test_a_partly_filled_resting_order_is_open_not_finished(client):
    signer = funded_signer(client, USDT="10000")
    placed = place(client, signer, side="BUY", type="LIMIT", price="36020", quantity="0.05")  # 0.03 offered

    assert placed["status"] == "PARTIALLY_FILLED"
    _, open_orders = call(client, signer, "GET", "/api/v1/spot/openOrders")
    assert [(o["orderId"], o["status"]) for o in open_orders] == [(placed["orderId"], "PARTIALLY_FILLED")]
    assert listed(client, signer, "/api/v1/spot/tradeOrders") == []


def test_open_orders_list_500_when_no_limit_is_sent(make_app):
    client = make_app(rate_limits=False).test_client()
    signer = funded_signer(client, USDT="100000")
    for _ in range(300):  # maxEntrustNum: 300 open orders a symbol
        place(client, signer, **LIMIT_BUY)
    for _ in range(201):
        place(client, signer, symbol="ETHUSDT", side="BUY", type="LIMIT", price="5000", quantity="0.01")

    assert len(listed(client, signer, "/api/v1/spot/openOrders")) == 500


def test_the_open_order_maximum_counts_this_accounts_orders_of_this_symbol_only(filtered_client):
    _, client = filtered_client({"LIMIT_TRADING": {"maxEntrustNum": 1}})
    mine = funded_signer(client, USDT="1000000")
    other = funded_signer(client, USDT="1000000")
    place(client, other, **LIMIT_BUY)  # another account's open BTCUSDT order
    place(client, mine, symbol="ETHUSDT", side="BUY", type="LIMIT", price="5000", quantity="0.01")

    assert place(client, mine, **LIMIT_BUY)["status"] == "NEW"
    assert call(client, mine, "POST", "/api/v1.1/spot/order", symbol="BTCUSDT", **LIMIT_BUY)[1] == {
        "code": "-2017",
        "msg": "Open orders exceeds the limit of the trading pair",
    }


# --- client order ids -------------------------------------------------------------------------------


def test_another_users_client_order_id_is_neither_a_duplicate_nor_found(client, signer):
    other = funded_signer(client, USDT="1000")
    place(client, other, **LIMIT_BUY, newClientOrderId="same")

    assert call(client, signer, "GET", "/api/v1/spot/order", origClientOrderId="same")[1]["code"] == "0211"
    assert call(client, signer, "DELETE", "/api/v1/spot/order", clientOrderId="same")[1]["code"] == "-1143"
    mine = place(client, signer, **LIMIT_BUY, newClientOrderId="same")
    _, found = call(client, signer, "GET", "/api/v1/spot/order", origClientOrderId="same")
    assert found["orderId"] == mine["orderId"]


def test_a_client_order_id_of_exactly_255_characters_is_taken(client, signer):
    longest = "x" * 255

    placed = place(client, signer, **LIMIT_BUY, newClientOrderId=longest)

    assert placed["clientOrderId"] == longest
    assert (
        call(client, signer, "GET", "/api/v1/spot/order", origClientOrderId=longest)[1]["orderId"]
        == (placed["orderId"])
    )


# --- batches and cancels ----------------------------------------------------------------------------


def test_a_batch_of_exactly_20_orders_is_taken(client, signer):
    status, body = batch(client, signer, [{"symbol": "BTCUSDT", **LIMIT_BUY}] * 20)

    assert status == 200, body
    assert [item["code"] for item in body["result"]] == ["0000"] * 20


def test_a_cancel_answers_the_orders_account_symbol_and_ids(client, signer, account):
    placed = place(client, signer, **LIMIT_BUY, newClientOrderId="edge-1")

    status, body = call(client, signer, "DELETE", "/api/v1/spot/order", orderId=placed["orderId"])

    assert status == 200
    assert (body["accountId"], body["symbol"], body["clientOrderId"], body["orderId"]) == (
        account["accountId"],
        "BTCUSDT",
        "edge-1",
        placed["orderId"],
    )


def test_cancel_by_ids_takes_exactly_100_ids(client, signer):
    ids = ",".join(str(n) for n in range(1, 101))

    status, body = call(client, signer, "DELETE", "/api/v1/spot/cancelOrderByIds", ids=ids)

    assert status == 200 and len(body["result"]) == 100


def test_cancel_by_ids_lists_an_order_already_cancelled_with_its_code(client, signer):
    order_id = place(client, signer, **LIMIT_BUY)["orderId"]
    call(client, signer, "DELETE", "/api/v1/spot/order", orderId=order_id)

    status, body = call(client, signer, "DELETE", "/api/v1/spot/cancelOrderByIds", ids=order_id)

    assert (status, body) == (200, {"code": "0000", "result": [{"orderId": order_id, "code": "-1142"}]})


def test_cancel_by_ids_reads_ids_with_spaces_around_them(client, signer):
    order_id = place(client, signer, **LIMIT_BUY)["orderId"]

    status, body = call(client, signer, "DELETE", "/api/v1/spot/cancelOrderByIds", ids=f" {order_id} , 42")

    assert (status, body) == (200, {"code": "0000", "result": [{"orderId": "42", "code": "0211"}]})
    assert listed(client, signer, "/api/v1/spot/openOrders") == []


@pytest.mark.parametrize("ids", ["{id},,42", "{id},", ",{id}", "{id}, ,42"])
def test_cancel_by_ids_with_an_empty_id_in_the_list_is_refused_whole(client, signer, ids):
    order_id = place(client, signer, **LIMIT_BUY)["orderId"]

    answer = call(client, signer, "DELETE", "/api/v1/spot/cancelOrderByIds", ids=ids.format(id=order_id))

    assert answer == (400, {"code": "-1130", "msg": "Illegal parameter 'ids'"})
    assert listed(client, signer, "/api/v1/spot/openOrders") == [order_id]


def test_cancel_all_open_orders_keeps_to_its_symbol_and_side(client, signer):
    btc_buy = place(client, signer, **LIMIT_BUY)["orderId"]
    btc_sell = place(client, signer, side="SELL", type="LIMIT", price="37000", quantity="0.001")["orderId"]
    eth_buy = place(client, signer, symbol="ETHUSDT", side="BUY", type="LIMIT", price="5000", quantity="0.01")

    _, body = call(
        client, signer, "DELETE", "/api/v1/spot/cancelAllOpenOrders", symbol="BTCUSDT", side="SELL"
    )
    assert body["lastOrderId"] == int(btc_sell)
    assert set(listed(client, signer, "/api/v1/spot/openOrders")) == {btc_buy, eth_buy["orderId"]}

    _, body = call(client, signer, "DELETE", "/api/v1/spot/cancelAllOpenOrders", symbol="ETHUSDT")
    assert body["lastOrderId"] == int(eth_buy["orderId"])
    assert listed(client, signer, "/api/v1/spot/openOrders") == [btc_buy]


def test_cancel_all_open_orders_from_an_order_id_cancels_the_older_ones(client, signer):
    ids = [place(client, signer, **LIMIT_BUY)["orderId"] for _ in range(3)]

    _, body = call(client, signer, "DELETE", "/api/v1/spot/cancelAllOpenOrders", fromOrderId=ids[2])

    assert body["lastOrderId"] == int(ids[0])
    assert listed(client, signer, "/api/v1/spot/openOrders") == [ids[2]]


def test_cancel_all_open_orders_of_a_symbol_the_venue_does_not_list_is_0201(client, signer):
    order_id = place(client, signer, **LIMIT_BUY)["orderId"]

    answer = call(client, signer, "DELETE", "/api/v1/spot/cancelAllOpenOrders", symbol="NOPEUSDT")

    assert answer == (400, {"code": "0201", "msg": "Instrument not found"})
    assert listed(client, signer, "/api/v1/spot/openOrders") == [order_id]


# --- answers -------------------------------------------------------------------------------------------


def test_an_order_query_ends_with_the_documents_last_fields_in_its_order(client, signer):
    order_id = place(client, signer, **LIMIT_BUY)["orderId"]

    _, body = call(client, signer, "GET", "/api/v1/spot/order", orderId=order_id)

    assert list(body)[-6:] == ["reqAmount", "feeCoin", "feeAmount", "sumFeeAmount", "ordCxlReason", "stpMode"]


def test_fills_show_their_quantity_plain_whatever_form_the_order_was_sent_in(client, signer):
    place(client, signer, side="BUY", type="MARKET", quantity="2.000e-2")  # 0.01 at 36010, 0.01 at 36020

    _, fills = call(client, signer, "GET", "/api/v1/account/trades", symbol="BTCUSDT")

    assert sorted(fill["qty"] for fill in fills) == ["0.01", "0.01"]
