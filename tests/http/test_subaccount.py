"""The document's Sub Account endpoints: a master key reads one of its sub accounts' open orders, finished
orders and trades — exactly that sub account's rows, in the document's shapes, with the account's own
filters and limits; sub keys, other users' accounts and non-sub accounts get -1205."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select

from simulator.domain.matching.orders import OrderType, Side, TimeInForce
from simulator.http.state import EXTENSION
from simulator.marketdata.records import Depth, Trade
from simulator.services import trading
from simulator.storage import tables
from tests.conftest import Signer
from tests.http.test_account import credit
from tests.http.test_auth import WALL_MS, frozen_at
from tests.http.test_orders import BOOK, T0, call, place, record, step

OPEN_ORDERS = "/api/v1/spot/subAccount/openOrders"
TRADE_ORDERS = "/api/v1/spot/subAccount/tradeOrders"
TRADES = "/api/v1/subAccount/trades"
ENDPOINTS = (OPEN_ORDERS, TRADE_ORDERS, TRADES)
DAY = 86_400_000
ETH_BOOK = Depth("ETHUSDT", T0 - 500, bids=((D("2000"), D("5")),), asks=((D("2001"), D("5")),))
NOT_AUTHORIZED = {"code": "-1205", "msg": "Account not authorized"}


@pytest.fixture
def app(make_app):
    """Replay mode at T0, moving only when told, over recorded BTCUSDT and ETHUSDT books."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))
    record(app, BOOK, ETH_BOOK)
    return app


@pytest.fixture
def user(client, create_account) -> dict[str, Any]:
    """A user with two funded sub accounts (the master's own funds come with the account)."""
    created = create_account(balances={"USDT": "1000", "BTC": "0.5"}, subAccounts=2)
    for index in (1, 2):
        credit(client, sub_account(created, index)["accountId"], "USDT", "1000")
        credit(client, sub_account(created, index)["accountId"], "BTC", "0.1")
    return created


def sub_account(user: dict[str, Any], index: int) -> dict[str, Any]:
    return next(a for a in user["accounts"] if a["accountType"] == 1 and a["accountIndex"] == index)


def key_of(account: dict[str, Any]) -> Signer:
    return Signer(account["apiKey"], account["secretKey"])


@pytest.fixture
def master(user) -> Signer:
    return key_of(user)


@pytest.fixture
def sub1(user) -> dict[str, Any]:
    return sub_account(user, 1)


@pytest.fixture
def orders(client, user, master, sub1) -> dict[str, Any]:
    """Orders of the first sub account (resting, filled both ways, cancelled), and orders of the master's
    own account and of the second sub account that must never show up in the first's lists."""
    sub1_key, sub2_key = key_of(sub1), key_of(sub_account(user, 2))

    def limit(key: Signer, side: str, price: str, symbol: str = "BTCUSDT", **extra: Any) -> str:
        body = place(
            client, key, symbol=symbol, side=side, type="LIMIT", price=price, quantity="0.001", **extra
        )
        return body["orderId"]

    def market(key: Signer, side: str, quantity: str, **extra: Any) -> str:
        return place(client, key, side=side, type="MARKET", quantity=quantity, **extra)["orderId"]

    placed = {
        "bought": market(sub1_key, "BUY", "0.002", newClientOrderId="sub1-buy"),
        "cancelled": limit(sub1_key, "BUY", "34000"),
        "sold": market(sub1_key, "SELL", "0.001"),
        "buy_1": limit(sub1_key, "BUY", "35000"),
        "buy_2": limit(sub1_key, "BUY", "35000.5"),
        "sell": limit(sub1_key, "SELL", "37000", newClientOrderId="sub1-sell"),
        "eth": limit(sub1_key, "BUY", "1990", symbol="ETHUSDT"),
        "master_open": limit(master, "BUY", "35000"),
        "master_filled": market(master, "BUY", "0.001"),
        "sub2_open": limit(sub2_key, "BUY", "35000"),
        "sub2_filled": market(sub2_key, "BUY", "0.001"),
    }
    status, _ = call(client, sub1_key, "DELETE", "/api/v1/spot/order", orderId=placed["cancelled"])
    assert status == 200
    return placed


def read(client, key: Signer, path: str, **params: Any) -> tuple[int, Any]:
    return call(client, key, "GET", path, **params)


def ids(rows: list[dict[str, Any]], name: str = "orderId") -> list[str]:
    return [row[name] for row in rows]


def fill_count(app) -> int:
    with app.extensions[EXTENSION].database.read() as session:
        return int(session.scalar(select(func.count()).select_from(tables.Fill)) or 0)


# ---- exactly the sub account's rows, in the document's shapes -----------------------------------------


def test_open_orders_lists_the_sub_accounts_working_orders_in_the_documents_shape(
    client, master, sub1, orders
):
    status, body = read(client, master, OPEN_ORDERS, subAccountId=sub1["accountId"])

    assert status == 200
    assert ids(body) == [orders[name] for name in ("eth", "sell", "buy_2", "buy_1")]
    assert body[1] == {
        "accountId": sub1["accountId"],
        "exchangeId": "301",
        "symbol": "BTCUSDT",
        "symbolName": "BTCUSDT",
        "clientOrderId": "sub1-sell",
        "orderId": orders["sell"],
        "price": "37000",
        "origQty": "0.001",
        "executedQty": "0",
        "cummulativeQuoteQty": "0",
        "cumulativeQuoteQty": "0",
        "avgPrice": "0",
        "status": "NEW",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "SELL",
        "stopPrice": "0.0",
        "icebergQty": "0.0",
        "time": str(T0),
        "updateTime": str(T0),
        "isWorking": True,
        "reqAmount": "0",
        "ordCxlReason": "",
        "stpMode": "EXPIRE_TAKER",
    }


def test_trade_orders_lists_the_sub_accounts_finished_orders_in_the_documents_shape(
    client, master, sub1, orders
):
    status, body = read(client, master, TRADE_ORDERS, subAccountId=sub1["accountId"])

    assert status == 200
    assert [(row["orderId"], row["status"]) for row in body] == [
        (orders["sold"], "FILLED"),
        (orders["cancelled"], "CANCELED"),
        (orders["bought"], "FILLED"),
    ]
    assert [row["ordCxlReason"] for row in body] == ["", "USER_CANCEL", ""]
    assert body[2] == {
        "accountId": sub1["accountId"],
        "exchangeId": "301",
        "symbol": "BTCUSDT",
        "symbolName": "BTCUSDT",
        "clientOrderId": "sub1-buy",
        "orderId": orders["bought"],
        "price": "0",
        "origQty": "0.002",
        "executedQty": "0.002",
        "cummulativeQuoteQty": "72.02",
        "cumulativeQuoteQty": "72.02",
        "avgPrice": "36010",
        "status": "FILLED",
        "timeInForce": "IOC",
        "type": "MARKET",
        "side": "BUY",
        "stopPrice": "0.0",
        "icebergQty": "0.0",
        "time": str(T0),
        "updateTime": str(T0),
        "isWorking": True,
        "reqAmount": "0",
        "ordCxlReason": "",
        "stpMode": "EXPIRE_TAKER",
    }


@pytest.mark.parametrize(
    ("sub_path", "own_path"),
    [(OPEN_ORDERS, "/api/v1/spot/openOrders"), (TRADE_ORDERS, "/api/v1/spot/tradeOrders")],
)
def test_order_lists_are_what_the_sub_key_sees_plus_the_cancel_reason(
    client, master, sub1, orders, sub_path, own_path
):
    _, by_master = read(client, master, sub_path, subAccountId=sub1["accountId"])
    _, by_sub_key = read(client, key_of(sub1), own_path)

    assert [{k: v for k, v in row.items() if k != "ordCxlReason"} for row in by_master] == by_sub_key
    assert all(list(row)[-2:] == ["ordCxlReason", "stpMode"] for row in by_master)


def test_trades_lists_the_sub_accounts_fills_as_account_trades_shows_them(client, master, sub1, orders):
    status, body = read(client, master, TRADES, subAccountId=sub1["accountId"])
    _, by_sub_key = read(client, key_of(sub1), "/api/v1/account/trades")

    assert status == 200
    assert body == by_sub_key
    assert [(row["orderId"], row["price"], row["qty"], row["isBuyer"]) for row in body] == [
        (orders["sold"], "36000", "0.001", False),
        (orders["bought"], "36010", "0.002", True),
    ]
    assert list(body[0]) == [
        "id",
        "clientOrderId",
        "ticketId",
        "symbol",
        "symbolName",
        "orderId",
        "matchOrderId",
        "price",
        "qty",
        "commission",
        "commissionAsset",
        "time",
        "isBuyer",
        "isMaker",
        "fee",
        "feeCoinId",
        "feeAmount",
        "makerRebate",
        "hskDeduct",
        "hskDeductPrice",
    ]


def test_each_sub_account_and_the_master_see_only_their_own_rows(client, user, master, orders):
    sub2 = sub_account(user, 2)

    _, sub2_open = read(client, master, OPEN_ORDERS, subAccountId=sub2["accountId"])
    _, sub2_done = read(client, master, TRADE_ORDERS, subAccountId=sub2["accountId"])
    _, sub2_trades = read(client, master, TRADES, subAccountId=sub2["accountId"])
    _, master_open = read(client, master, "/api/v1/spot/openOrders")

    assert ids(sub2_open) == [orders["sub2_open"]]
    assert ids(sub2_done) == [orders["sub2_filled"]]
    assert {row["orderId"] for row in sub2_trades} == {orders["sub2_filled"]}
    assert ids(master_open) == [orders["master_open"]]


def test_a_sub_account_without_orders_lists_nothing(client, create_account):
    fresh = create_account(subAccounts=1)
    sub_id = sub_account(fresh, 1)["accountId"]

    for path in ENDPOINTS:
        assert read(client, key_of(fresh), path, subAccountId=sub_id) == (200, [])


def test_a_resting_order_filled_since_the_last_call_is_read_after_the_market_catches_up(
    client, app, master, sub1
):
    placed = place(client, key_of(sub1), side="BUY", type="LIMIT", price="35995", quantity="0.01")
    record(app, Trade("BTCUSDT", T0 + 1_000, D("35990"), D("0.5"), True, "1"))
    step(app, 2_000)

    _, still_open = read(client, master, OPEN_ORDERS, subAccountId=sub1["accountId"])
    _, finished = read(client, master, TRADE_ORDERS, subAccountId=sub1["accountId"])
    _, fills = read(client, master, TRADES, subAccountId=sub1["accountId"])

    assert still_open == []
    assert [(row["orderId"], row["status"], row["avgPrice"]) for row in finished] == [
        (placed["orderId"], "FILLED", "35995")
    ]
    assert [(row["orderId"], row["isMaker"], row["time"]) for row in fills] == [
        (placed["orderId"], True, str(T0 + 1_000))
    ]


# ---- who may read which account -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_sub_account_key_is_not_authorized_even_for_its_own_account(client, sub1, orders, path):
    status, body = read(client, key_of(sub1), path, subAccountId=sub1["accountId"])

    assert (status, body) == (400, NOT_AUTHORIZED)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_master_key_cannot_read_another_users_sub_account(client, create_account, master, path):
    other = create_account(balances={"USDT": "100"}, subAccounts=1)
    theirs = sub_account(other, 1)["accountId"]

    assert read(client, master, path, subAccountId=theirs) == (400, NOT_AUTHORIZED)
    assert read(client, key_of(other), path, subAccountId=theirs) == (200, [])


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("which", ["main", "custody", "fiat", "unknown", "malformed"])
def test_an_id_that_is_not_one_of_the_users_sub_accounts_is_not_authorized(client, user, master, path, which):
    named = {
        "main": user["accountId"],
        "custody": next(a["accountId"] for a in user["accounts"] if a["accountType"] == 5),
        "fiat": next(a["accountId"] for a in user["accounts"] if a["accountType"] == 6),
        "unknown": "1234567890123456789",
        "malformed": "sub-1",
    }[which]

    assert read(client, master, path, subAccountId=named) == (400, NOT_AUTHORIZED)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_sub_account_id_is_a_required_field(client, master, path, value):
    params = {} if value is None else {"subAccountId": value}

    assert read(client, master, path, **params) == (
        400,
        {"code": "0001", "msg": "Required field subAccountId missing or invalid"},
    )


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_refused_request_does_not_move_the_market(client, app, user, master, sub1, path):
    # placed straight through the service: the market has not caught up since, so a read would fill it
    new = trading.NewOrder(
        account_id=sub1["accountId"],
        symbol="BTCUSDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D("35995"),
        quantity=D("0.01"),
    )
    with app.extensions[EXTENSION].database.write() as session:
        trading.place_order(session, new, T0 - 400, trading.Engine())
    record(app, Trade("BTCUSDT", T0 - 100, D("35990"), D("0.5"), True, "1"))

    for refused in (
        read(client, key_of(sub1), path, subAccountId=sub1["accountId"]),
        read(client, master, path, subAccountId=user["accountId"]),
        read(client, master, path, subAccountId=sub1["accountId"], limit="-1"),
    ):
        assert refused[0] == 400
    assert fill_count(app) == 0

    assert read(client, master, path, subAccountId=sub1["accountId"])[0] == 200
    assert fill_count(app) == 1


# ---- filters and limits of the order lists -------------------------------------------------------------


def test_open_orders_filters_by_symbol_side_and_from_order_id(client, master, sub1, orders):
    def listed(**params: Any) -> list[str]:
        status, body = read(client, master, OPEN_ORDERS, subAccountId=sub1["accountId"], **params)
        assert status == 200, body
        return ids(body)

    assert listed(symbol="ETHUSDT") == [orders["eth"]]
    assert listed(symbol="BTCUSDT", side="BUY") == [orders["buy_2"], orders["buy_1"]]
    assert listed(side="SELL") == [orders["sell"]]
    assert listed(fromOrderId=orders["sell"]) == [orders["buy_2"], orders["buy_1"]]
    assert listed(limit=2) == [orders["eth"], orders["sell"]]
    assert listed(fromOrderId=orders["sell"], limit=1) == [orders["buy_2"]]


def test_trade_orders_filters_by_symbol_side_and_from_order_id(client, master, sub1, orders):
    def listed(**params: Any) -> list[str]:
        status, body = read(client, master, TRADE_ORDERS, subAccountId=sub1["accountId"], **params)
        assert status == 200, body
        return ids(body)

    assert listed(side="SELL") == [orders["sold"]]
    assert listed(side="BUY") == [orders["cancelled"], orders["bought"]]
    assert listed(symbol="ETHUSDT") == []
    assert listed(fromOrderId=orders["sold"]) == [orders["cancelled"], orders["bought"]]
    assert listed(limit=1) == [orders["sold"]]


@pytest.mark.parametrize("path", [OPEN_ORDERS, TRADE_ORDERS])
def test_order_lists_accept_a_limit_of_500_and_refuse_more_as_the_account_lists_do(
    client, master, sub1, orders, path
):
    assert read(client, master, path, subAccountId=sub1["accountId"], limit=500)[0] == 200
    for limit in ("501", "1000", "-1", "ten"):
        assert read(client, master, path, subAccountId=sub1["accountId"], limit=limit) == (
            400,
            {"code": "-1130", "msg": "Illegal parameter 'limit'"},
        )
    # the account's own list keeps its own maximum
    assert read(client, key_of(sub1), "/api/v1/spot/openOrders", limit=1000)[0] == 200


@pytest.mark.parametrize(("name", "value"), [("side", "BOTH"), ("fromOrderId", "abc")])
@pytest.mark.parametrize("path", [OPEN_ORDERS, TRADE_ORDERS])
def test_order_lists_refuse_malformed_filters(client, master, sub1, path, name, value):
    status, body = read(client, master, path, subAccountId=sub1["accountId"], **{name: value})

    expected = {"code": "-1117", "msg": "Invalid order side"} if name == "side" else None
    assert status == 400
    assert body == (expected or {"code": "-1130", "msg": f"Illegal parameter '{name}'"})


def test_trade_orders_read_only_the_last_90_days(client, app, master, sub1, orders):
    # an order finished 91 days ago (an IOC that found nothing to take), placed through the service
    old = trading.NewOrder(
        account_id=sub1["accountId"],
        symbol="BTCUSDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.IOC,
        price=D("35000"),
        quantity=D("0.001"),
    )
    with app.extensions[EXTENSION].database.write() as session:
        expired = trading.place_order(session, old, T0 - 91 * DAY, trading.Engine())
    sub_id = sub1["accountId"]

    _, recent = read(client, master, TRADE_ORDERS, subAccountId=sub_id)
    assert expired.order_id not in ids(recent) and len(recent) == 3
    three_months = {"code": "-2029", "msg": "The search is limited to data within the last three months"}
    assert read(client, master, TRADE_ORDERS, subAccountId=sub_id, startTime=T0 - 91 * DAY) == (
        400,
        three_months,
    )
    assert read(client, master, TRADE_ORDERS, subAccountId=sub_id, endTime=T0 - 91 * DAY) == (
        400,
        three_months,
    )
    assert read(client, master, TRADE_ORDERS, subAccountId=sub_id, startTime=T0 - DAY, endTime=T0 - 2 * DAY)[
        1
    ] == {"code": "-1130", "msg": "Illegal parameter 'endTime'"}
    assert read(client, master, TRADE_ORDERS, subAccountId=sub_id, startTime=T0 - 90 * DAY) == (200, recent)
    assert read(client, master, TRADE_ORDERS, subAccountId=sub_id, endTime=T0 - 1) == (200, [])


# ---- filters and limits of the trade list --------------------------------------------------------------


def test_trades_filter_by_symbol_client_order_id_and_ids(client, master, sub1, orders):
    sub_id = sub1["accountId"]
    _, every = read(client, master, TRADES, subAccountId=sub_id)
    newest, oldest = every[0]["id"], every[-1]["id"]

    assert read(client, master, TRADES, subAccountId=sub_id, symbol="ETHUSDT") == (200, [])
    assert read(client, master, TRADES, subAccountId=sub_id, symbol="BTCUSDT") == (200, every)
    _, by_client_id = read(client, master, TRADES, subAccountId=sub_id, clientOrderId="sub1-buy")
    assert {row["orderId"] for row in by_client_id} == {orders["bought"]}
    assert ids(read(client, master, TRADES, subAccountId=sub_id, fromId=newest)[1], "id") == [newest]
    assert ids(read(client, master, TRADES, subAccountId=sub_id, toId=oldest)[1], "id") == [oldest]
    assert ids(read(client, master, TRADES, subAccountId=sub_id, limit=1)[1], "id") == [newest]
    assert read(client, master, TRADES, subAccountId=sub_id, symbol="DOGEUSDT") == (
        400,
        {"code": "0201", "msg": "Instrument not found"},
    )


def test_trades_accept_a_limit_of_1000_and_refuse_more(client, master, sub1, orders):
    assert read(client, master, TRADES, subAccountId=sub1["accountId"], limit=1000)[0] == 200
    assert read(client, master, TRADES, subAccountId=sub1["accountId"], limit=1001) == (
        400,
        {"code": "-1130", "msg": "Illegal parameter 'limit'"},
    )


def test_trades_read_only_the_last_30_days(client, app, master, sub1):
    at = T0 - 31 * DAY
    record(app, Depth("BTCUSDT", at - 500, bids=BOOK.bids, asks=BOOK.asks))
    old = trading.NewOrder(
        account_id=sub1["accountId"],
        symbol="BTCUSDT",
        side=Side.BUY,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        quantity=D("0.001"),
    )
    with app.extensions[EXTENSION].database.write() as session:
        trading.place_order(session, old, at, trading.Engine())
    assert fill_count(app) == 1
    sub_id = sub1["accountId"]

    assert read(client, master, TRADES, subAccountId=sub_id) == (200, [])
    assert read(client, master, TRADES, subAccountId=sub_id, startTime=at) == (
        400,
        {"code": "-2028", "msg": "The search is limited to data within the last one month"},
    )
    assert read(client, master, TRADES, subAccountId=sub_id, startTime=T0 - 30 * DAY) == (200, [])
    # the sub key's own trade list holds the fill and the same 30 days
    assert read(client, key_of(sub1), "/api/v1/account/trades", startTime=T0 - 30 * DAY) == (200, [])


# ---- weight ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "weight"), [(OPEN_ORDERS, 1), (TRADE_ORDERS, 5), (TRADES, 5)])
def test_each_request_weighs_as_documented(make_app, create_account, path, weight):
    limited = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), key_weight_limit=10)
    client = limited.test_client()
    created = create_account(subAccounts=1)
    key, sub_id = key_of(created), sub_account(created, 1)["accountId"]

    with frozen_at(WALL_MS):  # the weight window cannot roll over between the requests
        answers = [read(client, key, path, subAccountId=sub_id)[0] for _ in range(10 // weight + 1)]

    assert answers == [200] * (10 // weight) + [400]
