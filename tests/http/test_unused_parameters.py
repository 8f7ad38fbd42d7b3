"""Parameters a client sends without meaning them: sent empty (`symbol=`), or, for the filters and limits
of lists, as zero (`fromOrderId=0`, `limit=0`). Clients that build requests from typed fields send every
field (a Go client's structs, XChange's `long`s), and the venue, whose API descends from the BHEX broker
API that defaults such values, reads them as not sent. Each is answered exactly as the same request
without it; a required parameter sent empty, a parameter named twice and a negative number stay errors."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from simulator.marketdata.records import Kline, Trade
from tests.conftest import now_ms
from tests.http.test_auth import frozen_at, signed_query
from tests.http.test_orders import BOOK, MINUTE, T0, call, counts, place, record

WHOLE_MINUTE = T0 - T0 % MINUTE
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}


@pytest.fixture
def app(make_app):
    """Replay mode at T0, moving only when told, over a BTCUSDT book, prints and minute bars."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))
    bars = [
        Kline("BTCUSDT", "1m", t, t + MINUTE - 1, D("36000"), D("36050"), D("35950"), D("36005"), D("2"))
        for t in range(WHOLE_MINUTE - 30 * MINUTE, WHOLE_MINUTE, MINUTE)
    ]
    prints = [
        Trade("BTCUSDT", T0 - 1000 * i, D("36005"), D("0.01"), i % 2 == 0, f"t{i}") for i in range(1, 6)
    ]
    record(app, BOOK, *bars, *prints)
    return app


@pytest.fixture
def history(client, signer) -> dict[str, Any]:
    """Two resting orders and a MARKET buy that filled: something in every list."""
    resting = [place(client, signer, **ORDER)["orderId"] for _ in range(2)]
    filled = place(client, signer, side="BUY", type="MARKET", quantity="0.001")
    return {"resting": resting, "filled": filled["orderId"]}


SIGNED_LISTS_WITH_EMPTY_PARAMETERS = [
    ("/api/v1/account", {}, ("accountId", "recvWindow")),
    ("/api/v1/spot/openOrders", {}, ("symbol", "side", "fromOrderId", "limit", "accountId")),
    ("/api/v1/spot/tradeOrders", {}, ("symbol", "side", "fromOrderId", "startTime", "endTime", "limit")),
    (
        "/api/v1/account/trades",
        {},
        ("symbol", "startTime", "endTime", "clientOrderId", "fromId", "toId", "limit", "accountId"),
    ),
    ("/api/v1/account/vipInfo", {}, ("symbols",)),
]


@pytest.mark.parametrize(("path", "params", "empty"), SIGNED_LISTS_WITH_EMPTY_PARAMETERS)
def test_an_empty_parameter_of_a_signed_read_is_not_sent(client, signer, history, path, params, empty):
    without = call(client, signer, "GET", path, **params)
    assert without[0] == 200

    assert call(client, signer, "GET", path, **params, **dict.fromkeys(empty, "")) == without


def test_an_empty_client_order_id_beside_an_order_id_is_not_sent(client, signer, history):
    order_id = history["resting"][0]
    by_id = call(client, signer, "GET", "/api/v1/spot/order", orderId=order_id)

    assert call(client, signer, "GET", "/api/v1/spot/order", orderId=order_id, origClientOrderId="") == by_id
    assert call(client, signer, "DELETE", "/api/v1/spot/order", orderId=order_id, clientOrderId="")[0] == 200
    assert call(client, signer, "GET", "/api/v1/spot/order", orderId=order_id)[1]["status"] == "CANCELED"


def test_an_order_reference_sent_empty_is_missing(client, signer, history):
    assert call(client, signer, "GET", "/api/v1/spot/order", orderId="", origClientOrderId="") == (
        400,
        {"code": "0001", "msg": "Required field orderId missing or invalid"},
    )


PUBLIC_WITH_EMPTY_PARAMETERS = [
    ("/api/v1/exchangeInfo", {}, ("symbol",)),
    ("/quote/v1/depth", {"symbol": "BTCUSDT"}, ("limit",)),
    ("/quote/v1/depth/merged", {"symbol": "BTCUSDT"}, ("limit", "scale")),
    ("/quote/v1/trades", {"symbol": "BTCUSDT"}, ("limit",)),
    ("/quote/v1/klines", {"symbol": "BTCUSDT", "interval": "1m"}, ("startTime", "endTime", "limit")),
    ("/quote/v1/ticker/24hr", {}, ("symbol",)),
    ("/quote/v1/ticker/price", {}, ("symbol",)),
]


@pytest.mark.parametrize(("path", "params", "empty"), PUBLIC_WITH_EMPTY_PARAMETERS)
def test_an_empty_parameter_of_market_data_is_not_sent(client, path, params, empty):
    with frozen_at(T0):  # exchangeInfo's serverTime
        without = client.get(path, query_string=params)
        sent_empty = client.get(path, query_string={**params, **dict.fromkeys(empty, "")})

    assert without.status_code == 200
    assert without.get_json()  # something to compare: the recording answers every one of them
    assert (sent_empty.status_code, sent_empty.get_json()) == (200, without.get_json())


def test_a_new_order_with_its_optional_fields_sent_empty_is_placed_with_their_defaults(client, signer, app):
    body = place(client, signer, **ORDER, newClientOrderId="", timeInForce="", stpMode="", amount="")

    assert body["status"] == "NEW"
    assert body["timeInForce"] == "GTC"
    assert body["clientOrderId"]  # generated
    listed = call(client, signer, "GET", "/api/v1/spot/order", orderId=body["orderId"])[1]
    assert listed["stpMode"] == "EXPIRE_TAKER"


@pytest.mark.parametrize(
    ("sent", "req_amount"),
    [
        ({"quantity": "", "amount": "36.01"}, "36.01"),  # 0.001 at the best ask, 36010
        ({"quantity": "0.001", "amount": "", "price": ""}, "0"),
    ],
)
def test_a_market_order_reads_only_the_sizes_sent_with_a_value(client, signer, sent, req_amount):
    body = place(client, signer, side="BUY", type="MARKET", **sent)

    assert (body["status"], body["executedQty"], body["reqAmount"]) == ("FILLED", "0.001", req_amount)


def test_an_empty_side_cancels_every_side(client, signer, history):
    status, _ = call(client, signer, "DELETE", "/api/v1/spot/openOrders", symbol="BTCUSDT", side="")

    assert status == 200
    assert call(client, signer, "GET", "/api/v1/spot/openOrders")[1] == []


ZERO_FILTERS = [
    ("/api/v1/spot/openOrders", ("fromOrderId", "limit")),
    ("/api/v1/spot/tradeOrders", ("fromOrderId", "startTime", "endTime", "limit")),
    ("/api/v1/account/trades", ("fromId", "toId", "startTime", "endTime", "limit")),
]


@pytest.mark.parametrize(("path", "zeros"), ZERO_FILTERS)
@pytest.mark.parametrize("one_at_a_time", [True, False])
def test_a_list_filter_of_zero_is_not_sent(client, signer, history, path, zeros, one_at_a_time):
    without = call(client, signer, "GET", path)
    assert without[0] == 200
    assert without[1]

    for sent in [{name: "0"} for name in zeros] if one_at_a_time else [dict.fromkeys(zeros, "0")]:
        assert call(client, signer, "GET", path, **sent) == without, sent


def test_cancel_all_open_orders_reads_a_zero_from_order_id_and_limit_as_not_sent(client, signer, history):
    status, _ = call(
        client,
        signer,
        "DELETE",
        "/api/v1/spot/cancelAllOpenOrders",
        symbol="BTCUSDT",
        fromOrderId="0",
        limit="0",
    )

    assert status == 200
    assert call(client, signer, "GET", "/api/v1/spot/openOrders")[1] == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/quote/v1/depth", {"symbol": "BTCUSDT"}),
        ("/quote/v1/depth/merged", {"symbol": "BTCUSDT"}),
        ("/quote/v1/trades", {"symbol": "BTCUSDT"}),
        ("/quote/v1/klines", {"symbol": "BTCUSDT", "interval": "1m"}),
    ],
)
def test_a_market_data_limit_of_zero_is_the_default(client, path, params):
    without = client.get(path, query_string=params)

    assert client.get(path, query_string={**params, "limit": "0"}).get_json() == without.get_json()


def test_a_kline_time_of_zero_is_the_epoch(client):
    """Times in market data are not list filters: 0 is a time, the epoch, as the document's klines take it."""
    params = {"symbol": "BTCUSDT", "interval": "1m", "limit": "3"}
    from_the_start = client.get("/quote/v1/klines", query_string={**params, "startTime": "0"}).get_json()
    up_to_the_epoch = client.get("/quote/v1/klines", query_string={**params, "endTime": "0"}).get_json()

    assert [bar[0] for bar in from_the_start] == [WHOLE_MINUTE - 30 * MINUTE + i * MINUTE for i in range(3)]
    assert up_to_the_epoch == []


@pytest.mark.parametrize(
    ("method", "path", "params", "answer"),
    [
        ("GET", "/api/v1/spot/openOrders", {"limit": "-1"}, ("-1130", "Illegal parameter 'limit'")),
        ("GET", "/api/v1/account/trades", {"fromId": "-1"}, ("-1130", "Illegal parameter 'fromId'")),
        ("GET", "/api/v1/spot/tradeOrders", {"startTime": "-1"}, ("-1130", "Illegal parameter 'startTime'")),
        (
            "POST",
            "/api/v1.1/spot/order",
            {**ORDER, "symbol": ""},
            ("0001", "Required field symbol missing or invalid"),
        ),
        (
            "GET",
            "/quote/v1/ticker/bookTicker",
            {"symbol": ""},
            ("0001", "Required field symbol missing or invalid"),
        ),
        (
            "POST",
            "/api/v1.1/spot/order",
            {**ORDER, "price": ""},
            ("0001", "Required field price missing or invalid"),
        ),
    ],
)
def test_what_is_still_refused(client, signer, app, history, method, path, params, answer):
    before = counts(app)

    assert call(client, signer, method, path, **params) == (
        400,
        dict(zip(("code", "msg"), answer, strict=True)),
    )
    assert counts(app) == before


def test_a_parameter_named_twice_is_refused_though_empty(client, signer):
    response = client.get(
        "/api/v1/account/trades", **signed_query(signer, f"timestamp={now_ms()}&limit=&limit=")
    )

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "-1130", "msg": "Illegal parameter 'limit'"},
    )


def test_the_wallet_histories_and_balance_flow_read_a_zero_filter_as_not_sent(client, account, signer):
    from tests.http.test_wallet import deposit  # noqa: PLC0415

    for quantity in ("10", "20"):
        deposit(client, account, coin="USDT", chainType="ETH", quantity=quantity)
    flow = {"startTime": T0 - 1000, "endTime": T0}
    for path, params, zeros in [
        ("/api/v1/account/depositOrders", {}, ("startTime", "endTime", "limit")),
        ("/api/v1/account/withdrawOrders", {}, ("startTime", "endTime", "limit")),
        ("/api/v1/account/balanceFlow", flow, ("limit",)),
    ]:
        without = call(client, signer, "GET", path, **params)
        assert without[0] == 200, without
        assert call(client, signer, "GET", path, **params, **dict.fromkeys(zeros, "0")) == without, path
    assert len(call(client, signer, "GET", "/api/v1/account/depositOrders")[1]) == 2
