"""The pinned ccxt (4.5.90) `hashkey` class against a real server: every unified call a spot bot makes,
with the answers the recorded market dictates.

The server runs on the replay clock, parked at 2025-01-06T00:30:00.500Z of the demo recording (see
conftest.py). The BTCUSDT book there, top five levels:

    asks 95726.78 x 0.45672, 95726.79 x 1.02009, 95726.84 x 1.00892, 95726.87 x 0.66273, 95726.9 x 0.69063
    bids 95726.76 x 0.2332,  95726.75 x 0.42116, 95726.73 x 2.30295, 95726.72 x 0.18272, 95726.71 x 1.21607

Liquidity a fill takes is gone for later orders at the same moment (the clock does not move), so each
test starts its own server. ccxt parses numbers into floats; the exact decimal text the server sent is in
each order's and trade's `info`, and the tests check both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import ccxt
import pytest

from tests.e2e.conftest import CLIENT_TIMEOUT_S, REPLAY_START_MS, ReplayServer

pytestmark = pytest.mark.e2e

OPENING_BALANCES = {"USDT": "300000", "BTC": "1"}
RECORDED_ASKS = [
    [95726.78, 0.45672],
    [95726.79, 1.02009],
    [95726.84, 1.00892],
    [95726.87, 0.66273],
    [95726.9, 0.69063],
]
RECORDED_BIDS = [
    [95726.76, 0.2332],
    [95726.75, 0.42116],
    [95726.73, 2.30295],
    [95726.72, 0.18272],
    [95726.71, 1.21607],
]


class RecordingHashkey(ccxt.hashkey):
    """ccxt's hashkey, unchanged except that it notes every (method, url) it sends."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.sent: list[tuple[str, str]] = []

    def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        self.sent.append((method, url))
        return super().fetch(url, method, headers, body)


def hashkey_client(base_url: str, account: dict[str, Any]) -> RecordingHashkey:
    """ccxt pointed at the simulator: both API groups at its base URL, the account's key pair."""
    exchange = RecordingHashkey(
        {
            "apiKey": account["apiKey"],
            "secret": account["secretKey"],
            "timeout": CLIENT_TIMEOUT_S * 1000,
            "enableRateLimit": False,  # the server enforces HashKey's limits; no client-side sleeping
        }
    )
    exchange.urls["api"] = {"public": base_url, "private": base_url}
    return exchange


@pytest.fixture
def exchange(replay_server: ReplayServer) -> Iterator[RecordingHashkey]:
    """A ccxt client for a new account holding OPENING_BALANCES; afterwards, every request it made must
    have gone to the simulator."""
    client = hashkey_client(replay_server.base_url, replay_server.create_account(OPENING_BALANCES))
    yield client
    strays = [url for _, url in client.sent if not url.startswith(replay_server.base_url + "/")]
    assert strays == [], f"ccxt left the simulator: {strays}"


def last_json_body(exchange: RecordingHashkey) -> Any:
    return json.loads(exchange.last_request_body)


def ids(orders: list[dict[str, Any]]) -> list[str]:
    return sorted(order["id"] for order in orders)


# ---- markets and public data --------------------------------------------------------------------------


def test_load_markets_reads_only_exchange_info(exchange, replay_server):
    markets = exchange.load_markets()

    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["base"], btc["quote"], btc["type"], btc["spot"], btc["active"]) == (
        "BTCUSDT",
        "BTC",
        "USDT",
        "spot",
        True,
        True,
    )
    assert btc["precision"] == {"amount": 0.00001, "price": 0.01}
    assert btc["limits"]["amount"] == {"min": 0.00001, "max": 8.0}
    assert btc["limits"]["price"] == {"min": 0.01, "max": 100000.0}
    assert {"ETH/USDT", "SOL/USDT"} <= set(markets)
    assert exchange.currencies["BTC"]["name"] == "Bitcoin"
    # fiat coins carry the tokenType ccxt reads as fiat
    assert (exchange.currencies["USD"]["type"], exchange.currencies["BTC"]["type"]) == ("fiat", "crypto")
    # markets and currencies both come from exchangeInfo (ccxt asks for it twice), nothing else
    assert set(exchange.sent) == {("GET", f"{replay_server.base_url}/api/v1/exchangeInfo")}
    assert exchange.fetch_time() == REPLAY_START_MS


def test_order_book_trades_and_candles_are_the_recording(exchange):
    book = exchange.fetch_order_book("BTC/USDT", limit=5)
    trades = exchange.fetch_trades("BTC/USDT", limit=3)
    candles = exchange.fetch_ohlcv("BTC/USDT", "1m", limit=3)

    assert (book["asks"], book["bids"], book["timestamp"]) == (RECORDED_ASKS, RECORDED_BIDS, REPLAY_START_MS)
    assert [(t["timestamp"], t["side"], t["price"], t["amount"]) for t in trades] == [
        (1736123398998, "buy", 95725.59, 0.0013),
        (1736123399847, "sell", 95725.54, 0.00342),
        (1736123399892, "buy", 95725.59, 0.00101),
    ]
    assert candles == [  # the last three closed minutes before 00:30:00.500
        [1736123220000, 95761.86, 95795.55, 95749.64, 95776.8, 0.34447],
        [1736123280000, 95762.99, 95820.96, 95749.33, 95804.12, 0.43148],
        [1736123340000, 95796.83, 95850.13, 95725.54, 95725.59, 0.4161],
    ]


def test_tickers_are_the_recorded_day(exchange):
    ticker = exchange.fetch_ticker("BTC/USDT")
    tickers = exchange.fetch_tickers(["BTC/USDT", "ETH/USDT"])

    assert ticker["info"] == {
        "t": REPLAY_START_MS,
        "s": "BTCUSDT",
        "c": "95725.59",
        "h": "97509.32",
        "l": "94193.87",
        "o": "95282.19",
        "b": "95726.76",
        "a": "95726.78",
        "v": "531.9756",
        "qv": "51052508.6238977",
        "it": "SPOT",
    }
    assert (ticker["bid"], ticker["ask"], ticker["last"], ticker["high"], ticker["low"]) == (
        95726.76,
        95726.78,
        95725.59,
        97509.32,
        94193.87,
    )
    assert set(tickers) == {"BTC/USDT", "ETH/USDT"}
    assert tickers["BTC/USDT"]["info"] == ticker["info"]
    assert (tickers["ETH/USDT"]["bid"], tickers["ETH/USDT"]["ask"]) == (3804.68, 3804.69)


# ---- account --------------------------------------------------------------------------------------------


def test_balance_and_trading_fees(exchange):
    balance = exchange.fetch_balance()
    fees = exchange.fetch_trading_fees()

    assert balance["free"] == {"BTC": 1.0, "USDT": 300000.0}
    assert balance["used"] == {"BTC": 0.0, "USDT": 0.0}
    assert balance["total"] == {"BTC": 1.0, "USDT": 300000.0}
    assert (fees["BTC/USDT"]["maker"], fees["BTC/USDT"]["taker"]) == (0.0012, 0.0012)
    assert fees["BTC/USDT"]["info"]["buyTakerFeeCurrency"] == "BTC"
    assert fees["BTC/USDT"]["info"]["sellTakerFeeCurrency"] == "USDT"


# ---- orders ---------------------------------------------------------------------------------------------


def test_gtc_limit_order_rests_locks_funds_and_cancels(exchange):
    placed = exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 90000, {"clientOrderId": "bot-gtc-1"})
    used_while_open = exchange.fetch_balance()["used"]["USDT"]
    by_id = exchange.fetch_order(placed["id"])
    by_client_id = exchange.fetch_order(None, params={"clientOrderId": "bot-gtc-1"})
    open_orders = exchange.fetch_open_orders("BTC/USDT")
    canceled = exchange.cancel_order(placed["id"])
    after_cancel = exchange.fetch_order(placed["id"])
    after = exchange.fetch_balance()

    assert (placed["status"], placed["filled"], placed["remaining"], placed["timeInForce"]) == (
        "open",
        0.0,
        0.01,
        "GTC",
    )
    assert (placed["clientOrderId"], placed["info"]["status"], placed["timestamp"]) == (
        "bot-gtc-1",
        "NEW",
        REPLAY_START_MS,
    )
    assert used_while_open == 900.0  # 0.01 x 90000 locked
    assert by_id["id"] == by_client_id["id"] == placed["id"]
    assert (by_id["status"], by_id["price"], by_id["amount"]) == ("open", 90000.0, 0.01)
    assert ids(open_orders) == [placed["id"]]
    # the venue answers a cancel with the order as the cancel found it (ccxt: "open"); GET shows it ended
    assert (canceled["id"], canceled["status"], canceled["info"]["status"]) == (placed["id"], "open", "NEW")
    assert (after_cancel["status"], after_cancel["info"]["status"]) == ("canceled", "CANCELED")
    assert (after["free"]["USDT"], after["used"]["USDT"]) == (300000.0, 0.0)
    assert exchange.fetch_open_orders("BTC/USDT") == []


def test_ioc_and_fok_fill_what_the_recorded_asks_allow(exchange):
    # IOC: only 0.45672 is offered at or below 95726.78; the rest is canceled
    ioc = exchange.create_order("BTC/USDT", "limit", "buy", 0.5, 95726.78, {"timeInForce": "IOC"})
    # FOK: 1.02009 is left at or below 95726.79, short of 1.5: nothing fills
    fok_short = exchange.create_order("BTC/USDT", "limit", "buy", 1.5, 95726.79, {"timeInForce": "FOK"})
    fok = exchange.create_order("BTC/USDT", "limit", "buy", 0.5, 95726.79, {"timeInForce": "FOK"})
    book = exchange.fetch_order_book("BTC/USDT", limit=2)

    assert (ioc["status"], ioc["filled"], ioc["remaining"], ioc["info"]["status"]) == (
        "canceled",
        0.45672,
        0.04328,
        "PARTIALLY_CANCELED",
    )
    ioc_now = exchange.fetch_order(ioc["id"])
    assert (ioc_now["average"], ioc_now["info"]["cummulativeQuoteQty"]) == (95726.78, "43720.3349616")
    assert (fok_short["status"], fok_short["filled"], fok_short["info"]["status"]) == (
        "canceled",
        0.0,
        "CANCELED",
    )
    assert (fok["status"], fok["filled"], fok["timeInForce"]) == ("closed", 0.5, "FOK")
    fok_now = exchange.fetch_order(fok["id"])
    assert (fok_now["average"], fok_now["info"]["cummulativeQuoteQty"]) == (95726.79, "47863.395")
    assert book["asks"] == [[95726.79, 0.52009], [95726.84, 1.00892]]


def test_post_only_rests_as_limit_maker_and_is_refused_when_it_would_take(exchange):
    resting = exchange.create_order("BTC/USDT", "limit", "sell", 0.01, 96000, {"postOnly": True})

    with pytest.raises(ccxt.OperationFailed) as crossing:  # ccxt's class for -1156
        exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 95726.78, {"postOnly": True})

    assert (resting["status"], resting["postOnly"], resting["type"], resting["info"]["type"]) == (
        "open",
        True,
        "limit",
        "LIMIT_MAKER",
    )
    assert json.loads(str(crossing.value).removeprefix("hashkey ")) == {
        "code": "-1156",
        "msg": "Limit maker order rejected: Improper price may cause immediate fill.",
    }
    # the simulated order joins the public book behind the recorded 20 levels
    assert exchange.fetch_order_book("BTC/USDT", limit=100)["asks"][-1] == [96000.0, 0.01]
    assert ids(exchange.fetch_open_orders("BTC/USDT")) == [resting["id"]]


def test_market_orders_by_amount_by_cost_and_sell_with_their_trades(exchange):
    buy = exchange.create_order("BTC/USDT", "market", "buy", 0.05)  # ccxt: POST /api/v1.1/spot/order
    # 2393.17 USDT buys floor(2393.17 / 95726.78, step 0.00001) = 0.025 BTC at the best ask
    buy_by_cost = exchange.create_market_buy_order_with_cost("BTC/USDT", 2393.17)
    sell = exchange.create_order("BTC/USDT", "market", "sell", 0.05)
    trades = exchange.fetch_my_trades("BTC/USDT")
    balance = exchange.fetch_balance()

    placed = (buy, buy_by_cost, sell)
    assert [(o["status"], o["type"], o["side"], o["filled"]) for o in placed] == [
        ("closed", "market", "buy", 0.05),
        ("closed", "market", "buy", 0.025),
        ("closed", "market", "sell", 0.05),
    ]
    assert (buy_by_cost["info"]["origQty"], buy_by_cost["info"]["reqAmount"]) == ("0", "2393.17")
    quote_spent = [exchange.fetch_order(o["id"])["info"]["cummulativeQuoteQty"] for o in placed]
    assert quote_spent == ["4786.339", "2393.1695", "4786.338"]
    by_order = {t["order"]: t for t in trades}
    assert sorted(by_order) == ids(list(placed))
    fills = [by_order[o["id"]] for o in placed]
    assert [(t["side"], t["price"], t["amount"], t["takerOrMaker"]) for t in fills] == [
        ("buy", 95726.78, 0.05, "taker"),
        ("buy", 95726.78, 0.025, "taker"),
        ("sell", 95726.76, 0.05, "taker"),
    ]
    # taker fee 0.0012: a buy pays in BTC, a sell in USDT
    assert [t["fee"] for t in fills] == [
        {"currency": "BTC", "cost": 0.00006},
        {"currency": "BTC", "cost": 0.00003},
        {"currency": "USDT", "cost": 5.7436056},
    ]
    assert by_order[sell["id"]]["info"]["commission"] == "5.7436056"
    assert all(t["timestamp"] == REPLAY_START_MS and t["id"] for t in trades)
    # 1 + 0.05 - 0.00006 + 0.025 - 0.00003 - 0.05; 300000 - 4786.339 - 2393.1695 + 4786.338 - 5.7436056
    assert balance["total"] == {"BTC": 1.02491, "USDT": 297601.0858944}
    assert balance["info"]["balances"][1]["total"] == "297601.0858944"


def test_batch_create_batch_cancel_cancel_all_and_history(exchange):
    grid = exchange.create_orders(
        [
            {"symbol": "BTC/USDT", "type": "limit", "side": "buy", "amount": 0.01, "price": 90000},
            {"symbol": "BTC/USDT", "type": "limit", "side": "buy", "amount": 0.02, "price": 89000},
        ]
    )
    sent_client_ids = [item["clientOrderId"] for item in last_json_body(exchange)]  # ccxt's own uuids
    open_after_batch = exchange.fetch_open_orders("BTC/USDT")
    batch_cancel = exchange.cancel_orders([order["id"] for order in grid])
    singles = [exchange.create_order("BTC/USDT", "limit", "sell", 0.01, price) for price in (97000, 98000)]
    cancel_all = exchange.cancel_all_orders("BTC/USDT")
    open_at_end = exchange.fetch_open_orders("BTC/USDT")
    history = exchange.fetch_canceled_and_closed_orders("BTC/USDT")

    assert [(o["status"], o["price"], o["amount"]) for o in grid] == [
        ("open", 90000.0, 0.01),
        ("open", 89000.0, 0.02),
    ]
    assert [o["clientOrderId"] for o in grid] == sent_client_ids
    assert ids(open_after_batch) == ids(grid)
    # ccxt hands back the raw answer (adding its own "fees" key to it)
    assert (batch_cancel[0]["info"]["code"], batch_cancel[0]["info"]["result"]) == ("0000", [])
    assert cancel_all[0]["info"]["success"] is True
    assert open_at_end == []
    assert ids(history) == ids(grid + singles)
    assert {o["status"] for o in history} == {"canceled"}
    assert exchange.fetch_balance()["used"] == {"BTC": 0.0, "USDT": 0.0}


# ---- errors ---------------------------------------------------------------------------------------------


def test_insufficient_funds(exchange):
    with pytest.raises(ccxt.InsufficientFunds) as limit_buy:
        exchange.create_order("BTC/USDT", "limit", "buy", 4, 90000)  # 360000 USDT > 300000
    with pytest.raises(ccxt.InsufficientFunds) as market_sell:
        exchange.create_order("BTC/USDT", "market", "sell", 3)  # 3 BTC > 1

    assert (
        str(limit_buy.value) == str(market_sell.value) == 'hashkey {"code":"0401","msg":"Insufficient asset"}'
    )
    assert exchange.fetch_balance()["used"] == {"BTC": 0.0, "USDT": 0.0}


def test_a_batch_with_one_unfundable_order_raises_but_places_the_other(exchange):
    with pytest.raises(ccxt.InsufficientFunds):
        exchange.create_orders(
            [
                {"symbol": "BTC/USDT", "type": "limit", "side": "buy", "amount": 0.01, "price": 90000},
                {"symbol": "BTC/USDT", "type": "limit", "side": "buy", "amount": 4, "price": 90000},
            ]
        )

    (placed,) = exchange.fetch_open_orders("BTC/USDT")
    assert (placed["price"], placed["amount"]) == (90000.0, 0.01)


def test_unknown_orders_raise_order_not_found(exchange):
    with pytest.raises(ccxt.OrderNotFound) as fetched:
        exchange.fetch_order("1234567890")
    with pytest.raises(ccxt.OrderNotFound) as canceled:
        exchange.cancel_order("1234567890")
    with pytest.raises(ccxt.OrderNotFound) as batch:
        exchange.cancel_orders(["1234567890", "1234567891"])

    assert str(fetched.value) == 'hashkey {"code":"0211","msg":"Order not found"}'
    assert str(canceled.value) == 'hashkey {"code":"-1143","msg":"Order not found on order book"}'
    assert json.loads(str(batch.value).removeprefix("hashkey ")) == {
        "code": "0000",
        "result": [{"orderId": "1234567890", "code": "0211"}, {"orderId": "1234567891", "code": "0211"}],
    }


@pytest.mark.parametrize(
    ("arguments", "error", "body"),
    [
        (("buy", 0.001, 150000, {}), ccxt.BadRequest, {"code": "0207", "msg": "Invalid price"}),
        (
            ("buy", 0.00001, 50000, {}),  # 0.5 USDT, under the 1 USDT minimum
            ccxt.InvalidOrder,
            {"code": "-1140", "msg": "Order amount lower than the minimum"},
        ),
        (
            ("buy", 0.001, 90000, {"timeInForce": "GTD"}),
            ccxt.InvalidOrder,
            {"code": "-1115", "msg": "Invalid timeInForce"},
        ),
    ],
    ids=["price-above-max", "notional-below-min", "unknown-time-in-force"],
)
def test_refused_orders_raise_bad_request_or_invalid_order(exchange, arguments, error, body):
    side, amount, price, params = arguments

    with pytest.raises(error) as refused:
        exchange.create_order("BTC/USDT", "limit", side, amount, price, params)

    assert json.loads(str(refused.value).removeprefix("hashkey ")) == body
    assert exchange.fetch_open_orders("BTC/USDT") == []
