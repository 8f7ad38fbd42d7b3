"""GET /api/v1/account/trades — Get Account Trade List: the caller's fills with the document's fields,
newest first, its filters and limits, the 30-day rule, accountId, and fills of resting orders made by the
market catching up before the read."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal as D
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from simulator.domain.matching.orders import OrderType, Side, TimeInForce
from simulator.marketdata.records import Depth, Trade
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import fills, trading
from simulator.settings import DEFAULT_FIXTURES
from simulator.storage import tables
from simulator.storage.db import Database
from tests.conftest import Signer, admin_headers
from tests.http.test_account import credit
from tests.http.test_auth import WALL_MS, frozen_at

NOW = 1_700_000_000_000  # the market clock, stopped (replay at speed 0)
DAY_MS = 24 * 60 * 60 * 1000
ENGINE = trading.Engine()
BTC_BOOK = (
    ((D("100"), D("1")), (D("99"), D("2"))),
    ((D("101"), D("1")), (D("102"), D("2")), (D("103"), D("5"))),
)
ETH_BOOK = (((D("10"), D("5")),), ((D("11"), D("5")),))


@pytest.fixture
def app(make_app) -> Flask:
    """Every test here runs on a stopped market clock at NOW, so fill times are known exactly."""
    return make_app(clock_mode="replay", clock_start=NOW, clock_speed=D(0))


def database_of(app: Flask) -> Database:
    return app.extensions["hashkey_sim"].database


def record(app: Flask, *records: Any) -> None:
    with database_of(app).engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "trades"), "test")
        for item in records:
            writer.add(item)
        writer.flush()


def book(symbol: str, at: int, levels: tuple[Any, Any] = BTC_BOOK) -> Depth:
    return Depth(symbol, at, bids=levels[0], asks=levels[1])


def place(
    app: Flask, at: int, account_id: str, side: Side, type_: OrderType, symbol: str = "BTCUSDT", **fields
):
    if type_ is OrderType.MARKET:
        fields.setdefault("time_in_force", TimeInForce.IOC)
    new = trading.NewOrder(account_id=account_id, symbol=symbol, side=side, type=type_, **fields)
    with database_of(app).write() as session:
        return trading.place_order(session, new, at, ENGINE)


def market_buy(app: Flask, at: int, account_id: str, quantity: str, **fields):
    return place(app, at, account_id, Side.BUY, OrderType.MARKET, quantity=D(quantity), **fields)


def fill_rows(app: Flask, order_id: str | None = None) -> list[tables.Fill]:
    with database_of(app).read() as session:
        query = select(tables.Fill).order_by(tables.Fill.id)
        if order_id is not None:
            query = query.where(tables.Fill.order_id == order_id)
        return list(session.scalars(query))


def trades(client, signer: Signer, **params: Any):
    return client.get("/api/v1/account/trades", **signer.ccxt("GET", **params))


def ids_of(response) -> list[str]:
    return [entry["id"] for entry in response.get_json()]


def fill_entry(row: tables.Fill, client_order_id: str) -> dict[str, Any]:
    """What the document shows for one fill with no HSK deduction."""
    fee = format(row.fee_amount.normalize(), "f")
    fee_object = {
        "feeCoinId": row.fee_asset,
        "feeCoinName": row.fee_asset,
        "fee": fee,
        "originCoinId": row.fee_asset,
        "originCoinName": row.fee_asset,
        "originFee": fee,
    }
    return {
        "id": row.id,
        "clientOrderId": client_order_id,
        "ticketId": row.ticket_id,
        "symbol": row.symbol,
        "symbolName": row.symbol,
        "orderId": row.order_id,
        "matchOrderId": "0",
        "price": format(row.price.normalize(), "f"),
        "qty": format(row.qty.normalize(), "f"),
        "commission": fee,
        "commissionAsset": row.fee_asset,
        "time": str(row.time),
        "isBuyer": row.side == "BUY",
        "isMaker": bool(row.is_maker),
        "fee": fee_object,
        "feeCoinId": row.fee_asset,
        "feeAmount": fee,
        "makerRebate": "0",
        "hskDeduct": False,
        "hskDeductPrice": "",
    }


# ---------------------------------------------------------------------------- what a fill looks like


def test_a_market_buy_lists_each_fill_newest_first_as_the_document_shows(client, account, signer):
    app = client.application
    record(app, book("BTCUSDT", NOW - 1000))
    order = market_buy(app, NOW - 900, account["accountId"], "2", client_order_id="bot-1")
    at_101, at_102 = fill_rows(app)

    response = trades(client, signer)

    assert response.status_code == 200
    assert response.get_json() == [
        {
            "id": at_102.id,
            "clientOrderId": "bot-1",
            "ticketId": at_102.ticket_id,
            "symbol": "BTCUSDT",
            "symbolName": "BTCUSDT",
            "orderId": order.order_id,
            "matchOrderId": "0",
            "price": "102",
            "qty": "1",
            "commission": "0.0012",
            "commissionAsset": "BTC",
            "time": str(NOW - 900),
            "isBuyer": True,
            "isMaker": False,
            "fee": {
                "feeCoinId": "BTC",
                "feeCoinName": "BTC",
                "fee": "0.0012",
                "originCoinId": "BTC",
                "originCoinName": "BTC",
                "originFee": "0.0012",
            },
            "feeCoinId": "BTC",
            "feeAmount": "0.0012",
            "makerRebate": "0",
            "hskDeduct": False,
            "hskDeductPrice": "",
        },
        fill_entry(at_101, "bot-1"),
    ]
    assert at_101.price == D("101")


def test_trade_fields_come_in_the_documents_order_with_its_types(client, account, signer):
    record(client.application, book("BTCUSDT", NOW - 1000))
    market_buy(client.application, NOW - 900, account["accountId"], "0.5")

    (entry,) = trades(client, signer).get_json()

    assert list(entry) == [
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
    assert list(entry["fee"]) == [
        "feeCoinId",
        "feeCoinName",
        "fee",
        "originCoinId",
        "originCoinName",
        "originFee",
    ]
    booleans = {"isBuyer", "isMaker", "hskDeduct"}
    assert all(isinstance(value, str) for name, value in entry.items() if name not in booleans | {"fee"})
    assert all(isinstance(entry[name], bool) for name in booleans)


def test_an_order_without_client_order_id_shows_its_generated_one(client, account, signer):
    record(client.application, book("BTCUSDT", NOW - 1000))
    order = market_buy(client.application, NOW - 900, account["accountId"], "0.5")

    (entry,) = trades(client, signer).get_json()

    assert entry["clientOrderId"] == order.order_id


def test_a_sell_pays_its_fee_in_the_quote_asset_and_is_not_the_buyer(client, account, signer):
    record(client.application, book("BTCUSDT", NOW - 1000))
    place(client.application, NOW - 900, account["accountId"], Side.SELL, OrderType.MARKET, quantity=D("0.5"))

    (entry,) = trades(client, signer).get_json()

    assert (entry["price"], entry["qty"], entry["isBuyer"], entry["isMaker"]) == ("100", "0.5", False, False)
    assert (entry["commission"], entry["commissionAsset"], entry["feeAmount"]) == ("0.06", "USDT", "0.06")
    assert entry["fee"]["feeCoinId"] == entry["fee"]["originCoinId"] == "USDT"


def test_the_fee_names_its_coin_by_id_and_by_name(tmp_path, make_app):
    """The shipped coins are named by their ids; a coin named otherwise shows which fields carry which."""
    fixtures = tmp_path / "fixtures"
    shutil.copytree(DEFAULT_FIXTURES, fixtures, ignore=shutil.ignore_patterns("demo"))
    coins = json.loads((fixtures / "coins.json").read_text())
    next(coin for coin in coins if coin["coinId"] == "USDT")["coinName"] = "Tether USD"
    (fixtures / "coins.json").write_text(json.dumps(coins))
    app = make_app(clock_mode="replay", clock_start=NOW, clock_speed=D(0), fixtures=str(fixtures))
    client = app.test_client()
    account = client.post(
        "/sim/v1/accounts", json={"balances": {"BTC": "0.5"}}, headers=admin_headers()
    ).get_json()
    record(app, book("BTCUSDT", NOW - 1000))
    place(app, NOW - 900, account["accountId"], Side.SELL, OrderType.MARKET, quantity=D("0.5"))

    (entry,) = trades(client, Signer(account["apiKey"], account["secretKey"])).get_json()

    assert (entry["commissionAsset"], entry["feeCoinId"]) == ("USDT", "USDT")
    assert entry["fee"] == {
        "feeCoinId": "USDT",
        "feeCoinName": "Tether USD",
        "fee": "0.06",
        "originCoinId": "USDT",
        "originCoinName": "Tether USD",
        "originFee": "0.06",
    }


def test_both_sides_of_a_trade_between_two_users_share_the_ticket_and_hide_the_counter_order(
    client, create_account, account, signer
):
    record(client.application, book("BTCUSDT", NOW - 1000))
    seller = create_account(balances={"BTC": "1"})
    ask = place(
        client.application,
        NOW - 900,
        seller["accountId"],
        Side.SELL,
        OrderType.LIMIT,
        price=D("100.80"),
        quantity=D("0.5"),
    )
    place(
        client.application,
        NOW - 800,
        account["accountId"],
        Side.BUY,
        OrderType.LIMIT,
        price=D("100.8"),
        quantity=D("0.5"),
    )
    seller_signer = Signer(seller["apiKey"], seller["secretKey"])

    (taker,) = trades(client, signer).get_json()
    (maker,) = trades(client, seller_signer).get_json()

    assert taker["ticketId"] == maker["ticketId"]
    assert (taker["isMaker"], maker["isMaker"], maker["orderId"]) == (False, True, ask.order_id)
    assert (taker["matchOrderId"], maker["matchOrderId"]) == ("0", "0")
    assert (maker["price"], maker["commission"], maker["commissionAsset"]) == ("100.8", "0.06048", "USDT")


def test_another_users_fills_are_not_listed(client, create_account, account, signer):
    record(client.application, book("BTCUSDT", NOW - 1000))
    other = create_account(balances={"USDT": "1000"})
    market_buy(client.application, NOW - 900, other["accountId"], "0.5")

    response = trades(client, signer)

    assert (response.status_code, response.get_json()) == (200, [])


def test_a_resting_order_filled_by_the_market_since_is_listed_at_the_fills_market_time(
    client, account, signer
):
    app = client.application
    record(app, book("BTCUSDT", NOW - 5000), Trade("BTCUSDT", NOW - 100, D("100.00"), D("5"), True, "1"))
    place(
        app, NOW - 4000, account["accountId"], Side.BUY, OrderType.LIMIT, price=D("100.50"), quantity=D("1")
    )
    assert fill_rows(app) == []  # nothing has moved the market to NOW yet: the request must

    (entry,) = trades(client, signer).get_json()

    assert (entry["price"], entry["qty"], entry["isMaker"]) == ("100.5", "1", True)
    assert (entry["time"], entry["commission"]) == (str(NOW - 100), "0.0012")


# ---------------------------------------------------------------------------- filters


@pytest.fixture
def three_orders(client, account) -> list[Any]:
    """Three market buys on BTCUSDT at NOW-900, -800, -700 (one fill each) and one on ETHUSDT at NOW-600."""
    app = client.application
    record(app, book("BTCUSDT", NOW - 1000), book("ETHUSDT", NOW - 1000, ETH_BOOK))
    account_id = account["accountId"]
    orders = [
        market_buy(app, NOW - 900 + 100 * i, account_id, "0.1", client_order_id=f"c{i}") for i in range(3)
    ]
    orders.append(market_buy(app, NOW - 600, account_id, "1", symbol="ETHUSDT", client_order_id="eth"))
    return orders


def fill_id_of(app: Flask, order: Any) -> str:
    (row,) = fill_rows(app, order.order_id)
    return row.id


def test_symbol_filter_lists_only_that_symbols_fills(client, signer, three_orders):
    app = client.application

    response = trades(client, signer, symbol="BTCUSDT")

    assert ids_of(response) == [fill_id_of(app, order) for order in reversed(three_orders[:3])]


def test_without_symbol_every_symbol_is_listed_newest_first(client, signer, three_orders):
    response = trades(client, signer)

    assert [entry["clientOrderId"] for entry in response.get_json()] == ["eth", "c2", "c1", "c0"]


def test_client_order_id_filter_lists_that_orders_fills(client, signer, three_orders):
    response = trades(client, signer, clientOrderId="c1")

    assert ids_of(response) == [fill_id_of(client.application, three_orders[1])]


def test_a_client_order_ids_fills_are_in_a_window_of_their_own_time(client, signer, three_orders):
    (fill,) = fill_rows(client.application, three_orders[1].order_id)

    response = trades(client, signer, clientOrderId="c1", startTime=fill.time, endTime=fill.time)

    assert ids_of(response) == [fill.id]


def test_unknown_client_order_id_lists_nothing(client, signer, three_orders):
    response = trades(client, signer, clientOrderId="nobody")

    assert (response.status_code, response.get_json()) == (200, [])


def test_from_id_and_to_id_bound_the_ids_inclusively(client, signer, three_orders):
    app = client.application
    first, second, third = (fill_id_of(app, order) for order in three_orders[:3])

    response = trades(client, signer, fromId=first, toId=second)

    assert ids_of(response) == [second, first]
    assert ids_of(trades(client, signer, fromId=third, symbol="BTCUSDT")) == [third]
    assert ids_of(trades(client, signer, toId=first)) == [first]


def test_from_id_and_to_id_are_numbers_leading_zeros_and_twenty_digits_included(client, signer, three_orders):
    app = client.application
    first, second, third = (fill_id_of(app, order) for order in three_orders[:3])
    beyond_every_id = "1" + "0" * 19

    assert ids_of(trades(client, signer, fromId=beyond_every_id)) == []
    assert ids_of(trades(client, signer, toId=beyond_every_id, symbol="BTCUSDT")) == [third, second, first]
    assert ids_of(trades(client, signer, fromId="0" + second, symbol="BTCUSDT")) == [third, second]
    assert ids_of(trades(client, signer, toId="0" + first)) == [first]


def test_fills_are_listed_by_id_so_paging_back_with_to_id_skips_none(client, account, signer):
    """A resting ETHUSDT bid is filled by a print at NOW - 700 only when the market next catches up with
    ETHUSDT (here: the read), after a BTCUSDT order filled at NOW - 600 drew its id: the older fill has the
    higher id. Listed by time, paging back from the newest with toId would never reach it."""
    app = client.application
    record(app, book("BTCUSDT", NOW - 1000), book("ETHUSDT", NOW - 1000, ETH_BOOK))
    record(app, Trade("ETHUSDT", NOW - 700, D("10"), D("5"), True, "eth-print"))
    account_id = account["accountId"]
    place(
        app,
        NOW - 900,
        account_id,
        Side.BUY,
        OrderType.LIMIT,
        symbol="ETHUSDT",
        price=D("10.5"),
        quantity=D("1"),
    )
    market_buy(app, NOW - 600, account_id, "0.1", client_order_id="btc")

    listed = trades(client, signer).get_json()
    paged, to_id = [], None
    while page := trades(client, signer, limit=1, **({} if to_id is None else {"toId": to_id})).get_json():
        paged += page
        to_id = str(int(page[-1]["id"]) - 1)

    assert [(entry["symbol"], entry["time"]) for entry in listed] == [
        ("ETHUSDT", str(NOW - 700)),  # worked out last: the highest id
        ("BTCUSDT", str(NOW - 600)),
    ]
    assert [entry["id"] for entry in listed] == sorted((entry["id"] for entry in listed), reverse=True)
    assert paged == listed


def test_start_and_end_time_bound_the_fill_time_inclusively(client, signer, three_orders):
    response = trades(client, signer, startTime=NOW - 800, endTime=NOW - 700)

    assert [entry["clientOrderId"] for entry in response.get_json()] == ["c2", "c1"]


def test_limit_keeps_the_newest_fills(client, signer, three_orders):
    response = trades(client, signer, limit=2)

    assert [entry["clientOrderId"] for entry in response.get_json()] == ["eth", "c2"]


def test_limit_of_1000_is_accepted(client, signer, three_orders):
    response = trades(client, signer, limit=1000)

    assert len(response.get_json()) == 4


def test_limit_defaults_to_500(client, account, signer):
    app = client.application
    record(app, book("BTCUSDT", NOW - 1000))
    order = market_buy(app, NOW - 900, account["accountId"], "0.001")
    (template,) = fill_rows(app)
    with database_of(app).write() as session:  # 500 more fills of the same order, one ms apart
        for i in range(1, 501):
            session.add(
                tables.Fill(
                    id=str(int(template.id) + 10_000 + i),
                    ticket_id=template.ticket_id,
                    order_id=order.order_id,
                    account_id=template.account_id,
                    symbol="BTCUSDT",
                    side="BUY",
                    price=template.price,
                    qty=template.qty,
                    quote=template.quote,
                    is_maker=0,
                    fee_asset="BTC",
                    fee_amount=template.fee_amount,
                    counter_order_id=None,
                    time=template.time + i,
                )
            )

    entries = trades(client, signer).get_json()

    assert len(entries) == 500
    assert entries[0]["time"] == str(NOW - 900 + 500)
    assert template.id not in {entry["id"] for entry in entries}  # the oldest of 501 is left out


# ---------------------------------------------------------------------------- the last 30 days


def test_without_start_time_fills_older_than_30_days_are_not_listed(client, account, signer):
    app = client.application
    old, recent = NOW - 30 * DAY_MS - 1, NOW - 30 * DAY_MS
    record(app, book("BTCUSDT", old - 100), book("BTCUSDT", recent - 1))
    market_buy(app, old, account["accountId"], "0.1", client_order_id="old")
    market_buy(app, recent, account["accountId"], "0.1", client_order_id="recent")

    response = trades(client, signer)

    assert [entry["clientOrderId"] for entry in response.get_json()] == ["recent"]


def test_start_time_exactly_30_days_ago_is_accepted(client, signer):
    response = trades(client, signer, startTime=NOW - 30 * DAY_MS)

    assert (response.status_code, response.get_json()) == (200, [])


def test_start_time_before_the_last_30_days_is_refused(client, signer):
    response = trades(client, signer, startTime=NOW - 30 * DAY_MS - 1)

    assert response.status_code == 400
    assert response.get_json() == {
        "code": "-2028",
        "msg": "The search is limited to data within the last one month",
    }


def test_end_time_before_start_time_lists_nothing(client, signer, three_orders):
    response = trades(client, signer, startTime=NOW - 700, endTime=NOW - 800)

    assert (response.status_code, response.get_json()) == (200, [])


# ---------------------------------------------------------------------------- accounts


def test_master_key_reads_its_sub_accounts_trades_with_account_id(client, account, signer, sub_signer):
    app = client.application
    sub = next(a for a in account["accounts"] if a.get("keyType") == "sub")
    record(app, book("BTCUSDT", NOW - 1000))
    credit(client, sub["accountId"], "USDT", "100")
    market_buy(app, NOW - 900, sub["accountId"], "0.1", client_order_id="from-sub")

    by_master = trades(client, signer, accountId=sub["accountId"])
    by_sub = trades(client, sub_signer)
    own = trades(client, signer)

    assert [entry["clientOrderId"] for entry in by_master.get_json()] == ["from-sub"]
    assert by_sub.get_json() == by_master.get_json()
    assert own.get_json() == []


def test_sub_key_naming_the_main_account_is_an_invalid_permission(client, account, sub_signer):
    response = trades(client, sub_signer, accountId=account["accountId"])

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "-3117", "msg": "Invalid permission"},
    )


def test_master_key_naming_another_users_account_is_not_allowed(client, create_account, signer):
    other = create_account()

    response = trades(client, signer, accountId=other["accountId"])

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "0104", "msg": "accountId is not allowed"},
    )


# ---------------------------------------------------------------------------- bad input


def test_unknown_symbol_is_instrument_not_found(client, signer):
    response = trades(client, signer, symbol="DOGEUSDT")

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "0201", "msg": "Instrument not found"},
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "1001"),
        ("limit", "ten"),
        ("limit", "-5"),
        ("startTime", "yesterday"),
        ("endTime", "1.5"),
        ("fromId", "abc"),
        ("toId", "12x"),
        ("accountId", "main"),
    ],
)
def test_malformed_parameters_are_illegal(client, signer, name, value):
    response = trades(client, signer, **{name: value})

    assert response.status_code == 400
    assert response.get_json() == {"code": "-1130", "msg": f"Illegal parameter '{name}'"}


def test_a_refused_request_moves_no_resting_order(client, account, signer):
    app = client.application
    record(app, book("BTCUSDT", NOW - 5000), Trade("BTCUSDT", NOW - 100, D("100.00"), D("5"), True, "1"))
    place(
        app, NOW - 4000, account["accountId"], Side.BUY, OrderType.LIMIT, price=D("100.50"), quantity=D("1")
    )

    response = trades(client, signer, limit="-1")

    assert response.status_code == 400
    assert fill_rows(app) == []


# ---------------------------------------------------------------------------- weight


@pytest.mark.parametrize("path", ["/api/v1/account/trades", "/api/v1/account/vipInfo"])
def test_each_request_weighs_5_as_documented(make_app, signer, path):
    limited = make_app(clock_mode="replay", clock_start=NOW, clock_speed=D(0), key_weight_limit=9)
    client = limited.test_client()

    with frozen_at(WALL_MS):  # the weight window cannot roll over between the requests
        first = client.get(path, **signer.ccxt("GET"))
        second = client.get(path, **signer.ccxt("GET"))

    assert first.status_code == 200
    assert (second.status_code, second.get_json()) == (400, {"code": "0003", "msg": "Rate limit exceeded"})


QUERIES = [
    {},
    {"symbol": "BTCUSDT"},
    {"startTime": NOW - 800},
    {"startTime": NOW - 800, "endTime": NOW - 700},
    {"endTime": NOW - 750, "symbol": "BTCUSDT"},
    {"limit": 2},
    {"clientOrderId": "c1"},
    {"startTime": NOW - 850, "limit": 1},
]


@pytest.mark.parametrize("read_whole", [-1, 1, 2_000])  # every window walked by id ... every one read whole
@pytest.mark.parametrize("query", QUERIES)
def test_a_narrow_window_read_whole_and_a_wide_one_walked_by_id_list_the_same_fills(
    client, signer, three_orders, monkeypatch, read_whole, query
):
    """Both ways of reading (`fills.account_trades`): the window's fills, filtered, newest first by id."""
    monkeypatch.setattr(fills, "WINDOW_READ_WHOLE", read_whole)
    client_ids = {order.order_id: f"c{n}" if n < 3 else "eth" for n, order in enumerate(three_orders)}
    expected = [
        row.id
        for row in reversed(fill_rows(client.application))
        if (query.get("symbol") in (None, row.symbol))
        and row.time >= query.get("startTime", 0)
        and row.time <= query.get("endTime", NOW)
        and query.get("clientOrderId") in (None, client_ids[row.order_id])
    ][: query.get("limit", 500)]

    assert ids_of(trades(client, signer, **query)) == expected


def test_a_wide_window_walks_the_accounts_fills_by_id_not_the_whole_window_sorted(app, monkeypatch):
    """A long history costs a request no more than a short one: the plans read `limit` fills off an index in
    id order, or a narrow window off the time index, never every fill of the account sorted."""
    monkeypatch.setattr(fills, "WINDOW_READ_WHOLE", -1)  # every window wide
    plans: list[str] = []
    database = database_of(app)

    def explain(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM fills" in statement:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            plans.append(" | ".join(step[-1] for step in plan))

    for wanted in (
        fills.TradeFilter("1", NOW - DAY_MS),
        fills.TradeFilter("1", NOW - DAY_MS, symbol="BTCUSDT"),
    ):
        with database.read() as session:
            event.listen(database.engine, "before_cursor_execute", explain)
            try:
                fills.account_trades(session, wanted)
            finally:
                event.remove(database.engine, "before_cursor_execute", explain)

    walks = [plan for plan in plans if "ix_fills_account_id" in plan]
    assert len(walks) == 2
    assert not [plan for plan in walks if "TEMP B-TREE" in plan]
